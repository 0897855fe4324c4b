"""End-to-end benchmark: the sketch-to-video demo, N times warm in one process.

Usage: python benchmarks/e2e.py [--runs 3] [--planner auto] [--sketch PATH] [--json]

The first run warms the process (model loads, browser start, the planner's prompt cache) and is reported apart.
Prints a per-step timing table, then on the last line of stdout one JSON object (means over the warm runs):
{"wall_s", "plan_s", "steps", "replans", "layout_score", "narration_wer", "video_s"}
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from agent import Agent  # noqa: E402
from agent.demo import DEMO_TASK, default_sketch  # noqa: E402
from agent.events import read_events  # noqa: E402


def one_run(agent: Agent, sketch: Path) -> dict:
    result = agent.run(DEMO_TASK, {"sketch": sketch})
    if result.status != "succeeded":
        raise SystemExit(f"demo run failed: {result.error}")
    events = read_events(result.run_dir / "events.jsonl")
    plan_s = next(e.data["seconds"] for e in events if e.kind == "plan_made")
    metrics = {r["tool"]: r for r in result.state["results"].values()}
    durations = {s["tool"]: metrics[s["tool"]].get("duration_s") for s in result.steps if s["tool"] in metrics}
    video = metrics.get("record_page_video", {}).get("metrics", {})
    return {
        "wall_s": result.wall_s,
        "plan_s": plan_s,
        "steps": len(result.steps),
        "replans": result.replans,
        "layout_score": metrics.get("layout_similarity", {}).get("metrics", {}).get("layout_score"),
        "narration_wer": metrics.get("speech_roundtrip", {}).get("metrics", {}).get("wer"),
        "video_s": video.get("duration_s"),
        "durations": durations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="warm runs after the first (cold) one")
    parser.add_argument("--planner", default="auto")
    parser.add_argument("--sketch", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    args = parser.parse_args()
    sketch = args.sketch or default_sketch()
    with tempfile.TemporaryDirectory() as home:
        agent = Agent(planner=args.planner, home=home)
        cold = one_run(agent, sketch)
        warm = [one_run(agent, sketch) for _ in range(args.runs)]
    steps: dict[str, list[float]] = defaultdict(list)
    for run in warm:
        for tool, seconds in run["durations"].items():
            steps[tool].append(seconds or 0.0)
    print(f"cold run: {cold['wall_s']:.2f} s (plan {cold['plan_s']:.2f} s); warm runs: {len(warm)}", file=sys.stderr)
    print(f"{'step':<20} {'mean s':>8}")
    for tool, values in steps.items():
        print(f"{tool:<20} {statistics.mean(values):>8.2f}")
    print(f"{'plan':<20} {statistics.mean(r['plan_s'] for r in warm):>8.2f}")
    print(f"{'whole run (wall)':<20} {statistics.mean(r['wall_s'] for r in warm):>8.2f}")

    def mean(key: str) -> float | None:
        values = [r[key] for r in warm if r[key] is not None]
        return round(statistics.mean(values), 3) if values else None

    print(json.dumps({"wall_s": mean("wall_s"), "plan_s": mean("plan_s"), "steps": mean("steps"),
                      "replans": mean("replans"), "layout_score": mean("layout_score"),
                      "narration_wer": mean("narration_wer"), "video_s": mean("video_s"),
                      "cold_wall_s": round(cold["wall_s"], 3), "planner": args.planner, "runs": len(warm)}))


if __name__ == "__main__":
    main()
