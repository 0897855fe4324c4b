"""Small real tools for the Ray executor tests. They live in an importable module (``tests.ray_tools``) because
Ray workers import a module-level tool by name, as they would import a function: a pytest test module is not
importable there."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tools import Result, TextFile, ToolContext, ToolRegistry, tool


@tool(family="test", metrics={"pid": "worker process id"})
def spin(value: str = "x", delay: float = 0.0) -> TextFile:
    """Write a text after a delay, reporting which process ran it.

    Args:
        value: The text to write.
        delay: Seconds to sleep first.
    """
    time.sleep(delay)
    return Result(value, {"pid": os.getpid()})


@tool(family="test", metrics={"store": "root of the store the step ran against"})
def shout(text: TextFile, ctx: ToolContext) -> TextFile:
    """Upper-case a text.

    Args:
        text: The text to shout.
    """
    return Result(text.read_text().upper() + "!", {"store": str(ctx.store.root)})


def _load_toy_model() -> tuple[dict[str, Any], int]:
    time.sleep(0.2)  # a model load takes a while: the point of keeping it in an actor
    return {"name": "toy", "scale": 3}, 1_000


@tool(family="test", stateful=True, metrics={"pid": "worker process id", "loads": "models loaded in that process"})
def embed(word: str, ctx: ToolContext, delay: float = 0.0) -> TextFile:
    """Embed a word with a (toy) model that loads once per process.

    Args:
        word: The word.
        delay: Seconds to sleep after loading.
    """
    model = ctx.load_model("toy-embedder", _load_toy_model)
    time.sleep(delay)
    from tools.model_cache import model_cache  # the worker's own process-wide cache

    return Result(f"{model['name']}:{len(word) * model['scale']}", {"pid": os.getpid(), "loads": model_cache.loads})


def _fragile(marker: str, always: bool) -> Result:
    crashes = Path(marker)
    if always or not crashes.exists():
        with crashes.open("a") as f:
            f.write(f"{os.getpid()}\n")
        os._exit(1)  # the worker process dies mid-step, as on a segfault or the OOM killer
    return Result("survived", {"pid": os.getpid()})


@tool(family="test", stateful=True, metrics={"pid": "worker process id"})
def fragile_model(marker: str, always: bool = False) -> TextFile:
    """Kill its own actor process on the first call (or on every call).

    Args:
        marker: A file where each crash writes the pid it killed.
        always: Crash on every call.
    """
    return _fragile(marker, always)


@tool(family="test", metrics={"pid": "worker process id"})
def fragile_task(marker: str, always: bool = False) -> TextFile:
    """Kill its own task worker on the first call (or on every call).

    Args:
        marker: A file where each crash writes the pid it killed.
        always: Crash on every call.
    """
    return _fragile(marker, always)


registry = ToolRegistry([spin, shout, embed, fragile_model, fragile_task])
