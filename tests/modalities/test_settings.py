"""Settings: one documented place for every MMAGENT_* variable, read and validated the same way everywhere."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from modalities.settings import Settings, settings, settings_table
from tests.conftest import REPO


def test_readme_configuration_table_is_the_settings_table() -> None:
    assert settings_table() in (REPO / "README.md").read_text()


def test_every_variable_the_code_names_is_a_setting() -> None:
    named: set[str] = set()
    for package in ("agent", "planners", "tools", "modalities"):
        for path in (REPO / package).rglob("*.py"):
            named |= set(re.findall(r"MMAGENT_[A-Z][A-Z0-9_]*[A-Z0-9]", path.read_text()))
    documented = {f"MMAGENT_{name.upper()}" for name in Settings.model_fields}
    assert named - documented == set(), "undocumented variables: add them to modalities/settings.py"


def test_values_are_read_from_the_environment_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_MODEL_MEMORY", "512MiB")
    monkeypatch.setenv("MMAGENT_MAX_INPUT_MB", "1.5")
    s = settings()
    assert s.model_memory == 512 * 2**20 and s.max_input_bytes == int(1.5 * 2**20)
    monkeypatch.setenv("MMAGENT_WORKER_THREADS", "0")
    with pytest.raises(ValidationError, match="worker_threads"):
        settings()


def test_an_agent_takes_its_settings_once_and_passes_them_down(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent import Agent

    monkeypatch.setenv("MMAGENT_DEVICE", "cuda:1")
    agent = Agent(planner="symbolic", settings=Settings(home=tmp_path / "h", device="cpu", max_input_mb=1,
                                                        executor="threads"))
    assert agent.home == tmp_path / "h" and agent.runs_dir == tmp_path / "h" / "runs"
    assert agent.device == "cpu" and agent.limits.max_bytes == 2**20  # the object, not the environment
    assert agent.executor.isolate is False
    assert Agent(planner="symbolic", home=tmp_path).device == "cuda:1"  # without one: the environment, once
