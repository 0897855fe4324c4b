"""Building plans over the typed tool graph: bind inputs by kind, insert conversion steps, add verifications.

:class:`PlanBuilder` is shared by the symbolic planner (which adds the tools it matched) and by repair (which
re-adds an LLM's steps). Each added step's inputs are bound to the most recent artifact of the wanted kind; when no
artifact of that kind exists, the shortest chain of tools that makes one is inserted first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from planners._intents import url_kind
from planners._param_wiring import bind_data_params
from planners.plan import Plan, Step
from tools.base import Tool, is_verifier
from tools.registry import ToolRegistry

__all__ = ["Slot", "PlanBuilder", "is_verifier", "instruction_input", "downloaders", "url_loader"]

ScoreFn = Callable[[Tool], float]


_INSTRUCTION = re.compile(r"\binstructions?\b", re.I)


def instruction_input(tool: Tool, name: str) -> bool:
    """Whether input ``name`` of ``tool`` is an instruction (how to do it) rather than the data worked on.

    A tool whose description says it works "according to (human) instruction" and that takes one text input beside
    inputs of other kinds reads that text as its instruction (e.g. audio effects: audio, plus what effect to apply).
    """
    if tool.inputs.get(name) != "text" or not _INSTRUCTION.search(tool.description):
        return False
    required = tool.required_inputs()
    return sum(tool.inputs[n] == "text" for n in required) == 1 and any(tool.inputs[n] != "text" for n in required)


@dataclass
class Slot:
    """An artifact later steps may use: a run input or a step's output."""

    ref: str
    kind: str
    order: int
    side: bool = False
    lineage: frozenset[str] = field(default_factory=frozenset)

    @property
    def step(self) -> str | None:
        return None if self.ref.startswith("input:") else self.ref.split(".", 1)[0]


class PlanBuilder:
    """Accumulates steps whose inputs are wired by kind.

    Args:
        registry: Where tools come from.
        inputs: Run input name -> kind.
        tools: The tools the builder may insert as conversions (default: the registry's available ones).
        score: Preference among equally short conversions (higher wins), e.g. similarity to the request.

    Example:
        >>> from tools.text import write_text
        >>> b = PlanBuilder(ToolRegistry([write_text]), {})
        >>> b.add("write_text").id
        'write_text'
    """

    def __init__(self, registry: ToolRegistry, inputs: Mapping[str, str], *, tools: list[Tool] | None = None,
                 score: ScoreFn | None = None) -> None:
        self.registry = registry
        self.tools = list(tools if tools is not None else registry.available())
        self.score = score or (lambda tool: 0.0)
        self.steps: list[Step] = []
        self.slots: list[Slot] = [Slot(f"input:{name}", kind, -1, lineage=frozenset({f"input:{name}"}))
                                  for name, kind in inputs.items()]
        self._order = 0
        self._conversions: dict[tuple[str, str], Slot] = {}

    # -- looking things up ------------------------------------------------------------------------------------
    def kinds(self, *, side: bool = False) -> set[str]:
        return {s.kind for s in self.slots if side or not s.side}

    def find(self, kind: str, *, exclude: set[str] | frozenset[str] = frozenset(), side: bool = False,
             produced_only: bool = False) -> Slot | None:
        """The most recent artifact of ``kind`` (main-line ones unless ``side``); among the run's own inputs, the
        first given, so that inputs of one kind fill a tool's inputs in the order the request states them."""
        best: Slot | None = None
        for s in self.slots:
            if s.kind != kind or s.ref in exclude or (s.side and not side) or (produced_only and s.order < 0):
                continue
            if best is None or s.order > best.order or (s.order == best.order and s.order >= 0):
                best = s
        return best

    def outputs_of(self, step_id: str) -> list[Slot]:
        return [s for s in self.slots if s.step == step_id]

    def slot(self, ref: str) -> Slot | None:
        return next((s for s in self.slots if s.ref == ref), None)

    def _new_id(self, tool: str) -> str:
        taken = {s.id for s in self.steps}
        if tool not in taken:
            return tool
        n = 2
        while f"{tool}_{n}" in taken:
            n += 1
        return f"{tool}_{n}"

    # -- adding steps -------------------------------------------------------------------------------------------
    def add(self, tool_name: str, *, bind: Mapping[str, str] | None = None, why: str = "", side: bool = False,
            fill_optional: bool = True, step_id: str | None = None) -> Step:
        """Add a step running ``tool_name``; unbound inputs are wired by kind (conversions inserted as needed)."""
        tool = self.registry.get(tool_name)
        inputs: dict[str, str] = {}
        used: set[str] = set()
        for name, ref in (bind or {}).items():
            inputs[name] = ref
            used.add(ref)
        for name in tool.required_inputs():
            if name in inputs:
                continue
            slot = self._instruction_slot(tool, name, used) if instruction_input(tool, name) else None
            slot = slot or self.find(tool.inputs[name], exclude=used) or \
                self.find(tool.inputs[name], exclude=used, side=True)
            if slot is None and tool.inputs[name] not in self.kinds(side=True):
                slot = self.convert(tool.inputs[name], why=f"make the {tool.inputs[name]} {tool_name} needs")
            if slot is None:
                slot = self.find(tool.inputs[name]) or self.find(tool.inputs[name], side=True)
            if slot is not None:
                inputs[name] = slot.ref
                used.add(slot.ref)
        if fill_optional:
            for name in sorted(tool.optional_inputs):
                if name in inputs or name not in tool.inputs:
                    continue
                slot = self.find(tool.inputs[name], exclude=used)
                if slot is not None:
                    inputs[name] = slot.ref
                    used.add(slot.ref)
        ordered = {n: inputs[n] for n in tool.inputs if n in inputs}
        ordered.update({n: r for n, r in inputs.items() if n not in ordered})
        params: dict[str, object] = {}
        sid = step_id if step_id and step_id not in {s.id for s in self.steps} else self._new_id(tool_name)
        step = Step(id=sid, tool=tool.name, inputs=ordered, params=params, expect=tool.checks(),
                    why=why or tool.description)
        self.steps.append(step)
        lineage = frozenset({sid}).union(*(self._lineage(r) for r in ordered.values()))
        self._order += 1
        for out, kind in tool.outputs.items():
            self.slots.append(Slot(f"{sid}.{out}", kind, self._order, side=side, lineage=lineage))
        return step

    def _instruction_slot(self, tool: Tool, name: str, used: set[str]) -> Slot | None:
        """An instruction comes from a text made earlier that nothing has used yet (the user asked for it to
        steer this step), else from the run's own text (the request), else like any input."""
        kind = tool.inputs[name]
        consumed = {ref for s in self.steps for ref in s.inputs.values()}
        fresh = self.find(kind, exclude=used | consumed, produced_only=True)
        if fresh is not None:
            return fresh
        given = [s for s in self.slots if s.kind == kind and s.order < 0 and s.ref not in used]
        return given[0] if given else None

    def mark(self) -> tuple[int, int, int]:
        """Where the plan stands now, for :meth:`rollback`."""
        return len(self.steps), len(self.slots), self._order

    def rollback(self, mark: tuple[int, int, int]) -> None:
        """Forget the steps (and their outputs) added since ``mark``."""
        n_steps, n_slots, self._order = mark
        del self.steps[n_steps:]
        del self.slots[n_slots:]

    def _judged(self, step: Step) -> frozenset[str]:
        """What a judging step judges: the refs in its judged inputs, and the steps that made them."""
        refs = {step.inputs[n] for n in self.registry.get(step.tool).judges if n in step.inputs}
        return frozenset(refs | {r.split(".", 1)[0] for r in refs if not r.startswith("input:")})

    def checks_its_own_source(self, step: Step) -> bool:
        """Whether judging ``step`` compares the judged artifact with something made from it (a transcript
        "checked" against the audio it was transcribed from): such a check measures the maker against itself."""
        judged, judges = self._judged(step), self.registry.get(step.tool).judges
        return any(self._lineage(ref) & judged for name, ref in step.inputs.items() if name not in judges)

    def references_apart(self, step: Step) -> dict[str, str] | None:
        """Inputs for judging ``step`` again with the same judged inputs and, for each other input, the most recent
        artifact of its kind that was not made from what is judged (a script the user gave); None if one lacks."""
        tool = self.registry.get(step.tool)
        judged = self._judged(step)
        bind = {n: step.inputs[n] for n in tool.judges if n in step.inputs}
        for name in tool.required_inputs():
            if name in bind:
                continue
            pool = [s for s in self.slots if s.kind == tool.inputs[name] and not s.lineage & judged
                    and s.ref not in bind.values() and s.step != step.id]
            if not pool:
                return None
            bind[name] = max(pool, key=lambda s: s.order).ref
        return bind

    def _lineage(self, ref: str) -> frozenset[str]:
        slot = self.slot(ref)
        return slot.lineage if slot else frozenset()

    # -- conversions over the typed graph -------------------------------------------------------------------------
    def chain_to(self, kind: str, have: set[str], *, depth: int = 3,
                 avoid: frozenset[str] = frozenset()) -> list[str] | None:
        """The shortest list of tools (in run order) that makes ``kind`` from kinds in ``have``."""
        if kind in have:
            return []
        if depth == 0:
            return None
        best: tuple[int, float, list[str]] | None = None
        for tool in self.tools:
            if tool.name in avoid or kind not in tool.outputs.values() or is_verifier(tool):
                continue
            chain: list[str] = []
            ok = True
            got = set(have)
            for name in tool.required_inputs():
                sub = self.chain_to(tool.inputs[name], got, depth=depth - 1, avoid=avoid | {tool.name})
                if sub is None:
                    ok = False
                    break
                chain += [t for t in sub if t not in chain]
                for t in sub:
                    got |= set(self.registry.get(t).outputs.values())
            if not ok:
                continue
            chain.append(tool.name)
            key = (len(chain), -self.score(tool))
            if best is None or key < (best[0], best[1]):
                best = (key[0], key[1], chain)
        return None if best is None else best[2]

    def convert(self, kind: str, *, why: str = "", side: bool = False) -> Slot | None:
        """Insert the shortest chain of steps that makes ``kind``; the new artifact, or None."""
        chain = self.chain_to(kind, self.kinds(side=side))
        if not chain:
            return None
        for name in chain:
            self.add(name, why=why, side=side)
        return self.find(kind, side=side)

    # -- verification ---------------------------------------------------------------------------------------
    def verify(self, deliverable: Slot, verifiers: list[Tool] | None = None) -> list[Step]:
        """Add judging steps that check ``deliverable`` against what it was made from.

        A verifier is added when one of its inputs takes the deliverable (or the deliverable after one conversion,
        e.g. a page rendered to get its layout) and every other input takes an artifact the deliverable was made
        from, preferring the earliest (closest to the run's inputs): a rendered layout against the sketch's
        layout; spoken audio against the text that was spoken.
        """
        added: list[Step] = []
        for tool in verifiers if verifiers is not None else [t for t in self.tools if is_verifier(t)]:
            binding = self._bind_verifier(tool, deliverable)
            if binding is None:
                continue
            bind, conversion = binding
            if conversion is not None:
                key = (deliverable.ref, conversion)
                if key not in self._conversions:
                    conv_bind = self._conversion_bind(conversion, deliverable)
                    # a step that already does this conversion (a render the plan asked for) is reused, not repeated
                    step = next((st for st in self.steps if st.tool == conversion and st.inputs == conv_bind), None)
                    if step is None:
                        step = self.add(conversion, bind=conv_bind, side=True, fill_optional=False,
                                        why=f"render {deliverable.ref} to check it")
                        added.append(step)
                    for s in self.outputs_of(step.id):
                        self._conversions[(deliverable.ref, f"{conversion}:{s.kind}")] = s
                    self._conversions[key] = self.outputs_of(step.id)[0]
                bind = {n: (self._conversions[(deliverable.ref, f"{conversion}:{r[1:]}")].ref
                            if r.startswith("@") else r) for n, r in bind.items()}
            judged = ", ".join(sorted({r.split(".")[0] for r in bind.values()}))
            added.append(self.add(tool.name, bind=bind, side=True, fill_optional=False,
                                  why=f"check {judged}: {tool.description}"))
        return added

    def _conversion_bind(self, tool_name: str, deliverable: Slot) -> dict[str, str]:
        tool = self.registry.get(tool_name)
        name = next(n for n in tool.required_inputs() if tool.inputs[n] == deliverable.kind)
        return {name: deliverable.ref}

    def _bind_verifier(self, tool: Tool, deliverable: Slot) -> tuple[dict[str, str], str | None] | None:
        required = tool.required_inputs()
        if not required:
            return None
        # which input takes the deliverable: a declared judged input (the others are references, so a transcript
        # is not "checked" by transcribing its own source again), else the last one of a fitting kind
        order = [n for n in tool.judges if n in required] or list(reversed(required))
        ancestors = deliverable.lineage
        for target in order:
            kind = tool.inputs[target]
            conversion: str | None = None
            if kind != deliverable.kind:
                # a conversion is a view of the deliverable (a page rendered to read its layout back), never new
                # work: a kind the plan has not made yet (a page made from a sketch's layout) is for the plan's
                # own steps to make, and is checked when they have made it
                if kind not in self.kinds():
                    continue
                conversion = self._one_step_conversion(deliverable.kind, kind)
                if conversion is None:
                    continue
            bind: dict[str, str] = {target: f"@{kind}" if conversion else deliverable.ref}
            ok = True
            for name in required:
                if name == target:
                    continue
                pool = [s for s in self.slots if s.kind == tool.inputs[name] and s.ref != deliverable.ref
                        and (s.step in ancestors or s.ref in ancestors) and s.ref not in bind.values()]
                if not pool:
                    ok = False
                    break
                # same kind as the judged input: compare with the earliest (closest to the user's input);
                # another kind: the nearest one the deliverable was made from
                pick = min(pool, key=lambda s: s.order) if tool.inputs[name] == kind else \
                    max(pool, key=lambda s: s.order)
                bind[name] = pick.ref
            if ok:
                return bind, (conversion if conversion else None)
        return None

    def _one_step_conversion(self, have: str, want: str) -> str | None:
        for tool in self.tools:
            if is_verifier(tool) or want not in tool.outputs.values():
                continue
            req = tool.required_inputs()
            if len(req) == 1 and tool.inputs[req[0]] == have:
                return tool.name
        return None

    def build(self, task: str = "", planner: str = "") -> Plan:
        """The plan of the steps added so far; params the request feeds with data made in the run ("with the
        transcript as captions") take it from the step that makes it (see :mod:`planners._param_wiring`)."""
        steps = [s.model_copy(deep=True) for s in self.steps]
        if task:
            inputs = {s.ref.removeprefix("input:"): s.kind for s in self.slots if s.order < 0}
            verifiers = frozenset(s.tool for s in steps if is_verifier(self.registry.get(s.tool)))
            bind_data_params(steps, task, self.registry, inputs, verifiers=verifiers)
        return Plan(task=task, steps=steps, planner=planner)


def downloaders(tools: list[Tool]) -> dict[str, Tool]:
    """The tools that fetch what a URL holds (their one required input is a URL), by name."""
    return {t.name: t for t in tools if [t.inputs[n] for n in t.required_inputs()] == ["url"]}


def url_loader(task: str, kinds: Mapping[str, str], tools: list[Tool]) -> str | None:
    """The one tool that fetches what the request's URL holds, when the request says what it holds ("the article
    at URL": a text) and names only one URL."""
    kind = url_kind(task)
    if kind is None or list(kinds.values()).count("url") != 1:
        return None
    fitting = [n for n, t in downloaders(tools).items() if kind in t.outputs.values()]
    return fitting[0] if len(fitting) == 1 else None
