"""Strategy-based replanning: what any planner falls back on when no model is configured.

For the diverged step (and the producers it judged), try in order: the tool's next retry variant (other params,
another seed or strategy, adjusted to what the judge reported), then another tool with the same signature; steps
downstream are re-run as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modalities.errors import PlanningError
from planners.base import ReplanRequest
from planners.plan import Step, downstream_of
from tools.base import Tool
from tools.registry import ToolRegistry

__all__ = ["strategy_replan", "same_signature"]

_MAX_PLAIN_RETRIES = 2  # attempts of an unchanged step after tool errors, the first run included


def same_signature(a: Tool, b: Tool) -> bool:
    return dict(a.inputs) == dict(b.inputs) and dict(a.outputs) == dict(b.outputs)


def _vary(step: Step, attempt: int, registry: ToolRegistry, tried_tools: set[str],
          evidence: Mapping[str, Any]) -> Step | None:
    tool = registry.get(step.tool)
    params = tool.retry_variant(step.params, attempt, evidence)
    # a variant the step already runs with is no other try (a plan reused from memory may start with one)
    while params is not None and params == step.params:
        attempt += 1
        params = tool.retry_variant(step.params, attempt, evidence)
    if params is not None:
        return step.model_copy(update={"params": params, "why": f"retry {attempt} with {params}"})
    for other in registry.available():
        if other.name != tool.name and other.name not in tried_tools and same_signature(tool, other):
            return step.model_copy(update={"tool": other.name, "params": {},
                                           "why": f"swap {tool.name} for {other.name}"})
    return None


def _next_variant(request: ReplanRequest, step_id: str) -> int:
    """Which variant of a step to try next (1 = its first retry variant): the one after those tried. A request
    that does not say (a planner's own) falls back on the step's attempts."""
    if step_id in request.variants:
        return request.variants[step_id] + 1
    return request.attempts.get(step_id, 1)


def strategy_replan(request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
    """Replacement steps for ``request.affected``, varying the diverged step or its suspects.

    A failed judgement redoes what was judged (the suspects) with their next variants. The step that made what a
    suspect worked from (``divergence.upstream``) is redone with its own next variant too when the judge read its
    product as well (a narration's script is what its voice is compared with: rewrite it, not only re-say it), and
    in place of the suspects when they have nothing left to try (a page whose strategies are spent goes back to
    the sketch's analysis with other thresholds). Such a step one further back brings all that follows it along.

    Raises:
        PlanningError: Nothing is left to try.
    """
    div = request.divergence
    plan = request.plan
    targets = [div.step_id]
    judged = bool(div.suspects) and not div.error
    if judged:
        targets = list(div.suspects)  # a comparison failed: redo what it compared, then compare again
    tried = {s.tool for s in plan.steps if s.id in targets}
    replaced: dict[str, Step] = {}
    for target in targets:
        step = plan.step(target)
        attempt = request.attempts.get(target, 1)
        if div.error and target == div.step_id and attempt < _MAX_PLAIN_RETRIES:
            # a tool error (crash, time-out, bad output) may be transient: first run the same step once more
            varied: Step | None = step.model_copy(update={"why": f"retry after: {div.error[:120]}"})
        else:
            varied = _vary(step, _next_variant(request, target), registry, tried, div.metrics)
        if varied is not None:
            replaced[target] = varied
    if judged and div.upstream:
        judge_reads = {r.split(".", 1)[0] for r in plan.step(div.step_id).inputs.values()}
        co_authors = [u for u in div.upstream if u in judge_reads]
        further = co_authors if replaced else list(div.upstream)
        for up in further:
            varied = _vary(plan.step(up), _next_variant(request, up), registry, {plan.step(up).tool}, div.metrics)
            if varied is not None:
                replaced[up] = varied
    if not replaced:
        raise PlanningError(f"no alternative left for {', '.join(repr(t) for t in [*targets, *div.upstream])} "
                            f"after {div.summary()}")
    redo = set(request.affected) | downstream_of(plan, [u for u in replaced if u in div.upstream])
    return [replaced.get(s.id, s) for s in plan.steps if s.id in redo]
