"""Plan memory speed: lookup at N entries, and a repeated request planned from memory.

The memory is filled with N entries made from the TaskBench dev requests (each varied by seeded random words, so
no two are alike) and their gold plans. Timed: ``search`` for a new request (BM25 over FTS5, then re-ranking),
the whole memory step of planning a new request (search plus the check for a plan marked bad), and planning a
request seen before through :class:`~planners.memory.MemoryPlanner` around the local LLM planner (the model is
never loaded: the plan comes from memory). A table goes to stdout; with ``--json`` the last line is
``{"entries", "fill_s", "lookup_ms_p50", "lookup_ms_p90", "lookup_cpu_ms_p50", "memory_step_ms_p50",
"memory_step_ms_p90", "memory_step_cpu_ms_p50", "repeat_plan_cpu_ms_p50", "repeat_plan_ms_p50",
"repeat_plan_ms_max", "model_loaded"}``. Wall times on a busy machine count other processes' work too, hence the
CPU times of this process beside them.

Example:
    .venv/bin/python benchmarks/memory.py --entries 10000 --json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from benchmarks.taskbench import DEFAULT_DATA, DEFAULT_TOOLS  # noqa: E402
from planners.memory import MemoryPlanner, PlanMemory  # noqa: E402
from planners.plan import Plan, plan_issues  # noqa: E402
from planners.taskbench import gold_plan, load_records, load_tools, record_inputs, request_of  # noqa: E402

_WORDS = ("quickly", "carefully", "today", "for my class", "for the team", "in detail", "again", "for a friend",
          "before noon", "as a draft", "for the blog", "for our archive", "step by step", "in English")


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000, help="how many entries to fill the memory with")
    parser.add_argument("--queries", type=int, default=200, help="timed lookups")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args(argv)
    rng = random.Random(18)
    registry = load_tools(DEFAULT_TOOLS)
    records = load_records(DEFAULT_DATA)
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        memory = PlanMemory(Path(tmp) / "memory.sqlite")
        t0 = time.perf_counter()
        batch = []
        for i in range(args.entries):
            record = records[i % len(records)]
            request = f"{request_of(record)} ({' '.join(rng.sample(_WORDS, 3))}, case {i})"
            batch.append((request, record_inputs(request), gold_plan(record, registry), {"source": "seed"}))
            if len(batch) == 1000:
                memory.add_many([b for b in batch if b[2]["steps"]])
                batch = []
        memory.add_many([b for b in batch if b[2]["steps"]])
        fill_s = time.perf_counter() - t0
        new_requests = [f"{request_of(rng.choice(records))} {rng.choice(_WORDS)}, new" for _ in range(args.queries)]
        lookups, steps, cpu, step_cpu = [], [], [], []
        planner = MemoryPlanner(None, memory)
        for request in new_requests:
            kinds = record_inputs(request)
            t, c = time.perf_counter(), time.process_time()
            found = memory.search(request, kinds, k=4)
            lookups.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)  # on a shared machine the wall time also counts others' work
            t, c = time.perf_counter(), time.process_time()
            both = memory.search(request, kinds, k=12, outcome=None)
            planner._reused(request, kinds, [e for e in both if e.outcome == "good"], registry,
                            [e for e in both if e.outcome == "bad"])
            steps.append(time.perf_counter() - t)
            step_cpu.append(time.process_time() - c)
            assert found, request
        from planners.local import LocalLLMPlanner

        local = MemoryPlanner(LocalLLMPlanner(), memory)
        # requests whose remembered plan is valid here (a few gold plans of TaskBench are not: cycles, self-loops)
        seen = [str(e.request) for e in memory.entries(limit=4 * args.queries)
                if not plan_issues(Plan.model_validate(e.plan), registry, record_inputs(e.request))][: args.queries]
        repeats, repeat_cpu = [], []
        for request in seen:
            t, c = time.perf_counter(), time.process_time()
            plan = local.plan(request, record_inputs(request), registry)
            repeats.append(time.perf_counter() - t)
            repeat_cpu.append(time.process_time() - c)
            assert plan.planner.startswith("memory:"), (request, plan.planner)
        loaded = "llama_cpp" in sys.modules
        n = len(memory)
    result = {"entries": n, "fill_s": round(fill_s, 2), "lookup_ms_p50": _ms(lookups, 0.5),
              "lookup_ms_p90": _ms(lookups, 0.9), "lookup_cpu_ms_p50": _ms(cpu, 0.5),
              "memory_step_ms_p50": _ms(steps, 0.5), "memory_step_cpu_ms_p50": _ms(step_cpu, 0.5),
              "repeat_plan_cpu_ms_p50": _ms(repeat_cpu, 0.5),
              "memory_step_ms_p90": _ms(steps, 0.9), "repeat_plan_ms_p50": _ms(repeats, 0.5),
              "repeat_plan_ms_max": _ms(repeats, 1.0), "model_loaded": loaded}
    print(f"{'what':<42}{'figure':>12}")
    print(f"{'entries':<42}{n:>12}")
    print(f"{'fill (s)':<42}{result['fill_s']:>12}")
    print(f"{'lookup p50 / p90 (ms)':<42}{result['lookup_ms_p50']:>6} / {result['lookup_ms_p90']}")
    print(f"{'lookup CPU time p50 (ms)':<42}{result['lookup_cpu_ms_p50']:>12}")
    print(f"{'memory step of a new plan p50 / p90 (ms)':<42}{result['memory_step_ms_p50']:>6} / "
          f"{result['memory_step_ms_p90']}")
    print(f"{'repeated request planned p50 / max (ms)':<42}{result['repeat_plan_ms_p50']:>6} / "
          f"{result['repeat_plan_ms_max']}")
    print(f"{'CPU time p50 (ms): memory step / repeated plan':<42}{result['memory_step_cpu_ms_p50']:>6} / "
          f"{result['repeat_plan_cpu_ms_p50']}")
    print(f"{'planner model loaded':<42}{str(loaded):>12}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
