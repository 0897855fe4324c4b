"""The library example: a user-defined @tool, planned by the symbolic planner, run for real."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

from tests.conftest import REPO


def test_custom_tool_example_plans_and_runs(tmp_path: Path) -> None:
    example = runpy.run_path(str(REPO / "examples" / "custom_tool.py"))
    note = tmp_path / "note.txt"
    note.write_text("one two two three three three")
    summary = example["main"](note, home=tmp_path / "home")
    assert summary["status"] == "succeeded"
    assert [s["tool"] for s in summary["steps"]] == ["count_words"]
    assert summary["steps"][0]["checks"] == [{"name": "words >= 1", "passed": True, "value": 6}]
    report = json.loads(Path(next(iter(summary["outputs"].values()))).read_text())
    assert report["frequent"][0] == ["three", 3]
