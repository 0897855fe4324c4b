"""Reliability benchmark: fuzzed inputs, injected tool faults, kill -9 / resume trials, sandbox attack pages.

Usage: python benchmarks/reliability.py [--inputs 1000] [--kill-trials 20] [--json]

Prints a table, then on the last line of stdout one JSON object:
{"inputs_tried", "crashes", "faults_injected", "runs_ok", "kill_trials", "resumes_ok", "reexecuted_steps",
 "sandbox_attacks", "escapes"}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from agent import Agent  # noqa: E402
from agent.journal import finished_steps  # noqa: E402
from modalities import ArtifactStore, InputFileError, ingest_file  # noqa: E402
from modalities.testing import malformed_files, valid_files  # noqa: E402
from planners.testing import ScriptedPlanner  # noqa: E402
from tools.faults import FAULT_MODES, Fault, inject_faults  # noqa: E402

FAULT_PLAN = {"steps": [{"id": "src", "tool": "noop", "params": {"tag": "src"}},
                        {"id": "side", "tool": "noop", "params": {"tag": "side"}},
                        {"id": "grow", "tool": "noop", "inputs": {"text": "src.text"}, "params": {"tag": "grow"}},
                        {"id": "end", "tool": "noop", "inputs": {"text": "grow.text"}, "params": {"tag": "end"}}]}


def fuzz_inputs(n: int, base: Path) -> tuple[int, int, int]:
    """Ingest n malformed files through the library and a sample through the CLI. (tried, crashes, cli_bad)."""
    from typer.testing import CliRunner

    from agent.cli import app

    store = ArtifactStore(base / "store")
    files = valid_files() + list(malformed_files(n))
    crashes = 0
    refused: list[str] = []
    for name, data, expected in files:
        path = base / name
        path.write_bytes(data)
        try:
            ingest_file(path, store)
            outcome = "ok"
        except InputFileError as exc:
            outcome = "error"
            refused.append(name)
            crashes += "\n" in str(exc)  # one clear line, or it counts against us
        except Exception as exc:  # anything else is a crash
            print(f"CRASH {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            crashes += 1
            continue
        if expected != "any" and outcome != expected:
            print(f"WRONG {name}: expected {expected}, got {outcome}", file=sys.stderr)
            crashes += 1
    crashes += len(store.fsck())
    leftovers = [p for p in (store.root / "objects").glob("*/.tmp-*")]
    crashes += len(leftovers)
    runner = CliRunner()
    cli_bad = 0
    rng = random.Random(0)
    sample = rng.sample(refused, min(20, len(refused)))
    for name in sample:
        result = runner.invoke(app, ["plan", "x", "-i", str(base / name), "--planner", "symbolic"])
        lines = result.stderr.strip().splitlines()
        if result.exit_code != 2 or len(lines) != 1 or "Traceback" in result.stderr:
            print(f"CLI {name}: exit {result.exit_code}: {result.stderr[:200]}", file=sys.stderr)
            cli_bad += 1
    return len(files), crashes, cli_bad, len(sample)


def inject(base: Path) -> tuple[int, int]:
    """Every fault mode, transient and persistent; (faults injected, runs that ended as they should)."""
    from benchmarks.runtime_tools import registry

    injected = ok = 0
    for mode in FAULT_MODES:
        for times in (1, 99):
            tools = inject_faults(registry, {"noop": Fault(mode, times=times, hang_s=30)})
            agent = Agent(planner=ScriptedPlanner([FAULT_PLAN]), tools=tools, home=base / f"{mode}{times}",
                          step_timeout_s=1.0, max_replans=3)
            result = agent.run(f"{mode} x{times}")
            injected += 1
            kept = all(s["executions"] >= 1 for s in result.steps if s["status"] == "succeeded")
            if result.status == "succeeded" or (result.error and "step '" in result.error and kept):
                ok += 1
            else:
                print(f"FAULT {mode} x{times}: {result.status} {result.error}", file=sys.stderr)
    return injected, ok


def kill_trials(n: int, base: Path) -> tuple[int, int, int]:
    """n runs killed with SIGKILL at seeded random points, then resumed; (trials, resumed ok, re-executed)."""
    rng = random.Random(42)
    cmd = [sys.executable, "-m", "agent.cli"]
    ok = reexecuted = 0
    for trial in range(n):
        home = base / f"kill{trial}"
        env = {**os.environ, "MMAGENT_HOME": str(home), "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen([*cmd, "run", "chain", "--planner", "benchmarks.runtime_tools:resume_chain_planner",
                                 "--tools", "benchmarks.runtime_tools:registry"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        runs = list((home / "runs").iterdir()) if (home / "runs").exists() else []
        if not runs:  # killed before the run directory existed: nothing to resume, nothing lost
            ok += 1
            continue
        before = finished_steps(runs[0] / "journal.sqlite")
        out = subprocess.run([*cmd, "resume", runs[0].name, "--json"], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=300)
        try:
            summary = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            print(f"KILL {trial}: resume printed no summary: {out.stderr[-300:]}", file=sys.stderr)
            continue
        executions = {s["id"]: s["executions"] for s in summary["steps"]}
        reexecuted += sum(1 for step in before if executions.get(step, 0) > 1)
        store_ok = ArtifactStore(home / "store").fsck() == []
        ok += summary["status"] == "succeeded" and store_ok
    return n, ok, reexecuted


def sandbox_attacks(base: Path) -> tuple[int, int]:
    """Attack pages rendered by render_page against a loopback server; (attacks, escapes)."""
    try:
        from benchmarks.attack_pages import run_attacks, run_unsandboxed
    except ImportError as exc:
        print(f"sandbox attacks skipped: {exc}", file=sys.stderr)
        return 0, 0
    attacks, escapes = run_attacks(base)
    if attacks:
        _, reached = run_unsandboxed()
        print(f"control: without the sandbox, {reached} of {attacks} attack pages reached the loopback server",
              file=sys.stderr)
    return attacks, escapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--kill-trials", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "fuzz").mkdir()
        tried, crashes, cli_bad, cli_tried = fuzz_inputs(args.inputs, base / "fuzz")
        injected, runs_ok = inject(base / "faults")
        trials, resumes_ok, reexecuted = kill_trials(args.kill_trials, base / "kill")
        attacks, escapes = sandbox_attacks(base / "sandbox")
    rows = [("inputs tried (library) / crashes", f"{tried} / {crashes}"),
            ("bad inputs through the CLI not exiting 2 with one line", f"{cli_bad} of {cli_tried}"),
            ("faults injected / runs that ended correctly", f"{injected} / {runs_ok}"),
            ("kill -9 trials / resumed ok / finished steps re-executed", f"{trials} / {resumes_ok} / {reexecuted}"),
            ("sandbox attacks / escapes", f"{attacks} / {escapes}")]
    for name, value in rows:
        print(f"{name:<58} {value}")
    print(json.dumps({"inputs_tried": tried, "crashes": crashes + cli_bad, "faults_injected": injected,
                      "runs_ok": runs_ok, "kill_trials": trials, "resumes_ok": resumes_ok,
                      "reexecuted_steps": reexecuted, "sandbox_attacks": attacks, "escapes": escapes}))


if __name__ == "__main__":
    main()
