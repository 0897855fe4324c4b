"""Reading "X as Y" in a request: a param Y of a planned step takes the data X that another step makes.

"with the transcript as captions", "use the summary as the page title", "captioned with the transcript", "titled
with its summary": Y names a param of a step in the plan (by its name or a synonym of it), X names what
feeds it: a kind of data ("transcript", "summary": text; "report": json) that a step of the plan makes, or a run
input by its file name. The param then takes that data when the step runs (``{"from": "<step>.<output>"}``, see
:mod:`planners.param_refs`); a fixed value written at planning time could not hold a transcript made during the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planners._intents import KIND_WORDS, mask_quotes
from planners.param_refs import fit_issue, param_shapes
from planners.plan import Plan, Step, downstream_of
from tools.registry import ToolRegistry

__all__ = ["DataUse", "data_uses", "bind_data_params"]

_DET = r"(?:(?:the|its|their|his|her|a|an|this|that|my|our|your)\s+)?"
_NAME = r"[A-Za-z][\w-]*(?:\.[A-Za-z0-9]+)?"
# "the transcript as captions", "use notes.txt as the title"
_AS = re.compile(rf"\b{_DET}(?P<src>{_NAME})\s+as\s+{_DET}(?P<use>[A-Za-z][\w-]*)", re.I)
# "captioned with the transcript", "titled by its summary"
_VERBED = re.compile(rf"\b(?P<use>[A-Za-z]+?)(?:ed)\s+(?:with|by|from|using)\s+{_DET}(?P<src>{_NAME})", re.I)
_WORD_KIND = {w: k for k, ws in KIND_WORDS.items() for w in ws}
# words people use for a param other than its name (singular forms)
_SYNONYMS = {"subtitle": "caption", "heading": "title", "headline": "title", "name": "title", "class": "label",
             "category": "label"}


@dataclass(frozen=True, repr=False)
class DataUse:
    """One "X as Y" the request states: the source's word (a kind of data or a file name) and the use's word."""

    source: str
    use: str

    def __repr__(self) -> str:
        return f"DataUse({self.source!r} as {self.use!r})"


def data_uses(task: str) -> list[DataUse]:
    """The "X as Y" phrases of a request, in order (quoted passages are data, not instructions).

    Example:
        >>> data_uses("make a slideshow of a.png with the transcript as captions")
        [DataUse('transcript' as 'captions')]
        >>> data_uses("a video captioned with its summary")
        [DataUse('summary' as 'caption')]
    """
    masked = mask_quotes(task)
    found: list[tuple[int, DataUse]] = []
    for m in _AS.finditer(masked):
        found.append((m.start(), DataUse(m.group("src"), m.group("use").lower())))
    for m in _VERBED.finditer(masked):
        found.append((m.start(), DataUse(m.group("src"), _unverb(m.group("use").lower()))))
    return [use for _, use in sorted(found, key=lambda pair: pair[0])]


def _unverb(stem: str) -> str:
    # "captioned" -> "caption", "titled" -> "title" (the regex took "titl"), "labelled" -> "label"
    if len(stem) > 3 and stem[-1] == stem[-2]:
        return stem[:-1]
    return stem + "e" if stem.endswith(("tl", "bl", "pl")) else stem


def _singular(word: str) -> str:
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _names_param(name: str, word: str) -> bool:
    """Whether ``word`` names param ``name``: the name itself, singular or plural, or an English synonym of it.
    Only the whole name counts: "the summary as the prompt" must not fill a ``negative_prompt``."""
    want = _singular(word)
    return _singular(name) in {want, _SYNONYMS.get(want, want)}


def _source_kind(source: str, inputs: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(run input name, kind) when the source is a run input by name; else (None, the kind its word names)."""
    stem = source.rsplit(".", 1)[0] if "." in source else source
    if stem in inputs:
        return stem, inputs[stem]
    word = source.lower()
    return None, _WORD_KIND.get(word) or _WORD_KIND.get(_singular(word))


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def bind_data_params(steps: Sequence[Step], task: str, registry: ToolRegistry, inputs: Mapping[str, str],
                     *, verifiers: frozenset[str] = frozenset()) -> None:
    """Point each param the request feeds with data ("the transcript as captions") at the data, in place.

    The consumer is the step whose tool has a param the use word names and that can take the source's kind; the
    source is the run input of that name, else a step making that kind that the consumer does not itself feed
    (the one whose tool is named like the word, "transcript" ~ transcribe, else the latest), never a judging
    step's report (``verifiers``: tool names).
    """
    plan = Plan(steps=list(steps))
    for use in data_uses(task):
        input_name, kind = _source_kind(use.source, inputs)
        if kind is None:
            continue
        for step in reversed(steps):  # the latest step that can take it: the deliverable, not a draft on the way
            tool = registry.get(step.tool)
            name = next((n for n in (tool.params_schema().get("properties") or {})
                         if _names_param(n, use.use) and n not in step.param_refs()), None)
            shapes = param_shapes(tool, name) if name else None
            if name is None or shapes is None or fit_issue(kind, shapes) is not None:
                continue
            ref = f"input:{input_name}" if input_name else _producer(steps, step, kind, use.source, registry,
                                                                     plan, verifiers)
            if ref is not None:
                step.params[name] = {"from": ref}
                break


def _producer(steps: Sequence[Step], consumer: Step, kind: str, word: str, registry: ToolRegistry, plan: Plan,
              verifiers: frozenset[str]) -> str | None:
    fed = downstream_of(plan, [consumer.id])  # taking data from these would make a cycle
    best: tuple[int, int, str] | None = None
    for order, step in enumerate(steps):
        if step.id in fed or step.tool in verifiers:
            continue
        outs = [o for o, k in registry.get(step.tool).outputs.items() if k == kind]
        if not outs:
            continue
        # "transcript" names transcribe's text, "summary" summarize's: a shared stem of five letters or more
        named = max(_shared_prefix(word.lower(), w) for w in step.tool.lower().split("_"))
        key = (int(named >= 5), order, f"{step.id}.{outs[0]}")
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None
