"""Data flows into params: a transcript made during the run becomes a slideshow's captions, really drawn in the
video; resume after ``kill -9`` gives each step the value its source made, and the journal key follows the value."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent import Agent
from agent.events import EventSink
from agent.journal import StepJournal, finished_steps
from agent.nodes import Nodes, RunContext
from modalities.store import ArtifactStore
from planners.plan import Plan
from planners.testing import ScriptedPlanner
from tests.conftest import REPO
from tests.runtime_tools import registry as runtime_registry
from tools.registry import ToolRegistry

AGENT = [sys.executable, "-m", "agent.cli"]
_SIZE = (640, 360)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def _frame(path: Path, seconds: float) -> np.ndarray:
    from tools._video import ffmpeg_exe

    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", f"{seconds:.2f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(_SIZE[1], _SIZE[0], 3)


def _ocr(frame: np.ndarray) -> set[str]:
    rapidocr = pytest.importorskip("rapidocr")
    engine = rapidocr.RapidOCR(params={"Global.log_level": "error"})
    return _words(" ".join(engine(np.ascontiguousarray(frame[:, :, ::-1]), use_cls=False).txts or ()))


@pytest.mark.slow
def test_a_transcript_made_in_the_run_is_drawn_as_the_videos_captions(tmp_path: Path) -> None:
    pytest.importorskip("imageio_ffmpeg")
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed")
    work = tmp_path / "in"
    work.mkdir()
    talk = work / "talk.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(talk), "Green apples grow in summer. Yellow bananas taste "
                    "sweet."], check=True)
    for name, color in (("photo1", (200, 30, 30)), ("photo2", (30, 30, 200))):
        Image.new("RGB", (320, 180), color).save(work / f"{name}.png")
    plan = {"steps": [
        {"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
        {"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo1", "image2": "input:photo2"},
         "params": {"captions": {"from": "listen.text"}, "width": _SIZE[0], "height": _SIZE[1],
                    "seconds_per_image": 2, "fade_s": 0}},
    ]}
    tools = ToolRegistry(["tools.audio.transcribe:Transcribe", "tools.generation.slideshow:ComposeVideo"])
    agent = Agent(planner=ScriptedPlanner([plan]), tools=tools, home=tmp_path / "home")
    result = agent.run("transcribe talk.wav and make a slideshow of the photos with the transcript as captions",
                       [talk, work / "photo1.png", work / "photo2.png"])
    assert result.status == "succeeded", result.error
    transcript = Path(result.outputs["listen.text"]).read_text()
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", transcript.strip()) if s]
    assert len(sentences) == 2, transcript  # one caption per photo, in order
    video = Path(result.outputs["video"])
    first, second = _frame(video, 1.0), _frame(video, 3.0)
    # photo1 (red) first, then photo2 (blue), each under its own sentence of the transcript
    assert first[180, 320, 0] > 150 and second[180, 320, 2] > 150
    seen_first, seen_second = _ocr(first), _ocr(second)
    assert len(seen_first & _words(sentences[0])) >= 2, (seen_first, sentences)
    assert len(seen_second & _words(sentences[1])) >= 2, (seen_second, sentences)
    assert not seen_first & (_words(sentences[1]) - _words(sentences[0]))
    # and what was drawn is what was said
    assert len((seen_first | seen_second) & {"green", "apples", "yellow", "bananas", "sweet", "summer"}) >= 3


def _nodes(tmp_path: Path) -> Nodes:
    store = ArtifactStore(tmp_path / "store")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ctx = RunContext(run_id="r", run_dir=run_dir, store=store, registry=runtime_registry,
                     planner=ScriptedPlanner(), journal=StepJournal(run_dir / "journal.sqlite"),
                     sink=EventSink("r"))
    return Nodes(ctx)


def test_the_journal_key_follows_the_value_a_param_took(tmp_path: Path) -> None:
    nodes = _nodes(tmp_path)
    plan = Plan.model_validate({"steps": [
        {"id": "src", "tool": "emit", "params": {"value": "a"}},
        {"id": "use", "tool": "emit", "params": {"value": {"from": "src.text"}, "times": 2}},
    ]})
    deps = {s.id: s.dependencies() for s in plan.steps}
    assert deps["use"] == {"src"}

    def key_for(source_text: str) -> str:
        made = nodes.ctx.store.put_text(source_text, "text")
        known = {"src": {"status": "succeeded", "outputs": {"text": made.to_state()}}}
        current, _ = nodes._launch_ready(plan, deps, {"inputs": {}}, known, {})
        return current["use"]

    first, again, changed = key_for("a"), key_for("a"), key_for("b")
    assert first == again and first != changed  # same value, same work; another value, another step
    for inflight in list(nodes.ctx.inflight.values()):
        inflight.future.result(timeout=10)
    # the journal remembers the work done for "a": a resume finds it, and does not take it for "b"
    assert nodes.ctx.journal.completed(first) is not None
    assert nodes.ctx.journal.completed(changed) is not None  # it ran too, under its own key
    ran = nodes.ctx.journal.executions()["use"]
    assert ran == 2
    nodes.ctx.journal.close()


def test_a_param_value_that_does_not_fit_is_refused_or_fails_its_step(tmp_path: Path) -> None:
    # text cannot become a number: refused when the plan is validated, before anything runs
    bad_kind = {"steps": [{"id": "src", "tool": "emit", "params": {"value": "2"}},
                          {"id": "use", "tool": "emit", "params": {"delay": {"from": "src.text"}}}]}
    result = Agent(planner=ScriptedPlanner([bad_kind]), tools=runtime_registry, home=tmp_path / "a").run("fit")
    assert result.status == "failed" and "param 'delay' cannot take 'src.text', which is text" in result.error
    assert result.state.get("results") in (None, {})
    # a json value is judged when it exists: a report is no string, so that step fails (a divergence), named
    bad_value = {"steps": [
        {"id": "src", "tool": "emit", "params": {"value": "x"}},
        {"id": "score", "tool": "judge", "inputs": {"reference": "src.text", "candidate": "src.text"}},
        {"id": "use", "tool": "emit", "params": {"value": {"from": "score.report"}}},
    ]}
    result = Agent(planner=ScriptedPlanner([bad_value]), tools=runtime_registry, home=tmp_path / "b").run("fit")
    assert result.status == "failed"
    assert "its params could not be filled" in result.error and "value" in result.error, result.error
    steps = {s["id"]: s for s in result.steps}
    assert steps["src"]["status"] == steps["score"]["status"] == "succeeded"
    assert steps["use"]["status"] == "failed"


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MMAGENT_HOME": str(home), "PYTHONPATH": str(REPO)}


def test_kill_9_then_resume_gives_each_param_its_sources_value(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen([*AGENT, "run", "doubling", "--planner", "tests.runtime_tools:param_chain_planner",
                             "--tools", "tests.runtime_tools:registry", "--json"],
                            cwd=REPO, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = home / "runs"
    deadline = time.time() + 60
    finished: set[str] = set()
    while time.time() < deadline:
        journals = list(runs.glob("*/journal.sqlite")) if runs.exists() else []
        if journals:
            finished = finished_steps(journals[0])
            if len(finished) >= 2:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(finished) >= 2, "the run never got going"
    run_dir = next(runs.iterdir())
    before = finished_steps(run_dir / "journal.sqlite")
    assert len(before) < 5, "the run finished before it was killed"
    out = subprocess.run([*AGENT, "resume", run_dir.name, "--json"], cwd=REPO, env=_env(home),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    executions = {s["id"]: s["executions"] for s in summary["steps"]}
    assert all(executions[step] == 1 for step in before), executions
    # each step doubled the text its source made: 2**4 letters at the end, only if every value flowed in order
    assert Path(summary["outputs"]["d4"]).read_text() == "a" * 16


def test_the_plan_graph_draws_an_edge_from_the_step_whose_output_fills_a_param() -> None:
    from agent.report import plan_svg

    plan = {"steps": [
        {"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
        {"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo"},
         "params": {"captions": {"from": "listen.text"}, "fps": 10}},
    ]}
    svg = plan_svg(plan, {})
    assert svg.count('class="edge param"') == 1 and svg.count('class="edge"') == 0
    assert ">captions←listen.text, fps" in svg
    # the consumer is laid out after its source, as for an input reference
    xs = {m[0]: float(m[1]) for m in re.findall(r'data-step="(\w+)"><rect x="([\d.]+)"', svg)}
    assert xs["video"] > xs["listen"]


def test_agent_plan_says_which_param_takes_which_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from agent.cli import app
    from tools.registry import default_registry

    if not all(default_registry().get(n).available() for n in ("transcribe", "compose_video")):
        pytest.skip("transcribe or compose_video unavailable here")
    subprocess.run(["espeak-ng", "-w", str(tmp_path / "talk.wav"), "Hello there."], check=True)
    for name in ("photo1", "photo2"):
        Image.new("RGB", (64, 48), "white").save(tmp_path / f"{name}.png")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["plan", "transcribe talk.wav and make a slideshow video of photo1.png and "
                                      "photo2.png with the transcript as captions", "--planner", "symbolic"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if "compose_video(" in x)
    assert "image=input:photo1, image2=input:photo2" in line and "captions from transcribe.text" in line
    assert "{\"from\"" not in line  # said in words, not as the raw reference
