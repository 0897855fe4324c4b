"""Settings: one documented place for every MMAGENT_* variable, read and validated the same way everywhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)
            and node.value.id == "os") or (isinstance(node, ast.Name) and node.id == "environ")


def _text(node: ast.AST, constants: dict[str, str]) -> str:
    """What a key expression says as far as it is known here: a literal, a module constant, an f-string's head."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id, "")
    if isinstance(node, ast.JoinedStr) and node.values:
        return _text(node.values[0], constants)
    if isinstance(node, ast.BinOp):
        return _text(node.left, constants)
    return ""


def _constants(tree: ast.Module) -> dict[str, str]:
    return {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
            for t in n.targets if isinstance(t, ast.Name)}


def _environment_keys(tree: ast.Module, imported: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """(line, key) of every read or write of an environment variable whose key the code names (a constant may
    come from another module: ``imported``)."""
    constants = {**(imported or {}), **_constants(tree)}
    found = []
    for node in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice  # os.environ["X"], read or written
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and _is_environ(func.value) and func.attr in ("get", "setdefault",
                                                                                             "pop"):
                key = node.args[0]
            elif (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
                    isinstance(func, ast.Name) and func.id == "getenv"):
                key = node.args[0]
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left  # "X" in os.environ
        if key is not None:
            found.append((node.lineno, _text(key, constants)))
    return found


def test_the_probe_finds_every_way_of_reading_a_variable() -> None:
    source = ('import os\nNAME = "MMAGENT_A"\nos.environ.get(NAME)\nos.getenv("MMAGENT_B")\n'
              'os.environ[f"MMAGENT_{x}"] = "1"\n"MMAGENT_C" in os.environ\nos.environ.get("HF_HOME")\n')
    keys = [k for _, k in _environment_keys(ast.parse(source))]
    assert keys == ["MMAGENT_A", "MMAGENT_B", "MMAGENT_", "MMAGENT_C", "HF_HOME"]


def test_no_module_but_the_settings_reads_an_mmagent_variable() -> None:
    """Settings are read in one place and passed down; other libraries' variables (HF_HOME, OTEL_*) stay theirs."""
    trees = {path: ast.parse(path.read_text(), str(path)) for package in ("agent", "planners", "tools", "modalities")
             for path in sorted((REPO / package).rglob("*.py")) if path != REPO / "modalities" / "settings.py"}
    everywhere = {name: value for tree in trees.values() for name, value in _constants(tree).items()}
    readers = [f"{Path(path).relative_to(REPO)}:{line} {key}" for path, tree in trees.items()
               for line, key in _environment_keys(tree, everywhere) if key.startswith("MMAGENT_")]
    assert readers == [], "read it through modalities.settings.Settings, passed down from the Agent"


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
