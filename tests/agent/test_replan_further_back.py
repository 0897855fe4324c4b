"""Replanning that converges: a failed judgement redoes what it judged, and goes one step further back (to what
the judged step was made from) when that is the only remedy left, or at once when the judge read it too."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from agent import Agent
from modalities.errors import PlanningError
from planners.base import Divergence, ReplanRequest
from planners.plan import Plan
from planners.replan import strategy_replan
from planners.testing import ScriptedPlanner
from tools import AudioFile, HtmlFile, Result, TextFile, ToolContext, ToolRegistry, VideoFile, tool
from tools.registry import default_registry


@tool(family="test", retry_params=({"value": "clean"},), light=True)
def read_sketch(value: str = "noisy") -> TextFile:
    """Read a sketch (a stand-in for analyze_sketch: a first reading that misses what is drawn).

    Args:
        value: What the reading finds.
    """
    return value


@tool(family="test", retry_params=({"variant": "grid"},), light=True)
def build_page(text: TextFile, variant: str = "flex") -> TextFile:
    """Build a page from a reading; no variant of it can add what the reading missed.

    Args:
        text: The reading.
        variant: Layout strategy.
    """
    return f"{variant}:{text.read_text()}"


@tool(family="test", outputs={"report": "json"}, metrics={"score": "1 when the page holds the drawing"},
      checks=("score >= 0.5",), judges=("page",), light=True)
def judge_page(page: TextFile) -> dict:
    """Judge a page against the drawing (a stand-in for sketch_fidelity).

    Args:
        page: The page.
    """
    score = 1.0 if "clean" in page.read_text() else 0.0
    missing = "" if score else "1 text region not on the page (top left)"
    return Result({"report": {"score": score}}, {"score": score, "missing": missing})


@tool(family="test", retry_params=({"words": "plain"},), light=True)
def write_script(words: str = "foreign") -> TextFile:
    """Write a narration script (a stand-in for write_text).

    Args:
        words: Which words it uses.
    """
    return f"script with {words} words"


@tool(family="test", retry_params=({"speed": 0.9},), light=True)
def say(text: TextFile, speed: float = 1.0) -> TextFile:
    """Say a script (a stand-in for speak: the voice says exactly what it is given).

    Args:
        text: The script.
        speed: Speaking rate.
    """
    return text.read_text()


@tool(family="test", outputs={"report": "json"}, metrics={"wer": "0 when the voice said its script"},
      checks=("wer <= 0.25",), judges=("audio",), light=True)
def roundtrip(text: TextFile, audio: TextFile) -> dict:
    """Compare what was said with its script (a stand-in for speech_roundtrip: foreign words are misheard).

    Args:
        text: The script.
        audio: What was said.
    """
    wer = 0.5 if "foreign" in audio.read_text() else 0.0
    return Result({"report": {"wer": wer}}, {"wer": wer})


# apart: the strategy replanner would swap one text -> text tool for another before going further back
PAGE_TOOLS = ToolRegistry([read_sketch, build_page, judge_page])
VOICE_TOOLS = ToolRegistry([write_script, say, roundtrip])
PAGE_PLAN = {"steps": [{"id": "sketch", "tool": "read_sketch"},
                       {"id": "page", "tool": "build_page", "inputs": {"text": "sketch.text"}},
                       {"id": "fidelity", "tool": "judge_page", "inputs": {"page": "page.text"}}]}
VOICE_PLAN = {"steps": [{"id": "script", "tool": "write_script"},
                        {"id": "voice", "tool": "say", "inputs": {"text": "script.text"}},
                        {"id": "check", "tool": "roundtrip", "inputs": {"text": "script.text", "audio": "voice.text"}}]}


def test_a_page_check_goes_back_to_the_analysis_when_the_page_has_nothing_left(tmp_path: Path) -> None:
    result = Agent(planner=ScriptedPlanner([PAGE_PLAN]), tools=PAGE_TOOLS, home=tmp_path).run("page from sketch")
    assert result.status == "succeeded", result.error
    runs = {s["id"]: s["executions"] for s in result.steps}
    # 1st replan: the page's own variant (it cannot help); 2nd: the reading again with its variant, page rebuilt
    assert runs == {"sketch": 2, "page": 3, "fidelity": 3}
    first, second = result.state["replans"]
    assert first["affected"] == ["fidelity", "page"] and first["reason"]["upstream"] == ["sketch"]
    assert second["affected"] == ["fidelity", "page", "sketch"]
    assert result.outputs["fidelity"].exists()


def test_without_the_step_further_back_the_same_run_fails(tmp_path: Path) -> None:
    """The remedy matters: with the reading's variant removed, nothing is left after the page's own variant."""
    stuck = copy.copy(read_sketch)
    stuck.retry_params = ()
    registry = ToolRegistry([stuck, build_page, judge_page])
    result = Agent(planner=ScriptedPlanner([PAGE_PLAN]), tools=registry, home=tmp_path).run("page from sketch")
    assert result.status == "failed"
    assert "no alternative left for 'page', 'sketch'" in (result.error or "")
    # the failure names what the page lacks, as the judge said it
    assert (result.error or "").endswith("missing: 1 text region not on the page (top left)")


def test_a_failed_round_trip_rewrites_the_script_and_says_it_again(tmp_path: Path) -> None:
    result = Agent(planner=ScriptedPlanner([VOICE_PLAN]), tools=VOICE_TOOLS, home=tmp_path).run("narrate")
    assert result.status == "succeeded", result.error
    assert result.replans == 1  # the script's author is redone with the voice, not after the voice gives up
    steps = {s["id"]: s for s in result.steps}
    assert {k: v["executions"] for k, v in steps.items()} == {"script": 2, "voice": 2, "check": 2}
    assert result.state["replans"][0]["affected"] == ["check", "script", "voice"]


def _request(plan: Plan, failed: str, check: str, attempts: dict[str, int]) -> ReplanRequest:
    from planners.plan import downstream_of

    judged = {"sketch_fidelity": ["generate_html"], "speech_roundtrip": ["speak"]}[failed]
    upstream = {"sketch_fidelity": ["analyze_sketch"], "speech_roundtrip": ["write_text"]}[failed]
    div = Divergence(step_id=failed, tool=failed, check=check, observed=0.5, expected=check, suspects=judged,
                     upstream=upstream)
    return ReplanRequest(plan=plan, divergence=div, affected=sorted(downstream_of(plan, [failed, *judged])),
                         attempts=attempts)


SKETCH_TO_VIDEO = Plan.model_validate({"task": "t", "steps": [
    {"id": "analyze_sketch", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"}},
    {"id": "generate_html", "tool": "generate_html", "inputs": {"layout": "analyze_sketch.layout"}},
    {"id": "sketch_fidelity", "tool": "sketch_fidelity",
     "inputs": {"sketch": "input:sketch", "page": "generate_html.html"}},
    {"id": "write_text", "tool": "write_text", "inputs": {"layout": "analyze_sketch.layout"}},
    {"id": "speak", "tool": "speak", "inputs": {"text": "write_text.text"}},
    {"id": "speech_roundtrip", "tool": "speech_roundtrip", "inputs": {"text": "write_text.text",
                                                                      "audio": "speak.audio"}}]})


def test_the_main_job_has_a_remedy_for_each_failure_until_the_analysis_is_spent() -> None:
    registry = default_registry()
    plan = SKETCH_TO_VIDEO
    steps = strategy_replan(_request(plan, "sketch_fidelity", "ink_coverage >= 0.8", {}), registry)
    by_id = {s.id: s for s in steps}
    assert set(by_id) == {"generate_html", "sketch_fidelity"}
    assert by_id["generate_html"].params == {"strategy": "grid", "copywriter": "template"}

    spent = {"generate_html": 2}
    steps = strategy_replan(_request(plan, "sketch_fidelity", "ink_coverage >= 0.8", spent), registry)
    by_id = {s.id: s for s in steps}
    assert by_id["analyze_sketch"].params == {"min_confidence": 0.1, "max_side": 1600, "det_side": 1600}
    # a new reading is new work for everything made from it, the narration included
    assert set(by_id) == {"analyze_sketch", "generate_html", "sketch_fidelity", "write_text", "speak",
                          "speech_roundtrip"}
    steps = strategy_replan(_request(plan, "sketch_fidelity", "x", {"generate_html": 3, "analyze_sketch": 2}),
                            registry)
    assert {s.id: s for s in steps}["analyze_sketch"].params == {"min_confidence": 0.2, "max_side": 1024}
    with pytest.raises(PlanningError, match="no alternative left for 'generate_html', 'analyze_sketch'"):
        strategy_replan(_request(plan, "sketch_fidelity", "x", {"generate_html": 4, "analyze_sketch": 3}), registry)

    steps = strategy_replan(_request(plan, "speech_roundtrip", "wer <= 0.25", {}), registry)
    by_id = {s.id: s for s in steps}
    assert by_id["write_text"].params == {"max_words": 30} and by_id["speak"].params == {"speed": 0.9}
    steps = strategy_replan(_request(plan, "speech_roundtrip", "wer <= 0.25", {"write_text": 2, "speak": 2}),
                            registry)
    assert {s.id: s for s in steps}["write_text"].params == {"max_words": 25, "page_words": "headings"}


def test_a_step_re_run_after_another_change_still_has_its_variants() -> None:
    """A narration is rewritten, unchanged, each time a new page is made from a new reading: those runs are no
    variants. When the voice's round trip then fails, the script's first rewrite is next, not 'nothing left'
    (seen on a real wireframe: three new pages, then 'no alternative left')."""
    from agent.nodes import Nodes

    plan = SKETCH_TO_VIDEO
    before = plan.model_dump(mode="json")
    after = copy.deepcopy(before)
    for step in after["steps"]:
        if step["id"] == "generate_html":
            step["params"] = {"strategy": "grid", "copywriter": "template"}  # varied; write_text only re-run
    replans = [{"before": before, "after": after}, {"before": after, "after": copy.deepcopy(after)}]
    variants = Nodes._variants({"replans": replans}, plan)
    assert variants["generate_html"] == 1 and variants["write_text"] == 0
    request = _request(plan, "speech_roundtrip", "wer <= 0.25", {"write_text": 3, "speak": 3})
    with pytest.raises(PlanningError):  # by runs alone, the script's variants look spent
        strategy_replan(request, default_registry())
    steps = strategy_replan(request.model_copy(update={"variants": variants}), default_registry())
    assert {s.id: s for s in steps}["write_text"].params == {"max_words": 30}


FARM = "<!doctype html><html><body><h1>Green Valley Farm</h1><p>Fresh vegetables every Tuesday.</p></body></html>"


@tool(family="test", light=True)
def farm_page() -> HtmlFile:
    """A landing page (a stand-in for generate_html)."""
    return FARM


@tool(family="test", retry_params=({"about": "page"},), light=True)
def narration(page: HtmlFile, about: str = "nothing") -> TextFile:
    """A narration script: generic at first, naming the page's own words as its variant.

    Args:
        page: The page narrated.
        about: 'nothing' or 'page'.
    """
    if about == "page":
        return "Green Valley Farm brings fresh vegetables every Tuesday."
    return "Welcome to our new landing page. Thanks for watching."


@tool(family="test", light=True)
def page_clip(ctx: ToolContext, html: HtmlFile, audio: AudioFile) -> VideoFile:
    """A two-colour clip of a page with its sound track (a stand-in for record_page_video).

    Args:
        ctx: The step's context.
        html: The page.
        audio: The sound track.
    """
    import numpy as np

    from tools._video import encode_video

    frames = [np.full((120, 160, 3), c, dtype=np.uint8) for c in ((200, 40, 40), (40, 40, 200)) for _ in range(15)]
    path = ctx.scratch() / "tour.mp4"
    encode_video(iter(frames), path, (160, 120), fps=10, audio=Path(audio.path))
    return path


def test_a_narration_that_does_not_name_the_page_is_rewritten_not_given_up(tmp_path: Path) -> None:
    """'The narration talks about the page' failed on a video step that has nothing else to try; the run ended
    'no alternative left for record_page_video'. The script's author is the step to redo."""
    from tests.worker_tools import tone

    plan = {"steps": [
        {"id": "page", "tool": "farm_page"},
        {"id": "script", "tool": "narration", "inputs": {"page": "page.html"}},
        {"id": "voice", "tool": "tone", "inputs": {"text": "script.text"}},
        {"id": "video", "tool": "page_clip", "inputs": {"html": "page.html", "audio": "voice.audio"}}]}
    tools = ToolRegistry([farm_page, narration, tone, page_clip])
    result = Agent(planner=ScriptedPlanner([plan]), tools=tools, home=tmp_path).run(
        "Make a web page and a narrated video of it")
    assert result.status == "succeeded", result.error
    assert result.replans == 1
    steps = {s["id"]: s["executions"] for s in result.steps}
    assert steps == {"page": 1, "script": 2, "voice": 2, "video": 2}, steps


def test_the_script_rewrite_is_told_which_words_the_voice_missed() -> None:
    """The judge's report travels with the divergence, and the script's next variant leaves out what it names."""
    registry = default_registry()
    request = _request(SKETCH_TO_VIDEO, "speech_roundtrip", "wer <= 0.25", {})
    request.divergence.metrics = {"wer": 0.36, "misheard": ["entrados", "anteriores", "to"]}
    by_id = {s.id: s for s in strategy_replan(request, registry)}
    assert by_id["write_text"].params == {"max_words": 30, "avoid": ["anteriores", "entrados"]}
    assert by_id["speak"].params == {"speed": 0.9}  # the voice has nothing to leave out


def test_a_plan_that_starts_on_a_variant_does_not_retry_it_unchanged() -> None:
    """A plan reused from memory can start with the page's grid variant. Its first replan used to 'retry' the
    page with the params it already had, three times over, and the run spent its replan budget without trying
    another reading of the sketch (seen on a real wireframe)."""
    data = SKETCH_TO_VIDEO.model_dump(mode="json")
    for step in data["steps"]:
        if step["id"] == "generate_html":
            step["params"] = {"strategy": "grid", "copywriter": "template"}
    plan = Plan.model_validate(data)
    by_id = {s.id: s for s in strategy_replan(_request(plan, "sketch_fidelity", "ink_coverage >= 0.8", {}),
                                              default_registry())}
    # the page has no other variant: the sketch is read again, and the page made anew from that reading
    assert by_id["analyze_sketch"].params == {"min_confidence": 0.1, "max_side": 1600, "det_side": 1600}
