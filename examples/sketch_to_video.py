"""The headline demo through the library API: sketch -> landing page -> narrated scroll-through video.

    python examples/sketch_to_video.py [SKETCH] [--planner auto|symbolic|local] [--inject-divergence]

The planner plans from the task text and the sketch; progress prints as it happens; the video, the page and the
HTML report land in the run directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent import Agent
from agent.demo import DEMO_TASK, InjectDivergence, default_sketch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sketch", nargs="?", type=Path, default=None, help="a hand-drawn page sketch")
    parser.add_argument("--planner", default="auto")
    parser.add_argument("--inject-divergence", action="store_true",
                        help="start from a page strategy that drops sections, to watch partial replanning")
    args = parser.parse_args()

    agent = Agent(planner=args.planner)
    if args.inject_divergence:
        agent = Agent(planner=InjectDivergence(agent.planner))
    for event in agent.stream(DEMO_TASK, {"sketch": args.sketch or default_sketch()}):
        data = event.data
        if event.kind == "plan_made":
            print("plan:", " -> ".join(s["tool"] for s in data["plan"]["steps"]))
        elif event.kind == "step_finished":
            print(f"  {data['step']}: {data['status']} in {data['seconds']} s")
        elif event.kind in ("check_passed", "check_failed"):
            print(f"    {data['check']}: {'pass' if event.kind == 'check_passed' else 'FAIL'} ({data['value']})")
        elif event.kind == "replanned":
            print(f"replanned: {data['reason']} -> redo {', '.join(data['affected'])}")
        elif event.kind == "run_finished":
            print(f"{data['status']} in {data['wall_s']} s")
            for name, path in data["outputs"].items():
                print(f"  {name}: {path}")


if __name__ == "__main__":
    main()
