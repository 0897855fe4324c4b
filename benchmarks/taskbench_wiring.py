"""How much of TaskBench's edge F1 the wiring alone loses: the gold tools, in a dependency order, wired by code.

The local planner asks its model only for the tools and wires them by kind (``wire_tools``); this script gives the
wiring the gold tools, so its edge F1 is the ceiling the local planner's edges can reach with perfect tool choice.
A table goes to stdout; with ``--json`` the last line is ``{"n_f1", "e_f1", "records", "edges_exact"}``.

Example:
    .venv/bin/python benchmarks/taskbench_wiring.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from benchmarks.taskbench import DEFAULT_DATA, DEFAULT_TOOLS  # noqa: E402
from planners._prompting import wire_tools  # noqa: E402
from planners.memory.examples import tool_order  # noqa: E402
from planners.memory.store import MemoryEntry  # noqa: E402
from planners.taskbench import (  # noqa: E402
    gold_graph,
    gold_plan,
    load_records,
    load_tools,
    plan_graph,
    record_inputs,
    request_of,
    score,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TaskBench records (.jsonl)")
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="TaskBench tool descriptions (.json)")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args(argv)
    registry = load_tools(args.tools)
    pairs = []
    for record in load_records(args.data):
        request = request_of(record)
        inputs = record_inputs(request)
        names = tool_order(MemoryEntry("gold", request, inputs, gold_plan(record, registry)))
        plan = wire_tools(names, registry, inputs, tools=registry.available(), task=request)
        pairs.append((plan_graph(plan, registry), gold_graph(record)))
    n_f1, e_f1 = score(pairs)
    exact = sum(p[1] == g[1] for p, g in pairs)
    print(f"gold tools wired by kind: n-F1 {n_f1:.3f}, e-F1 {e_f1:.3f}, edges exact in {exact} of {len(pairs)}")
    if args.json:
        print(json.dumps({"n_f1": round(n_f1, 4), "e_f1": round(e_f1, 4), "records": len(pairs),
                          "edges_exact": exact}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
