"""The LLM planner driven by scripted chat models: retries with exact errors, repair, failure, replanning."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stand_ins import builtin_stand_ins

from modalities.errors import MissingExtraError, PlanningError
from planners import resolve_planner
from planners.base import Divergence, ReplanRequest
from planners.llm import LLMPlanner
from planners.plan import Plan, Step
from tools.testing import ScriptedChat


def _reply(*steps: dict[str, Any]) -> str:
    return json.dumps({"steps": list(steps)})


GOOD = _reply({"id": "read", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"}},
              {"id": "page", "tool": "generate_html", "inputs": {"layout": "read.layout"}})


def test_valid_reply_becomes_the_plan_with_default_checks() -> None:
    chat = ScriptedChat(replies=[GOOD], seen=[])
    plan = LLMPlanner(chat).plan("make a page", {"sketch": "image"}, builtin_stand_ins())
    assert [s.id for s in plan.steps] == ["read", "page"]
    assert plan.planner == "llm:ScriptedChat"
    prompt = chat.seen[0][0].content
    assert "generate_html(layout: layout, brief?: text) -> html: json" not in prompt
    assert "generate_html(layout: layout, brief?: text) -> html: html" in prompt
    assert "image_similarity" not in prompt  # unavailable tools are not offered
    assert "layout_score" in prompt and "sketch (image)" in chat.seen[0][1].content


def test_invalid_reply_goes_back_with_exact_errors_then_succeeds() -> None:
    bad = _reply({"id": "page", "tool": "generate_html", "inputs": {"layout": "input:sketch"}})
    chat = ScriptedChat(replies=["not json", bad, GOOD], seen=[])
    plan = LLMPlanner(chat, repair=False).plan("make a page", {"sketch": "image"}, builtin_stand_ins())
    assert [s.tool for s in plan.steps] == ["analyze_sketch", "generate_html"]
    second, third = chat.seen[1][-1].content, chat.seen[2][-1].content
    assert "not one JSON object" in second
    assert "step 'page': input 'layout' needs layout, but run input 'sketch' is image" in third


def test_repair_mends_the_reply_before_asking_again() -> None:
    bad = _reply({"id": "page", "tool": "generate_htm", "inputs": {"layout": "input:sketch"}})
    chat = ScriptedChat(replies=[bad], seen=[])
    plan = LLMPlanner(chat).plan("make a page", {"sketch": "image"}, builtin_stand_ins())
    assert [s.tool for s in plan.steps] == ["analyze_sketch", "generate_html"]
    assert plan.planner == "llm:ScriptedChat+repair"
    assert len(chat.seen) == 1


def test_failure_after_retries_shows_the_last_reply() -> None:
    chat = ScriptedChat(replies=["nope", "still nope", "{'steps': 'last words'}"], seen=[])
    with pytest.raises(PlanningError, match="last words") as info:
        LLMPlanner(chat, retries=2).plan("make a page", {"sketch": "image"}, builtin_stand_ins())
    assert info.value.last_reply == "{'steps': 'last words'}"
    assert len(chat.seen) == 3


def _request() -> ReplanRequest:
    plan = Plan(steps=[Step(id="read", tool="analyze_sketch", inputs={"image": "input:sketch"}),
                       Step(id="page", tool="generate_html", inputs={"layout": "read.layout"}),
                       Step(id="shot", tool="render_page", inputs={"html": "page.html"})])
    div = Divergence(step_id="page", tool="generate_html", error="page came out empty")
    return ReplanRequest(plan=plan, divergence=div, affected=["page", "shot"])


def test_llm_replan_keeps_finished_steps() -> None:
    reply = _reply({"id": "read", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"}},
                   {"id": "page", "tool": "generate_html", "inputs": {"layout": "read.layout"},
                    "params": {}, "why": "again"},
                   {"id": "shot", "tool": "render_page", "inputs": {"html": "page.html"}})
    chat = ScriptedChat(replies=[reply], seen=[])
    steps = LLMPlanner(chat).replan(_request(), builtin_stand_ins())
    assert [s.id for s in steps] == ["page", "shot"]  # the finished 'read' step is not redone
    assert "Finished steps that stay" in chat.seen[0][-1].content


def test_llm_replan_falls_back_to_strategies() -> None:
    from planners.replan import strategy_replan

    chat = ScriptedChat(replies=["x", "y", "z"], seen=[])
    steps = LLMPlanner(chat).replan(_request(), builtin_stand_ins())
    assert len(chat.seen) == 3  # every attempt was told its errors before falling back
    assert steps == strategy_replan(_request(), builtin_stand_ins())
    assert [s.id for s in steps] == ["page", "shot"]


def test_spec_without_langchain_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("langchain") and name != "langchain_core"
                        else real(name, *a))
    planner = resolve_planner("llm:openai:gpt-4o")
    assert planner.name == "llm:openai:gpt-4o"
    with pytest.raises(MissingExtraError, match=r"mmagent\[llm\]"):
        planner.plan("make a page", {"sketch": "image"}, builtin_stand_ins())


def test_import_agent_loads_no_model_library() -> None:
    import subprocess
    import sys

    code = ("import sys, agent, planners, planners.symbolic, planners.llm, planners.local; "
            "print(sorted(m for m in ('llama_cpp', 'langchain', 'torch', 'sentence_transformers')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
