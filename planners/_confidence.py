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

__all__ = ["LogitsRecorder", "tool_confidences", "next_tool_probability"]

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


def _allowed_next(logits: Any, text: str, allowed: Callable[[str], bool],
                  piece: Callable[[int], str]) -> tuple[dict[str, tuple[float, int]], str]:
    """The tokens the grammar allows after ``text``, among the best-scored, by their text: (probability among
    them, id of the best-scored token with that text); and the text of the best-scored one ({} and "" when none)."""
    import numpy as np

    top = np.argpartition(-logits, _TOP_K)[:_TOP_K] if len(logits) > _TOP_K else np.arange(len(logits))
    scored = sorted(((piece(int(t)), float(logits[t]), int(t)) for t in top), key=lambda c: -c[1])
    scored = [c for c in scored if c[0] and allowed(text + c[0])]
    if not scored:
        return {}, ""
    best = scored[0][1]
    weights: dict[str, tuple[float, int]] = {}
    for p, v, t in scored:
        w, first = weights.get(p, (0.0, t))
        weights[p] = (w + math.exp(v - best), first)
    total = sum(w for w, _ in weights.values())
    return {p: (w / total, t) for p, (w, t) in weights.items()}, scored[0][0]


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
    allowed = _array_prefix(frozenset(names))
    text = ""
    tools: list[float] = []
    going_on = 1.0  # probability of writing another tool rather than closing the array, after the last tool
    current = 1.0
    for logits in steps:
        probs, chosen = _allowed_next(logits, text, allowed, piece)
        if not probs:
            return None
        if text.count('"') % 2:  # inside a name
            if '"' in chosen:  # the name ends here: this token also says whether another name follows
                current *= sum(q for p, (q, _) in probs.items() if p.startswith('"'))
                tools.append(current * going_on)
                more = sum(q for p, (q, _) in probs.items() if "," in p)
                stop = sum(q for p, (q, _) in probs.items() if "]" in p)
                going_on = more / (more + stop) if more + stop else 1.0
                current = 1.0
            else:
                current *= probs[chosen][0]
        text += chosen
        if text.endswith("]"):
            break
    return tools if text == reply.strip() else None


def next_tool_probability(llm: Any, prompt: Sequence[int], before: Sequence[str], name: str,
                          names: Sequence[str], piece: Callable[[int], str]) -> float:
    """The model's probability (0-1, among the names the grammar allows) of writing ``name`` as the next tool of
    its array after the tools ``before``, given the ``prompt`` tokens it was asked with. It asks the model to
    vouch for a tool another planner proposed: a few token evaluations, no sampling.

    Args:
        llm: A llama_cpp.Llama whose context begins with ``prompt`` (the evaluation there is reused).
        prompt: Token ids of the prompt the model replied to.
        before: Tools written before the one in question.
        name: The tool in question.
        names: The tool names the grammar allows.
        piece: Text of one token id.
    """
    import llama_cpp
    import numpy as np

    allowed = _array_prefix(frozenset(names))
    text = "[" + "".join(f'"{n}", ' for n in before) + '"'
    target = text + name + '"'
    llm.n_tokens = min(llm.n_tokens, len(prompt))  # evaluation continues after the prompt (the KV cache is kept)
    llm.eval(llm.tokenize(text.encode(), add_bos=False, special=False))
    probability = 1.0
    while True:
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits(llm.ctx), shape=(llm.n_vocab(),))
        probs, _ = _allowed_next(logits, text, allowed, piece)
        rest = target[len(text):]
        on_path = {p: qt for p, qt in probs.items() if rest.startswith(p) or p.startswith(rest)}
        if not on_path:
            return 0.0
        inside = {p: qt for p, qt in on_path.items() if rest.startswith(p) and len(p) < len(rest)}
        if not inside:  # the name ends here: any allowed token that closes it
            return probability * sum(q for q, _ in on_path.values())
        step = max(inside, key=lambda p: inside[p][0])
        probability *= inside[step][0]
        text += step
        llm.eval([inside[step][1]])
