from __future__ import annotations

import json

import pytest

from modalities.errors import PlanValidationError
from planners import Plan, downstream_of, plan_issues, validate
from tests.runtime_tools import registry


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
        "step 'a': Unknown tool 'emitt'; available: append, draft, emit, explode, judge. Did you mean 'emit'?",
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
