"""Crash and resume: a real ``agent run`` subprocess is killed with SIGKILL, then ``agent resume`` finishes it
without re-running finished steps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.journal import finished_steps
from tests.conftest import REPO

AGENT = [sys.executable, "-m", "agent.cli"]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MMAGENT_HOME": str(home), "PYTHONPATH": str(REPO)}


def test_kill_9_then_resume_reexecutes_no_finished_step(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen([*AGENT, "run", "chain", "--planner", "tests.runtime_tools:chain_planner",
                             "--tools", "tests.runtime_tools:registry", "--json"],
                            cwd=REPO, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = home / "runs"
    deadline = time.time() + 60
    finished: set[str] = set()
    while time.time() < deadline:
        dirs = list(runs.glob("*/journal.sqlite")) if runs.exists() else []
        if dirs:
            finished = finished_steps(dirs[0])
            if len(finished) >= 2:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(finished) >= 2, "the run never got going"
    run_dir = next(runs.iterdir())
    before = finished_steps(run_dir / "journal.sqlite")
    assert len(before) < 6, "the run finished before it was killed"

    out = subprocess.run([*AGENT, "resume", run_dir.name, "--json"], cwd=REPO, env=_env(home),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["status"] == "succeeded"
    executions = {s["id"]: s["executions"] for s in summary["steps"]}
    for step in before:
        assert executions[step] == 1, (step, executions)
    assert Path(summary["outputs"]["s5"]).read_text() == "a+++++"


def test_two_runs_at_once_in_one_store_do_not_interfere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    procs = [subprocess.Popen([*AGENT, "run", f"chain {i}", "--planner", "tests.runtime_tools:chain_planner",
                               "--tools", "tests.runtime_tools:registry", "--json"],
                              cwd=REPO, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    summaries = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    assert summaries[0]["run_id"] != summaries[1]["run_id"]
    for summary in summaries:
        assert summary["status"] == "succeeded"
        assert all(s["executions"] == 1 for s in summary["steps"])
        assert Path(summary["outputs"]["s5"]).read_text() == "a+++++"
    from modalities.store import ArtifactStore

    assert ArtifactStore(home / "store").fsck() == []


def test_ctrl_c_exits_130_with_how_to_resume_and_loses_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen([*AGENT, "run", "chain", "--planner", "tests.runtime_tools:chain_planner",
                             "--tools", "tests.runtime_tools:registry", "--json"],
                            cwd=REPO, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = home / "runs"
    deadline = time.time() + 60
    while time.time() < deadline:
        dirs = list(runs.glob("*/journal.sqlite")) if runs.exists() else []
        if dirs and len(finished_steps(dirs[0])) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    run_dir = next(runs.iterdir())
    assert proc.returncode == 130, err
    assert json.loads(out.strip().splitlines()[-1]) == {"status": "interrupted", "run_id": run_dir.name,
                                                        "exit_code": 130}
    assert f"agent resume {run_dir.name}" in err and "Traceback" not in err
    done = subprocess.run([*AGENT, "resume", run_dir.name, "--json"], cwd=REPO, env=_env(home),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "succeeded"
