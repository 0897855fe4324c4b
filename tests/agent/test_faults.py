"""Injected tool faults: every one ends in success after replanning, or a failure report naming the step."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import Agent
from planners.testing import ScriptedPlanner
from tests.runtime_tools import append, emit, registry
from tools import ToolRegistry
from tools.faults import FAULT_MODES, Fault, inject_faults

PLAN = {"steps": [{"id": "src", "tool": "emit", "params": {"value": "hi"}},
                  {"id": "side", "tool": "emit", "params": {"value": "kept"}},
                  {"id": "grow", "tool": "append", "inputs": {"text": "src.text"}},
                  {"id": "end", "tool": "append", "inputs": {"text": "grow.text"}}]}


@pytest.mark.parametrize("mode", FAULT_MODES)
def test_transient_fault_is_survived_by_replanning(tmp_path: Path, mode: str) -> None:
    tools = inject_faults(registry, {"append": Fault(mode, times=1, hang_s=30)})
    agent = Agent(planner=ScriptedPlanner([PLAN]), tools=tools, home=tmp_path, step_timeout_s=1.0)
    result = agent.run(f"survive {mode}")
    assert result.status == "succeeded", result.error
    assert result.replans == 1
    executions = {s["id"]: s["executions"] for s in result.steps}
    assert executions == {"src": 1, "side": 1, "grow": 2, "end": 1}
    assert result.outputs["end"].read_text() == "hi++"


@pytest.mark.parametrize("mode, message", [("raise", "injected fault in 'append'"), ("hang", "timed out"),
                                           ("wrong_kind", "is json, declared text"),
                                           ("garbage", "not a ToolResult"),
                                           ("missing_output", "returned outputs []"),
                                           ("unstored", "not in the artifact store")])
def test_persistent_fault_fails_with_a_report_of_what_was_kept(tmp_path: Path, mode: str, message: str) -> None:
    # no other text -> text tool to swap in: the replanner can only retry, and the retries fail too
    tools = inject_faults(ToolRegistry([emit, append]), {"append": Fault(mode, times=99, hang_s=30)})
    agent = Agent(planner=ScriptedPlanner([PLAN]), tools=tools, home=tmp_path, step_timeout_s=1.0)
    result = agent.run(f"fail {mode}")
    assert result.status == "failed"
    assert "step 'grow' (append)" in result.error and message in result.error
    status = {s["id"]: s["status"] for s in result.steps}
    assert status["src"] == status["side"] == "succeeded"  # finished work is kept
    report = (result.run_dir / "report.html").read_text()
    assert message.split("'")[0] in report


def test_a_hung_call_that_ends_after_its_run_is_ignored_quietly(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import time

    tools = inject_faults(ToolRegistry([emit, append]), {"append": Fault("hang", times=99, hang_s=1.5)})
    agent = Agent(planner=ScriptedPlanner([PLAN]), tools=tools, home=tmp_path, step_timeout_s=0.3, max_replans=0)
    result = agent.run("hang then wake")
    assert result.status == "failed" and "timed out" in result.error
    time.sleep(2.0)  # the abandoned call wakes up now, after the run closed its journal
    assert "Traceback" not in capsys.readouterr().err
    import sqlite3

    with sqlite3.connect(result.run_dir / "journal.sqlite") as conn:
        rows = conn.execute("SELECT record FROM executions WHERE step_id = 'grow'").fetchall()
    assert rows and all("timed out" in r[0] for r in rows)  # the late result did not overwrite the verdict
