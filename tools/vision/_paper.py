"""The printed lines of ruled or grid paper, found in an ink mask even where they are faint and broken.

A sketch on ruled paper leaves the paper's lines in the ink mask as scattered pieces: darker stretches of a line
otherwise under the ink threshold. Each piece alone looks like a stroke (a dash, a short rule), and a reader of
the sketch takes them for text. Whole, though, the pieces sit on one straight line that runs from one edge of the
sheet to the other, which no drawn stroke does. A Hough transform finds such lines from their pieces: a line
counts as the paper's when its ink lies along most of the sheet (in 7 of 10 stretches), near horizontal or near
vertical (within 3 degrees: a photo's tilt). Its pixels, in a band a few pixels wide, are taken out of the mask;
a pen stroke crossing it is cut there, and callers close such cuts.
"""

from __future__ import annotations

import numpy as np

__all__ = ["paper_lines"]

_TILT = np.deg2rad(3.0)
_BINS = 10
_SPREAD = 7
"""Stretches of the sheet (of ``_BINS``) a paper line must have ink in: a drawn line or a row of words does not
reach across the sheet; a printed line, even faint, leaves a piece in most stretches."""
_BAND = 2
"""Pixels either side of a found line taken as the line's own (printed rules are 1-3 px at a 1000 px side)."""
_FAMILY = 8
"""Lines in one direction at a steady pitch that make a ruled or grid paper (a sheet has twenty and more)."""
_CROSS = 2 * _BAND + 3
"""Length across the line of a run of ink that is a crossing stroke, not the line: longer than the band."""


def _candidates(mask: np.ndarray, horizontal: bool) -> list[tuple[float, float]]:
    """(rho, theta) of straight lines near the wanted direction with votes from a quarter of the sheet."""
    import cv2

    h, w = mask.shape
    span = w if horizontal else h
    ranges = [(np.pi / 2 - _TILT, np.pi / 2 + _TILT)] if horizontal else [(0.0, _TILT), (np.pi - _TILT, np.pi)]
    found: list[tuple[float, float]] = []
    for lo, hi in ranges:
        lines = cv2.HoughLines(mask, 1, np.pi / 720, max(20, span // 4), min_theta=lo, max_theta=hi)
        if lines is not None:
            found += [(float(r), float(t)) for r, t in lines[:, 0]]
    return found


def _along(mask: np.ndarray, rho: float, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (rows, cols) of the line's band, inside the image, ordered along the line."""
    h, w = mask.shape
    c, s = np.cos(theta), np.sin(theta)
    if abs(s) >= abs(c):  # near horizontal: y = (rho - x cos) / sin
        xs = np.arange(w)
        ys = np.round((rho - xs * c) / s).astype(int)
        rows = np.concatenate([ys + d for d in range(-_BAND, _BAND + 1)])
        cols = np.tile(xs, 2 * _BAND + 1)
    else:
        ys = np.arange(h)
        xs = np.round((rho - ys * s) / c).astype(int)
        rows = np.tile(ys, 2 * _BAND + 1)
        cols = np.concatenate([xs + d for d in range(-_BAND, _BAND + 1)])
    keep = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    return rows[keep], cols[keep]


def _evenly_spaced(positions: list[float], extent: int) -> list[float]:
    """The positions that belong to a printed ruling: lines at a steady pitch (each 0.8-1.2 times a whole number
    of the median gap from its neighbour, a faint line being missed now and then), at least ``_FAMILY`` of them,
    the pitch under an eighth of the sheet. Cards drawn in a row line up across the sheet too, but not at a pitch.

    Example:
        >>> _evenly_spaced([10, 40, 70, 100, 160, 190, 220, 250, 280, 310, 333], 400)
        [10, 40, 70, 100, 160, 190, 220, 250, 280, 310]
        >>> _evenly_spaced([30, 95, 110, 180, 190, 260, 300, 330], 400)
        []
    """
    if len(positions) < _FAMILY:
        return []
    gaps = np.diff(positions)
    pitch = float(np.median(gaps))
    if pitch <= 0 or pitch > extent / 8:
        return []

    def steady(gap: float) -> bool:
        k = max(1, round(gap / pitch))
        return k <= 3 and abs(gap - k * pitch) <= 0.2 * pitch

    fit = [p for i, p in enumerate(positions)
           if (i > 0 and steady(gaps[i - 1])) or (i < len(gaps) and steady(gaps[i]))]
    return fit if len(fit) >= _FAMILY else []


def paper_lines(mask: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """A mask (uint8, 0/1) of the paper's printed lines among the ink of ``mask`` (uint8, 0/1).

    Paper has many such lines, evenly spaced: only lines at a steady pitch are taken, and none with fewer than
    ``_FAMILY`` of them in a direction (a clean wireframe's boxes may line up across the sheet). Pixels in
    ``keep`` (uint8, 0/1; the darkest ink, a pen drawn along a printed line) are never taken.

    Example:
        >>> m = np.zeros((300, 400), np.uint8)
        >>> for y in range(20, 300, 30):                    # ruled paper, faint: a piece every 40 px
        ...     for x in range(0, 400, 40):
        ...         m[y, x:x + 15] = 1
        >>> m[100:104, 50:150] = 1                          # a drawn bar, on no paper line
        >>> rules = paper_lines(m)
        >>> int(rules[50, 0:15].sum()), int(rules[100:104, 60:140].sum())
        (15, 0)
        >>> few = np.zeros((300, 400), np.uint8)
        >>> few[50, :] = few[250, :] = 1                     # two lines across: a drawn header and footer rule
        >>> int(paper_lines(few).sum())
        0
    """
    import cv2

    out = np.zeros_like(mask)
    if mask.size == 0 or not mask.any():
        return out
    h, w = mask.shape
    for horizontal in (True, False):
        # a pen stroke crossing the line is longer across it than the line is thick: those pixels stay
        across = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((_CROSS, 1) if horizontal else (1, _CROSS), np.uint8))
        found: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        for rho, theta in _candidates(mask, horizontal):
            c, s = np.cos(theta), np.sin(theta)
            # where the line crosses the middle of the sheet: comparable for lines found at any tilt
            at = (rho - w / 2 * c) / s if horizontal else (rho - h / 2 * s) / c
            if any(abs(at - a) <= 2 * _BAND + 1 for a in found):
                continue  # the same printed line, found again a pixel or a hair of a degree off
            rows, cols = _along(mask, rho, theta)
            ink = mask[rows, cols] > 0
            if not ink.any():
                continue
            where = cols if horizontal else rows
            stretches = np.unique((where[ink] * _BINS) // (w if horizontal else h))
            if len(stretches) >= _SPREAD:
                found[at] = (rows[ink], cols[ink])
        line = np.zeros_like(mask)
        for at in _evenly_spaced(sorted(found), h if horizontal else w):
            line[found[at]] = 1
        out |= line & (1 - across)
    return out if keep is None else out & (1 - keep)
