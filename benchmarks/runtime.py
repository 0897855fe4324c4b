"""Runtime benchmark: per-step overhead, eagerness, checkpoint growth, and re-execution after kill -9.

Usage: python benchmarks/runtime.py [--steps 200] [--trials 3] [--json]

Prints a table, then on the last line of stdout one JSON object:
{"overhead_ms_per_step", "overhead_ms_per_step_traced", "overhead_ms_per_isolated_step", "wall_over_critical_path",
 "checkpoint_bytes_per_artifact_mb", "resumed_reexecuted_steps"}

A light step runs on a thread of the driver; an isolated one in a warm worker process (a round trip over a pipe).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from agent import Agent  # noqa: E402
from agent.events import read_events  # noqa: E402
from agent.journal import finished_steps  # noqa: E402
from benchmarks.runtime_tools import chain, registry  # noqa: E402
from planners.testing import ScriptedPlanner  # noqa: E402


def _run(plan: dict, home: Path, workers: int = 8):
    agent = Agent(planner=ScriptedPlanner([plan]), tools=registry, home=home, max_steps=1000, max_workers=workers)
    result = agent.run("bench")
    assert result.status == "succeeded", result.error
    return result


def _step_window(result) -> float:
    events = read_events(result.run_dir / "events.jsonl")
    start = min(e.t for e in events if e.kind == "step_started")
    end = max(e.t for e in events if e.kind == "step_finished")
    return end - start


def _checkpoints(result) -> int:
    with sqlite3.connect(result.run_dir / "checkpoints.sqlite") as conn:
        return conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]


def overhead_ms_per_step(n: int, home: Path, repeats: int = 3, tool: str = "noop") -> tuple[float, int]:
    """Median over ``repeats`` chains, after a warm-up (first calls pay for imports and first-use set-up), and
    how many checkpoints the last chain wrote (quick steps share one; the journal records each step)."""
    import statistics

    _run(chain(20, tool=tool), home / "warm-up")
    runs = [_run(chain(n, tool=tool), home / f"chain{i}") for i in range(repeats)]
    return statistics.median(1000 * _step_window(r) / n for r in runs), _checkpoints(runs[-1])


def traced_overhead_ms_per_step(n: int, home: Path) -> tuple[float, int]:
    """Like :func:`overhead_ms_per_step` with OpenTelemetry on (the SDK, an in-memory exporter): the spans' cost;
    and the spans made over the warm-up and the chains. Without the ``otel`` extra: (nan, 0)."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return float("nan"), 0
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    ms, _ = overhead_ms_per_step(n, home)
    return ms, len(exporter.get_finished_spans())


def wall_over_critical_path(home: Path) -> tuple[float, float, float]:
    # branches of unequal length: 1 x 0.6 s | 3 x 0.2 s | 2 x 0.1 s + a 0.1 s follower | 6 x 0.1 s
    branches = [[0.6], [0.2, 0.2, 0.2], [0.1, 0.1, 0.1], [0.1] * 6]
    steps = []
    for b, durations in enumerate(branches):
        for i, sec in enumerate(durations):
            step = {"id": f"b{b}_{i}", "tool": "noop", "params": {"seconds": sec, "tag": f"b{b}_{i}"}}
            if i:
                step["inputs"] = {"text": f"b{b}_{i - 1}.text"}
            steps.append(step)
    critical = max(sum(b) for b in branches)
    wall = _step_window(_run({"steps": steps}, home))
    return wall / critical, wall, critical


def checkpoint_bytes_per_artifact_mb(home: Path, n: int = 10) -> tuple[float, int, int]:
    small = _run(chain(n, size=1), home / "small")
    big = _run(chain(n, size=1_000_000), home / "big")
    s = (small.run_dir / "checkpoints.sqlite").stat().st_size
    b = (big.run_dir / "checkpoints.sqlite").stat().st_size
    return max(0, b - s) / n, s, b


def kill_and_resume(home: Path, seed: int) -> tuple[int, int, bool]:
    """Kill a real `agent run` at a seeded random point, resume it; (finished before, re-executed, succeeded)."""
    import random

    rng = random.Random(seed)
    env = {**os.environ, "MMAGENT_HOME": str(home), "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "agent.cli"]
    proc = subprocess.Popen([*cmd, "run", "chain", "--planner", "benchmarks.runtime_tools:resume_chain_planner",
                             "--tools", "benchmarks.runtime_tools:registry", "--json"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = home / "runs"
    for _ in range(600):  # start-up (imports, planning) takes longer on a loaded machine: wait for the run
        if runs.is_dir() and any(runs.iterdir()):
            break
        time.sleep(0.1)
    time.sleep(rng.uniform(0, 2.5))  # then somewhere in the 3 s chain
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run_dir = next((home / "runs").iterdir())
    before = finished_steps(run_dir / "journal.sqlite")
    out = subprocess.run([*cmd, "resume", run_dir.name, "--json"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    executions = {s["id"]: s["executions"] for s in summary["steps"]}
    reexecuted = sum(1 for step in before if executions.get(step, 0) > 1)
    return len(before), reexecuted, summary["status"] == "succeeded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200, help="length of the no-op chain")
    parser.add_argument("--trials", type=int, default=3, help="kill -9 / resume trials")
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        overhead, checkpoints = overhead_ms_per_step(args.steps, base / "chain")
        isolated, _ = overhead_ms_per_step(args.steps, base / "isolated", tool="noop_in_worker")
        ratio, wall, critical = wall_over_critical_path(base / "dag")
        per_mb, small, big = checkpoint_bytes_per_artifact_mb(base / "ckpt")
        trials = [kill_and_resume(base / f"kill{i}", seed=i) for i in range(args.trials)]
        traced, spans = traced_overhead_ms_per_step(args.steps, base / "traced")  # last: tracing stays on
    reexecuted = sum(t[1] for t in trials)
    rows = [
        ("overhead per no-op step (SQLite checkpoints)", f"{overhead:.2f} ms",
         f"{args.steps}-step chain, {checkpoints} checkpoints"),
        ("overhead per no-op step, traced (in-memory exporter)", f"{traced:.2f} ms",
         f"{traced - overhead:+.2f} ms over untraced; {spans} spans in all"),
        ("overhead per no-op step in a worker process", f"{isolated:.2f} ms", f"{args.steps}-step chain"),
        ("wall / critical path, unequal branches", f"{ratio:.3f}", f"{wall:.2f} s vs {critical:.2f} s"),
        ("checkpoint bytes per MB of artifact", f"{per_mb:.0f} B", f"checkpoint {small} B vs {big} B"),
        ("finished steps re-executed after kill -9", str(reexecuted),
         f"{args.trials} trials, {sum(t[0] for t in trials)} steps done before the kill, "
         f"{sum(t[2] for t in trials)}/{args.trials} resumed ok"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    print(json.dumps({"overhead_ms_per_step": round(overhead, 3), "overhead_ms_per_step_traced": round(traced, 3),
                      "overhead_ms_per_isolated_step": round(isolated, 3), "wall_over_critical_path": round(ratio, 3),
                      "checkpoint_bytes_per_artifact_mb": round(per_mb, 1), "resumed_reexecuted_steps": reexecuted}))


if __name__ == "__main__":
    main()
