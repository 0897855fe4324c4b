"""Tools that misbehave the way native code does, for the worker-process tests. They live in an importable module
(``tests.worker_tools``) so worker processes, and a real ``agent run`` subprocess, can load them."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from planners.testing import FunctionPlanner
from tools import AudioFile, Result, TextFile, ToolContext, ToolRegistry, VideoFile, tool

_held: list[bytearray] = []


@tool(family="test", metrics={"pid": "worker process id"})
def hold_gil(seconds: int = 600) -> TextFile:
    """Block in C with the GIL held, as a stuck driver or a bad extension does.

    Args:
        seconds: How long libc's sleep blocks.
    """
    ctypes.PyDLL(None).sleep(seconds)  # PyDLL keeps the GIL during the call
    return Result("woke up", {"pid": os.getpid()})


@tool(family="test", metrics={"pid": "worker process id", "rounds": "matrix products computed"})
def matmul_loop(seconds: float = 2.0, size: int = 200) -> TextFile:
    """Multiply matrices (OpenBLAS) in a loop.

    Args:
        seconds: How long to keep multiplying.
        size: Matrix side.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size))
    rounds, until = 0, time.time() + seconds
    while time.time() < until:
        a = np.tanh(a @ a.T)
        rounds += 1
    return Result(f"{rounds} products", {"pid": os.getpid(), "rounds": rounds})


@tool(family="test", metrics={"pid": "worker process id", "started": "subprocesses started"})
def fork_children(count: int = 200) -> TextFile:
    """Start subprocesses with a plain fork, as imageio-ffmpeg does (its preexec_fn rules out vfork).

    Args:
        count: How many to start.
    """
    for _ in range(count):
        subprocess.run(["true"], preexec_fn=os.setpgrp, check=True)
    return Result(f"started {count}", {"pid": os.getpid(), "started": count})


@tool(family="test", metrics={"pid": "worker process id"})
def pid_then_sleep(pid_file: str, seconds: float = 2.0) -> TextFile:
    """Write this process's id to a file, then sleep (so a test can kill the worker mid-step).

    Args:
        pid_file: Where to write the process id.
        seconds: How long to sleep.
    """
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return Result(f"slept in {os.getpid()}", {"pid": os.getpid()})


@tool(family="test", metrics={"pid": "worker process id"})
def segfault(marker: str = "", times: int = 1) -> TextFile:
    """Crash with a segmentation fault on the first calls, then work.

    Args:
        marker: A file counting the calls so far (empty: crash every time).
        times: How many calls crash.
    """
    calls = 0
    if marker:
        path = Path(marker)
        calls = int(path.read_text()) if path.exists() else 0
        path.write_text(str(calls + 1))
    if not marker or calls < times:
        os.kill(os.getpid(), signal.SIGSEGV)
    return Result(f"survived in {os.getpid()}", {"pid": os.getpid()})


@tool(family="test", metrics={"pid": "worker process id", "loads": "models this process has loaded"})
def grow(ctx: ToolContext, megabytes: int = 0, seconds: float = 0.0) -> TextFile:
    """Keep some memory (as a loaded model does) and say which process ran.

    Args:
        ctx: The step's context.
        megabytes: Memory to allocate and keep for the life of the process.
        seconds: How long to work with the model.
    """
    from tools.model_cache import model_cache

    ctx.load_model("tiny-model", lambda: (object(), 1))
    time.sleep(seconds)
    if megabytes:
        _held.append(bytearray(os.urandom(1024)) * (megabytes * 1024))  # real pages, not a lazy zero mapping
    return Result(f"pid {os.getpid()}", {"pid": os.getpid(), "loads": model_cache.loads})


@tool(family="test", metrics={"pid": "worker process id", "sketch_det_side": "the setting the step saw",
                               "max_pixels": "the setting the step saw"})
def report_settings(ctx: ToolContext) -> TextFile:
    """Say which settings the step ran with, and in which process.

    Args:
        ctx: The step's context.
    """
    return Result(f"pid {os.getpid()}", {"pid": os.getpid(), "sketch_det_side": ctx.settings.sketch_det_side,
                                         "max_pixels": ctx.settings.max_pixels})


@tool(family="test", metrics={"pid": "worker process id", "model_budget": "this process's model cache RAM budget",
                               "gpu_budget": "its GPU budget", "device": "the device the step was asked for"})
def report_budgets(ctx: ToolContext) -> TextFile:
    """Say which model cache budgets and device the step ran under, and in which process.

    Args:
        ctx: The step's context.
    """
    from tools.model_cache import model_cache

    return Result(f"pid {os.getpid()}", {"pid": os.getpid(), "model_budget": model_cache.budget_bytes,
                                         "gpu_budget": model_cache.gpu_budget_bytes, "device": ctx.device})


@tool(family="test", retry_params=({"narrate": True},))
def slideshow(ctx: ToolContext, narrate: bool = False) -> VideoFile:
    """Make a two-slide video, narrated or silent.

    Args:
        ctx: The step's context.
        narrate: Add a spoken sound track.
    """
    import numpy as np

    from tools._video import encode_video

    work = ctx.scratch()
    audio = None
    if narrate:
        audio = work / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(audio), "Here is the first slide and here is the second"],
                       check=True)
    frames = [np.full((120, 160, 3), c, dtype=np.uint8) for c in ((200, 40, 40), (40, 40, 200)) for _ in range(15)]
    path = work / "slides.mp4"
    encode_video(iter(frames), path, (160, 120), fps=10, audio=audio)
    return path


@tool(family="test", light=True)
def tone(ctx: ToolContext, text: TextFile) -> AudioFile:
    """A tone as long as the text has words (a stand-in voice).

    Args:
        ctx: The step's context.
        text: What to "say".
    """
    import math
    import wave

    path = ctx.scratch() / "tone.wav"
    rate, seconds = 16000, 0.4 * max(1, len(text.read_text().split()))
    frames = b"".join(int(8000 * math.sin(2 * math.pi * 440 * i / rate)).to_bytes(2, "little", signed=True)
                      for i in range(int(rate * seconds)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate), w.writeframes(frames)
    return path


registry = ToolRegistry([hold_gil, matmul_loop, fork_children, pid_then_sleep, segfault, grow])


def _hang_beside_work(task: str, inputs: object, reg: object) -> dict:
    return {"steps": [{"id": "stuck", "tool": "hold_gil", "params": {"seconds": 600}},
                      {"id": "work", "tool": "fork_children", "params": {"count": 3}}]}


hang_planner = FunctionPlanner(_hang_beside_work)


def _nap(task: str, inputs: object, reg: object) -> dict:
    # the task text is the pid file, so a test can find the worker and kill its driver
    return {"steps": [{"id": "nap", "tool": "pid_then_sleep", "params": {"pid_file": task, "seconds": 6.0}}]}


nap_planner = FunctionPlanner(_nap)
