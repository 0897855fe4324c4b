"""Resource limits: each one, when hit, is reported clearly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent import Agent
from modalities.errors import BudgetExceeded, InputFileError
from modalities.ingest import Limits
from planners.testing import ScriptedPlanner
from tests.runtime_tools import registry
from tools import ModelCache


def test_run_time_limit_stops_a_run_mid_step(tmp_path: Path) -> None:
    plan = {"steps": [{"id": "slow", "tool": "emit", "params": {"delay": 20}}]}
    t0 = time.perf_counter()
    result = Agent(planner=ScriptedPlanner([plan]), tools=registry, home=tmp_path, run_timeout_s=1.0).run("slow")
    assert time.perf_counter() - t0 < 8
    assert result.status == "failed" and "run time limit of 1 s reached" in result.error


def test_plan_over_the_step_limit_fails_planning(tmp_path: Path) -> None:
    # five different steps: identical ones would be merged into one before the limit is checked
    plan = {"steps": [{"id": f"s{i}", "tool": "emit", "params": {"value": f"text {i}"}} for i in range(5)]}
    result = Agent(planner=ScriptedPlanner([plan]), tools=registry, home=tmp_path, max_steps=4).run("big")
    assert result.status == "failed" and "5 steps, over the limit of 4" in result.error


def test_input_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("x" * 300_000)
    agent = Agent(planner=ScriptedPlanner([]), tools=registry, home=tmp_path, limits=Limits(max_bytes=100_000))
    with pytest.raises(InputFileError, match="over the 0 MiB input limit; shrink it or raise MMAGENT_MAX_INPUT_MB"):
        agent.run("x", [big])
    assert not (tmp_path / "runs").exists()  # refused before a run directory was made


def test_model_bigger_than_the_memory_budget_is_refused() -> None:
    cache = ModelCache(budget_bytes=1_000)
    with pytest.raises(BudgetExceeded, match="over the model memory budget .* raise MMAGENT_MODEL_MEMORY"):
        cache.get("huge", "cpu", lambda: (object(), 5_000))
    assert cache.keys() == []
