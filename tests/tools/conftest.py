"""Fixtures for the browser, code and generation tool tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modalities.layout import Layout


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def iou_layout_score(reference: Layout, candidate: Layout) -> float:
    """Mean IoU of greedily matched same-role leaves, over the larger leaf count (missing elements score 0)."""
    ref, cand = reference.leaves(), candidate.leaves()
    used: set[int] = set()
    total = 0.0
    for r in ref:
        best, best_j = 0.0, None
        for j, c in enumerate(cand):
            if j not in used and c.role == r.role and (v := _iou(r.box, c.box)) > best:
                best, best_j = v, j
        if best_j is not None:
            used.add(best_j)
        total += best
    return total / max(len(ref), len(cand), 1)


@pytest.fixture
def layout_score() -> Callable[[Layout, Layout], float]:
    return iou_layout_score


@pytest.fixture(scope="session")
def browser() -> None:
    """Skip when no browser can run here; the browser itself is shared by the whole session (one per process)."""
    from tools.browser._chromium import browser_available

    ok, reason = browser_available()
    if not ok:
        pytest.skip(reason)
