from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own MMAGENT_HOME, and a fixed random seed."""
    monkeypatch.setenv("MMAGENT_HOME", str(tmp_path / "home"))
    random.seed(1234)


@pytest.fixture
def store(tmp_path: Path):
    from modalities.store import ArtifactStore

    return ArtifactStore(tmp_path / "store")
