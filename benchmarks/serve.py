"""``agent serve`` benchmark: runs of light tools submitted over HTTP on loopback, every event stream followed, and
the server killed (``kill -9``) and started again once in the middle.

Usage: python benchmarks/serve.py [--runs 20] [--concurrency 4] [--steps 5] [--json]

Prints a table, then on the last line of stdout one JSON object:
{"runs", "succeeded", "lost_events", "duplicate_events", "restart_interrupted", "restart_resumed",
 "reexecuted_steps", "p50_submit_ms", "p99_event_lag_ms", "catch_up_events", "wall_s"}

An event's lag is the time from its line in the run's event log to its arrival at the client. Events a client gets
when it reconnects (written while the server was down or the connection was being made again) are counted as
``catch_up_events``, not as lag: they wait for the restart by design.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

import httpx  # noqa: E402

from planners.testing import FunctionPlanner  # noqa: E402

STEP_S = 0.3


def _chain(task: str, inputs: object, reg: object) -> dict[str, Any]:
    n = int(task.split()[-1])
    steps = [{"id": "n0", "tool": "noop", "params": {"seconds": STEP_S, "tag": task}}]
    steps += [{"id": f"n{i}", "tool": "noop", "inputs": {"text": f"n{i - 1}.text"},
               "params": {"seconds": STEP_S, "tag": f"{task} {i}"}} for i in range(1, n)]
    return {"steps": steps}


planner = FunctionPlanner(_chain)  # the server imports it as benchmarks.serve:planner


class Follower(threading.Thread):
    """Follows one run's event stream to its end, reconnecting with Last-Event-ID whenever it breaks."""

    def __init__(self, url: str, run_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.run_id = url, run_id
        self.received: list[tuple[int, dict[str, Any], float]] = []
        self.lags_ms: list[float] = []
        self.catch_up = 0
        self.reconnects = 0

    def run(self) -> None:
        while True:
            last = self.received[-1][0] if self.received else 0
            connected = time.time()
            try:
                with httpx.stream("GET", f"{self.url}/api/runs/{self.run_id}/events", timeout=httpx.Timeout(30),
                                  headers={"Last-Event-ID": str(last)}) as r:
                    event_id, data = 0, ""
                    for line in r.iter_lines():
                        if line.startswith("id:"):
                            event_id = int(line[3:])
                        elif line.startswith("data:"):
                            data = line[5:].strip()
                        elif not line and data:
                            now = time.time()
                            event = json.loads(data)
                            self.received.append((event_id, event, now))
                            if event["t"] >= connected:
                                self.lags_ms.append((now - event["t"]) * 1000)
                            else:
                                self.catch_up += 1
                            data = ""
                            if event["kind"] == "run_finished" and event["data"]["status"] in (
                                    "succeeded", "failed", "cancelled"):
                                return
            except httpx.HTTPError:
                pass
            self.reconnects += 1
            time.sleep(0.2)


def _start(home: Path, port: int, concurrency: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MMAGENT_HOME": str(home), "MMAGENT_MEMORY": "none", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--concurrency",
                             str(concurrency), "--planner", "benchmarks.serve:planner", "--tools",
                             "benchmarks.runtime_tools:registry"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(home / "serve.log", "ab"))
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("agent serve did not start; see serve.log")


def _finished_executions(run_dir: Path) -> dict[str, int]:
    conn = sqlite3.connect(run_dir / "journal.sqlite")
    rows = conn.execute("SELECT step_id, COUNT(*) FROM executions WHERE record IS NOT NULL GROUP BY step_id")
    out = dict(rows.fetchall())
    conn.close()
    return out


def bench(runs: int, concurrency: int, steps: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="mmagent-serve-bench-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = _start(home, port, concurrency)
    t0 = time.time()
    submit_ms, followers = [], []
    for i in range(runs):
        t = time.perf_counter()
        r = httpx.post(f"{url}/api/runs", data={"task": f"bench run {i} {steps}"}, timeout=30)
        submit_ms.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        followers.append(Follower(url, r.json()["run_id"]))
        followers[-1].start()
    # kill -9 once a fifth of all steps have finished: several runs are mid-way then
    while sum(e["kind"] == "step_finished" for f in followers for _, e, _ in f.received) < runs * steps // 5:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = []
    for f in followers:
        kinds = [json.loads(line)["kind"] for line in (home / "runs" / f.run_id / "events.jsonl").read_text()
                 .splitlines()] if (home / "runs" / f.run_id / "events.jsonl").exists() else []
        if kinds and "run_finished" not in kinds:
            interrupted.append(f.run_id)
    proc = _start(home, port, concurrency)
    for f in followers:
        f.join(timeout=300)
    wall = time.time() - t0
    proc.terminate()
    proc.wait(10)

    lost = dup = reexecuted = 0
    succeeded = 0
    resumed = 0
    for f in followers:
        run_dir = home / "runs" / f.run_id
        logged = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
        ids = [i for i, _, _ in f.received]
        dup += len(ids) - len(set(ids))
        lost += len(set(range(1, len(logged) + 1)) - set(ids))
        assert all(logged[i - 1]["kind"] == e["kind"] for i, e, _ in f.received)
        summary = json.loads((run_dir / "summary.json").read_text())
        succeeded += summary["status"] == "succeeded"
        again = sum(n - 1 for n in _finished_executions(run_dir).values())
        reexecuted += again
        # resumed: it ended well after the restart, and no step it had finished ran again
        if f.run_id in interrupted and summary["status"] == "succeeded" and not again:
            resumed += 1
    lags = sorted(lag for f in followers for lag in f.lags_ms)
    return {"runs": runs, "succeeded": succeeded, "lost_events": lost, "duplicate_events": dup,
            "restart_interrupted": len(interrupted), "restart_resumed": resumed, "reexecuted_steps": reexecuted,
            "p50_submit_ms": round(statistics.median(submit_ms), 1),
            "p99_event_lag_ms": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))], 1),
            "catch_up_events": sum(f.catch_up for f in followers), "wall_s": round(wall, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="only the JSON line")
    args = parser.parse_args()
    result = bench(args.runs, args.concurrency, args.steps)
    if not args.json:
        for key, value in result.items():
            print(f"{key:<22} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
