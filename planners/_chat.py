"""The conversation every LLM planner has with its model: ask, validate, repair, tell the exact errors, retry.

Subclasses provide :meth:`ChatPlannerBase.complete` (messages and an optional JSON schema in, reply text out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import PlanningError, PlanValidationError
from planners._prompting import catalogue, checks_help, full_schema, inputs_text, parse_json, prompt, steps_from_reply
from planners.base import ReplanRequest, input_kinds
from planners.plan import Plan, Step, plan_issues
from planners.replan import strategy_replan
from tools.registry import ToolRegistry

__all__ = ["ChatPlannerBase"]

Messages = list[dict[str, str]]


def _remembered(tools: list[Any]) -> str:
    """Plans that worked for similar requests (from the plan memory the planner runs with), as worked examples."""
    from planners.memory.examples import plan_examples_block
    from planners.memory.planning import worked_examples

    return plan_examples_block(worked_examples.get(), {t.name for t in tools})


class ChatPlannerBase:
    """Shared plan and replan loops over a chat model.

    Args:
        retries: How many times a rejected reply goes back to the model with its errors.
        repair: Mend an invalid plan symbolically before asking the model again.
        max_steps: Upper bound on plan length.
    """

    name = "chat"
    matcher: str | None = None  # the symbolic repair's (default: the environment's)

    def __init__(self, *, retries: int = 2, repair: bool = True, max_steps: int = 20) -> None:
        self.retries = retries
        self.repair = repair
        self.max_steps = max_steps

    def complete(self, messages: Messages, schema: dict[str, Any] | None) -> str:
        """The model's reply text to ``messages``; ``schema`` asks for JSON of that shape where supported."""
        raise NotImplementedError

    # -- planning ----------------------------------------------------------------------------------------------
    def plan(self, task: str, inputs: Mapping[str, Artifact | str], registry: ToolRegistry) -> Plan:
        """A validated plan from the model (see the class docstring).

        Raises:
            PlanningError: No valid plan after the retries; the message shows the last reply.
        """
        kinds = input_kinds(inputs)
        tools = registry.available()
        if not tools:
            raise PlanningError("no tools are available to plan with; run 'agent tools' to see why")
        messages: Messages = [
            {"role": "system", "content": prompt("plan_system", catalogue=catalogue(tools), checks=checks_help(tools))},
            {"role": "user", "content": _remembered(tools) + prompt("plan_user", task=task, inputs=inputs_text(kinds))},
        ]
        schema = full_schema(tools)
        reply = ""
        issues: list[str] = []
        for _attempt in range(self.retries + 1):
            reply = self.complete(messages, schema)
            plan, issues = self._read_plan(reply, task, kinds, registry)
            if plan is not None and not issues:
                return plan
            if plan is not None and self.repair:
                fixed = self._repaired(plan, registry, kinds)
                if fixed is not None:
                    return fixed
            messages += [{"role": "assistant", "content": reply},
                         {"role": "user", "content": prompt("retry", issues="\n".join(f"- {i}" for i in issues))}]
        raise PlanningError(f"planner {self.name!r} made no valid plan in {self.retries + 1} attempts; last "
                            f"problems: {'; '.join(issues)}", last_reply=reply)

    def _read_plan(self, reply: str, task: str, kinds: Mapping[str, str],
                   registry: ToolRegistry) -> tuple[Plan | None, list[str]]:
        try:
            steps = steps_from_reply(parse_json(reply), registry)
        except ValueError as exc:
            return None, [str(exc)]
        except PlanValidationError as exc:
            return None, exc.issues
        plan = Plan(task=task, steps=steps, planner=self.name)
        return plan, plan_issues(plan, registry, kinds, max_steps=self.max_steps)

    def _repaired(self, plan: Plan, registry: ToolRegistry, kinds: Mapping[str, str]) -> Plan | None:
        from planners.symbolic import repair

        try:
            fixed = repair(plan, registry, kinds, matcher=self.matcher)
        except PlanningError:
            return None
        if plan_issues(fixed, registry, kinds, max_steps=self.max_steps):
            return None
        return fixed.model_copy(update={"planner": f"{self.name}+repair"})

    # -- replanning --------------------------------------------------------------------------------------------
    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        """Replacement steps from the model, validated like a fresh plan; strategy replanning when it fails."""
        affected = set(request.affected)
        kept = [s for s in request.plan.steps if s.id not in affected]
        kinds = self._replan_kinds(request, registry)
        tools = registry.available()
        messages: Messages = [
            {"role": "system", "content": prompt("plan_system", catalogue=catalogue(tools), checks=checks_help(tools))},
            {"role": "user", "content": prompt(
                "replan", plan=json.dumps(request.plan.model_dump(mode="json", include={"steps"})),
                divergence=request.divergence.summary(), affected=", ".join(request.affected),
                kept=", ".join(s.id for s in kept) or "none")},
        ]
        schema = full_schema(tools)
        for _attempt in range(self.retries + 1):
            reply = ""
            try:
                reply = self.complete(messages, schema)
                steps = [s for s in steps_from_reply(parse_json(reply), registry) if s.id not in {k.id for k in kept}]
                issues = plan_issues(request.plan.model_copy(update={"steps": kept + steps}), registry, kinds,
                                     max_steps=self.max_steps) if steps else ["the reply holds no replacement steps"]
            except ValueError as exc:
                issues = [str(exc)]
            except PlanValidationError as exc:
                issues = exc.issues
            except PlanningError:
                break
            if not issues:
                return steps
            messages += [{"role": "assistant", "content": reply},
                         {"role": "user", "content": prompt("retry", issues="\n".join(f"- {i}" for i in issues))}]
        return strategy_replan(request, registry)

    @staticmethod
    def _replan_kinds(request: ReplanRequest, registry: ToolRegistry) -> dict[str, str]:
        """Run input kinds as the plan uses them (a replan request carries no input records)."""
        kinds: dict[str, str] = {}
        for step in request.plan.steps:
            if step.tool not in registry:
                continue
            tool = registry.get(step.tool)
            for name, ref in step.inputs.items():
                if ref.startswith("input:") and name in tool.inputs:
                    kinds[ref.removeprefix("input:")] = tool.inputs[name]
        return kinds
