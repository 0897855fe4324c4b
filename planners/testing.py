"""Fake planners for tests of the runtime (never a replacement for a real planner).

- :class:`ScriptedPlanner` returns the plans and replacements it was given, in order, and raises when its
  script runs out.
- :class:`FunctionPlanner` calls the functions it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import PlanningError
from planners.base import ReplanRequest
from planners.plan import Plan, Step, parse_plan, validate
from planners.replan import strategy_replan
from tools.registry import ToolRegistry

__all__ = ["ScriptedPlanner", "FunctionPlanner", "ScriptExhausted"]


class ScriptExhausted(PlanningError):
    """A scripted planner was asked for more than its script holds."""


def _as_steps(value: Any) -> list[Step]:
    return [s if isinstance(s, Step) else Step.model_validate(s) for s in value]


class ScriptedPlanner:
    """Plays back plans and replans.

    Args:
        plans: Plans (models or dicts) returned by successive ``plan`` calls.
        replans: Lists of steps returned by successive ``replan`` calls; ``None`` entries (or no list at all)
            mean: use the strategy replanner.

    Example:
        >>> p = ScriptedPlanner(plans=[{"steps": [{"id": "a", "tool": "write_text"}]}])
        >>> p.plan("task", {}, ToolRegistry(["tools.text:write_text"])).steps[0].id
        'a'
    """

    name = "scripted"

    def __init__(self, plans: Sequence[Plan | dict[str, Any]] = (),
                 replans: Sequence[Sequence[Step | dict[str, Any]] | None] | None = None) -> None:
        self._plans = list(plans)
        self._replans = None if replans is None else list(replans)
        self.plan_calls = 0
        self.replan_calls = 0
        self.requests: list[ReplanRequest] = []

    def plan(self, task: str, inputs: Mapping[str, Artifact], registry: ToolRegistry) -> Plan:
        if self.plan_calls >= len(self._plans):
            raise ScriptExhausted(f"scripted planner has no plan #{self.plan_calls + 1}")
        raw = self._plans[self.plan_calls]
        self.plan_calls += 1
        plan = raw if isinstance(raw, Plan) else parse_plan(raw)
        plan = plan.model_copy(update={"task": plan.task or task, "planner": self.name})
        return validate(plan, registry, {k: v.kind for k, v in inputs.items()})

    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        self.requests.append(request)
        index = self.replan_calls
        self.replan_calls += 1
        if self._replans is None:
            return strategy_replan(request, registry)
        if index >= len(self._replans):
            raise ScriptExhausted(f"scripted planner has no replan #{index + 1}")
        entry = self._replans[index]
        return strategy_replan(request, registry) if entry is None else _as_steps(entry)


class FunctionPlanner:
    """A planner made of functions: ``plan_fn(task, inputs, registry) -> Plan | dict`` and optionally
    ``replan_fn(request, registry) -> list[Step]`` (default: the strategy replanner)."""

    name = "function"

    def __init__(self, plan_fn: Callable[..., Any],
                 replan_fn: Callable[[ReplanRequest, ToolRegistry], list[Any]] | None = None) -> None:
        self.plan_fn = plan_fn
        self.replan_fn = replan_fn

    def plan(self, task: str, inputs: Mapping[str, Artifact], registry: ToolRegistry) -> Plan:
        raw = self.plan_fn(task, inputs, registry)
        plan = raw if isinstance(raw, Plan) else parse_plan(raw)
        plan = plan.model_copy(update={"task": plan.task or task, "planner": plan.planner or self.name})
        return validate(plan, registry, {k: v.kind for k, v in inputs.items()})

    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        if self.replan_fn is None:
            return strategy_replan(request, registry)
        return _as_steps(self.replan_fn(request, registry))
