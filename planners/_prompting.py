"""What LLM planners show the model and how they read its replies.

Prompts are package data (``planners/prompts/*.md``) with ``$name`` placeholders. The tool catalogue is built
from the registry's available tools only. Replies are parsed strictly: one JSON object (a fenced block is
accepted), then checked against the plan model and the registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from string import Template
from typing import Any

from modalities.errors import ConfigError, PlanValidationError
from planners._builder import PlanBuilder
from planners._intents import in_stated_order
from planners.plan import Plan, Step
from tools.base import Tool
from tools.registry import ToolRegistry

__all__ = ["prompt", "catalogue", "compact_catalogue", "checks_help", "inputs_text", "parse_json", "full_schema",
           "compact_schema", "steps_from_reply", "expand_compact", "tool_lines", "examples_for", "tool_list_messages",
           "tool_list_schema", "name_list_schema_names", "read_tool_list", "merge_tool_lists", "wire_tools"]


@cache
def _template(name: str) -> Template:
    try:
        text = resources.files("planners").joinpath("prompts", f"{name}.md").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"planner prompt {name!r} is missing from planners/prompts") from None
    return Template(text)


def prompt(name: str, **values: str) -> str:
    """The prompt ``planners/prompts/<name>.md`` with ``$placeholders`` filled."""
    return _template(name).safe_substitute(values).strip()


def _signature(tool: Tool) -> str:
    ins = ", ".join(f"{n}{'?' if n in tool.optional_inputs else ''}: {k}" for n, k in tool.inputs.items())
    outs = ", ".join(f"{n}: {k}" for n, k in tool.outputs.items())
    return f"{tool.name}({ins}) -> {outs}"


def catalogue(tools: Sequence[Tool]) -> str:
    """One block per tool: signature, description, params schema, metrics and default checks."""
    lines = []
    for tool in tools:
        lines.append(f"- {_signature(tool)}: {tool.description}")
        props = tool.params_schema().get("properties") or {}
        if props:
            lines.append(f"  params: {json.dumps(props, separators=(',', ':'))}")
        if tool.metrics:
            lines.append(f"  metrics: {', '.join(tool.metrics)}")
        checks = [c.label() for c in tool.checks()]
        if checks:
            lines.append(f"  default checks: {'; '.join(checks)}")
    return "\n".join(lines)


def compact_catalogue(tools: Sequence[Tool]) -> str:
    """One short line per tool, for small local models (every token of the prefix costs prompt time)."""
    return "\n".join(f"- {_signature(t)}: {t.description}" for t in tools)


def checks_help(tools: Sequence[Tool]) -> str:
    lines = [f"- {name} ({tool.name}): {meaning}" for tool in tools for name, meaning in tool.metrics.items()]
    lines.append("- <output>.<property>: a property of an output artifact, e.g. video.duration_s, text.words")
    return "\n".join(lines)


def inputs_text(kinds: Mapping[str, str]) -> str:
    if not kinds:
        return "none"
    return ", ".join(f"{name} ({kind})" for name, kind in kinds.items())


def parse_json(text: str) -> Any:
    """The one JSON object in a reply: the whole reply, or a fenced ```json block; ValueError otherwise."""
    stripped = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, re.S)
    if fenced:
        stripped = fenced.group(1)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply is not one JSON object ({exc.msg} at line {exc.lineno} column {exc.colno})") \
            from None
    if not isinstance(data, dict):
        raise ValueError(f"the reply must be a JSON object, got {type(data).__name__}")
    return data


def full_schema(tools: Sequence[Tool]) -> dict[str, Any]:
    """JSON schema of the full step format (for structured output)."""
    step = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"},
            "tool": {"type": "string", "enum": [t.name for t in tools]},
            "inputs": {"type": "object", "additionalProperties": {"type": "string"}},
            "params": {"type": "object"},
            "expect": {"type": "array", "items": {"type": "string"}},
            "why": {"type": "string"},
        },
        "required": ["id", "tool", "inputs"],
    }
    return {"title": "plan", "type": "object", "properties": {"steps": {"type": "array", "items": step}},
            "required": ["steps"]}


def compact_schema(tools: Sequence[Tool], input_names: Sequence[str], max_steps: int = 8) -> dict[str, Any]:
    """JSON schema of the compact format; the tool enum makes every grammar-constrained reply name a real tool."""
    sources: list[dict[str, Any]] = [{"type": "integer", "minimum": 0, "maximum": max_steps - 1}]
    if input_names:
        sources.append({"type": "string", "enum": list(input_names)})
    step = {"type": "object",
            "properties": {"tool": {"type": "string", "enum": [t.name for t in tools]},
                           "from": {"type": "array", "items": {"anyOf": sources} if len(sources) > 1 else sources[0],
                                    "maxItems": 3}},
            "required": ["tool", "from"]}
    return {"type": "object",
            "properties": {"steps": {"type": "array", "items": step, "minItems": 1, "maxItems": max_steps}},
            "required": ["steps"]}


def steps_from_reply(data: Mapping[str, Any], registry: ToolRegistry) -> list[Step]:
    """Steps of a full-format reply, with each tool's default checks where the reply gives none.

    Raises:
        PlanValidationError: The reply does not fit the step model.
    """
    raw = data.get("steps")
    if not isinstance(raw, list):
        raise PlanValidationError(["the reply needs a 'steps' list"])
    steps: list[Step] = []
    problems: list[str] = []
    for i, item in enumerate(raw):
        try:
            step = Step.model_validate(_mend_inputs(item, registry))
        except Exception as exc:  # pydantic's ValidationError, reported to the model
            problems.append(f"steps[{i}]: {str(exc).splitlines()[0] if str(exc) else exc!r}: "
                            f"{'; '.join(_pydantic_errors(exc))}")
            continue
        if not step.expect and step.tool in registry:
            step = step.model_copy(update={"expect": registry.get(step.tool).checks()})
        steps.append(step)
    if problems:
        raise PlanValidationError(problems)
    return steps


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("input:") or re.fullmatch(r"[\w-]+\.\w+", value) is not None)


def _mend_inputs(item: Any, registry: ToolRegistry) -> Any:
    """Literal values a small model wrote among a step's inputs, where they cannot be: a param's value moves to
    the params; prose in an optional input is dropped. Anything else is left for validation to report."""
    if not isinstance(item, dict) or not isinstance(item.get("inputs"), dict) or item.get("tool") not in registry:
        return item
    tool = registry.get(item["tool"])
    params = dict(item.get("params") or {}) if isinstance(item.get("params"), dict) else None
    if params is None:
        return item
    names = set(tool.params_schema().get("properties") or {})
    inputs = {}
    for name, value in item["inputs"].items():
        if _is_ref(value):
            inputs[name] = value
        elif name in names and name not in tool.inputs:
            params.setdefault(name, value)
        elif name not in tool.optional_inputs:
            inputs[name] = value
    return {**item, "inputs": inputs, "params": params}


def _pydantic_errors(exc: Exception) -> list[str]:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return []
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors()]


def expand_compact(data: Mapping[str, Any], registry: ToolRegistry, kinds: Mapping[str, str], *,
                   builder: PlanBuilder | None = None, task: str = "", planner: str = "") -> Plan:
    """A full plan from a compact reply: ids, default params and default checks filled in by code.

    Each step's sources (earlier step indexes or run input names) are matched to the tool's inputs by kind;
    inputs left over are wired to the most recent artifact of their kind, inserting conversion steps when none
    exists (the symbolic repair), so a reply that names real tools always becomes a valid plan.
    """
    b = builder or PlanBuilder(registry, kinds)
    made: list[str] = []
    for item in data.get("steps") or []:
        if not isinstance(item, Mapping) or item.get("tool") not in registry:
            continue
        tool = registry.get(str(item["tool"]))
        bind: dict[str, str] = {}
        for source in item.get("from") or []:
            if isinstance(source, int) and 0 <= source < len(made):
                slots = b.outputs_of(made[source])
            elif isinstance(source, str) and source in kinds:
                slots = [s for s in [b.slot(f"input:{source}")] if s is not None]
            elif isinstance(source, str) and b.outputs_of(source):
                slots = b.outputs_of(source)
            else:
                continue
            for slot in slots:
                name = next((n for n in tool.inputs if tool.inputs[n] == slot.kind and n not in bind), None)
                if name is not None:
                    bind[name] = slot.ref
                    break
        step = b.add(tool.name, bind=bind, why=f"from the model's plan: {tool.description}")
        made.append(step.id)
    return b.build(task, planner)


# -- the tool-list format of the local planner: the model names tools in order, code wires them -------------------
def tool_lines(tools: Sequence[Tool]) -> str:
    """One line per tool: ``- name (input kinds -> output kinds): description``."""
    return "\n".join(f"- {t.name} ({', '.join(t.inputs.values())} -> {', '.join(t.outputs.values())}): "
                     f"{t.description}" for t in tools)


def _inputs_line(kinds: Mapping[str, str]) -> str:
    return f"Run inputs: {inputs_text(kinds)}"


@cache
def _example_blocks() -> tuple[tuple[str, tuple[str, ...]], ...]:
    text = re.sub(r"<!--.*?-->", "", prompt("local_examples"), flags=re.S)
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        if len(lines) < 2:
            continue
        try:
            names = json.loads(lines[-1])
        except json.JSONDecodeError:
            continue
        blocks.append((" ".join(lines[:-1]).strip(), tuple(str(n) for n in names)))
    return tuple(blocks)


def examples_for(tools: Sequence[Tool], limit: int = 8) -> str:
    """Worked examples (``planners/prompts/local_examples.md``) whose tools are all in ``tools``, as prompt text."""
    from planners._intents import input_names

    have = {t.name for t in tools}
    shown = [(req, names) for req, names in _example_blocks() if set(names) <= have][:limit]
    if not shown:
        return ""
    parts = [f"Request: {req}\n{_inputs_line({'text': 'text', **input_names(req)})}\n{json.dumps(list(names))}"
             for req, names in shown]
    return "Examples:\n\n" + "\n\n".join(parts)


def tool_list_messages(task: str, kinds: Mapping[str, str], tools: Sequence[Tool], *,
                       examples: int = 8, remembered: Sequence[Any] = ()) -> list[dict[str, str]]:
    """System prompt (the same for every request to these tools, so its KV cache is reused) and the request,
    after the ``remembered`` plans for similar requests (memory entries) as worked examples: they change from
    request to request, so they go in the user turn, behind the cached prefix."""
    from planners.memory.examples import examples_block

    system = prompt("local_system", catalogue=tool_lines(tools), examples=examples_for(tools, examples))
    user = prompt("local_user", task=task, inputs=_inputs_line(kinds))
    if remembered:
        user = examples_block(remembered, {t.name for t in tools}) + user
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def tool_list_schema(tools: Sequence[Tool], max_steps: int = 8) -> dict[str, Any]:
    """JSON schema of the reply: an array of tool names (the enum makes every constrained reply name real tools)."""
    return {"type": "array", "items": {"type": "string", "enum": [t.name for t in tools]}, "minItems": 1,
            "maxItems": max_steps}


def name_list_schema_names(schema: Mapping[str, Any] | None) -> list[str] | None:
    """The names of a :func:`tool_list_schema`, or None for any other schema."""
    if not schema or schema.get("type") != "array":
        return None
    items = schema.get("items") or {}
    enum = items.get("enum") if isinstance(items, Mapping) else None
    return [str(n) for n in enum] if isinstance(enum, list) and enum else None


def read_tool_list(reply: str, names: Sequence[str]) -> list[str]:
    """Tool names from a reply, in order: a JSON array (or ``{"steps"|"tools": [...]}``), else names found in the
    text; unknown names are dropped."""
    known = set(names)
    try:
        data: Any = json.loads(reply.strip())
    except json.JSONDecodeError:
        data = None
    if isinstance(data, Mapping):
        data = data.get("tools") or data.get("steps")
    if isinstance(data, list):
        found = [item.get("tool") if isinstance(item, Mapping) else item for item in data]
        return [str(n) for n in found if str(n) in known]
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b")
    return [m.group(1) for m in pattern.finditer(reply)] if names else []


def merge_tool_lists(model: Sequence[str], symbolic: Sequence[str], relevance: Mapping[str, float], *,
                     keep: float = 0.4, add: float = 0.9, confidence: Sequence[float] | None = None,
                     trust: float = 0.6, doubt: float = 0.2, recheck: float = 0.8,
                     support: Mapping[str, float] | None = None, veto: float = 0.02,
                     endorse: float = 0.3) -> list[str]:
    """The model's tools checked against the symbolic planner's: a model tool stays when the symbolic plan has it
    too, or the request's words match it (``relevance >= keep``); a symbolic tool the model missed joins when the
    request matches it strongly (``>= add``), placed after its predecessor in the symbolic plan.

    With the model's ``confidence`` in each of its tools (0-1, in order), a tool it was sure of (``>= trust``)
    stays without other support, one it was unsure of needs the symbolic plan or a strong match of the request's
    words (``relevance >= recheck``), and one it barely chose (``< doubt``) needs the symbolic plan.

    With the model's ``support`` for the symbolic tools it missed (its probability of writing each one at that
    point of its list), a strongly matched one joins only if the model gives it at least ``veto``, and one the
    model gives ``endorse`` or more joins however weakly the words match. When the model barely chose any of its
    tools (all below ``doubt``), the symbolic tools it gives at least ``veto`` replace them.

    Example:
        >>> merge_tool_lists(["a", "x"], ["a", "b"], {"a": 0.5, "b": 0.9, "x": 0.1})
        ['a', 'b']
        >>> merge_tool_lists(["a", "x"], ["a"], {"a": 0.5, "x": 0.1}, confidence=[0.9, 0.95])
        ['a', 'x']
    """
    if confidence is not None and len(confidence) != len(model):
        confidence = None

    def stays(i: int, name: str) -> bool:
        if name in symbolic:
            return True
        if confidence is None:
            return relevance.get(name, 0.0) >= keep
        sure = confidence[i]
        return sure >= trust or (sure >= doubt and relevance.get(name, 0.0) >= recheck)

    kept = [n for i, n in enumerate(model) if stays(i, n)]
    if not kept and confidence is not None and support is not None and max(confidence, default=0.0) < doubt:
        # the model barely chose any of its tools: the symbolic tools it does not rule out are the better guess
        kept = [n for n in symbolic if support.get(n, 0.0) >= veto]
    kept = kept or list(model[:1])
    out = list(kept)
    for i, name in enumerate(symbolic):
        if name in out:
            continue
        matched = relevance.get(name, 0.0) >= add
        if support is not None and name in support:
            vouched = support[name]
            if not (vouched >= endorse or (matched and vouched >= veto)):
                continue
        elif not matched:
            continue
        before = [p for p in symbolic[:i] if p in out]
        out.insert(out.index(before[-1]) + 1 if before else 0, name)
    return out


def _name_words(name: str) -> set[str]:
    return {w for w in name.split("_") if w not in ("to", "by", "of", "from", "a", "the")}


def _sibling_for(tool: Tool, builder: PlanBuilder, tools: Sequence[Tool]) -> Tool:
    """``tool``, or a sibling to use instead when ``tool`` needs a kind nothing provides yet: a tool whose name is
    a shorter form of its name (``image_search`` for ``image_search_by_image``), with the same output kinds, that
    works from what exists. Small models often pick the longer-named variant; a conversion step inserted in front
    of it would only add a step the request did not ask for."""
    have = builder.kinds(side=True)
    if all(tool.inputs[n] in have for n in tool.required_inputs()):
        return tool
    words = _name_words(tool.name)
    for other in tools:
        if other.name == tool.name or sorted(other.outputs.values()) != sorted(tool.outputs.values()):
            continue
        shorter = _name_words(other.name) <= words and len(other.name) < len(tool.name)
        if shorter and all(other.inputs[n] in have for n in other.required_inputs()):
            return other
    return tool


def _optional_inputs_last(names: list[str], registry: ToolRegistry, kinds: Mapping[str, str]) -> list[str]:
    """``names`` with each tool moved after the later tools that make what its optional inputs take, when nothing
    before it makes that (e.g. a page video after the narration it can carry): the model lists such a tool where
    the request mentions it, and wiring in that order would leave the optional input empty."""
    order = list(names)
    for name in names:
        tool = registry.get(name)
        wanted = {tool.inputs[n] for n in tool.optional_inputs if n in tool.inputs} - set(kinds.values())
        i = order.index(name)
        makes = lambda j: set(registry.get(order[j]).outputs.values())  # noqa: E731
        for kind in wanted:
            if any(kind in makes(j) for j in range(i)):
                continue
            later = [j for j in range(i + 1, len(order)) if kind in makes(j)]
            if later:
                order.insert(later[-1], order.pop(i))
                i = later[-1]
    return order


def _made_from_checked(step: Step, checked: set[str]) -> bool:
    """Whether ``step`` only re-derives a product that was already checked (a render of a checked page)."""
    sources = {ref.split(".", 1)[0] for ref in step.inputs.values() if not ref.startswith("input:")}
    return bool(sources) and sources <= checked


def wire_tools(names: Sequence[str], registry: ToolRegistry, kinds: Mapping[str, str], *,
               tools: list[Tool] | None = None, task: str = "", planner: str = "", verify: bool = True) -> Plan:
    """A plan running ``names`` in order, wired by kind over the typed tool graph.

    Each step's inputs take the most recent artifact of their kind (so the run's files feed the first steps and
    each later step the output before it); an instruction input takes a text made earlier and not yet used, else
    the request's text; a kind nothing provides yet gets the shortest chain of conversion steps first (or, when a
    tool's shorter-named sibling works from what exists, that sibling replaces it). With
    ``verify``, judging tools are added after each deliverable as the symbolic planner adds them.
    """
    from tools.base import is_verifier

    b = PlanBuilder(registry, in_stated_order(task, kinds), tools=tools)  # same-kind inputs in the order stated
    named: set[str] = set()
    deferred: list[str] = []
    checked: set[str] = set()  # steps whose product got its checks
    for name in _optional_inputs_last([n for n in names if n in registry], registry, kinds):
        if name in {s.tool for s in b.steps} and name not in named:
            continue  # already added as a conversion or a check of an earlier step
        if verify and is_verifier(registry.get(name)):
            # a judge the model names is wired where it judges: after the deliverable it checks, against what
            # that was made from (wired in the model's order it compared whatever came last)
            deferred.append(name)
            continue
        named.add(name)
        tool = _sibling_for(registry.get(name), b, tools or registry.available())
        before = len(b.steps)
        b.add(tool.name, why=f"from the model's plan: {tool.description}")
        if verify:
            # check each new main-line product, conversions inserted on the way included, in the order made: the
            # page made on the way to a screenshot is what gets rendered and compared, not the screenshot
            for new in list(b.steps[before:]):
                if is_verifier(registry.get(new.tool)) or _made_from_checked(new, checked):
                    continue
                for out in b.outputs_of(new.id)[:1]:
                    if not out.side and b.verify(out):
                        checked.add(new.id)
    for name in deferred:
        if name not in {s.tool for s in b.steps}:  # it judged nothing the plan made: add it as the model said
            why = f"from the model's plan: {registry.get(name).description}"
            mark = b.mark()
            step = b.add(name, why=why)
            if b.checks_its_own_source(step):
                # compare with something independent of the judged artifact, or not at all
                bind = b.references_apart(step)
                b.rollback(mark)
                if bind is not None:
                    b.add(name, bind=bind, why=why)
    return b.build(task, planner)
