"""How the local planner's TaskBench scores move with each merge threshold, one threshold at a time.

The model is asked once per record; every other setting replays its replies, confidences and support, so a sweep
costs about one benchmark run. The table goes to stdout; with ``--json`` the last line is
``{"base": {"n_f1", "e_f1", ...thresholds}, "rows": [{"threshold", "value", "n_f1", "e_f1"}]}``.

Example:
    .venv/bin/python benchmarks/taskbench_sweep.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from benchmarks.taskbench import DEFAULT_DATA, DEFAULT_TOOLS  # noqa: E402
from modalities.errors import MMAgentError, UserError  # noqa: E402
from planners.local import LocalLLMPlanner  # noqa: E402
from planners.taskbench import (  # noqa: E402
    gold_graph,
    load_records,
    load_tools,
    plan_graph,
    record_inputs,
    request_of,
    score,
)

# one threshold at a time, around the defaults
GRID: dict[str, tuple[float, ...]] = {
    "trust": (0.5, 0.55, 0.65, 0.7),
    "doubt": (0.1, 0.15, 0.25, 0.3),
    "recheck": (0.7, 0.75, 0.85, 0.9),
    "add": (0.8, 0.85, 0.95, 1.0),
    "veto": (0.01, 0.015, 0.03, 0.05),
    "endorse": (0.2, 0.25, 0.35, 0.4),
}


class ReplayingPlanner(LocalLLMPlanner):
    """The local planner, answering a question it has asked before from memory (model reply, confidences, the
    prompt it was asked with, and the model's support for the symbolic planner's tools)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._replies: dict[str, tuple[str, Any, Any]] = {}
        self._supports: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Any] = {}
        self._question = ""

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
        self._question = json.dumps([messages, schema], sort_keys=True)
        if self._question not in self._replies:
            text = super().complete(messages, schema)
            self._replies[self._question] = (text, self.last_confidence, self._asked)
        text, self.last_confidence, self._asked = self._replies[self._question]
        return text

    def support(self, model: list[str], symbolic: list[str]) -> dict[str, float] | None:
        key = (self._question, tuple(model), tuple(symbolic))
        if key not in self._supports:
            self._supports[key] = super().support(model, symbolic)
        return self._supports[key]


def scores(planner: ReplayingPlanner, records: list[dict[str, Any]], registry: Any) -> tuple[float, float]:
    pairs = []
    for record in records:
        request = request_of(record)
        try:
            predicted = plan_graph(planner.plan(request, record_inputs(request), registry), registry)
        except MMAgentError:
            predicted = (set(), set())  # scored as an empty plan, as benchmarks/taskbench.py does
        pairs.append((predicted, gold_graph(record)))
    return score(pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TaskBench records (.jsonl)")
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="TaskBench tool descriptions (.json)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N records")
    parser.add_argument("--json", action="store_true", help="end with the results as one line of JSON")
    args = parser.parse_args(argv)
    try:
        registry = load_tools(args.tools)
        records = load_records(args.data)[: args.limit]
        planner = ReplayingPlanner()
        base = {name: getattr(planner, name) for name in GRID}
        n_f1, e_f1 = scores(planner, records, registry)
    except UserError as exc:
        print(f"taskbench_sweep: {exc}", file=sys.stderr)
        return 2
    rows = []
    print(f"{'threshold':<10}{'value':>8}{'n-F1':>8}{'e-F1':>8}")
    print(f"{'(base)':<10}{'':>8}{n_f1:>8.3f}{e_f1:>8.3f}")
    for name, values in GRID.items():
        for value in values:
            setattr(planner, name, value)
            row_n, row_e = scores(planner, records, registry)
            rows.append({"threshold": name, "value": value, "n_f1": round(row_n, 4), "e_f1": round(row_e, 4)})
            print(f"{name:<10}{value:>8}{row_n:>8.3f}{row_e:>8.3f}", flush=True)
        setattr(planner, name, base[name])
    if args.json:
        print(json.dumps({"base": {"n_f1": round(n_f1, 4), "e_f1": round(e_f1, 4), **base}, "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
