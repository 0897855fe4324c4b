"""Plans: a DAG of steps, each naming a tool, its input references, params and the checks its result must pass.

Dependencies are the references themselves (``input:<name>`` or ``<step_id>.<output>``), in a step's inputs and in
its params (a param ``{"from": "<step_id>.<output>"}`` takes data made during the run, see
:mod:`planners.param_refs`); there is no separate edge list to drift out of sync. :func:`validate` checks a plan
against the tool registry and the run's inputs before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modalities.errors import ConfigError, PlanValidationError, UnknownToolError
from planners.param_refs import fit_issue, is_param_ref, param_refs, param_shapes
from planners.requirements import Requirement
from tools.base import Tool, is_verifier
from tools.checks import Check, is_known_property
from tools.registry import ToolRegistry

__all__ = [
    "Step", "Plan", "Ref", "parse_ref", "parse_plan", "validate", "plan_issues", "downstream_of", "topological_order",
]

_STEP_ID = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
_REF = re.compile(rf"^(?:input:(?P<input>[A-Za-z0-9_.-]{{1,64}})|(?P<step>{_STEP_ID})\.(?P<output>\w{{1,64}}))$")


class Ref(BaseModel):
    """A parsed input reference: a run input, or an earlier step's output."""

    model_config = ConfigDict(frozen=True)
    input: str | None = None
    step: str | None = None
    output: str | None = None


def parse_ref(ref: str) -> Ref:
    m = _REF.match(ref)
    if not m:
        raise ValueError(f"reference {ref!r} must be 'input:<name>' or '<step_id>.<output>'")
    return Ref(**m.groupdict())


class Step(BaseModel):
    """One node of a plan.

    Example:
        >>> Step(id="page", tool="generate_html", inputs={"layout": "sketch.layout"}).dependencies()
        {'sketch'}
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=rf"^{_STEP_ID}$")
    tool: str
    inputs: dict[str, str] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    expect: list[Check] = Field(default_factory=list)
    why: str = ""

    @field_validator("inputs")
    @classmethod
    def _refs_parse(cls, value: dict[str, str]) -> dict[str, str]:
        for ref in value.values():
            parse_ref(ref)
        return value

    @field_validator("params")
    @classmethod
    def _param_refs_parse(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, param in value.items():
            if isinstance(param, dict) and "from" in param:
                if not is_param_ref(param):
                    raise ValueError(f"param {name!r}: a reference is {{'from': '<step_id>.<output>'}} and nothing "
                                     f"else, got {param!r}")
                try:
                    parse_ref(param["from"])
                except ValueError as exc:
                    raise ValueError(f"param {name!r}: {exc}") from None
        return value

    def param_refs(self) -> dict[str, str]:
        """Param name -> reference, for the params that take data made during the run."""
        return param_refs(self.params)

    def refs(self) -> dict[str, str]:
        """Every reference of the step: inputs by name, then params as ``param:<name>``."""
        return {**self.inputs, **{f"param:{k}": v for k, v in self.param_refs().items()}}

    def dependencies(self) -> set[str]:
        return {r.step for r in map(parse_ref, self.refs().values()) if r.step}


class Plan(BaseModel):
    """A task broken into steps.

    Attributes:
        task: The user's request.
        steps: The steps, in any order (dependencies come from references).
        outputs: Final output names -> references; empty means every output of the steps nothing depends on.
        planner: Which planner made it.
        requirements: What the request asks for, checked on the delivered files when the run ends.
    """

    model_config = ConfigDict(extra="forbid")

    task: str = ""
    steps: list[Step] = Field(default_factory=list)
    outputs: dict[str, str] = Field(default_factory=dict)
    planner: str = ""
    requirements: list[Requirement] = Field(default_factory=list)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def final_outputs(self, registry: ToolRegistry | None = None) -> dict[str, str]:
        """Output name -> reference: the declared outputs; otherwise every output of the leaf steps plus every
        media output (page, image, audio, video) of any step, since those are what a person wants to keep. A step
        with no media output whose product only verification steps read, as the thing they judge, is still a
        leaf: checking an analysed layout does not make it intermediate (a reference a check reads does).

        Names are the step id, or ``<step>.<output>`` for steps with several outputs.
        """
        if self.outputs:
            return dict(self.outputs)
        if registry is None:
            return {}

        # steps whose product another step goes on with; a text read into a param (a transcript as captions) is
        # not counted: it is kept as a result, since the person sees it as itself, not as material worked on
        used: set[str] = set()
        judged: set[str] = set()  # steps whose product only a check reads, as the thing it judges
        for s in self.steps:
            check = s.tool in registry and is_verifier(registry.get(s.tool))
            for name, ref in s.inputs.items():
                step = parse_ref(ref).step
                if step:
                    (judged if check and name in registry.get(s.tool).judges else used).add(step)
        judged -= used
        result: dict[str, str] = {}
        for s in self.steps:
            if s.tool not in registry:
                continue
            outs = registry.get(s.tool).outputs
            makes_media = any(kind in _MEDIA_KINDS for kind in outs.values())
            intermediate = s.id in used or (s.id in judged and makes_media)
            for out, kind in outs.items():
                if intermediate and kind not in _MEDIA_KINDS:
                    continue
                result[s.id if len(outs) == 1 else f"{s.id}.{out}"] = f"{s.id}.{out}"
        return result


_MEDIA_KINDS = frozenset({"html", "image", "audio", "video"})


def _cycle(steps: Iterable[Step]) -> list[str] | None:
    """One cycle of the dependency graph as ``[a, b, ..., a]`` (each step after the one it depends on), if any."""
    ids = [s.id for s in steps]
    graph = {s.id: sorted(s.dependencies() & set(ids)) for s in steps}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        found = list(exc.args[1])  # graphlib lists it against the edges: each node depends on the next
        found.reverse()
        start = min(range(len(found) - 1), key=lambda i: ids.index(found[i]))  # start at the plan's first
        return found[start:-1] + found[:start] + [found[start]]
    return None


def plan_issues(plan: Plan, registry: ToolRegistry, inputs: Mapping[str, str], *,
                max_steps: int | None = None) -> list[str]:
    """Every problem with ``plan``; ``inputs`` maps run input names to their kinds. Empty list: valid."""
    issues: list[str] = []
    if not plan.steps:
        return ["the plan has no steps"]
    if max_steps is not None and len(plan.steps) > max_steps:
        issues.append(f"the plan has {len(plan.steps)} steps, over the limit of {max_steps}")
    seen: set[str] = set()
    for s in plan.steps:
        if s.id in seen:
            issues.append(f"step id {s.id!r} is used twice")
        seen.add(s.id)
    by_id = {s.id: s for s in plan.steps}
    for s in plan.steps:
        try:
            tool = registry.get(s.tool)
        except UnknownToolError as exc:
            issues.append(f"step {s.id!r}: {exc}")
            continue
        for name in tool.required_inputs():
            if name not in s.inputs:
                issues.append(f"step {s.id!r}: tool {s.tool!r} needs input {name!r} ({tool.inputs[name]})")
        for name, ref_text in s.inputs.items():
            if name not in tool.inputs:
                issues.append(f"step {s.id!r}: tool {s.tool!r} has no input {name!r}; "
                              f"its inputs: {', '.join(tool.inputs) or 'none'}")
                continue
            want = tool.inputs[name]
            where = f"step {s.id!r}: input {name!r}"
            kind = _ref_kind(ref_text, where, inputs, by_id, registry, issues)
            if kind is not None and kind != want:
                what = f"run input {ref_text[6:]!r}" if ref_text.startswith("input:") else repr(ref_text)
                issues.append(f"{where} needs {want}, but {what} is {kind}")
        issues += _param_issues(s, tool, registry, inputs, by_id)
        names = set(tool.metrics) | set(tool.outputs)
        for check in s.expect:
            head = check.on.split(".", 1)[0]
            bare_property = len(tool.outputs) == 1 and "." not in check.on and is_known_property(check.on)
            if head not in names and not bare_property:
                issues.append(f"step {s.id!r}: check {check.name!r} looks at {check.on!r}, which tool "
                              f"{s.tool!r} does not report; metrics: {', '.join(tool.metrics) or 'none'}; "
                              f"outputs: {', '.join(tool.outputs)}")
    cycle = _cycle(plan.steps)
    if cycle:
        issues.append("the plan has a cycle: " + " -> ".join(cycle))
    for name, ref_text in plan.outputs.items():
        try:
            ref = parse_ref(ref_text)
        except ValueError as exc:
            issues.append(f"plan output {name!r}: {exc}")
            continue
        if ref.step is not None and ref.step not in by_id:
            issues.append(f"plan output {name!r} refers to step {ref.step!r}, which is not in the plan")
    return issues


def _ref_kind(ref_text: str, where: str, inputs: Mapping[str, str], by_id: Mapping[str, Step],
              registry: ToolRegistry, issues: list[str]) -> str | None:
    """The kind a reference (of an input or a param) points at; None, with the problem added to ``issues``, when it
    points at nothing (None and no problem when the producer's tool is unknown: that has its own message)."""
    ref = parse_ref(ref_text)
    if ref.input is not None:
        if ref.input not in inputs:
            issues.append(f"{where} refers to run input {ref.input!r}, which does not exist; run inputs: "
                          f"{', '.join(inputs) or 'none'}")
            return None
        return inputs[ref.input]
    assert ref.step is not None and ref.output is not None
    if ref.step not in by_id:
        issues.append(f"{where} refers to step {ref.step!r}, which is not in the plan; steps: {', '.join(by_id)}")
        return None
    producer = by_id[ref.step]
    if producer.tool not in registry:
        return None
    outs = registry.get(producer.tool).outputs
    if ref.output not in outs:
        issues.append(f"{where} refers to {ref_text!r}, but tool {producer.tool!r} outputs {', '.join(outs)}")
        return None
    return outs[ref.output]


def _param_issues(step: Step, tool: Tool, registry: ToolRegistry, inputs: Mapping[str, str],
                  by_id: Mapping[str, Step]) -> list[str]:
    """Problems with ``step``'s params: its fixed values against the tool's schema, each reference against what it
    refers to and against the param it is to become."""
    refs = step.param_refs()
    issues: list[str] = []
    for name, ref_text in refs.items():
        where = f"step {step.id!r}: param {name!r}"
        shapes = param_shapes(tool, name)
        if shapes is None:
            params = ", ".join(tool.params_schema().get("properties") or {}) or "none"
            issues.append(f"{where} takes {ref_text!r}, but tool {tool.name!r} has no param {name!r}; "
                          f"its params: {params}")
            continue
        kind = _ref_kind(ref_text, where, inputs, by_id, registry, issues)
        if kind is None:
            continue
        why = fit_issue(kind, shapes)
        if why is not None:
            issues.append(f"{where} cannot take {ref_text!r}, which is {kind}: {why}")
    fixed = {k: v for k, v in step.params.items() if k not in refs}
    if not refs:
        try:
            tool.validate_params(fixed)
        except ConfigError as exc:
            issues.append(f"step {step.id!r}: {exc}")
        return issues
    # the referred values exist only when the step starts (and are checked then): judge the fixed ones now
    try:
        tool.params_model.model_validate(fixed)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors()
                    if not (e["type"] == "missing" and e["loc"] and e["loc"][0] in refs)]
        if problems:
            issues.append(f"step {step.id!r}: tool {tool.name!r} params are invalid: {'; '.join(problems)}")
    return issues


def validate(plan: Plan, registry: ToolRegistry, inputs: Mapping[str, str], *, max_steps: int | None = None) -> Plan:
    """Return ``plan`` if it is valid, else raise :class:`PlanValidationError` listing every problem.

    Example:
        >>> from tools.registry import ToolRegistry
        >>> validate(Plan(steps=[Step(id="a", tool="nope")]), ToolRegistry(), {})
        Traceback (most recent call last):
        ...
        modalities.errors.PlanValidationError: invalid plan: step 'a': Unknown tool 'nope'; available: .
    """
    issues = plan_issues(plan, registry, inputs, max_steps=max_steps)
    if issues:
        raise PlanValidationError(issues)
    return plan


def parse_plan(data: Any) -> Plan:
    """A :class:`Plan` from JSON-ready data, or :class:`PlanValidationError` with pydantic's messages."""
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanValidationError([f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]) from None


def downstream_of(plan: Plan, roots: Iterable[str]) -> set[str]:
    """``roots`` and every step that depends on them, directly or not."""
    affected = set(roots)
    changed = True
    while changed:
        changed = False
        for s in plan.steps:
            if s.id not in affected and s.dependencies() & affected:
                affected.add(s.id)
                changed = True
    return affected


def topological_order(steps: Iterable[Step]) -> list[Step]:
    steps = list(steps)
    done: set[str] = set()
    ordered: list[Step] = []
    ids = {s.id for s in steps}
    while len(ordered) < len(steps):
        progressed = False
        for s in steps:
            if s.id not in done and (s.dependencies() & ids) <= done:
                ordered.append(s)
                done.add(s.id)
                progressed = True
        if not progressed:
            raise PlanValidationError(["the plan has a cycle"])
    return ordered
