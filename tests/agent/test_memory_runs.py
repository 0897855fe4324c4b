"""Runs teach the plan memory: a verified run's plan is reused for the same request, a failed or disowned one
never is; feedback and the ``agent memory`` commands, through the real CLI and a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent import Agent
from agent.cli import app
from planners.memory import PlanMemory
from planners.testing import ScriptedPlanner
from tests.runtime_tools import registry

runner = CliRunner()
TOOLS = ["--tools", "tests.runtime_tools:registry"]
CHAIN = {"steps": [{"id": "a", "tool": "emit", "params": {"value": "hi"}},
                   {"id": "b", "tool": "append", "inputs": {"text": "a.text"}}]}
BROKEN = {"steps": [{"id": "a", "tool": "emit"}, {"id": "b", "tool": "explode", "inputs": {"text": "a.text"}}]}


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_a_verified_run_is_reused_for_the_same_request_without_the_planner(tmp_path: Path) -> None:
    planner = ScriptedPlanner([CHAIN])  # one plan only: a second call would raise
    agent = Agent(planner=planner, tools=registry, home=tmp_path)
    first = agent.run("emit hi, then append a plus")
    assert first.status == "succeeded"
    [entry] = PlanMemory(tmp_path / "memory.sqlite").entries()
    assert (entry.outcome, entry.source, entry.run_id, entry.tools) == ("good", "run", first.run_id,
                                                                        ["emit", "append"])
    events: list = []
    second = agent.run("Emit hi and then append a plus.", on_event=events.append)
    assert second.status == "succeeded" and planner.plan_calls == 1
    made = next(e for e in events if e.kind == "plan_made")
    assert made.data["planner"] == f"memory:{entry.id}"
    assert f"memory:{entry.id}" in (second.run_dir / "report.html").read_text()


def test_a_failed_run_is_remembered_as_bad_and_memory_none_writes_nothing(tmp_path: Path) -> None:
    agent = Agent(planner=ScriptedPlanner([BROKEN], replans=[]), tools=registry, home=tmp_path, max_replans=0)
    assert agent.run("emit then explode").status == "failed"
    [entry] = PlanMemory(tmp_path / "memory.sqlite").entries()
    assert entry.outcome == "bad" and entry.tools == ["emit", "explode"]
    off = tmp_path / "off"
    Agent(planner=ScriptedPlanner([CHAIN]), tools=registry, home=off, memory=None).run("emit hi")
    assert not (off / "memory.sqlite").exists()


def test_feedback_and_memory_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_MEMORY", "")  # 'agent --memory none' below sets it; put back after the test
    home = Path(str(tmp_path))
    runs = ["--runs-dir", str(home / "runs")]
    planner = ["--planner", "tests.runtime_tools:chain_planner"]
    result = runner.invoke(app, ["run", "chain", *planner, *TOOLS, *runs, "--json"])
    run_id = _last_json(result.stdout)["run_id"]
    listed = _last_json(runner.invoke(app, ["memory", "list", "--json"]).stdout)["entries"]
    assert [e["run_id"] for e in listed] == [run_id] and listed[0]["outcome"] == "good"
    # a person disowns it: marked bad, so the next run of the request plans afresh
    bad = runner.invoke(app, ["feedback", run_id, "bad", "--note", "wrong order", *runs, "--json"])
    assert bad.exit_code == 0, bad.output
    assert _last_json(bad.stdout)["entries"][0]["outcome"] == "bad"
    again = runner.invoke(app, ["plan", "chain", *planner, *TOOLS, "--json"])
    assert not _last_json(again.stdout)["planner"].startswith("memory:")
    # an edited plan is remembered as the good one, and reused
    edited = home / "edited.json"
    edited.write_text(json.dumps(CHAIN))
    good = runner.invoke(app, ["feedback", run_id, "bad", "--plan", str(edited), *runs])
    assert good.exit_code == 0 and "as good (edited)" in good.stdout
    reused = _last_json(runner.invoke(app, ["plan", "chain", *planner, *TOOLS, "--json"]).stdout)
    assert reused["planner"].startswith("memory:") and [s["tool"] for s in reused["steps"]] == ["emit", "append"]
    # export, forget everything, import: the same library back
    library = home / "library.jsonl"
    assert runner.invoke(app, ["memory", "export", str(library)]).exit_code == 0
    ids = [json.loads(line)["id"] for line in library.read_text().splitlines()]
    for entry_id in ids:
        assert runner.invoke(app, ["memory", "forget", entry_id]).exit_code == 0
    assert _last_json(runner.invoke(app, ["memory", "list", "--json"]).stdout)["entries"] == []
    assert len(ids) == 3  # the run's plan (good), the same plan disowned (bad), the edited plan (good)
    assert _last_json(runner.invoke(app, ["memory", "import", str(library), "--json"]).stdout) == {"imported": 3}
    shown = _last_json(runner.invoke(app, ["memory", "show", ids[0][:6], "--json"]).stdout)
    assert shown["id"] == ids[0] and shown["plan"]["steps"]
    # memory off for one command
    off = runner.invoke(app, ["--memory", "none", "plan", "chain", *planner, *TOOLS, "--json"])
    assert not _last_json(off.stdout)["planner"].startswith("memory:")


def test_bad_feedback_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["feedback", "nope-run", "meh", "--json"])
    assert result.exit_code == 2 and "'meh' is neither 'good' nor 'bad'" in result.stderr
    assert _last_json(result.stdout)["status"] == "error"
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"request": "x"}\n')
    result = runner.invoke(app, ["memory", "import", str(broken)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"{broken} line 1 is not a memory entry" in result.stderr
    result = runner.invoke(app, ["memory", "forget", "zz"])
    assert result.exit_code == 2 and "no entry has the memory id 'zz'; see 'agent memory list'" in result.stderr


def test_an_approved_or_edited_plan_is_remembered_as_such(tmp_path: Path) -> None:
    agent = Agent(planner=ScriptedPlanner([CHAIN, CHAIN]), tools=registry, home=tmp_path, approve=True)
    paused = agent.run("emit hi, then append a plus")
    assert paused.status == "interrupted" and len(PlanMemory(tmp_path / "memory.sqlite")) == 0
    assert agent.resume(paused.run_id, decision="accept").status == "succeeded"
    edited = {"steps": [{"id": "only", "tool": "emit", "params": {"value": "edited"}}]}
    paused = agent.run("emit something else entirely")
    assert agent.resume(paused.run_id, decision={"plan": edited}).status == "succeeded"
    sources = {(e.source, tuple(e.tools)) for e in PlanMemory(tmp_path / "memory.sqlite").entries()}
    assert sources == {("approved", ("emit", "append")), ("edited", ("emit",))}
