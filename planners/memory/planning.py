"""Planning with memory: reuse a remembered plan for the same request, else hand the nearest ones to the planner.

:class:`MemoryPlanner` wraps any planner. A request whose meaning words match a remembered request's (Jaccard at
least ``reuse``) over the same input kinds gets that plan back, its input references renamed to this run's
inputs and validated, without asking any model; the plan's ``planner`` says ``memory:<entry id>``. Otherwise the
``examples`` most similar good entries at least ``floor`` similar are set in :data:`worked_examples` while the
wrapped planner plans: the local and chat planners show them to their model as worked examples (see
:mod:`planners.memory.examples`). Below the floor an entry is another task that shares a few words with the
request ("a narrated video" of a sketch's page for a narrated video of photos), and a small model copies it.
Letting the local planner's wiring follow their links was tried and made edges worse (see the README). A plan
remembered as bad for the same request is never reused.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping, Sequence
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import PlanValidationError
from planners.base import ReplanRequest, input_kinds
from planners.memory.store import MemoryEntry, PlanMemory
from planners.plan import Plan, Step, validate
from tools.registry import ToolRegistry

__all__ = ["EXAMPLE_FLOOR", "MemoryPlanner", "pick_examples", "worked_examples", "rename_inputs", "with_memory"]

#: Least similarity (the search score: Jaccard of meaning words, 0-1) for a remembered entry to be shown as a
#: worked example. Picked by cross-validation on the planning dev records (README, "Plan memory"): on each fold's
#: training records, copying the nearest remembered plan was worse than the symbolic planner's own plan below 0.4 (four
#: folds: below 0.5), and no better at any floor from 0.5 up.
EXAMPLE_FLOOR = 0.5

#: The memory entries the planner running in this context may show its model (set by :class:`MemoryPlanner`).
worked_examples: contextvars.ContextVar[tuple[MemoryEntry, ...]] = contextvars.ContextVar(
    "mmagent_worked_examples", default=())


def pick_examples(found: Sequence[MemoryEntry], *, limit: int, floor: float = EXAMPLE_FLOOR
                  ) -> tuple[MemoryEntry, ...]:
    """The good entries of ``found`` (a search result, best first) a planner may show as worked examples: at most
    ``limit``, each with a ``score`` of at least ``floor``.

    Example:
        >>> from planners.memory.store import MemoryEntry
        >>> near, far = MemoryEntry("a", "transcribe a.wav", {}, {}, score=0.8), MemoryEntry("b", "", {}, {}, score=0.2)
        >>> [e.id for e in pick_examples([near, far], limit=4)]
        ['a']
    """
    return tuple(e for e in found if e.outcome == "good" and e.score >= floor)[:max(limit, 0)]


def rename_inputs(plan: Mapping[str, Any], was: Mapping[str, str], now: Mapping[str, str]) -> dict[str, Any] | None:
    """``plan`` with its run-input references renamed from the inputs it was made for (``was``: name -> kind) to
    this run's (``now``), matching inputs of a kind in the order given; None when the kinds differ."""
    if sorted(was.values()) != sorted(now.values()):
        return None
    mapping: dict[str, str] = {}
    for kind in set(was.values()):
        old = [n for n, k in was.items() if k == kind]
        new = [n for n, k in now.items() if k == kind]
        mapping.update(zip(old, new, strict=True))

    def rename(ref: Any) -> Any:
        if isinstance(ref, str) and ref.startswith("input:"):
            return "input:" + mapping.get(ref.removeprefix("input:"), ref.removeprefix("input:"))
        if isinstance(ref, dict) and "from" in ref:
            return {**ref, "from": rename(ref["from"])}
        return ref

    steps = [{**s, "inputs": {k: rename(v) for k, v in (s.get("inputs") or {}).items()},
              "params": {k: rename(v) for k, v in (s.get("params") or {}).items()}} for s in plan.get("steps", [])]
    return {**plan, "steps": steps, "outputs": {k: rename(v) for k, v in (plan.get("outputs") or {}).items()}}


class MemoryPlanner:
    """A planner that remembers: reuses the plan of a request it has seen, else plans with worked examples.

    Args:
        planner: The planner to wrap (any object with ``plan`` and ``replan``).
        memory: The plan memory to read.
        reuse: Least meaning-word similarity (Jaccard, 0-1) for a remembered request to count as the same one.
        examples: How many similar good entries the wrapped planner may show its model.
        floor: Least similarity (0-1, as ``reuse``) for an entry to be shown as a worked example.

    Example:
        >>> import tempfile, os
        >>> from planners.symbolic import SymbolicPlanner
        >>> from tools.text import write_text
        >>> memory = PlanMemory(os.path.join(tempfile.mkdtemp(), "m.sqlite"))
        >>> _ = memory.add("write a haiku", {}, {"steps": [{"id": "w", "tool": "write_text"}]})
        >>> plan = MemoryPlanner(SymbolicPlanner(), memory).plan("Write a haiku!", {}, ToolRegistry([write_text]))
        >>> plan.planner.startswith("memory:")
        True
    """

    def __init__(self, planner: Any, memory: PlanMemory, *, reuse: float = 0.9, examples: int = 4,
                 floor: float = EXAMPLE_FLOOR) -> None:
        self.inner = planner
        self.memory = memory
        self.reuse = reuse
        self.examples = examples
        self.floor = floor
        self.last_match: MemoryEntry | None = None
        self.last_examples: tuple[MemoryEntry, ...] = ()

    @property
    def name(self) -> str:
        return str(getattr(self.inner, "name", "planner"))

    def __getattr__(self, item: str) -> Any:
        # everything else (thresholds, last_reply, ...) is the wrapped planner's
        return getattr(self.__dict__["inner"], item)

    def plan(self, task: str, inputs: Mapping[str, Artifact | str], registry: ToolRegistry) -> Plan:
        """A remembered plan for the same request, or the wrapped planner's plan made with worked examples."""
        kinds = input_kinds(inputs)
        # one lookup for both: the good entries to reuse or show, the bad ones that veto a reuse
        both = self.memory.search(task, kinds, k=max(self.examples, 1) + 8, outcome=None)
        found = [e for e in both if e.outcome == "good"]
        self.last_match = None
        self.last_examples = ()
        reused = self._reused(task, kinds, found, registry, [e for e in both if e.outcome == "bad"])
        if reused is not None:
            return reused
        self.last_examples = pick_examples(found, limit=self.examples, floor=self.floor)
        token = worked_examples.set(self.last_examples)
        try:
            return self.inner.plan(task, inputs, registry)
        finally:
            worked_examples.reset(token)

    def _reused(self, task: str, kinds: Mapping[str, str], found: Sequence[MemoryEntry], registry: ToolRegistry,
                bad: Sequence[MemoryEntry] = ()) -> Plan | None:
        """The best ``found`` entry's plan for this run, unless a ``bad`` entry for the same request, marked since,
        has the same plan; None when no entry is the same request or none validates here."""
        vetoes = [b for b in bad if b.score >= self.reuse]
        for entry in found:
            if entry.score < self.reuse:
                break
            renamed = rename_inputs(entry.plan, entry.kinds, kinds)
            if renamed is None:
                continue
            if any(b.updated >= entry.updated and _graph(b.plan) == _graph(entry.plan) for b in vetoes):
                continue  # disowned (a failed run, bad feedback) after it was remembered
            try:
                plan = Plan.model_validate({**renamed, "task": task, "planner": f"memory:{entry.id}",
                                            "requirements": []})
                plan = _without_revisions(plan, registry)
                validate(plan, registry, kinds)
            except (PlanValidationError, ValueError):
                continue  # a tool gone or renamed since: plan afresh
            self.last_match = entry
            return plan
        return None

    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        return self.inner.replan(request, registry)


def _without_revisions(plan: Plan, registry: ToolRegistry) -> Plan:
    """``plan`` without the params its tools set in answer to one run's output (the words a voice misheard in
    that run's narration, :attr:`tools.base.Tool.revised_params`): another run's inputs differ. The variants it
    settled on (a shorter script, another strategy) are kept."""
    steps = []
    for step in plan.steps:
        drop = set(registry.get(step.tool).revised_params) if step.tool in registry else set()
        steps.append(step.model_copy(update={"params": {k: v for k, v in step.params.items() if k not in drop}})
                     if drop & set(step.params) else step)
    return plan.model_copy(update={"steps": steps})


def _graph(plan: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    by_id = {s.get("id"): s.get("tool") for s in plan.get("steps", [])}
    return sorted((str(s.get("tool")), sorted(str(by_id.get(str(r).split(".", 1)[0], "input"))
                                              for r in (s.get("inputs") or {}).values()))
                  for s in plan.get("steps", []))


def with_memory(planner: Any, memory: PlanMemory | None, **options: Any) -> Any:
    """``planner`` wrapped in a :class:`MemoryPlanner` over ``memory``; ``planner`` itself when ``memory`` is None
    or it already has one."""
    if memory is None or isinstance(planner, MemoryPlanner):
        return planner
    return MemoryPlanner(planner, memory, **options)
