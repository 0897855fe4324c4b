"""The symbolic planner: no language model, instant and deterministic. Also the repairer of LLM plans.

Planning reads the request clause by clause. In each clause it picks the tool whose name and description are
most similar to the clause's words (see :mod:`planners._similarity`), nudged by kinds (a tool that takes the kind
the clause mentions, or the kind the previous step made, wins a tie), and it reads goal kinds from phrases such as
"make a narrated video" (audio, then video). Tools are wired by kind over the typed tool graph: each input takes
the most recent artifact of its kind, and when none exists the shortest chain of tools that makes one is inserted.
After each deliverable, verification tools (tools that judge, e.g. a layout comparison or a speech round trip) are
added when the deliverable and what it was made from fill their inputs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, PlanningError, PlanValidationError
from planners._builder import PlanBuilder, downloaders, is_verifier, url_loader
from planners._intents import (
    KIND_WORDS,
    Clause,
    files_as_kinds,
    goal_kinds,
    in_stated_order,
    mask_quotes,
    split_clauses,
)
from planners._similarity import Matcher
from planners.base import ReplanRequest, input_kinds
from planners.param_refs import fit_issue, param_shapes
from planners.plan import Plan, Step, parse_ref, plan_issues, topological_order, validate
from planners.replan import strategy_replan
from planners.requirements import extract_requirements
from tools.base import Tool
from tools.registry import ToolRegistry

__all__ = ["SymbolicPlanner", "repair"]


_DESCRIPTIVE = re.compile(r"^(?:i\s+have|i've|i\s+had|here\s+is|here's|there\s+is|there\s+are|this\s+is|it\s+is|"
                         r"it's|the\s+\w+(?:'s)?\s+(?:\w+\s+)?(?:is|are|was)\b|my\s+\w+\s+(?:is|are)\b)", re.I)


_PRONOUN = re.compile(r"\bof\s+(?:it|that|them|this one)\b", re.I)  # "a video of it": made from it


class _ToolIndex:
    """Similarity of text to each available tool (name words count twice, then the description)."""

    def __init__(self, tools: list[Tool], backend: str | None) -> None:
        self.tools = tools
        docs = [(t.name.replace("_", " "), t.description) for t in tools]
        # words that name kinds ("article", "image") describe data, which kinds already handle; actions decide
        self.matcher = Matcher(docs, backend=backend, weak=[w for ws in KIND_WORDS.values() for w in ws])

    def scores(self, text: str) -> dict[str, float]:
        return {t.name: s for t, s in zip(self.tools, self.matcher.scores(text), strict=True)}


class SymbolicPlanner:
    """Plans by matching clauses to tools and wiring them by kind.

    Args:
        threshold: Least similarity (0-1) for a clause to select a tool.
        matcher: Similarity backend: ``embedding``, ``bm25`` or ``overlap`` (default: ``MMAGENT_MATCHER`` or bm25).
        max_steps: Upper bound on plan length.

    Example:
        >>> from tools.text import write_text
        >>> plan = SymbolicPlanner().plan("write a short text", {}, ToolRegistry([write_text]))
        >>> [s.tool for s in plan.steps], plan.planner
        (['write_text'], 'symbolic')
    """

    name = "symbolic"

    def __init__(self, *, threshold: float = 0.3, matcher: str | None = None, max_steps: int = 20) -> None:
        self.threshold = threshold
        self.matcher = matcher
        self.max_steps = max_steps
        self._index: tuple[tuple[str, ...], _ToolIndex] | None = None

    def _tool_index(self, tools: list[Tool]) -> _ToolIndex:
        key = tuple(f"{t.name}:{t.description}" for t in tools)
        if self._index is None or self._index[0] != key:
            self._index = (key, _ToolIndex(tools, self.matcher))
        return self._index[1]

    # -- what other planners borrow -----------------------------------------------------------------------------
    def relevance(self, task: str, tools: list[Tool]) -> dict[str, float]:
        """Similarity (0-1) of the whole request to each tool."""
        return self._tool_index(tools).scores(mask_quotes(task))

    def candidates(self, task: str, tools: list[Tool], *, threshold: float = 0.15, top_k: int = 5) -> list[str]:
        """Tools the request plausibly needs: the ``top_k`` best matches of each clause and of the whole request
        that score at least ``threshold``, in catalogue order."""
        index = self._tool_index(tools)
        best: set[str] = set()
        for text in [c.text for c in split_clauses(task)] + [mask_quotes(task)]:
            scores = index.scores(text)
            best |= {n for n in sorted(scores, key=lambda n: -scores[n])[:top_k] if scores[n] >= threshold}
        return [t.name for t in tools if t.name in best]

    # -- planning --------------------------------------------------------------------------------------------
    def plan(self, task: str, inputs: Mapping[str, Artifact | str], registry: ToolRegistry) -> Plan:
        """A validated plan for ``task`` (see the module docstring for how it is made).

        Raises:
            PlanningError: No tool matches the request.
        """
        kinds = in_stated_order(task, input_kinds(inputs))  # inputs of one kind fill a tool in the order stated
        tools = registry.available()
        if not tools:
            raise PlanningError("no tools are available to plan with; run 'agent tools' to see why")
        index = self._tool_index(tools)
        overall = index.scores(mask_quotes(task))
        loader = url_loader(task, kinds, tools)  # the request says what its URL holds: no other fetcher
        others = set(downloaders(tools)) - {loader} if loader is not None else set()
        usable = [t for t in tools if t.name not in others]
        builder = PlanBuilder(registry, kinds, tools=usable, score=lambda t: overall.get(t.name, 0.0))
        previous_goals: list[str] = []
        for clause in split_clauses(task):
            if _DESCRIPTIVE.match(clause.text):
                continue  # "I have a video ...", "Here is the text": context, not an instruction
            self._plan_clause(clause, index, builder, previous_goals)
            previous_goals = goal_kinds(clause.text) or previous_goals
        if not builder.steps:
            # no clause named a tool, but the request names what it wants made ("an mp3 of this"): the shortest
            # chain of tools from the given kinds to each deliverable
            for req in extract_requirements(task, list(kinds)):
                wanted = req.kind == "deliverable" and not req.params.get("answer")  # an answer is no kind to chain to
                chain = builder.chain_to(req.target, builder.kinds()) if wanted else None
                for name in chain or ():
                    if name not in {s.tool for s in builder.steps}:
                        self._add(builder, name, task)
        if not builder.steps:
            usable = {n: v for n, v in overall.items() if all(
                builder.chain_to(k, builder.kinds()) is not None
                for k in (registry.get(n).inputs[i] for i in registry.get(n).required_inputs()))}
            best = max(usable, key=lambda n: usable[n], default="")
            if not best or usable[best] <= 0:
                raise PlanningError(f"no tool matches the request {task!r}; tools: "
                                    f"{', '.join(t.name for t in tools)}")
            builder.add(best)
        plan = builder.build(task, self.name)
        if len(plan.steps) > self.max_steps:
            plan = plan.model_copy(update={"steps": plan.steps[: self.max_steps]})
        return validate(plan, registry, kinds)

    def _pick(self, clause: Clause, index: _ToolIndex, builder: PlanBuilder, goals: list[str],
              previous_goals: list[str] = ()) -> list[str]:
        """The tool a clause asks for, if one matches well enough (kinds break near-ties)."""
        used = {s.tool for s in builder.steps}
        have = builder.kinds(side=True)
        usable = {t.name for t in builder.tools}
        # a file name in the clause is data, only its kind counts ("transcribe talk.wav" matched speak on "talk")
        said = index.scores(files_as_kinds(clause.text))
        scores = {t.name: v for t, v in zip(index.tools, said.values(), strict=True)
                  if t.name not in used and t.name in usable and all(builder.chain_to(t.inputs[n], have) is not None
                                                for n in t.required_inputs())}
        best = max(scores.values(), default=0.0)
        if best < self.threshold:
            return []
        recent = {s.kind for s in builder.slots if s.order == builder._order and s.order >= 0}
        if _PRONOUN.search(clause.text):
            # "... of it": the thing the previous clause set out to make (the page), not its side products
            produced = {s.kind for s in builder.slots if s.order >= 0}
            recent = (set(previous_goals) & produced) or recent
        adjusted: dict[str, float] = {}
        for tool in index.tools:
            if tool.name not in scores:
                continue
            s = scores[tool.name]
            outs = set(tool.outputs.values())
            if s < max(self.threshold, 0.6 * best):
                continue
            ins = {tool.inputs[n] for n in tool.required_inputs()}
            if ins & set(clause.kinds) or ins & recent:
                s += 0.15
            if outs & set(clause.kinds):
                s += 0.05
            s -= 0.15 if ins - have else 0.0
            adjusted[tool.name] = s
        if not adjusted:
            return []
        return [max(adjusted, key=lambda n: adjusted[n])]

    def _plan_clause(self, clause: Clause, index: _ToolIndex, builder: PlanBuilder,
                     previous_goals: list[str] = ()) -> None:
        goals = goal_kinds(clause.text)
        explicit = self._pick(clause, index, builder, goals, previous_goals)
        produced = {s.kind for s in builder.slots if s.order >= 0}
        for goal in goals:
            maker = next((t for t in explicit if goal in builder.registry.get(t).outputs.values()), None)
            if maker is None and goal in produced:
                continue
            if maker is not None:
                explicit.remove(maker)
                self._add(builder, maker, clause.text)
            else:
                chain = builder.chain_to(goal, builder.kinds())
                if not chain:
                    continue
                for name in chain:
                    self._add(builder, name, clause.text)
            produced = {s.kind for s in builder.slots if s.order >= 0}
        for name in explicit:
            if name not in {s.tool for s in builder.steps}:
                self._add(builder, name, clause.text)

    def _add(self, builder: PlanBuilder, name: str, why: str) -> None:
        if len(builder.steps) >= self.max_steps:
            return
        step = builder.add(name, why=why)
        tool = builder.registry.get(name)
        if is_verifier(tool):
            return
        for out in builder.outputs_of(step.id)[:1]:
            builder.verify(out)

    # -- replanning and repair -----------------------------------------------------------------------------------
    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        """Strategy replanning (retry variants, same-signature swaps), validated like a fresh plan."""
        return strategy_replan(request, registry)

    def repair(self, plan: Plan, registry: ToolRegistry, inputs: Mapping[str, Artifact | str]) -> Plan:
        """Mend ``plan`` so it validates; see :func:`repair`."""
        return repair(plan, registry, inputs, matcher=self.matcher)


def _closest_tool(name: str, tools: list[Tool], matcher: str | None = None) -> str | None:
    names = [t.name for t in tools]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    if close:
        return close[0]
    scores = Matcher([(t.name.replace("_", " "), t.description) for t in tools], backend=matcher).scores(name)
    best = max(range(len(tools)), key=lambda i: scores[i], default=None)
    return names[best] if best is not None and scores[best] >= 0.3 else None


def _ordered(plan: Plan) -> list[Step]:
    try:
        return topological_order(plan.steps)
    except PlanValidationError:
        return list(plan.steps)


def _params_ok(tool: Tool, params: Mapping[str, Any]) -> bool:
    try:
        tool.validate_params(params)
    except ConfigError:
        return False
    return True


def _keep_params(tool: Tool, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` if valid, else the entries that are valid on their own (the tool's defaults fill the rest)."""
    if _params_ok(tool, params):
        return dict(params)
    kept = {k: v for k, v in params.items() if _params_ok(tool, {k: v})}
    return kept if _params_ok(tool, kept) else {}


def _kept_param_refs(tool: Tool, refs: Mapping[str, str], id_map: Mapping[str, str],
                     builder: PlanBuilder) -> dict[str, Any]:
    """The param references that still hold after repair (their source renamed as it was), as param values."""
    kept: dict[str, Any] = {}
    for name, ref_text in refs.items():
        ref = parse_ref(ref_text)
        source = ref_text if ref.input is not None else f"{id_map.get(ref.step or '', '')}.{ref.output}"
        slot = builder.slot(source)
        shapes = param_shapes(tool, name)
        if slot is not None and shapes is not None and fit_issue(slot.kind, shapes) is None:
            kept[name] = {"from": source}
    return kept


def repair(plan: Plan, registry: ToolRegistry, inputs: Mapping[str, Artifact | str], *,
           matcher: str | None = None) -> Plan:
    """Mend a plan that fails validation, keeping as much of it as fits.

    Unknown tool names become the closest available tool (or the step is dropped); inputs that refer to missing
    steps, wrong outputs or wrong kinds are rewired to the most recent artifact of the right kind; missing
    inputs are wired the same way, inserting conversion steps when no artifact of the kind exists; invalid
    params and checks give way to the tool's defaults.

    Example:
        >>> from tools.text import write_text
        >>> bad = Plan(steps=[Step(id="a", tool="write_txt", inputs={"brief": "input:notes"})])
        >>> fixed = repair(bad, ToolRegistry([write_text]), {"notes": "text"})
        >>> fixed.steps[0].tool, fixed.steps[0].inputs
        ('write_text', {'brief': 'input:notes'})
    """
    kinds = input_kinds(inputs)
    if not plan_issues(plan, registry, kinds):
        return plan
    tools = registry.available()
    builder = PlanBuilder(registry, kinds, tools=tools)
    id_map: dict[str, str] = {}
    for step in _ordered(plan):
        name = step.tool if step.tool in {t.name for t in tools} else _closest_tool(step.tool, tools, matcher)
        if name is None:
            continue
        tool = registry.get(name)
        bind: dict[str, str] = {}
        for in_name, ref_text in step.inputs.items():
            ref = parse_ref(ref_text)
            if ref.input is not None:
                slot = builder.slot(ref_text) if ref.input in kinds else None
            else:
                new_id = id_map.get(ref.step or "")
                slot = builder.slot(f"{new_id}.{ref.output}") if new_id else None
                if slot is None and new_id:
                    outs = builder.outputs_of(new_id)
                    want = tool.inputs.get(in_name)
                    slot = next((o for o in outs if o.kind == want), outs[0] if len(outs) == 1 else None)
            if slot is None:
                continue
            target = in_name if in_name in tool.inputs and tool.inputs[in_name] == slot.kind else next(
                (n for n in tool.inputs if tool.inputs[n] == slot.kind and n not in bind), None)
            if target is not None and target not in bind:
                bind[target] = slot.ref
        new = builder.add(name, bind=bind, why=step.why, step_id=step.id, fill_optional=False)
        refs = step.param_refs()
        new.params = {**_keep_params(tool, {k: v for k, v in step.params.items() if k not in refs}),
                      **_kept_param_refs(tool, refs, id_map, builder)}
        names = set(tool.metrics) | set(tool.outputs)
        checks = [c for c in step.expect if c.on.split(".", 1)[0] in names or
                  (len(tool.outputs) == 1 and "." not in c.on)]
        new.expect = checks if checks or not step.expect else tool.checks()
        id_map[step.id] = new.id
    outputs = {}
    for out_name, ref_text in plan.outputs.items():
        ref = parse_ref(ref_text)
        if ref.step in id_map:
            outputs[out_name] = f"{id_map[ref.step]}.{ref.output}"
        elif ref.input in kinds:
            outputs[out_name] = ref_text
    repaired = Plan(task=plan.task, steps=builder.steps, outputs=outputs, planner=plan.planner)
    if not repaired.steps:
        raise PlanningError("repair left no steps: none of the plan's tools exist here",
                            last_reply=plan.model_dump_json())
    return repaired
