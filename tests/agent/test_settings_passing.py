"""An agent's settings are read once and passed down: to its tools, in whichever process a step runs, whatever the
environment of that process says."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import Agent
from agent.executor import LocalExecutor
from agent.workers import WorkerPool
from modalities.ingest import Limits
from modalities.settings import Settings
from planners.testing import ScriptedPlanner
from tests.worker_tools import report_budgets, report_settings
from tools import ToolContext, ToolRegistry


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(size=1, kill_grace_s=1.0)
    yield pool
    pool.close()


def _records(run_dir: Path) -> list[dict]:
    with sqlite3.connect(run_dir / "journal.sqlite") as conn:
        rows = conn.execute("SELECT record FROM executions ORDER BY rowid").fetchall()
    return [json.loads(r[0]) for r in rows if r[0]]


def test_a_step_in_a_worker_process_runs_with_the_agents_settings_not_the_environments(
        tmp_path: Path, pool: WorkerPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_SKETCH_DET_SIDE", "960")  # the worker inherits this environment
    monkeypatch.setenv("MMAGENT_MAX_PIXELS", "80000000")
    plan = {"steps": [{"id": "probe", "tool": "report_settings"}]}
    agent = Agent(planner=ScriptedPlanner([plan]), tools=ToolRegistry([report_settings]),
                  executor=LocalExecutor(1, pool=pool), memory=None,
                  settings=Settings(home=tmp_path, sketch_det_side=321, max_pixels=12_345))
    # another agent made since configures the same (module-level) tool object; each run still has its agent's
    Agent(planner=ScriptedPlanner([]), tools=ToolRegistry([report_settings]), memory=None,
          settings=Settings(home=tmp_path / "other", sketch_det_side=654))
    result = agent.run("probe the settings")
    assert result.status == "succeeded", result.error
    metrics = _records(result.run_dir)[0]["metrics"]
    assert metrics["pid"] != os.getpid() and pool.stats()["spawned"] == 1  # it ran in a worker process
    assert (metrics["sketch_det_side"], metrics["max_pixels"]) == (321, 12_345)


def test_a_step_in_a_worker_process_keeps_to_the_agents_model_budgets_and_device(
        tmp_path: Path, pool: WorkerPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_MODEL_MEMORY", "5GB")  # what the worker's environment says
    monkeypatch.setenv("MMAGENT_GPU_MEMORY", "7GB")
    monkeypatch.setenv("MMAGENT_DEVICE", "cuda")
    plan = {"steps": [{"id": "probe", "tool": "report_budgets"}]}
    seen = []
    for n, (memory, gpu) in enumerate([("1234MB", "321MB"), ("2GB", "654MB")]):  # one worker, two agents in turn
        agent = Agent(planner=ScriptedPlanner([plan]), tools=ToolRegistry([report_budgets]),
                      executor=LocalExecutor(1, pool=pool), memory=None,
                      settings=Settings(home=tmp_path / str(n), model_memory=memory, gpu_memory=gpu, device="cpu"))
        result = agent.run("probe the budgets")
        assert result.status == "succeeded", result.error
        seen.append(_records(result.run_dir)[0]["metrics"])
    assert seen[0]["pid"] == seen[1]["pid"] != os.getpid() and pool.stats()["spawned"] == 1
    assert [(m["model_budget"], m["gpu_budget"], m["device"]) for m in seen] == [
        (1_234_000_000, 321_000_000, "cpu"), (2_000_000_000, 654_000_000, "cpu")]


def test_a_tool_context_asks_for_its_settings_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modalities.store import ArtifactStore

    monkeypatch.setenv("MMAGENT_DEVICE", "cuda")
    store = ArtifactStore(tmp_path)
    assert ToolContext(store, settings=Settings(device="cpu")).device == "cpu"
    assert ToolContext(store).device == "cuda"  # without settings: the environment's
    assert ToolContext(store, device="mps", settings=Settings(device="cpu")).device == "mps"  # the run's own wins


def test_planners_take_the_matcher_cache_and_model_of_the_settings_they_are_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from planners import resolve_planner

    monkeypatch.setenv("MMAGENT_MATCHER", "embedding")
    monkeypatch.setenv("MMAGENT_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("MMAGENT_PLANNER_MODEL", str(tmp_path / "env.gguf"))
    monkeypatch.setenv("MMAGENT_PLANNER_BASE_URL", "http://env.invalid/v1")
    settings = Settings(matcher="overlap", cache=tmp_path / "cache", planner_model=str(tmp_path / "mine.gguf"),
                        planner_base_url="http://127.0.0.1:9/v1")
    llm = resolve_planner("llm:openai:gpt-4o", settings=settings)
    assert (llm.matcher, llm.cache_dir, llm.base_url) == ("overlap", tmp_path / "cache", "http://127.0.0.1:9/v1")
    local = resolve_planner("local", settings=settings)
    assert local.model_path == tmp_path / "mine.gguf" and local.cache_dir == tmp_path / "cache"
    assert local.matcher == local._symbolic.matcher == "overlap"


def test_a_tool_gives_the_hub_its_settings_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("diffusers")
    import tools._hub as hub
    from tools.generation.diffusion import TextToImage

    monkeypatch.setenv("MMAGENT_HUB_TIMEOUT", "3")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # nothing cached: availability asks the hub
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "_probes", {})
    waited: list[float] = []
    monkeypatch.setattr(hub, "_unreachable", lambda url, timeout: waited.append(timeout) or "refused")
    tool = TextToImage()
    tool.configure(Settings(hub_timeout=0.25, diffusion_model="org/not-cached"))
    assert not tool.available() and waited == [0.25]


def test_the_ray_executor_shares_the_store_as_the_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.executor import resolve_executor

    monkeypatch.setenv("MMAGENT_RAY_SHARED_STORE", "1")
    assert resolve_executor("ray", settings=Settings(ray_shared_store=False)).shared_store is False
    assert resolve_executor("ray", settings=Settings(ray_shared_store=None)).shared_store is None  # decided later


def test_the_model_catalogue_lists_the_models_of_the_settings_it_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.model_catalog import model_info

    monkeypatch.setenv("MMAGENT_PLANNER_MODEL", str(tmp_path / "env.gguf"))
    (tmp_path / "mine.gguf").write_bytes(b"GGUF")
    row = model_info("planner", Settings(planner_model=str(tmp_path / "mine.gguf")))
    assert (row.model, row.present) == (str(tmp_path / "mine.gguf"), True)
    assert model_info("planner").model == str(tmp_path / "env.gguf")  # without settings: the environment's


def test_the_sketch_tool_in_a_worker_refuses_an_image_over_the_agents_pixel_limit(
        tmp_path: Path, pool: WorkerPool, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rapidocr")
    from PIL import Image

    monkeypatch.setenv("MMAGENT_MAX_PIXELS", "80000000")  # what the worker's environment says
    sketch = tmp_path / "sketch.png"
    Image.new("RGB", (200, 150), "white").save(sketch)
    plan = {"steps": [{"id": "read", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"},
                       "params": {"backend": "opencv"}}]}
    agent = Agent(planner=ScriptedPlanner([plan]), executor=LocalExecutor(1, pool=pool), memory=None,
                  limits=Limits(max_pixels=10**6),  # the input itself is accepted; the tool's limit is lower
                  settings=Settings(home=tmp_path / "home", max_pixels=20_000), max_replans=0)
    result = agent.run("analyze the sketch", [sketch])
    assert result.status == "failed"
    record = _records(result.run_dir)[0]
    assert record["worker"]["pid"] != os.getpid()
    assert "200x150" in record["error"] and "MMAGENT_MAX_PIXELS" in record["error"]


def test_a_registry_configures_its_tools_registered_and_loaded_later() -> None:
    registry = ToolRegistry()
    registry.register("tools.vision.sketch:AnalyzeSketch", name="analyze_sketch")
    settings = Settings(sketch_det_side=500)
    registry.configure(settings)
    registry.register(report_settings)
    assert registry.get("analyze_sketch").settings is settings  # a lazy tool, built after configure
    assert registry.get("report_settings").settings is settings


def test_the_planner_memory_and_executor_come_from_the_agents_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_PLANNER_BASE_URL", "http://env.invalid/v1")
    monkeypatch.setenv("MMAGENT_MEMORY", str(tmp_path / "env-memory.sqlite"))
    monkeypatch.setenv("MMAGENT_EXECUTOR", "ray")
    settings = Settings(home=tmp_path, planner_base_url="http://127.0.0.1:9/v1", memory="none", executor="threads")
    agent = Agent(planner="llm:openai:gpt-4o", settings=settings)
    assert agent.planner.base_url == "http://127.0.0.1:9/v1"
    assert agent.memory is None and agent.executor.isolate is False
    monkeypatch.delenv("MMAGENT_MEMORY")
    monkeypatch.setenv("MMAGENT_HOME", str(tmp_path / "env-home"))
    remembering = Agent(planner="symbolic", settings=Settings(home=tmp_path / "h"))
    assert remembering.memory.path == tmp_path / "h" / "memory.sqlite"  # the settings' home, not the environment's


def test_command_line_options_are_settings_overrides_not_environment_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from agent._cli_common import make_agent, start_command_line
    from agent.cli import app

    monkeypatch.delenv("MMAGENT_MEMORY", raising=False)
    monkeypatch.delenv("MMAGENT_PLANNER_BASE_URL", raising=False)
    monkeypatch.setenv("MMAGENT_HOME", str(tmp_path))
    runner = CliRunner()
    off = runner.invoke(app, ["--memory", "none", "memory", "list"])
    assert off.exit_code == 2 and "the plan memory is off" in off.stderr
    assert "MMAGENT_MEMORY" not in os.environ
    assert runner.invoke(app, ["memory", "list", "--json"]).exit_code == 0  # the next command line has its memory
    start_command_line()
    agent = make_agent("llm:openai:gpt-4o", None, tmp_path / "runs", base_url="http://127.0.0.1:9/v1")
    assert agent.planner.base_url == "http://127.0.0.1:9/v1" and "MMAGENT_PLANNER_BASE_URL" not in os.environ
