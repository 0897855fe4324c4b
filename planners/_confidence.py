"""How sure a local model was of each tool it named, read from its own token probabilities.

While llama.cpp decodes a JSON array of tool names under a grammar, a logits processor keeps the raw logits of
every step. Afterwards the greedy path is walked again: at each step the probabilities are renormalised over the
tokens the grammar allows there (a token is allowed when the text so far plus the token is still the start of a
valid array), so they say how the model chose among the names it could write. A tool's confidence is the product
of its own tokens' probabilities times the probability of going on after the tool before it (rather than closing
the array). Tools the model was unsure of are the ones it most often gets wrong, so the planner checks those
against the request's words before keeping them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["LogitsRecorder", "tool_confidences"]

_TOP_K = 64  # candidates per step: the allowed alternatives that matter are always among the best-scored


class LogitsRecorder:
    """A llama.cpp logits processor that keeps a copy of each step's logits and changes nothing."""

    def __init__(self) -> None:
        self.steps: list[Any] = []

    def __call__(self, input_ids: Any, logits: Any) -> Any:
        import numpy as np

        self.steps.append(np.array(logits, dtype=np.float32))
        return logits


def _array_prefix(names: frozenset[str]) -> Callable[[str], bool]:
    """Whether a text can still grow into ``["name", "name", ...]`` (the names grammar of the local planner)."""
    starts = {n[:i] for n in names for i in range(len(n) + 1)}

    def ok(text: str) -> bool:
        if not text:
            return True
        if text[0] != "[":
            return False
        rest = text[1:]
        while rest:
            if rest[0] != '"':
                return False
            end = rest.find('"', 1)
            if end == -1:
                return rest[1:] in starts
            if rest[1:end] not in names:
                return False
            rest = rest[end + 1:]
            if not rest:
                return True
            if rest[0] == "]":
                return rest == "]"
            if rest[0] != ",":
                return False
            rest = rest[1:].removeprefix(" ")
        return True

    return ok


def tool_confidences(steps: Sequence[Any], piece: Callable[[int], str], names: Sequence[str],
                     reply: str) -> list[float] | None:
    """Confidence (0-1) of each tool in ``reply``, in order, from the recorded logits of its greedy decoding.

    Args:
        steps: Logits of each decoding step (what :class:`LogitsRecorder` kept).
        piece: Text of one token id.
        names: The tool names the grammar allowed.
        reply: The text the model produced.

    Returns:
        One value per tool in the reply, or None when the walk does not reproduce the reply (then nothing is known).
    """
    import numpy as np

    allowed = _array_prefix(frozenset(names))
    text = ""
    tools: list[float] = []
    going_on = 1.0  # probability of writing another tool rather than closing the array, after the last tool
    current = 1.0
    for logits in steps:
        top = np.argpartition(-logits, _TOP_K)[:_TOP_K] if len(logits) > _TOP_K else np.arange(len(logits))
        candidates = [(piece(int(t)), float(logits[t])) for t in top]
        candidates = [(p, v) for p, v in candidates if p and allowed(text + p)]
        if not candidates:
            return None
        best = max(v for _, v in candidates)
        weights: dict[str, float] = {}
        for p, v in candidates:
            weights[p] = weights.get(p, 0.0) + math.exp(v - best)
        total = sum(weights.values())
        chosen = max(candidates, key=lambda c: c[1])[0]
        if text.count('"') % 2:  # inside a name
            if '"' in chosen:  # the name ends here: this token also says whether another name follows
                current *= sum(w for p, w in weights.items() if p.startswith('"')) / total
                tools.append(current * going_on)
                more = sum(w for p, w in weights.items() if "," in p)
                stop = sum(w for p, w in weights.items() if "]" in p)
                going_on = more / (more + stop) if more + stop else 1.0
                current = 1.0
            else:
                current *= weights[chosen] / total
        text += chosen
        if text.endswith("]"):
            break
    return tools if text == reply.strip() else None
