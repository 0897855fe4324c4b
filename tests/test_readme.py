"""The README's library example runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import REPO


def test_readme_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- readme-example[^>]*-->\s*```python\n(.*?)```", readme, re.S)
    assert block, "the README lost its tested example"
    (tmp_path / "note.txt").write_text("Sketches become pages. Pages become videos. Videos tell stories.")
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("succeeded {'summarize': PosixPath(") and out[0].endswith(" 0")
    assert "run_finished " in out
    assert os.environ["MMAGENT_HOME"] in out[0]
