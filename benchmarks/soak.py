"""Soak benchmark: the main job (sketch -> page -> narrated video) N times in one process, cycling through sketches.

Usage: python benchmarks/soak.py [--runs 50] [--planner auto] [--sketches DIR] [--json]

Every run has parallel branches (the page and its video beside the narration and its speech round trip), so model
steps and subprocess-starting steps overlap, in the warm worker pool this process keeps. A run counts as a hang when
it took more than 3x the median run after the warm-up (below), or ended at the safety time limit (20x the first
run, at least 300 s) that keeps a real hang from stopping the benchmark at any point. The first runs load every
model from disk, so they are slower by design, not hung. Memory is the resident memory of this process plus its workers.
Its growth is counted from the end of a warm-up (the first tenth of the runs, at least 5): until then each worker
loads the models of the tools it is handed, which is start-up, not a leak; `warmup_mb` reports that part apart.

Prints a table of runs, then on the last line of stdout:
{"runs", "succeeded", "failed", "hangs", "p50_s", "p99_s", "rss_growth_mb", "warmup_mb", "worker_restarts",
 "failures"}
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from agent import Agent  # noqa: E402
from agent.demo import DEMO_TASK  # noqa: E402
from agent.executor import LocalExecutor  # noqa: E402

_SHARED_SKETCHES = REPO.parent / "shared" / "data" / "sketches" / "images"
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--planner", default="auto")
    parser.add_argument("--sketches", type=Path, default=None,
                        help="a folder of sketch images (default: ../shared/data/sketches/images, else the demo's)")
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    args = parser.parse_args()
    folder = args.sketches or (_SHARED_SKETCHES if _SHARED_SKETCHES.is_dir() else REPO / "examples" / "sketches")
    sketches = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
    if not sketches:
        raise SystemExit(f"no sketch images in {str(folder)!r}")
    executor = LocalExecutor()
    rows: list[dict] = []
    warmup = min(args.runs - 1, max(5, args.runs // 10))
    with tempfile.TemporaryDirectory() as home:
        limit: float | None = None
        for i in range(args.runs):
            sketch = sketches[i % len(sketches)]
            agent = Agent(planner=args.planner, home=home, executor=executor, run_timeout_s=limit)
            started = time.monotonic()
            result = agent.run(DEMO_TASK, {"sketch": sketch})
            wall = time.monotonic() - started
            timed_out = bool(result.error and "run time limit" in result.error)
            rows.append({"sketch": sketch.name, "status": result.status, "wall_s": wall, "timed_out": timed_out,
                         "error": (result.error or "")[:160]})
            memory = _rss_mb(os.getpid()) + sum(_rss_mb(p) for p in executor.pool.pids())
            if i == 0:
                limit = max(300.0, 20 * wall)
            rows[-1]["rss_mb"] = memory
            print(f"{i + 1:>3} {sketch.name[:36]:<36} {result.status:<9} {wall:>7.1f} s {memory:>8.0f} MB",
                  file=sys.stderr, flush=True)
    walls = [r["wall_s"] for r in rows]
    median = statistics.median(walls)
    hangs = sum(1 for i, r in enumerate(rows) if r["timed_out"] or (i >= warmup and r["wall_s"] > 3 * median))
    stats = executor.pool.stats()
    baseline_mb = rows[warmup]["rss_mb"]
    warmup_mb = baseline_mb - rows[0]["rss_mb"]
    print(f"{'runs':<16}{len(rows):>8}")
    print(f"{'succeeded':<16}{sum(r['status'] == 'succeeded' for r in rows):>8}")
    print(f"{'hangs':<16}{hangs:>8}")
    print(f"{'p50 s':<16}{median:>8.1f}")
    print(f"{'p99 s':<16}{_percentile(walls, 0.99):>8.1f}")
    print(f"{'rss growth MB':<16}{rows[-1]['rss_mb'] - baseline_mb:>8.0f}  (after run {warmup + 1}; warm-up "
          f"{warmup_mb:.0f} MB)")
    print(f"{'worker restarts':<16}{stats['died'] + stats['killed'] + stats['recycled']:>8}")
    failures = [{"sketch": r["sketch"], "error": r["error"]} for r in rows if r["status"] != "succeeded"]
    print(json.dumps({"runs": len(rows), "succeeded": sum(r["status"] == "succeeded" for r in rows),
                      "failed": len(failures), "hangs": hangs, "p50_s": round(median, 2),
                      "p99_s": round(_percentile(walls, 0.99), 2),
                      "rss_growth_mb": round(rows[-1]["rss_mb"] - baseline_mb, 1), "warmup_mb": round(warmup_mb, 1),
                      "worker_restarts": stats["died"] + stats["killed"] + stats["recycled"],
                      "planner": args.planner, "failures": failures}))


if __name__ == "__main__":
    main()
