"""Plan every TaskBench record with a planner and score the plans (node F1, edge F1, validity, latency).

Per-record results go to stderr as JSON lines; the last line of stdout is the summary:
``{"n_f1", "e_f1", "valid_rate", "mean_latency_s", "p50_latency_s", "p90_latency_s", "max_latency_s", "records",
"mode", "from_memory", "with_examples", "examples"}`` (``with_examples``: records planned with at least one worked
example from memory; ``examples``: how many were shown in all).

Honest evaluation (see ``--help``): ``--cv K`` scores each record with only the other folds' gold plans in the
planner's memory, with the worked examples' similarity floor and the local planner's merge thresholds picked on
the other folds; ``--memory FILE``
seeds the memory with the gold plans of a records file; ``--online`` adds each record's gold plan to the memory
after it is scored (user feedback, in order); ``--memory none`` plans without memory (the default when neither
``--memory`` nor ``--online`` nor ``--cv`` is given, as before).

Example:
    .venv/bin/python benchmarks/taskbench.py --planner symbolic --json
    .venv/bin/python benchmarks/taskbench.py --planner local --warmup --cv 5 --json
    .venv/bin/python benchmarks/taskbench.py --planner local --warmup --memory none --cv 5 --json
    .venv/bin/python benchmarks/taskbench.py --planner local --warmup --online --json
    .venv/bin/python benchmarks/taskbench.py --planner local --memory DEV.jsonl --online --data HELD_OUT.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

from modalities.errors import MMAgentError, UserError  # noqa: E402
from planners import resolve_planner  # noqa: E402
from planners.memory import EXAMPLE_FLOOR, MemoryPlanner, PlanMemory  # noqa: E402
from planners.plan import Plan, plan_issues  # noqa: E402
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

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "taskbench" / "multimedia_dev.jsonl"
DEFAULT_TOOLS = ROOT / "benchmarks" / "data" / "taskbench_tools.json"
# the local planner's merge thresholds that --cv picks on the training folds, one at a time, around the defaults
GRID: dict[str, tuple[float, ...]] = {
    "trust": (0.5, 0.7),
    "doubt": (0.1, 0.3),
    "recheck": (0.7, 0.9),
    "add": (0.8, 1.0),
}
# the least similarity of a worked example, which --cv picks on the training folds (see _pick_floor)
FLOORS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def seed(memory: PlanMemory, records: list[dict[str, Any]], registry: Any) -> int:
    """Add the gold plans of ``records`` to ``memory`` as user-approved plans; how many."""
    items = [(request_of(r), record_inputs(request_of(r)), gold_plan(r, registry),
              {"outcome": "good", "source": "seed", "note": f"taskbench {r.get('id')}"}) for r in records]
    memory.add_many([i for i in items if i[2]["steps"]])
    return len(items)


class Scored:
    """Predictions, gold graphs and latencies of one pass."""

    def __init__(self) -> None:
        self.pairs: list[Any] = []
        self.latencies: list[float] = []
        self.valid = 0
        self.from_memory = 0
        self.with_examples = 0
        self.examples = 0

    def summary(self, **extra: Any) -> dict[str, Any]:
        n_f1, e_f1 = score(self.pairs)
        n, lat = max(len(self.pairs), 1), self.latencies
        return {"n_f1": round(n_f1, 4), "e_f1": round(e_f1, 4), "valid_rate": round(self.valid / n, 4),
                "mean_latency_s": round(sum(lat) / max(len(lat), 1), 3), "p50_latency_s": round(_quantile(lat, 0.5), 2),
                "p90_latency_s": round(_quantile(lat, 0.9), 2), "max_latency_s": round(max(lat, default=0.0), 2),
                "records": len(self.pairs), "from_memory": self.from_memory, "with_examples": self.with_examples,
                "examples": self.examples, **extra}


def plan_record(planner: Any, record: dict[str, Any], registry: Any, out: Scored | None, as_json: bool,
                memory: PlanMemory | None = None, floor: float = EXAMPLE_FLOOR) -> tuple[Any, Any]:
    """Plan one record (through ``memory`` when given, showing examples at least ``floor`` similar), score it into
    ``out``; (predicted, gold) graphs."""
    request = request_of(record)
    inputs = record_inputs(request)
    wrapped = MemoryPlanner(planner, memory, floor=floor) if memory is not None else planner
    t0 = time.perf_counter()
    error = None
    try:
        plan = wrapped.plan(request, inputs, registry)
        issues = plan_issues(plan, registry, inputs)
    except MMAgentError as exc:
        plan, issues, error = None, [str(exc)], str(exc)
    latency = time.perf_counter() - t0
    predicted = plan_graph(plan, registry) if plan is not None else (set(), set())
    gold = gold_graph(record)
    if out is not None:
        out.pairs.append((predicted, gold))
        out.latencies.append(latency)
        out.valid += plan is not None and not issues
        out.from_memory += bool(plan is not None and plan.planner.startswith("memory:"))
        shown = len(getattr(wrapped, "last_examples", ()))
        out.with_examples += bool(shown)
        out.examples += shown
        line = {"id": record.get("id"), "valid": plan is not None and not issues, "latency_s": round(latency, 2),
                "planner": plan.planner if plan is not None else None,
                "nodes_ok": predicted[0] == gold[0], "edges_ok": predicted[1] == gold[1],
                "predicted": sorted(predicted[0]), "gold": sorted(gold[0]),
                "predicted_edges": sorted(map(list, predicted[1])), "gold_edges": sorted(map(list, gold[1]))}
        if error:
            line["error"] = error[:300]
        print(json.dumps(line) if as_json else f"{record.get('id')}: {'ok' if line['valid'] else 'INVALID'} "
              f"{latency:.1f}s {sorted(predicted[0])} vs {sorted(gold[0])}", file=sys.stderr, flush=True)
    return predicted, gold


def run(planner_spec: str, data: Path, tools: Path, limit: int | None, as_json: bool, *, offset: int = 0,
        warmup: bool = False, memory: str | None = None, online: bool = False,
        threads: int | None = None, floor: float | None = None) -> dict[str, Any]:
    """One pass over the records: without memory, with a seeded memory, and/or learning online."""
    registry = load_tools(tools)
    records = load_records(data)[offset:]
    if limit is not None:
        records = records[:limit]
    planner = _planner(planner_spec, registry, warmup, threads)
    out = Scored()
    with tempfile.TemporaryDirectory(prefix="taskbench-memory-") as tmp:
        mem = None
        seeded = 0
        if memory not in (None, "none") or online:
            mem = PlanMemory(Path(tmp) / "memory.sqlite")
            if memory not in (None, "none"):
                seeded = seed(mem, load_records(memory), registry)
        for record in records:
            plan_record(planner, record, registry, out, as_json, mem, EXAMPLE_FLOOR if floor is None else floor)
            if online and mem is not None:  # the user's corrected plan, remembered after the request was scored
                seed(mem, [record], registry)
    mode = "online" if online else "memory" if mem is not None else "no memory"
    return out.summary(mode=mode, seeded=seeded)


def _planner(spec: str, registry: Any, warmup: bool, threads: int | None = None) -> Any:
    if spec.split(":", 1)[0] == "local":
        # answers replayed when the same prompt comes again (--cv re-scores training folds at other thresholds)
        from benchmarks.taskbench_sweep import ReplayingPlanner

        path = spec.partition(":")[2] or None
        planner: Any = ReplayingPlanner(model_path=path, threads=threads)
    else:
        planner = resolve_planner(spec)
    if warmup:
        # one untimed plan (not scored): loads the model and fills the prompt-prefix cache
        t0 = time.perf_counter()
        try:
            planner.plan("Summarize the text 'warm-up'.", record_inputs("Summarize the text 'warm-up'."), registry)
        except MMAgentError:
            pass
        print(json.dumps({"warmup_s": round(time.perf_counter() - t0, 2)}), file=sys.stderr, flush=True)
    return planner


def cross_validate(planner_spec: str, data: Path, tools: Path, k: int, as_json: bool, *, warmup: bool = False,
                   memory: bool = True, limit: int | None = None, threads: int | None = None,
                   floor: float | None = None) -> dict[str, Any]:
    """K-fold cross-validation: record i is in fold ``i % k``; each record is planned once, with a memory that
    holds only the other folds' gold plans. For fold f, the worked examples' floor is picked on the other folds
    (:func:`_pick_floor`, each training record seeing neither its own fold's plans nor fold f's), then the local
    planner's thresholds (one at a time over :data:`GRID`, by n-F1 + e-F1), replaying the model's answers. A
    ``floor`` given is used in every fold instead."""
    registry = load_tools(tools)
    records = load_records(data)[:limit]
    planner = _planner(planner_spec, registry, warmup, threads)
    folds = [[r for i, r in enumerate(records) if i % k == f] for f in range(k)]
    held = Scored()
    with tempfile.TemporaryDirectory(prefix="taskbench-cv-") as tmp:
        memories: list[PlanMemory | None] = []
        for f in range(k):
            mem = PlanMemory(Path(tmp) / f"fold{f}.sqlite") if memory else None
            if mem is not None:
                seed(mem, [r for g, fold in enumerate(folds) if g != f for r in fold], registry)
            memories.append(mem)
        floors: list[float | None] = [floor if memory else None] * k
        if memory and floor is None:
            symbolic = planner if planner_spec == "symbolic" else resolve_planner("symbolic")
            own = {id(r): plan_graph(symbolic.plan(request_of(r), record_inputs(request_of(r)), registry), registry)
                   for r in records}
            nested: dict[frozenset[int], PlanMemory] = {}
            for pair in map(frozenset, itertools.combinations(range(k), 2)):
                nested[pair] = PlanMemory(Path(tmp) / f"folds{'-'.join(map(str, sorted(pair)))}.sqlite")
                seed(nested[pair], [r for h, fold in enumerate(folds) if h not in pair for r in fold], registry)
            for f in range(k):
                train = [(r, nested[frozenset((f, g))]) for g, fold in enumerate(folds) if g != f for r in fold]
                floors[f] = _pick_floor(train, registry, own)
        tunable = hasattr(planner, "trust") and planner_spec.split(":", 1)[0] == "local"
        base = {name: getattr(planner, name) for name in GRID} if tunable else {}
        picked: list[dict[str, float]] = []
        for f in range(k):
            # every record's model answer is asked once, in the first fold's tuning pass or when it is held out;
            # later passes replay it (the prompt of record r shows only the gold plans of folds other than r's)
            floor = EXAMPLE_FLOOR if floors[f] is None else floors[f]
            chosen = dict(base)
            if tunable:
                train = [(r, memories[g]) for g, fold in enumerate(folds) if g != f for r in fold]
                chosen = _pick(planner, train, registry, base, floor)
                for name, value in chosen.items():
                    setattr(planner, name, value)
            picked.append(chosen)
            for record in folds[f]:
                plan_record(planner, record, registry, held, as_json, memories[f], floor)
            for name, value in base.items():
                setattr(planner, name, value)
    return held.summary(mode=f"cv{k}" + ("" if memory else ", no memory"), thresholds=picked, floors=floors)


def _pick_floor(train: list[tuple[dict[str, Any], PlanMemory]], registry: Any, own: dict[int, Any]) -> float:
    """The least :data:`FLOORS` value at which a planner that copies the nearest remembered plan at least that
    similar, and otherwise plans with the symbolic planner (``own``: record id() -> its graph), scores best on
    ``train`` (n-F1 + e-F1).

    Copying is what a small model shown an unrelated example was seen to do; the symbolic planner stands in for
    planning without examples because asking the local model again at every floor costs a model call per record
    and floor. Each training record's memory must hold neither its own fold's plans nor the held-out fold's."""
    nearest = []
    for record, mem in train:
        request = request_of(record)
        top = mem.search(request, record_inputs(request), k=1)
        copied = plan_graph(Plan.model_validate({"steps": top[0].plan["steps"]}), registry) if top else None
        nearest.append((top[0].score if top else -1.0, copied, own[id(record)], gold_graph(record)))

    def value(floor: float) -> float:
        return sum(score([(copied if sim >= floor else mine, gold) for sim, copied, mine, gold in nearest]))

    best = max(value(f) for f in FLOORS)
    return next(f for f in FLOORS if value(f) >= best - 1e-9)


def _pick(planner: Any, train: list[tuple[dict[str, Any], PlanMemory | None]], registry: Any,
          base: dict[str, float], floor: float = EXAMPLE_FLOOR) -> dict[str, float]:
    """Thresholds that score best on ``train``, moved one at a time from ``base`` (ties keep the base)."""
    def value(setting: dict[str, float]) -> float:
        for name, v in setting.items():
            setattr(planner, name, v)
        pairs = [plan_record(planner, r, registry, None, False, mem, floor) for r, mem in train]
        n_f1, e_f1 = score(pairs)
        return n_f1 + e_f1

    best, best_value = dict(base), value(base)
    for name, values in GRID.items():
        for v in values:
            trial = {**best, name: v}
            got = value(trial)
            if got > best_value + 1e-9:
                best, best_value = trial, got
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planner", default="symbolic", help="symbolic, local, local:/path.gguf, llm:..., auto")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TaskBench records (.jsonl)")
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="TaskBench tool descriptions (.json)")
    parser.add_argument("--limit", type=int, default=None, help="plan only the first N records")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N records")
    parser.add_argument("--warmup", action="store_true",
                        help="plan one throwaway request first (model load, prompt cache), not timed or scored")
    parser.add_argument("--cv", type=int, default=None, metavar="K",
                        help="K-fold cross-validation: memory, example floor and thresholds from the other folds "
                        "only")
    parser.add_argument("--memory", default=None, metavar="FILE|none",
                        help="seed the plan memory with the gold plans of this records file; 'none': no memory")
    parser.add_argument("--online", action="store_true",
                        help="after each record is scored, add its gold plan to the memory (user feedback)")
    parser.add_argument("--threads", type=int, default=None,
                        help="llama.cpp threads for the local planner (default: all cores; 1 is faster on a machine "
                        "busy with other work, where threads wait for each other)")
    parser.add_argument("--floor", type=float, default=None,
                        help="least similarity (0-1) of a worked example from memory (default: picked on the "
                        "training folds under --cv, else the planner's default)")
    parser.add_argument("--json", action="store_true", help="per-record lines as JSON")
    args = parser.parse_args(argv)
    try:
        if args.floor is not None and not 0.0 <= args.floor <= 1.0:
            raise UserError(f"--floor {args.floor}: give a similarity from 0 to 1 (0 shows the nearest examples "
                            f"however far)")
        if args.cv is not None:
            if args.cv < 2 or args.online or args.memory not in (None, "none"):
                raise UserError(f"--cv {args.cv}: give K >= 2, with no --online and no --memory FILE (each fold's "
                                f"memory is the other folds' gold plans; --memory none turns it off)")
            summary = cross_validate(args.planner, args.data, args.tools, args.cv, args.json, warmup=args.warmup,
                                     memory=args.memory != "none", limit=args.limit, threads=args.threads,
                                     floor=args.floor)
        else:
            if args.memory not in (None, "none") and not Path(args.memory).is_file():
                raise UserError(f"--memory {args.memory!r} is not a file; give a TaskBench records file (.jsonl) "
                                f"whose gold plans seed the memory, or 'none'")
            summary = run(args.planner, args.data, args.tools, args.limit, args.json, offset=args.offset,
                          warmup=args.warmup, memory=args.memory, online=args.online, threads=args.threads,
                          floor=args.floor)
    except UserError as exc:
        print(f"taskbench: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
