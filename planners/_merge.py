"""Steps that repeat another step exactly (same tool, same inputs, same params) are one step.

Planners write them when they read a rate as a count ("read it aloud twice as fast" planned as two ``speak``
steps) or when two branches need the same intermediate product. Running both costs time and delivers the same
file twice. The exception is a request for several of a kind ("three images of a cat"): a generator run again
makes another one, so those steps stay.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["merge_identical_steps", "asks_for_several"]

_NUMBER = r"(?:two|three|four|five|six|seven|eight|nine|ten|several|multiple|a few|a couple of|a pair of|\d+)"
_SEVERAL = re.compile(rf"\b(?:{_NUMBER}\s+(?:[\w-]+\s+){{0,2}}?[a-z]+s|variations?|versions|alternatives|"
                      r"options|variants|copies)\b", re.I)


def asks_for_several(task: str) -> bool:
    """Whether the request asks for more than one of something ("two images", "3 versions").

    Example:
        >>> asks_for_several("make three posters of a cat"), asks_for_several("read it aloud twice as fast")
        (True, False)
    """
    return bool(_SEVERAL.search(task))


def merge_identical_steps(plan: Any) -> Any:
    """``plan`` with each step that repeats an earlier one exactly dropped, and its readers wired to the first.

    Example:
        >>> from planners.plan import Plan, Step
        >>> plan = Plan(steps=[Step(id="a", tool="speak", inputs={"text": "input:notes"}),
        ...                    Step(id="b", tool="speak", inputs={"text": "input:notes"}),
        ...                    Step(id="c", tool="transcribe", inputs={"audio": "b.audio"})])
        >>> [(s.id, s.inputs) for s in merge_identical_steps(plan).steps]
        [('a', {'text': 'input:notes'}), ('c', {'audio': 'a.audio'})]
    """
    same_as: dict[str, str] = {}
    seen: dict[str, str] = {}
    kept = []
    # a step's key is taken after its own references are rewired, so repeats of repeats merge too; a plan's
    # steps may come in any order, so this walks them until nothing more merges
    pending = list(plan.steps)
    while pending:
        ready = [s for s in pending if not (s.dependencies() & {p.id for p in pending})] or pending[:1]
        for step in ready:
            pending.remove(step)
            step = _rewired(step, same_as)
            key = json.dumps([step.tool, step.inputs, step.params], sort_keys=True, default=str)
            if key in seen:
                same_as[step.id] = seen[key]
                continue
            seen[key] = step.id
            kept.append(step)
    if not same_as:
        return plan
    order = {s.id: i for i, s in enumerate(plan.steps)}
    kept.sort(key=lambda s: order[s.id])
    outputs = {name: _rewire_ref(ref, same_as) for name, ref in plan.outputs.items()}
    return plan.model_copy(update={"steps": kept, "outputs": outputs})


def _rewire_ref(ref: str, same_as: dict[str, str]) -> str:
    step, dot, output = ref.partition(".")
    return f"{same_as[step]}.{output}" if dot and step in same_as else ref


def _rewired(step: Any, same_as: dict[str, str]) -> Any:
    if not same_as:
        return step
    inputs = {name: _rewire_ref(ref, same_as) for name, ref in step.inputs.items()}
    params = {name: ({**value, "from": _rewire_ref(value["from"], same_as)}
                     if isinstance(value, dict) and isinstance(value.get("from"), str) else value)
              for name, value in step.params.items()}
    return step.model_copy(update={"inputs": inputs, "params": params})
