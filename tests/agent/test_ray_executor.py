"""The Ray executor: real plans on a real single-node Ray head started by this module (tasks, actors, both store
modes, worker loss, resume)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from agent import Agent  # noqa: E402
from agent.events import read_events  # noqa: E402
from agent.ray_executor import RayExecutor, _ray_options  # noqa: E402
from planners.testing import ScriptedPlanner  # noqa: E402
from tests.conftest import REPO  # noqa: E402
from tests.ray_tools import registry  # noqa: E402
from tests.runtime_tools import registry as runtime_registry  # noqa: E402
from tools import ToolRegistry  # noqa: E402

_RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


# -- fixtures ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """A local Ray head for this module, with bounded resources; its GCS address."""
    saved = {k: os.environ.get(k) for k in _RAY_ENV}
    os.environ.update(_RAY_ENV)
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def executor(ray_head: str) -> Iterator[RayExecutor]:
    ex = RayExecutor()  # joins the head above
    yield ex
    ex.close()


def _agent(tmp_path: Path, plans: list, executor: RayExecutor, tools: ToolRegistry = registry, **kw: Any) -> Agent:
    return Agent(planner=ScriptedPlanner(plans, kw.pop("replans", None)), tools=tools, home=tmp_path,
                 executor=executor, **kw)


def _metrics(result: Any, step: str) -> dict[str, Any]:
    return result.state["results"][step]["metrics"]


def _events(result: Any, kind: str) -> list[Any]:
    return [e for e in read_events(result.run_dir / "events.jsonl") if e.kind == kind]


# -- tests -------------------------------------------------------------------------------------------------------
def test_executor_spec_and_resources_map_to_ray_options() -> None:
    from agent.executor import LocalExecutor, resolve_executor
    from modalities.errors import ConfigError

    assert isinstance(resolve_executor("local"), LocalExecutor)
    assert resolve_executor("ray=10.0.0.5:6379").address == "10.0.0.5:6379"
    with pytest.raises(ConfigError, match="unknown executor 'dask'; use 'local', 'threads', 'ray' or 'ray=ADDRESS'"):
        resolve_executor("dask")
    assert _ray_options({"num_gpus": 1, "memory": 2e9, "tpu_slice": 2}, actor=True) == {
        "num_gpus": 1, "memory": 2_000_000_000, "resources": {"tpu_slice": 2.0}}
    assert _ray_options({}, actor=False) == {"num_cpus": 1}
    assert _ray_options({}, actor=True) == {}  # idle model actors hold no CPU


def test_parallel_steps_run_in_ray_workers(tmp_path: Path, executor: RayExecutor) -> None:
    plan = {"steps": [
        {"id": "a", "tool": "spin", "params": {"value": "a", "delay": 1.0}},
        {"id": "b", "tool": "spin", "params": {"value": "b", "delay": 1.0}},
        {"id": "c", "tool": "shout", "inputs": {"text": "a.text"}},
    ]}
    result = _agent(tmp_path, [plan], executor).run("parallel")
    assert result.status == "succeeded", result.error
    assert result.outputs["c"].read_text() == "A!"
    recs = result.state["results"]
    # both delayed steps ran at once, each in a Ray worker process, not in this one
    assert recs["a"]["started"] < recs["b"]["finished"] and recs["b"]["started"] < recs["a"]["finished"]
    pids = {_metrics(result, s)["pid"] for s in ("a", "b")}
    assert len(pids) == 2 and os.getpid() not in pids
    assert executor.shared_store is True  # one node with the driver on it: workers use the store's folder


def test_failed_check_replans_on_ray(tmp_path: Path, executor: RayExecutor) -> None:
    plan = {"steps": [
        {"id": "source", "tool": "emit", "params": {"value": "hello"}},
        {"id": "page", "tool": "draft", "inputs": {"text": "source.text"}},
        {"id": "compare", "tool": "judge", "inputs": {"reference": "source.text", "candidate": "page.text"}},
    ]}
    agent = _agent(tmp_path, [plan], executor, tools=runtime_registry)
    result = agent.run("draft it")
    assert result.status == "succeeded", result.error
    assert result.replans == 1
    assert {s["id"]: s["executions"] for s in result.steps} == {"source": 1, "page": 2, "compare": 2}
    assert result.state["replans"][0]["reason"]["suspects"] == ["page"]
    assert agent.store.read_text(result.state["results"]["page"]["outputs"]["text"]) == "good:hello"
    assert json.loads(result.outputs["compare"].read_text())["report"] == {"score": 1.0}


def test_unshared_store_moves_bytes_through_ray(tmp_path: Path, ray_head: str) -> None:
    source = tmp_path / "note.txt"
    source.write_text("bytes travel")
    plan = {"steps": [
        {"id": "loud", "tool": "shout", "inputs": {"text": "input:note"}},
        {"id": "louder", "tool": "shout", "inputs": {"text": "loud.text"}},
    ]}
    with RayExecutor(shared_store=False) as unshared:
        agent = _agent(tmp_path, [plan], unshared)
        result = agent.run("shout", [source])
    assert result.status == "succeeded", result.error
    assert result.outputs["louder"].read_text() == "BYTES TRAVEL!!"
    for step in ("loud", "louder"):
        out = result.state["results"][step]["outputs"]["text"]
        assert agent.store.verify(out)  # written back by the driver, under the id the worker computed
        worker_root = Path(_metrics(result, step)["store"])
        assert worker_root != agent.store.root and not worker_root.exists()  # a private store, cleaned up


def test_model_backed_tool_runs_in_one_reused_actor(tmp_path: Path, executor: RayExecutor) -> None:
    plan = {"steps": [{"id": f"e{i}", "tool": "embed", "params": {"word": "w" * (i + 1)}} for i in range(4)]}
    agent = _agent(tmp_path, [plan, plan], executor)
    first = agent.run("embed")
    assert first.status == "succeeded", first.error
    assert first.outputs["e3"].read_text() == "toy:12"
    second = agent.run("embed again")
    assert second.status == "succeeded", second.error
    metrics = [_metrics(r, f"e{i}") for r in (first, second) for i in range(4)]
    assert len({m["pid"] for m in metrics}) == 1 and metrics[0]["pid"] != os.getpid()
    assert {m["loads"] for m in metrics} == {1}  # 8 steps over two runs, one load
    loading = _events(first, "model_loading") + _events(second, "model_loading")
    assert len(loading) == 1 and loading[0].data["model"] == "toy-embedder"  # re-emitted by the driver
    assert executor.actors()["embed"] == 1 and executor.model_loads()["embed"] == 1

    with RayExecutor(actors_per_tool={"embed": 2}) as two:
        busy = {"steps": [{"id": f"e{i}", "tool": "embed", "params": {"word": "w", "delay": 0.5}}
                          for i in range(4)]}
        result = _agent(tmp_path / "two", [busy], two).run("embed on two actors")
        assert result.status == "succeeded", result.error
        assert len({_metrics(result, f"e{i}")["pid"] for i in range(4)}) == 2
        assert two.actors() == {"embed": 2} and two.model_loads() == {"embed": 2}  # one load per actor


@pytest.mark.parametrize("tool_name", ["fragile_model", "fragile_task"])
def test_worker_killed_mid_step_is_retried_once_then_a_failed_record(tmp_path: Path, executor: RayExecutor,
                                                                     tool_name: str) -> None:
    once = tmp_path / "once.crashes"
    plan = {"steps": [{"id": "f", "tool": tool_name, "params": {"marker": str(once)}}]}
    result = _agent(tmp_path / "once", [plan], executor).run("crash once")
    # the retry ran in a fresh process and the step succeeded; the runtime saw one execution
    assert result.status == "succeeded", result.error
    crashed = [int(p) for p in once.read_text().split()]
    assert len(crashed) == 1 and _metrics(result, "f")["pid"] != crashed[0]
    assert result.steps[0]["executions"] == 1
    # an actor that used its one restart is retired, so the next crash still gets a retry on a fresh actor
    assert executor.actors().get(tool_name, 0) == 0

    always = tmp_path / "always.crashes"
    plan = {"steps": [{"id": "f", "tool": tool_name, "params": {"marker": str(always), "always": True}}]}
    result = _agent(tmp_path / "always", [plan], executor, max_replans=0).run("crash always")
    # it died on the first try and on the retry: a failed step (a divergence), not a lost run
    assert result.status == "failed"
    assert len(always.read_text().split()) == 2
    record = result.state["results"]["f"]
    assert record["status"] == "failed"
    assert f"the Ray {'actor' if tool_name == 'fragile_model' else 'worker'} running tool {tool_name!r} died " \
           "during the step after 1 retry" in record["error"]
    assert "replan budget of 0 spent" in result.error


def test_kill_9_then_resume_with_the_ray_executor(tmp_path: Path, ray_head: str) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "MMAGENT_HOME": str(home), "PYTHONPATH": str(REPO), **_RAY_ENV}
    cli = [sys.executable, "-m", "agent.cli"]
    proc = subprocess.Popen([*cli, "run", "chain", "--planner", "tests.runtime_tools:chain_planner",
                             "--tools", "tests.runtime_tools:registry", "--executor", f"ray={ray_head}", "--json"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal_rows = _watch_journal(home / "runs", proc, want=2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = journal_rows()
    assert 2 <= len(before) < 6, before

    run_dir = next((home / "runs").iterdir())
    out = subprocess.run([*cli, "resume", run_dir.name, "--executor", f"ray={ray_head}", "--json"], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    executions = {s["id"]: s["executions"] for s in summary["steps"]}
    assert all(executions[step] == 1 for step in before), (before, executions)
    assert Path(summary["outputs"]["s5"]).read_text() == "a+++++"


def _watch_journal(runs: Path, proc: subprocess.Popen[bytes], want: int) -> Any:
    import sqlite3

    def finished() -> set[str]:
        journals = list(runs.glob("*/journal.sqlite")) if runs.exists() else []
        if not journals:
            return set()
        try:
            with sqlite3.connect(journals[0], timeout=1) as conn:
                rows = conn.execute("SELECT step_id FROM executions WHERE record IS NOT NULL").fetchall()
        except sqlite3.OperationalError:
            return set()
        return {r[0] for r in rows}

    deadline = time.time() + 60
    while time.time() < deadline and len(finished()) < want:
        if proc.poll() is not None:
            pytest.fail(f"the run exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.05)
    return finished
