"""Planners wire "X as Y": a param the request feeds with data (a transcript as captions) takes it from the step
that makes it; same-kind inputs fill a tool in the order the request states them."""

from __future__ import annotations

import pytest

from planners._param_wiring import bind_data_params, data_uses
from planners._prompting import wire_tools
from planners.plan import Step, validate
from planners.symbolic import SymbolicPlanner
from tools.registry import ToolRegistry, default_registry

_ISSUE = ("transcribe talk.wav and make a slideshow video of photo1.png and photo2.png with the transcript as "
          "captions")


def _registry() -> ToolRegistry:
    # the real tools (their params are what is wired); planning runs none of them
    return ToolRegistry(["tools.audio.transcribe:Transcribe", "tools.audio.speak:Speak",
                         "tools.audio.roundtrip:SpeechRoundtrip", "tools.generation.slideshow:ComposeVideo",
                         "tools.text:write_text", "tools.code.html:GenerateHtml"])


def _step(plan, tool: str) -> Step:
    return next(s for s in plan.steps if s.tool == tool)


@pytest.mark.parametrize("inputs", [
    {"talk": "audio", "photo1": "image", "photo2": "image"},
    {"photo2": "image", "talk": "audio", "photo1": "image"},  # given in another order than the request states
])
def test_the_issue_request_wires_the_transcript_into_captions_with_photo1_first(inputs: dict[str, str]) -> None:
    reg = default_registry()  # the product's catalogue: which tool a clause matches depends on all of them
    if not all(reg.get(n).available() for n in ("transcribe", "compose_video")):
        pytest.skip("transcribe or compose_video unavailable here")
    plan = SymbolicPlanner().plan(_ISSUE, inputs, reg)
    listen, video = _step(plan, "transcribe"), _step(plan, "compose_video")
    assert listen.inputs == {"audio": "input:talk"}
    assert video.params["captions"] == {"from": f"{listen.id}.text"}
    assert (video.inputs["image"], video.inputs["image2"]) == ("input:photo1", "input:photo2")
    assert video.dependencies() == {listen.id}
    assert "speak" not in {s.tool for s in plan.steps}  # "talk.wav" is a file, not a request to talk


def test_the_model_planners_wiring_binds_the_same_way() -> None:
    reg = _registry()
    plan = wire_tools(["transcribe", "compose_video"], reg, {"photo2": "image", "photo1": "image", "talk": "audio"},
                      task=_ISSUE, verify=False)
    video = _step(plan, "compose_video")
    assert video.params["captions"] == {"from": "transcribe.text"}
    assert (video.inputs["image"], video.inputs["image2"]) == ("input:photo1", "input:photo2")


@pytest.mark.parametrize("task, expected", [
    ("with the transcript as captions", [("transcript", "captions")]),
    ("a slideshow captioned with its summary, titled with the text", [("summary", "caption"), ("text", "title")]),
    ("use notes.txt as the title", [("notes.txt", "title")]),
    ("make a page that says 'the transcript as captions'", []),  # quoted: data, not an instruction
])
def test_data_uses_are_read_from_the_words(task: str, expected: list[tuple[str, str]]) -> None:
    assert [(u.source, u.use) for u in data_uses(task)] == expected


def _steps(*steps: dict) -> list[Step]:
    return [Step.model_validate(s) for s in steps]


def test_a_summary_becomes_a_page_title_and_a_file_becomes_captions() -> None:
    reg = _registry()
    steps = _steps({"id": "summary", "tool": "write_text", "inputs": {"brief": "input:notes"}},
                   {"id": "page", "tool": "generate_html", "inputs": {"brief": "input:notes"}})
    bind_data_params(steps, "write a summary of notes.txt and make a page with the summary as its title", reg,
                     {"notes": "text"})
    assert steps[1].params == {"title": {"from": "summary.text"}}
    steps = _steps({"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo"}})
    bind_data_params(steps, "a slideshow of photo.png subtitled with lines.txt", reg,
                     {"photo": "image", "lines": "text"})
    assert steps[0].params == {"captions": {"from": "input:lines"}}  # "subtitled": a synonym of captions
    assert validate(_plan(steps), reg, {"photo": "image", "lines": "text"})


def _plan(steps: list[Step]):
    from planners.plan import Plan

    return Plan(steps=steps)


@pytest.mark.parametrize("task", [
    "make a slideshow of photo.png with the picture as captions",  # an image cannot become captions
    "make a slideshow of photo.png with the transcript as the soundtrack",  # no param is named so
    "make a slideshow of photo.png, such as captions",  # no "X as Y" of data
])
def test_no_binding_where_none_fits(task: str) -> None:
    steps = _steps({"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
                   {"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo"}})
    bind_data_params(steps, task, _registry(), {"photo": "image", "talk": "audio"})
    assert steps[1].params == {}


def test_only_a_whole_param_name_counts() -> None:
    # "prompt" is text_to_image's input, not its negative_prompt param: a part of a name is not the name
    steps = _steps({"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
                   {"id": "draw", "tool": "text_to_image", "inputs": {"prompt": "listen.text"}})
    reg = ToolRegistry([*_registry(), "tools.generation.diffusion:TextToImage"])
    bind_data_params(steps, "draw a picture with the transcript as the prompt", reg, {"talk": "audio"})
    assert steps[1].params == {}


def test_a_step_never_takes_data_from_what_it_feeds() -> None:
    # the only text is made from the video's own output: binding it would be a cycle
    steps = _steps({"id": "video", "tool": "compose_video", "inputs": {"image": "input:photo"}},
                   {"id": "listen", "tool": "transcribe", "inputs": {"audio": "input:talk"}},
                   {"id": "say", "tool": "write_text", "params": {"max_words": 5}})
    steps[2].params["template"] = {"from": "video.video"}  # fed by the video (kind aside, it is downstream)
    bind_data_params(steps, "with the text as captions", _registry(), {"photo": "image", "talk": "audio"})
    assert steps[0].params == {"captions": {"from": "listen.text"}}


def test_repair_keeps_a_param_reference_that_holds_and_drops_one_that_does_not() -> None:
    from planners.plan import Plan, plan_issues
    from planners.symbolic import repair

    reg = _registry()
    inputs = {"talk": "audio", "photo": "image"}
    broken = Plan.model_validate({"steps": [
        {"id": "t", "tool": "transcrib", "inputs": {"audio": "input:talk"}},  # a model's misspelling
        {"id": "v", "tool": "compose_video", "inputs": {"image": "input:photo"},
         "params": {"captions": {"from": "t.text"}, "fps": 12}},
        {"id": "w", "tool": "compose_video", "inputs": {"image": "input:photo"},
         "params": {"captions": {"from": "gone.text"}}},
    ]})
    assert plan_issues(broken, reg, inputs)
    fixed = repair(broken, reg, inputs)
    assert plan_issues(fixed, reg, inputs) == []
    by_tool = {s.id: s for s in fixed.steps}
    assert by_tool["t"].tool == "transcribe"
    assert by_tool["v"].params == {"captions": {"from": "t.text"}, "fps": 12}
    assert by_tool["w"].params == {}
