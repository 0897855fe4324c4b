"""The runtime: eager parallel steps, checks, partial replanning, budgets, time limits, approval, streaming."""

from __future__ import annotations

import json
import time
from pathlib import Path

from agent import Agent
from planners.testing import FunctionPlanner, ScriptedPlanner
from tests.runtime_tools import registry


def _agent(tmp_path: Path, plans: list, **kw) -> Agent:
    return Agent(planner=ScriptedPlanner(plans, kw.pop("replans", None)), tools=registry, home=tmp_path, **kw)


def _times(result, kind: str) -> dict[str, float]:
    from agent.events import read_events

    return {e.data["step"]: e.t for e in read_events(result.run_dir / "events.jsonl") if e.kind == kind}


def test_independent_steps_overlap(tmp_path: Path) -> None:
    plan = {"steps": [{"id": f"p{i}", "tool": "emit", "params": {"value": str(i), "delay": 0.5}} for i in range(3)]}
    result = _agent(tmp_path, [plan]).run("parallel")
    assert result.status == "succeeded"
    started, finished = _times(result, "step_started"), _times(result, "step_finished")
    # run one after another, each would start only after the previous one finished
    assert max(started.values()) < min(finished.values()), (started, finished)


def test_short_branch_is_not_gated_by_a_slow_one(tmp_path: Path) -> None:
    plan = {"steps": [
        {"id": "slow", "tool": "emit", "params": {"delay": 1.2}},
        {"id": "c1", "tool": "emit", "params": {"delay": 0.1}},
        {"id": "c2", "tool": "append", "inputs": {"text": "c1.text"}, "params": {"delay": 0.1}},
        {"id": "c3", "tool": "append", "inputs": {"text": "c2.text"}, "params": {"delay": 0.1}},
    ]}
    result = _agent(tmp_path, [plan]).run("eager")
    finished = _times(result, "step_finished")
    assert result.status == "succeeded"
    # a superstep scheduler would hold c2 until 'slow' ends, so the chain would end after it
    assert finished["c3"] < finished["slow"], finished


def test_failed_check_replans_only_the_affected_subgraph(tmp_path: Path) -> None:
    plan = {"steps": [
        {"id": "source", "tool": "emit", "params": {"value": "hello"}},
        {"id": "other", "tool": "emit", "params": {"value": "unrelated"}},
        {"id": "page", "tool": "draft", "inputs": {"text": "source.text"}},
        {"id": "compare", "tool": "judge", "inputs": {"reference": "source.text", "candidate": "page.text"}},
        {"id": "final", "tool": "append", "inputs": {"text": "page.text"}},
    ]}
    result = _agent(tmp_path, [plan]).run("draft it")
    assert result.status == "succeeded", result.error
    runs = {s["id"]: s["executions"] for s in result.steps}
    assert runs == {"source": 1, "other": 1, "page": 2, "compare": 2, "final": runs["final"]}
    assert runs["final"] in (1, 2)  # it may have started on the bad draft before the judge failed
    assert result.replans == 1
    replan = result.state["replans"][0]
    assert replan["affected"] == ["compare", "final", "page"]
    assert replan["reason"]["suspects"] == ["page"]
    assert result.outputs["final"].read_text() == "good:hello+"
    # the replan is announced when it starts (a model may take a while), and reported when it is made
    from agent.events import read_events

    kinds = [e.kind for e in read_events(result.run_dir / "events.jsonl") if e.kind.startswith("replan")]
    assert kinds == ["replanning", "replanned"]


def test_each_diverging_step_has_its_own_replan_budget(tmp_path: Path) -> None:
    """Two independent branches fail (a page's judge and a narration's round trip, in the product): the tries one
    of them spent are not taken from the other. Each gets max_replans, and the run as a whole twice that."""
    plan = {"steps": [{"id": "a", "tool": "emit"}, {"id": "x", "tool": "explode", "inputs": {"text": "a.text"}},
                      {"id": "y", "tool": "explode", "inputs": {"text": "a.text"}}]}

    def again(request, registry):
        return [request.plan.step(request.divergence.step_id)]

    agent = Agent(planner=FunctionPlanner(lambda *_: plan, again), tools=registry, home=tmp_path, max_replans=2)
    result = agent.run("two branches fail forever")
    assert result.status == "failed" and "replan budget of 2 spent" in (result.error or "")
    runs = {s["id"]: s["executions"] for s in result.steps}
    # the step whose budget ran out ran 1 + 2 times; the other had tries of its own, though the run may end before
    # its last one (the branches finish in either order). One shared budget of 2 would give 3 + 1 or 2 + 2 runs.
    assert runs["a"] == 1 and max(runs["x"], runs["y"]) == 3 and min(runs["x"], runs["y"]) >= 2, runs
    assert 3 <= result.replans <= 4, result.replans


def test_replan_budget_stops_runaway_replanning(tmp_path: Path) -> None:
    plan = {"steps": [{"id": "a", "tool": "emit"}, {"id": "b", "tool": "explode", "inputs": {"text": "a.text"}}]}
    same = [{"id": "b", "tool": "explode", "inputs": {"text": "a.text"}}]
    agent = _agent(tmp_path, [plan], replans=[same, same, same], max_replans=2)
    result = agent.run("fail forever")
    assert result.status == "failed"
    assert "replan budget of 2 spent" in (result.error or "")
    assert "boom" in result.error
    assert {s["id"]: s["executions"] for s in result.steps} == {"a": 1, "b": 3}


def test_hung_step_is_stopped_at_its_time_limit(tmp_path: Path) -> None:
    plan = {"steps": [{"id": "hang", "tool": "emit", "params": {"delay": 30}}]}
    t0 = time.perf_counter()
    result = _agent(tmp_path, [plan], step_timeout_s=0.5, max_replans=0).run("hang")
    assert time.perf_counter() - t0 < 10
    assert result.status == "failed"
    assert "timed out" in (result.error or "")


def test_tool_returning_garbage_is_a_divergence(tmp_path: Path) -> None:
    from tools import Tool, ToolRegistry

    class Garbage(Tool):
        name = "garbage"
        description = "Returns something that is not a ToolResult."
        outputs = {"text": "text"}

        def run(self, ctx, inputs, params):  # type: ignore[override]
            return "not a result"

    agent = Agent(planner=ScriptedPlanner([{"steps": [{"id": "g", "tool": "garbage"}]}]),
                  tools=ToolRegistry([Garbage()]), home=tmp_path, max_replans=0)
    result = agent.run("garbage")
    assert result.status == "failed"
    assert "not a ToolResult" in result.error


def test_stream_yields_typed_events_in_order(tmp_path: Path) -> None:
    plan = {"steps": [{"id": "a", "tool": "emit"}, {"id": "b", "tool": "append", "inputs": {"text": "a.text"}}]}
    kinds = [e.kind for e in _agent(tmp_path, [plan]).stream("stream")]
    assert kinds[0] == "run_started" and kinds[1] == "plan_made" and kinds[-1] == "run_finished"
    assert kinds.count("step_started") == 2 and kinds.count("step_finished") == 2


def test_approval_pause_then_accept_and_edit(tmp_path: Path) -> None:
    plan = {"steps": [{"id": "a", "tool": "emit", "params": {"value": "planned"}}]}
    agent = _agent(tmp_path, [plan, plan], approve=True)
    paused = agent.run("approve me")
    assert paused.status == "interrupted"
    assert paused.steps[0]["executions"] == 0
    done = agent.resume(paused.run_id, decision="accept")
    assert done.status == "succeeded" and done.outputs["a"].read_text() == "planned"

    paused = agent.run("edit me")
    edited = {"steps": [{"id": "a", "tool": "emit", "params": {"value": "edited"}}]}
    done = agent.resume(paused.run_id, decision={"plan": edited})
    assert done.outputs["a"].read_text() == "edited"


def test_rejected_plan_fails_the_run(tmp_path: Path) -> None:
    agent = _agent(tmp_path, [{"steps": [{"id": "a", "tool": "emit"}]}], approve=True)
    paused = agent.run("reject me")
    assert agent.resume(paused.run_id, decision="reject").error == "plan rejected by the user"


def test_resume_of_a_finished_run_runs_nothing_again(tmp_path: Path) -> None:
    agent = Agent(planner=FunctionPlanner(lambda *a: {"steps": [{"id": "a", "tool": "emit"}]}), tools=registry,
                  home=tmp_path)
    first = agent.run("once")
    again = agent.resume(first.run_id)
    assert again.status == "succeeded"
    assert again.steps[0]["executions"] == 1


def test_state_and_checkpoints_hold_references_not_bytes(tmp_path: Path) -> None:
    plan = {"steps": [{"id": f"big{i}", "tool": "emit", "params": {"value": str(i), "times": 2_000_000}}
                      for i in range(5)]}
    result = _agent(tmp_path, [plan]).run("big")
    assert result.status == "succeeded"
    assert all(a.size == 2_000_000 for a in result.artifacts.values())
    # five 2 MB artifacts; the checkpoint holds only their 64-hex-digit ids
    assert (result.run_dir / "checkpoints.sqlite").stat().st_size < 500_000


def test_resume_of_a_run_killed_before_its_first_checkpoint(tmp_path: Path) -> None:
    agent = _agent(tmp_path, [{"steps": [{"id": "a", "tool": "emit", "params": {"value": "late"}}]}])
    agent._new_run_dir("early", "task", {})  # what a run leaves when killed right after it started
    result = agent.resume("early")
    assert result.status == "succeeded" and result.outputs["a"].read_text() == "late"


def test_quick_steps_share_checkpoints_and_each_is_journaled(tmp_path: Path) -> None:
    import sqlite3

    from agent.journal import finished_steps

    steps = [{"id": "s0", "tool": "emit", "params": {"value": "a"}}]
    steps += [{"id": f"s{i}", "tool": "append", "inputs": {"text": f"s{i - 1}.text"}} for i in range(1, 40)]
    result = _agent(tmp_path, [{"steps": steps}]).run("quick chain")
    assert result.status == "succeeded"
    assert result.outputs["s39"].read_text() == "a" + "+" * 39
    with sqlite3.connect(result.run_dir / "checkpoints.sqlite") as conn:
        checkpoints = conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
    assert checkpoints < 40  # one superstep per step would write at least one checkpoint per step
    assert finished_steps(result.run_dir / "journal.sqlite") == {s["id"] for s in steps}


def test_resuming_a_finished_run_reports_it_as_it_was(tmp_path: Path) -> None:
    plan = {"steps": [{"id": "a", "tool": "emit", "params": {"value": "x", "delay": 0.2}}]}
    agent = _agent(tmp_path, [plan])
    first = agent.run("once")
    summary = (first.run_dir / "summary.json").read_text()
    events = (first.run_dir / "events.jsonl").read_text()
    again = agent.resume(first.run_id)
    assert again.status == first.status == "succeeded"
    assert again.wall_s == round(first.wall_s, 3) >= 0.2  # the run's own time, not the resume's few ms
    assert (first.run_dir / "summary.json").read_text() == summary
    assert (first.run_dir / "events.jsonl").read_text() == events
    assert [s["executions"] for s in again.summary()["steps"]] == [1]
    # a summary left stale by a kill after the last checkpoint is written again from the checkpoint
    stale = json.loads(summary)
    (first.run_dir / "summary.json").write_text(json.dumps({**stale, "status": "interrupted"}))
    assert agent.resume(first.run_id).status == "succeeded"
    assert json.loads((first.run_dir / "summary.json").read_text())["status"] == "succeeded"


def test_a_failed_run_keeps_the_results_its_finished_steps_made(tmp_path: Path) -> None:
    plan = {"steps": [
        {"id": "source", "tool": "emit", "params": {"value": "hello"}},
        {"id": "other", "tool": "emit", "params": {"value": "unrelated"}},
        {"id": "page", "tool": "draft", "inputs": {"text": "source.text"}},
        {"id": "compare", "tool": "judge", "inputs": {"reference": "source.text", "candidate": "page.text"}},
    ]}
    result = _agent(tmp_path, [plan], max_replans=0).run("draft it")
    assert result.status == "failed"
    # the independent leaf finished: its file is kept; neither the failed comparison's nor the draft it rejected
    assert set(result.outputs) == {"other"} and result.outputs["other"].read_text() == "unrelated"


class _LoadingPlanner(ScriptedPlanner):
    """Plans as scripted, after saying it loads its model (as the local planner does on its first plan)."""

    def plan(self, task, inputs, registry):
        from planners.base import announce

        announce("model_loading", model="planner test.gguf", device="cpu")
        return super().plan(task, inputs, registry)


def test_a_planner_loading_its_model_says_so_in_the_runs_events(tmp_path: Path) -> None:
    from agent.events import read_events

    plan = {"steps": [{"id": "a", "tool": "emit", "params": {"value": "x"}}]}
    result = Agent(planner=_LoadingPlanner([plan]), tools=registry, home=tmp_path).run("load, then plan")
    assert result.status == "succeeded", result.error
    events = [(e.kind, e.data) for e in read_events(result.run_dir / "events.jsonl")]
    kinds = [k for k, _ in events]
    # before the plan, the run says what it is waiting for: a first plan can take 40 s on two cores
    assert kinds.index("model_loading") < kinds.index("plan_made"), kinds
    loading = next(d for k, d in events if k == "model_loading")
    assert loading == {"model": "planner test.gguf", "device": "cpu", "step": "plan"}
