"""Ray executor benchmark: CPU-bound steps on threads (one GIL) against Ray workers, and model reuse in actors.

Usage: python benchmarks/ray_executor.py [--steps 8] [--step-s 0.5] [--workers 2] [--model-steps 6] [--json]

A plan of ``--steps`` independent steps, each a pure-Python loop of about ``--step-s`` seconds, runs with the local
executor (threads: the GIL lets one loop run at a time) and on a private Ray head with ``--workers`` CPUs (separate
processes). Then ``--model-steps`` steps of a model-backed tool run on two actors; each actor loads the model once.

Prints a table, then on the last line of stdout one JSON object: {"local_s", "ray_s", "actor_reuse_loads", ...}.
``ray_s`` is measured on a warm cluster (worker processes already started); the start-up cost is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(REPO), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from agent import Agent  # noqa: E402
from agent.events import read_events  # noqa: E402
from agent.executor import LocalExecutor, StepExecutor  # noqa: E402
from planners.testing import ScriptedPlanner  # noqa: E402
from tools import Result, TextFile, ToolContext, ToolRegistry, tool  # noqa: E402


def _spin(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


@tool(family="bench", metrics={"pid": "worker process id"})
def burn(iterations: int, seed: int = 0) -> TextFile:
    """Spend CPU in a pure-Python loop (holds the GIL throughout).

    Args:
        iterations: Loop iterations.
        seed: Makes each step's text different.
    """
    return Result(f"{seed}:{_spin(iterations)}", {"pid": os.getpid()})


def _load_model() -> tuple[dict[str, Any], int]:
    time.sleep(0.5)  # stands in for reading weights
    return {"scale": 2}, 10_000


@tool(family="bench", stateful=True, metrics={"pid": "worker process id"})
def model_step(word: str, ctx: ToolContext) -> TextFile:
    """Run a (stand-in) model that loads once per worker process.

    Args:
        word: The input.
    """
    model = ctx.load_model("bench-model", _load_model)
    time.sleep(0.1)
    return Result(word * model["scale"], {"pid": os.getpid()})


registry = ToolRegistry([burn, model_step])


def _iterations_for(seconds: float) -> int:
    n = 200_000
    t0 = time.perf_counter()
    _spin(n)
    return max(1, int(n * seconds / (time.perf_counter() - t0)))


def _run(executor: StepExecutor, plan: dict[str, Any], home: Path) -> tuple[float, Any]:
    agent = Agent(planner=ScriptedPlanner([plan]), tools=registry, home=home, executor=executor)
    t0 = time.perf_counter()
    result = agent.run("bench")
    wall = time.perf_counter() - t0
    if result.status != "succeeded":
        raise SystemExit(f"benchmark run failed: {result.error}")
    return wall, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--step-s", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model-steps", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # a private, short-lived local head: no telemetry, no token file written into the home folder
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    from agent.ray_executor import RayExecutor

    iterations = _iterations_for(args.step_s)
    cpu_plan = {"steps": [{"id": f"b{i}", "tool": "burn", "params": {"iterations": iterations, "seed": i}}
                          for i in range(args.steps)]}
    home = Path(tempfile.mkdtemp(prefix="mmagent-bench-ray-"))

    local_s, _ = _run(LocalExecutor(max_workers=args.steps), cpu_plan, home / "local")

    with RayExecutor(num_cpus=args.workers, object_store_memory=100 * 2**20, actors_per_tool=2) as ray_ex:
        t0 = time.perf_counter()
        ray_ex.start()
        start_s = time.perf_counter() - t0
        cold_s, _ = _run(ray_ex, cpu_plan, home / "cold")  # starts the worker processes
        ray_s, result = _run(ray_ex, cpu_plan, home / "warm")
        pids = {result.state["results"][f"b{i}"]["metrics"]["pid"] for i in range(args.steps)}

        model_plan = {"steps": [{"id": f"m{i}", "tool": "model_step", "params": {"word": f"w{i}"}}
                                for i in range(args.model_steps)]}
        model_s, model_result = _run(ray_ex, model_plan, home / "model")
        loads = sum(1 for e in read_events(model_result.run_dir / "events.jsonl") if e.kind == "model_loading")
        actors = ray_ex.actors().get("model_step", 0)
        actor_loads = ray_ex.model_loads().get("model_step", 0)

    rows = [
        (f"{args.steps} CPU steps, local threads", f"{local_s:.2f} s", "one process, GIL-bound"),
        (f"{args.steps} CPU steps, Ray ({args.workers} CPUs, warm)", f"{ray_s:.2f} s",
         f"{local_s / ray_s:.2f}x faster; {len(pids)} worker processes"),
        ("same, first run (cold workers)", f"{cold_s:.2f} s", "includes starting the worker processes"),
        ("Ray head start", f"{start_s:.2f} s", "once per executor"),
        (f"{args.model_steps} model steps on Ray actors", f"{model_s:.2f} s",
         f"{actors} actors, {loads} model loads (actors report {actor_loads})"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>8}  {note}")
    print(f"iterations per step: {iterations}; run directories under {home}")
    if args.json:
        print(json.dumps({"local_s": round(local_s, 3), "ray_s": round(ray_s, 3), "actor_reuse_loads": loads,
                          "actors": actors, "model_steps": args.model_steps, "ray_cold_s": round(cold_s, 3),
                          "ray_start_s": round(start_s, 3), "step_s": args.step_s, "steps": args.steps}))


if __name__ == "__main__":
    main()
