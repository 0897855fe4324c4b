"""``layout_similarity``: how closely a candidate page layout follows a reference, in the spirit of Design2Code.

Elements of the two layouts are matched one-to-one (greedily, by a score mixing text similarity, box proximity and
role). Part scores, each in [0, 1]:

- ``block_score``: area of the matched elements over the area of all elements, both sides (missing or extra
  blocks lower it);
- ``position_score``: 1 minus the mean distance between matched centres (as in Design2Code, the larger of the
  x and y offsets, in page fractions);
- ``text_score``: mean character similarity of matched texts;
- ``role_score``: share of matched pairs with the same role;
- ``order_score``: share of matched pairs that keep their reading order (top-to-bottom, left-to-right).

``layout_score`` is their weighted mean (:data:`WEIGHTS`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from modalities.layout import Layout, LayoutElement
from tools.function_tool import JsonFile, LayoutFile, Result, tool

__all__ = ["compare_layouts", "greedy_pairs", "layout_similarity", "WEIGHTS"]

WEIGHTS = {"block_score": 0.3, "position_score": 0.2, "text_score": 0.2, "role_score": 0.15, "order_score": 0.15}
_MIN_PAIR = 0.35
"""Pairs scoring under this are not the same element: both count as unmatched."""


def _norm_text(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


def _text_sim(a: str, b: str) -> float:
    a, b = _norm_text(a), _norm_text(b)
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _centre(e: LayoutElement) -> tuple[float, float]:
    return e.box[0] + e.box[2] / 2, e.box[1] + e.box[3] / 2


def _distance(a: LayoutElement, b: LayoutElement) -> float:
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    return max(abs(ax - bx), abs(ay - by))


def _pair_score(a: LayoutElement, b: LayoutElement) -> float:
    proximity = max(0.0, 1.0 - _distance(a, b) / 0.25)
    if proximity == 0.0:
        return 0.0
    has_text = bool(_norm_text(a.text) or _norm_text(b.text))
    text = _text_sim(a.text, b.text) if has_text else 0.5
    return 0.4 * proximity + 0.4 * text + 0.2 * (a.role == b.role)


def _area(e: LayoutElement) -> float:
    return max(e.box[2] * e.box[3], 1e-6)


def greedy_pairs(scored: Iterable[tuple[float, int, int]], threshold: float) -> list[tuple[int, int]]:
    """One-to-one (left, right) index pairs from ``(score, left, right)`` triples, best score first, keeping only
    scores at or above ``threshold``."""
    used_l: set[int] = set()
    used_r: set[int] = set()
    pairs = []
    for score, i, j in sorted(scored, reverse=True):
        if score < threshold:
            break
        if i not in used_l and j not in used_r:
            used_l.add(i)
            used_r.add(j)
            pairs.append((i, j))
    return pairs


def _match(ref: Sequence[LayoutElement], cand: Sequence[LayoutElement]) -> list[tuple[int, int]]:
    return greedy_pairs(((_pair_score(a, b), i, j) for i, a in enumerate(ref) for j, b in enumerate(cand)),
                        _MIN_PAIR)


def _order_score(ref: Sequence[LayoutElement], cand: Sequence[LayoutElement], pairs: list[tuple[int, int]]) -> float:
    """Share of matched pairs of pairs that appear in the same reading order on both pages."""
    if len(pairs) < 2:
        return 1.0 if pairs else 0.0

    def key(e: LayoutElement) -> tuple[float, float]:
        # rows: elements whose tops are within 2% of the page are read left to right
        return round(e.box[1] / 0.02), e.box[0]

    agree = total = 0
    for x in range(len(pairs)):
        for y in range(x + 1, len(pairs)):
            (ri, ci), (rj, cj) = pairs[x], pairs[y]
            r_order = key(ref[ri]) < key(ref[rj])
            c_order = key(cand[ci]) < key(cand[cj])
            agree += r_order == c_order
            total += 1
    return agree / total


def compare_layouts(reference: Layout, candidate: Layout, *, leaves_only: bool = True) -> dict[str, Any]:
    """Part scores, overall score and the matched pairs of two layouts.

    Args:
        reference: The layout that should be reproduced (e.g. from a sketch).
        candidate: The layout produced (e.g. from the rendered page's DOM).
        leaves_only: Compare only the leaf roles (Label, Button...), not containers.

    Example:
        >>> from modalities.layout import LayoutElement as E
        >>> page = Layout(elements=[E(role="Heading", box=(0.1, 0.05, 0.8, 0.1), text="Shop")])
        >>> compare_layouts(page, page)["layout_score"]
        1.0
    """
    ref = reference.leaves() if leaves_only else list(reference.walk())
    cand = candidate.leaves() if leaves_only else list(candidate.walk())
    if not ref and not cand:
        scores = dict.fromkeys(WEIGHTS, 1.0)
        return {**scores, "layout_score": 1.0, "matched": 0, "reference_elements": 0, "candidate_elements": 0,
                "pairs": []}
    pairs = _match(ref, cand)
    total_area = sum(_area(e) for e in ref) + sum(_area(e) for e in cand)
    matched_area = sum(_area(ref[i]) + _area(cand[j]) for i, j in pairs)
    scores = {
        "block_score": matched_area / total_area if total_area else 0.0,
        "position_score": (sum(1.0 - _distance(ref[i], cand[j]) for i, j in pairs) / len(pairs)) if pairs else 0.0,
        "text_score": (sum(_text_sim(ref[i].text, cand[j].text) for i, j in pairs) / len(pairs)) if pairs else 0.0,
        "role_score": (sum(ref[i].role == cand[j].role for i, j in pairs) / len(pairs)) if pairs else 0.0,
        "order_score": _order_score(ref, cand, pairs),
    }
    scores = {k: round(max(0.0, min(1.0, v)), 4) for k, v in scores.items()}
    overall = round(sum(WEIGHTS[k] * scores[k] for k in WEIGHTS), 4)
    return {
        **scores,
        "layout_score": overall,
        "matched": len(pairs),
        "reference_elements": len(ref),
        "candidate_elements": len(cand),
        "pairs": [{"reference": {"role": ref[i].role, "text": ref[i].text, "box": list(ref[i].box)},
                   "candidate": {"role": cand[j].role, "text": cand[j].text, "box": list(cand[j].box)}}
                  for i, j in pairs],
        "missing": [{"role": e.role, "text": e.text} for k, e in enumerate(ref) if k not in {i for i, _ in pairs}],
        "extra": [{"role": e.role, "text": e.text} for k, e in enumerate(cand) if k not in {j for _, j in pairs}],
    }


@tool(family="vision", outputs={"report": "json"}, checks=("layout_score >= 0.5",), judges=("candidate",),
      metrics={"layout_score": "overall similarity of the candidate to the reference, 0-1",
               "block_score": "matched element area over all element area, 0-1",
               "position_score": "1 - mean offset of matched element centres, 0-1",
               "text_score": "mean text similarity of matched elements, 0-1",
               "role_score": "share of matched elements with the same role, 0-1",
               "order_score": "share of matched element pairs in the same reading order, 0-1",
               "matched": "number of matched elements"})
def layout_similarity(reference: LayoutFile, candidate: LayoutFile, leaves_only: bool = True) -> JsonFile:
    """Compare a candidate layout with a reference layout (matched blocks, positions, text, roles, order).

    Args:
        reference: The layout to reproduce, e.g. the sketch's.
        candidate: The layout to judge, e.g. the rendered page's.
        leaves_only: Compare only leaf elements (Label, Button...), ignoring containers.
    """
    report = compare_layouts(reference.load(), candidate.load(), leaves_only=leaves_only)
    metrics = {k: report[k] for k in (*WEIGHTS, "layout_score", "matched")}
    return Result(report, metrics)
