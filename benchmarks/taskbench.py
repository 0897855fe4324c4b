"""Plan every TaskBench record with a planner and score the plans (node F1, edge F1, validity, latency).

Per-record results go to stderr as JSON lines; the last line of stdout is the summary:
``{"n_f1", "e_f1", "valid_rate", "mean_latency_s", "p50_latency_s", "p90_latency_s", "max_latency_s", "records"}``.

Example:
    .venv/bin/python benchmarks/taskbench.py --planner symbolic --json
    .venv/bin/python benchmarks/taskbench.py --planner local --limit 10 --json
    .venv/bin/python benchmarks/taskbench.py --planner local --warmup --json   # model load not timed
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modalities.errors import MMAgentError, UserError  # noqa: E402
from planners import resolve_planner  # noqa: E402
from planners.plan import plan_issues  # noqa: E402
from planners.taskbench import (  # noqa: E402
    gold_graph,
    load_records,
    load_tools,
    plan_graph,
    record_inputs,
    request_of,
    score,
)

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "taskbench" / "multimedia_dev.jsonl"
DEFAULT_TOOLS = ROOT / "benchmarks" / "data" / "taskbench_tools.json"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(planner_spec: str, data: Path, tools: Path, limit: int | None, as_json: bool, *, offset: int = 0,
        warmup: bool = False) -> dict[str, Any]:
    registry = load_tools(tools)
    records = load_records(data)[offset:]
    planner = resolve_planner(planner_spec)
    if limit is not None:
        records = records[:limit]
    if warmup:
        # one untimed plan (not scored): loads the model and fills the prompt-prefix cache
        t0 = time.perf_counter()
        try:
            planner.plan("Summarize the text 'warm-up'.", record_inputs("Summarize the text 'warm-up'."), registry)
        except MMAgentError:
            pass
        print(json.dumps({"warmup_s": round(time.perf_counter() - t0, 2)}), file=sys.stderr, flush=True)
    pairs = []
    valid = 0
    latencies: list[float] = []
    for record in records:
        request = request_of(record)
        inputs = record_inputs(request)
        t0 = time.perf_counter()
        error = None
        try:
            plan = planner.plan(request, inputs, registry)
            issues = plan_issues(plan, registry, inputs)
        except MMAgentError as exc:
            plan, issues, error = None, [str(exc)], str(exc)
        latency = time.perf_counter() - t0
        latencies.append(latency)
        predicted = plan_graph(plan, registry) if plan is not None else (set(), set())
        gold = gold_graph(record)
        pairs.append((predicted, gold))
        ok = plan is not None and not issues
        valid += ok
        line = {"id": record.get("id"), "valid": ok, "latency_s": round(latency, 2),
                "nodes_ok": predicted[0] == gold[0], "edges_ok": predicted[1] == gold[1],
                "predicted": sorted(predicted[0]), "gold": sorted(gold[0]),
                "predicted_edges": sorted(map(list, predicted[1])), "gold_edges": sorted(map(list, gold[1]))}
        if error:
            line["error"] = error[:300]
        print(json.dumps(line) if as_json else f"{record.get('id')}: {'ok' if ok else 'INVALID'} "
              f"{latency:.1f}s {sorted(predicted[0])} vs {sorted(gold[0])}", file=sys.stderr, flush=True)
    n_f1, e_f1 = score(pairs)
    return {"n_f1": round(n_f1, 4), "e_f1": round(e_f1, 4), "valid_rate": round(valid / max(len(records), 1), 4),
            "mean_latency_s": round(sum(latencies) / max(len(latencies), 1), 3),
            "p50_latency_s": round(_quantile(latencies, 0.5), 2), "p90_latency_s": round(_quantile(latencies, 0.9), 2),
            "max_latency_s": round(max(latencies, default=0.0), 2), "records": len(records)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planner", default="symbolic", help="symbolic, local, local:/path.gguf, llm:..., auto")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TaskBench records (.jsonl)")
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="TaskBench tool descriptions (.json)")
    parser.add_argument("--limit", type=int, default=None, help="plan only the first N records")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N records")
    parser.add_argument("--warmup", action="store_true",
                        help="plan one throwaway request first (model load, prompt cache), not timed or scored")
    parser.add_argument("--json", action="store_true", help="per-record lines as JSON")
    args = parser.parse_args(argv)
    try:
        summary = run(args.planner, args.data, args.tools, args.limit, args.json, offset=args.offset,
                      warmup=args.warmup)
    except UserError as exc:
        print(f"taskbench: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
