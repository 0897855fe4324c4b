"""Missing capabilities are said, not substituted; requests no tool can do fail before anything runs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from agent import Agent
from modalities.errors import PlanningError


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MMAGENT_CLIP_MODEL", raising=False)
    monkeypatch.delenv("MMAGENT_DIFFUSION_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))  # the default models are not downloaded
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    Image.new("RGB", (64, 64), (210, 30, 30)).save(tmp_path / "photo1.png")
    Image.new("RGB", (64, 64), (30, 30, 210)).save(tmp_path / "photo2.png")
    (tmp_path / "notes.txt").write_text("The meeting moved to Tuesday. Bring the quarterly numbers and the slides.")
    return tmp_path


def _agent(tmp_path: Path) -> Agent:
    return Agent(planner="symbolic", home=tmp_path / "home")


def test_a_question_the_unavailable_clip_tools_would_answer_names_them(files: Path) -> None:
    with pytest.raises(PlanningError, match=r"zero_shot_classify can answer this, but .*unavailable.*"
                                            r"not downloaded.*agent models pull clip"):
        _agent(files).plan("which of these photos shows a red background?",
                           [files / "photo1.png", files / "photo2.png"])


@pytest.mark.parametrize("question", ["Does this picture contain a circle?", "how similar are photo1.png and "
                                                                              "photo2.png?"])
def test_a_report_made_from_something_else_does_not_answer_a_question_about_the_files(files: Path,
                                                                                    question: str) -> None:
    # the symbolic planner finds a sketch analysis and a layout comparison for these; the comparison's report
    # reads layouts the plan made, not the photos, so it is no answer and the CLIP tools are named instead
    with pytest.raises(PlanningError, match=r"zero_shot_classify can answer this, but .*unavailable"):
        _agent(files).plan(question, [files / "photo1.png", files / "photo2.png"])


def test_an_image_with_no_diffusion_model_names_text_to_image(files: Path) -> None:
    with pytest.raises(PlanningError, match="text_to_image can make an image, but it is unavailable"):
        _agent(files).plan("generate an image of a lighthouse at dusk")


def test_a_page_from_a_text_file_is_refused_before_anything_runs(files: Path) -> None:
    with pytest.raises(PlanningError, match="no tool here makes one from text; .* generate_html"):
        _agent(files).plan("make a page from this", [files / "notes.txt"])


def test_an_mp3_of_a_text_is_spoken(files: Path) -> None:
    plan = _agent(files).plan("make an mp3 of this", [files / "notes.txt"])
    assert [(s.tool, s.inputs.get("text")) for s in plan.steps][:1] == [("speak", "input:notes")]
    assert [r.id for r in plan.requirements] == ["deliver_audio", "format_mp3"]
    assert plan.steps[0].params.get("format") == "mp3"


@pytest.mark.parametrize("words, factor", [("twice as fast", 2.0), ("at half speed", 0.5)])
def test_a_pace_asked_for_becomes_the_speech_param_once(files: Path, words: str, factor: float) -> None:
    plan = _agent(files).plan(f"read notes.txt aloud {words}", [files / "notes.txt"])
    speaks = [s for s in plan.steps if s.tool == "speak"]
    assert len(speaks) == 1 and speaks[0].params["speed"] == factor
    assert any(r.kind == "speed" and r.params["factor"] == factor for r in plan.requirements)


@pytest.mark.parametrize("task, param, value", [
    ("make a 6-second video of photo1.png", "duration_s", 6.0),
    ("make a 10 second slideshow of photo1.png and photo2.png", "duration_s", 10.0),
])
def test_a_length_asked_for_becomes_the_video_param(files: Path, task: str, param: str, value: float) -> None:
    # without it the slideshow took its default 3 s an image: '6 seconds' came out 3 s long
    plan = _agent(files).plan(task, [files / name for name in ("photo1.png", "photo2.png") if name in task])
    videos = [s for s in plan.steps if s.tool == "compose_video"]
    assert len(videos) == 1 and videos[0].params[param] == value


def test_agent_run_refuses_fast_with_exit_1_and_agent_plan_with_exit_2(files: Path) -> None:
    import os
    import sys

    env = {**os.environ, "MMAGENT_HOME": str(files / "home")}
    env.pop("MMAGENT_CLIP_MODEL", None)
    base = [sys.executable, "-m", "agent.cli"]
    task = "is there a dog in photo1.png?"
    run = subprocess.run([*base, "run", task, "--planner", "symbolic", "--json"], cwd=files, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "zero_shot_classify" in run.stderr and "unavailable" in run.stderr
    assert not (files / "home" / "runs").exists() or not any((files / "home" / "runs").rglob("outputs/*"))
    plan = subprocess.run([*base, "plan", task, "--planner", "symbolic"], cwd=files, env=env, capture_output=True,
                          text=True, timeout=120)
    assert plan.returncode == 2 and "zero_shot_classify" in plan.stderr


@pytest.mark.parametrize("task", ["make a 3D model of this sketch", "compose a song from my wireframe"])
def test_something_no_kind_here_is_refused_not_substituted(files: Path, task: str) -> None:
    Image.new("RGB", (64, 64), "white").save(files / "sketch.png")
    with pytest.raises(PlanningError, match="no tool here makes one"):
        _agent(files).plan(task, [files / "sketch.png"])


def test_a_deliverable_the_planner_missed_is_added_from_what_the_plan_has(files: Path) -> None:
    from agent.demo import default_sketch

    plan = _agent(files).plan("code this UI mockup as a web page", [default_sketch()])
    assert "generate_html" in [s.tool for s in plan.steps]
    assert [r.id for r in plan.requirements][:1] == ["deliver_html"]


def test_a_narrated_video_gets_a_voice_when_the_plan_left_it_silent(files: Path) -> None:
    from agent.demo import default_sketch

    plan = _agent(files).plan("I need a website from my drawing, plus a short narrated clip of it",
                              [default_sketch()])
    by_tool = {s.tool: s for s in plan.steps}
    assert "generate_html" in by_tool  # the website
    video = next(s for s in plan.steps if s.tool in ("compose_video", "record_page_video"))
    audio = video.inputs.get("audio", "")
    assert audio.endswith(".audio") and by_tool[audio.split(".")[0]].tool == "speak"


@pytest.mark.parametrize("video", [
    [{"id": "shot", "tool": "render_page", "inputs": {"html": "input:page"}},
     {"id": "clip", "tool": "compose_video", "inputs": {"image": "shot.screenshot", "audio": "voice.audio"}}],
    [{"id": "clip", "tool": "record_page_video", "inputs": {"html": "input:page", "audio": "voice.audio"}}],
])
def test_the_narration_of_a_page_video_is_written_from_the_page(files: Path, video: list[dict]) -> None:
    from planners.testing import ScriptedPlanner

    (files / "page.html").write_text("<!doctype html><html><body><h1>Green Valley Farm</h1><p>Fresh "
                                     "vegetables every week.</p></body></html>")
    # a planner that writes the script from the request's words alone, with nothing about the page
    plan = {"steps": [{"id": "script", "tool": "write_text"},
                      {"id": "voice", "tool": "speak", "inputs": {"text": "script.text"}}, *video]}
    agent = Agent(planner=ScriptedPlanner([plan]), home=files / "home")
    done = agent.plan("Create a video tour of this web page with narration", [files / "page.html"])
    layout = done.step("script").inputs["layout"]
    reader = done.step(layout.split(".")[0])
    assert reader.tool == "render_page" and reader.inputs == {"html": "input:page"}


def test_a_narration_planned_from_the_sketch_is_written_from_the_page_made_of_it(files: Path) -> None:
    """A plan whose script reads the sketch's analysis narrates words the page may not show and misses the copy
    it does show (a Spanish blog sketch whose misread labels the voice could not say had nothing else to narrate,
    and the run failed 'the narration talks about the page'). The script reads the rendered page instead."""
    from agent.demo import default_sketch
    from planners.testing import ScriptedPlanner

    plan = {"steps": [
        {"id": "analyze_sketch", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"}},
        {"id": "generate_html", "tool": "generate_html", "inputs": {"layout": "analyze_sketch.layout"}},
        {"id": "render_page", "tool": "render_page", "inputs": {"html": "generate_html.html"}},
        {"id": "write_text", "tool": "write_text", "inputs": {"layout": "analyze_sketch.layout"}},
        {"id": "speak", "tool": "speak", "inputs": {"text": "write_text.text"}},
        {"id": "video", "tool": "record_page_video", "inputs": {"html": "generate_html.html", "audio": "speak.audio"}}]}
    agent = Agent(planner=ScriptedPlanner([plan]), home=files / "home")
    done = agent.plan("Turn this wireframe into a landing page and make a short narrated video of it",
                      {"sketch": default_sketch()})
    assert done.step("write_text").inputs == {"layout": "render_page.layout"}
    assert done.step("generate_html").inputs == {"layout": "analyze_sketch.layout"}  # the page is still the sketch's


def test_a_script_the_page_is_made_from_is_not_rewired_to_read_that_page(files: Path) -> None:
    """A model's plan that writes one text as the page's brief and as its narration: reading the page back into
    that script made a cycle, and the request failed at planning ('the plan has a cycle: write_text ->
    render_page_2 -> generate_html -> write_text')."""
    from agent.demo import default_sketch
    from planners.testing import ScriptedPlanner

    plan = {"steps": [
        {"id": "analyze_sketch", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"}},
        {"id": "write_text", "tool": "write_text"},
        {"id": "generate_html", "tool": "generate_html",
         "inputs": {"layout": "analyze_sketch.layout", "brief": "write_text.text"}},
        {"id": "speak", "tool": "speak", "inputs": {"text": "write_text.text"}},
        {"id": "video", "tool": "record_page_video", "inputs": {"html": "generate_html.html", "audio": "speak.audio"}}]}
    agent = Agent(planner=ScriptedPlanner([plan]), home=files / "home")
    done = agent.plan("Code this sketch as a web page, then make a narrated video that presents it",
                      {"sketch": default_sketch()})
    assert "layout" not in done.step("write_text").inputs
