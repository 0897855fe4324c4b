from __future__ import annotations

import json

import pytest

from modalities.errors import PlanValidationError
from planners import Plan, downstream_of, plan_issues, validate
from planners.plan import topological_order
from tests.runtime_tools import registry
from tools.registry import ToolRegistry


def _plan(*steps: dict) -> Plan:
    return Plan.model_validate({"steps": list(steps)})


def test_precise_messages_for_each_problem() -> None:
    plan = _plan(
        {"id": "a", "tool": "emitt"},
        {"id": "b", "tool": "append", "inputs": {"text": "input:brief"}},
        {"id": "c", "tool": "append", "inputs": {"text": "zz.text"}},
        {"id": "d", "tool": "append", "inputs": {"text": "b.image"}},
        {"id": "e", "tool": "append", "inputs": {"text": "f.text"}},
        {"id": "f", "tool": "append", "inputs": {"text": "e.text"}},
        {"id": "g", "tool": "append", "inputs": {"txt": "b.text"}, "params": {"delay": "soon"}},
        {"id": "h", "tool": "judge", "inputs": {"reference": "input:photo", "candidate": "b.text"},
         "expect": ["wer <= 0.1"]},
    )
    issues = plan_issues(plan, registry, {"photo": "image"})
    expected = [
        "step 'a': Unknown tool 'emitt'; available: append, draft, emit, explode, judge, titled. Did you mean 'emit'?",
        "step 'b': input 'text' refers to run input 'brief', which does not exist; run inputs: photo",
        "step 'c': input 'text' refers to step 'zz', which is not in the plan; steps: a, b, c, d, e, f, g, h",
        "step 'd': input 'text' refers to 'b.image', but tool 'append' outputs text",
        "step 'g': tool 'append' needs input 'text' (text)",
        "step 'g': tool 'append' has no input 'txt'; its inputs: text",
        "step 'h': input 'reference' needs text, but run input 'photo' is image",
        "the plan has a cycle: e -> f -> e",
    ]
    for line in expected:
        assert line in issues, (line, issues)
    assert any("step 'g'" in i and "delay" in i for i in issues)
    assert any("check 'wer <= 0.1'" in i for i in issues)


def test_valid_plan_passes_and_snapshot_of_its_json() -> None:
    plan = _plan({"id": "a", "tool": "emit", "params": {"value": "v"}},
                 {"id": "b", "tool": "append", "inputs": {"text": "a.text"}, "expect": ["chars >= 2"]})
    assert validate(plan, registry, {}) is plan
    assert json.loads(plan.model_dump_json())["steps"][1] == {
        "id": "b", "tool": "append", "inputs": {"text": "a.text"}, "params": {},
        "expect": [{"on": "chars", "op": ">=", "threshold": 2, "name": "chars >= 2"}], "why": ""}


def test_bad_reference_syntax_and_step_limit() -> None:
    with pytest.raises(ValueError, match="must be 'input:<name>' or '<step_id>.<output>'"):
        _plan({"id": "a", "tool": "emit", "inputs": {"text": "../etc/passwd"}})
    plan = _plan(*({"id": f"s{i}", "tool": "emit"} for i in range(5)))
    with pytest.raises(PlanValidationError, match="5 steps, over the limit of 3"):
        validate(plan, registry, {}, max_steps=3)


def test_downstream_of() -> None:
    plan = _plan({"id": "a", "tool": "emit"}, {"id": "b", "tool": "append", "inputs": {"text": "a.text"}},
                 {"id": "c", "tool": "append", "inputs": {"text": "b.text"}}, {"id": "d", "tool": "emit"})
    assert downstream_of(plan, ["b"]) == {"b", "c"}


def test_a_result_only_checks_judge_is_still_an_output() -> None:
    from stand_ins import builtin_stand_ins

    reg = builtin_stand_ins()
    analysed = _plan(
        {"id": "seen", "tool": "analyze_sketch", "inputs": {"image": "input:photo"}},
        {"id": "judge", "tool": "layout_similarity",
         "inputs": {"reference": "input:wanted", "candidate": "seen.layout"}},
    )
    # the analysed layout is what the check judges: the result, not an intermediate
    assert analysed.final_outputs(reg) == {"seen": "seen.layout", "judge": "judge.report"}
    as_reference = _plan(
        {"id": "page", "tool": "render_page", "inputs": {"html": "input:html"}},
        {"id": "seen", "tool": "analyze_sketch", "inputs": {"image": "input:photo"}},
        {"id": "judge", "tool": "layout_similarity",
         "inputs": {"reference": "seen.layout", "candidate": "page.layout"}},
    )
    # a layout made only to compare against is not; a render keeps its screenshot, not the layout it was checked by
    assert as_reference.final_outputs(reg) == {"page.screenshot": "page.screenshot", "judge": "judge.report"}
    spoken = _plan(
        {"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
        {"id": "say", "tool": "speak", "inputs": {"text": "listen.text"}},
        {"id": "check", "tool": "speech_roundtrip", "inputs": {"text": "listen.text", "audio": "say.audio"}},
    )
    assert spoken.final_outputs(reg) == {"say": "say.audio", "check": "check.report"}


def _video_registry() -> ToolRegistry:
    return ToolRegistry(["tools.audio.transcribe:Transcribe", "tools.audio.speak:Speak",
                         "tools.generation.slideshow:ComposeVideo"])


def _captioned(captions: object, **more: object) -> Plan:
    return _plan(
        {"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
        {"id": "say", "tool": "speak", "inputs": {"text": "input:notes"}},
        {"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo"},
         "params": {"captions": captions, **more}},
    )


def test_a_param_from_another_steps_text_is_a_dependency() -> None:
    reg = _video_registry()
    inputs = {"talk": "audio", "notes": "text", "photo": "image"}
    plan = _captioned({"from": "listen.text"}, fps=10)
    assert validate(plan, reg, inputs) is plan
    video = plan.step("video")
    assert video.param_refs() == {"captions": "listen.text"}
    assert video.dependencies() == {"listen"}
    assert downstream_of(plan, ["listen"]) == {"listen", "video"}
    order = [s.id for s in topological_order(reversed(plan.steps))]
    assert order.index("listen") < order.index("video")
    # a run input's text is a source too, and a json output may become any param (its value is checked at launch)
    assert plan_issues(_captioned({"from": "input:notes"}), reg, inputs) == []
    assert plan_issues(_captioned({"from": "listen.segments"}), reg, inputs) == []


def test_precise_messages_for_param_references() -> None:
    reg = _video_registry()
    inputs = {"talk": "audio", "notes": "text", "photo": "image"}

    def issues(captions: object, **more: object) -> list[str]:
        return plan_issues(_captioned(captions, **more), reg, inputs)

    assert issues({"from": "nope.text"}) == [
        "step 'video': param 'captions' refers to step 'nope', which is not in the plan; steps: listen, say, video"]
    assert issues({"from": "input:script"}) == [
        "step 'video': param 'captions' refers to run input 'script', which does not exist; run inputs: talk, "
        "notes, photo"]
    assert issues({"from": "listen.words"}) == [
        "step 'video': param 'captions' refers to 'listen.words', but tool 'transcribe' outputs text, segments"]
    assert issues({"from": "say.audio"}) == [
        "step 'video': param 'captions' cannot take 'say.audio', which is audio: an audio is a file, not a value: "
        "only text or json can become a param (text as a string or a list of strings, json as its value); give the "
        "audio to an input instead"]
    assert issues([], seconds_per_image={"from": "listen.text"}) == [
        "step 'video': param 'seconds_per_image' cannot take 'listen.text', which is text: the param takes a "
        "number, and a text becomes only a string or a list of strings; take a json output for other values"]
    wrong_name = plan_issues(_plan({"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
                                   {"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo"},
                                    "params": {"subtitles": {"from": "listen.text"}}}), reg, inputs)
    assert len(wrong_name) == 1 and wrong_name[0].startswith(
        "step 'video': param 'subtitles' takes 'listen.text', but tool 'compose_video' has no param 'subtitles'; "
        "its params: captions, seconds_per_image")
    # the fixed params beside a reference are still checked
    assert any("fps" in i for i in issues({"from": "listen.text"}, fps=0))


def test_param_reference_syntax_and_cycles() -> None:
    with pytest.raises(ValueError, match=r"param 'captions': a reference is \{'from': '<step_id>.<output>'\}"):
        _captioned({"from": "listen.text", "split": "lines"})
    with pytest.raises(ValueError, match="param 'captions': reference '../x' must be"):
        _captioned({"from": "../x"})
    looped = _plan({"id": "a", "tool": "emit", "params": {"value": {"from": "b.text"}}},
                   {"id": "b", "tool": "append", "inputs": {"text": "a.text"}})
    assert "the plan has a cycle: a -> b -> a" in plan_issues(looped, registry, {})
