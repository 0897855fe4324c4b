"""Hand-drawn UI sketch detection, part 4: the page as a whole.

- Upright: a photo taken sideways or upside down (with no EXIF turn to say so) is turned so that its writing reads
  left to right, and a sheet photographed a few degrees askew is levelled.
- Frame: a phone outline or a browser window (a bar across the top with three dots) drawn around the page is not
  content. It says which screen the page is for: ``mobile`` or ``desktop``. Notes written outside it are dropped.
- Sections: top-level elements are grouped into bands, split by white space or a drawn divider, and each band is
  named from what it holds: the ``nav`` at the top, a ``hero`` (a heading with a picture or a call to action), a
  ``features`` grid (three or more alike columns, each a ``card``), a ``form``, the ``footer`` at the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

import numpy as np

from tools.vision._sketch_detect import Box, Element, Shape, Word

__all__ = ["Frame", "page_frame", "sections_of", "upright", "level", "move_box"]


@dataclass
class Frame:
    box: Box  # the frame's outline
    screen: Box  # the part of it that shows the page
    drop: list[Box]  # boxes that are the frame, not content (the outline, a screen's edge)
    viewport: str  # "mobile" or "desktop"


def page_frame(mask: np.ndarray, boxes: list[Shape], words: list[Word], height: float) -> Frame | None:
    """The phone or browser drawn around the page, if there is one: a box holding nearly everything else."""
    if not boxes:
        return None
    big = max(boxes, key=lambda s: s.box.area)
    f = big.box
    others = [s for s in boxes if s is not big]
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    # the ink's extent, ignoring the 1% outliers (a smudge at the photo's edge)
    ink = Box(float(np.percentile(xs, 1)), float(np.percentile(ys, 1)), float(np.percentile(xs, 99)),
              float(np.percentile(ys, 99)))
    inside_words = sum(1 for w in words if f.contains_point(w.box.cx, w.box.cy))
    inside_boxes = sum(1 for s in others if s.box.inside(f, 4))
    held = inside_words + inside_boxes
    band = max(3, int(0.4 * height))
    inner = _ink_in(mask, f.pad(-band, -band))
    outside = _ink_in(mask, Box(0, 0, mask.shape[1], mask.shape[0])) - _ink_in(mask, f.pad(band, band))
    if held < 3 and not (inner > 0.01 * f.area and outside < 0.25 * inner):
        return None  # a frame holds the page: words and boxes, or at least most of the ink
    if (f.area < 0.35 * ink.area or inside_boxes < len(others) - 1
            or (words and inside_words < 0.6 * len(words))):
        return None
    aspect = f.h / max(f.w, 1)
    screen = f
    drop = [f]
    # a screen drawn inside the phone's outline
    for s in others:
        b = s.box
        if b.inside(f, 4) and b.w >= 0.75 * f.w and b.h >= 0.6 * f.h and aspect > 1.2:
            screen, drop = b, [f, b]
            break
    chrome = _chrome_bar(mask, f, height)
    rounded = _rounded(mask, f)
    if chrome is not None:
        viewport = "desktop"
        screen = Box(screen.x0, max(screen.y0, chrome), screen.x1, screen.y1)
    elif aspect >= 1.9 or (aspect >= 1.45 and (rounded or screen is not f)):
        viewport = "mobile"
    elif aspect < 1.2 and not others:
        return None  # one box and nothing in it: a picture or a field, not a frame
    else:
        viewport = "desktop" if aspect < 1.45 else "mobile" if f.w < 0.45 * mask.shape[1] else "desktop"
    return Frame(f, screen.pad(-2, -2), drop, viewport)


def _ink_in(mask: np.ndarray, b: Box) -> int:
    return int(np.count_nonzero(mask[max(int(b.y0), 0):max(int(b.y1), 0), max(int(b.x0), 0):max(int(b.x1), 0)]))


def _rounded(mask: np.ndarray, f: Box) -> bool:
    """A phone's corners are round: the corner squares of its box have little ink right at the corner."""
    c = max(3, int(0.06 * min(f.w, f.h)))
    x0, y0, x1, y1 = int(f.x0), int(f.y0), int(f.x1), int(f.y1)
    corners = [mask[y0:y0 + c, x0:x0 + c], mask[y0:y0 + c, x1 - c:x1], mask[y1 - c:y1, x0:x0 + c],
               mask[y1 - c:y1, x1 - c:x1]]
    tips = [k[: max(1, c // 3), : max(1, c // 3)] for k in (corners[0],)]
    tips += [corners[1][: max(1, c // 3), -max(1, c // 3):], corners[2][-max(1, c // 3):, : max(1, c // 3)],
             corners[3][-max(1, c // 3):, -max(1, c // 3):]]
    return sum(float((t > 0).mean()) < 0.05 for t in tips) >= 3


def _chrome_bar(mask: np.ndarray, f: Box, height: float) -> float | None:
    """The y of a browser's chrome bar: a line across the top of the frame with a few dots above it, at the left."""
    import cv2

    x0, y0, x1, y1 = int(f.x0), int(f.y0), int(f.x1), int(f.y1)
    top = mask[y0:y0 + int(0.2 * (y1 - y0)), x0:x1]
    if top.size == 0:
        return None
    runs = cv2.morphologyEx(cv2.dilate(top, np.ones((3, 1), np.uint8)), cv2.MORPH_OPEN,
                            np.ones((1, max(5, int(0.75 * (x1 - x0)))), np.uint8))
    rows = np.flatnonzero(runs.any(axis=1))
    rows = rows[rows > max(6, 0.25 * height)]
    if rows.size == 0:
        return None
    bar = int(rows[0])
    strip = (top[int(0.2 * height) if bar > height else 2:bar - 2, 4:int(0.35 * (x1 - x0))] > 0).astype(np.uint8)
    if strip.size == 0:
        return None
    n, _, stats, _ = cv2.connectedComponentsWithStats(strip, connectivity=8)
    dots = [stats[i] for i in range(1, n) if 3 <= max(stats[i][2], stats[i][3]) <= max(6, bar)
            and 0.5 <= stats[i][2] / max(stats[i][3], 1) <= 2.0]
    if len(dots) < 2:
        return None
    cys = [d[1] + d[3] / 2 for d in dots]
    return y0 + bar if max(cys) - min(cys) < 0.5 * bar else None


# -- orientation --------------------------------------------------------------------------------------------
def _score(words: list[Word]) -> float:
    """How well a reading reads: confident words of several letters, in lines wider than tall."""
    return sum(w.confidence * len(w.text) for w in words if len(w.text) >= 2 and w.box.w >= w.box.h)


def _turn_score(turn: int, words: list[Word]) -> float:
    """A reading's score, weighed against turning the photo: the photo as taken wins ties. A half turn must read
    clearly better and read several words (the sketches' upright readings score 0.6 or less turned over, their
    upside-down photos a sixth or less; a word or two of printed scrap at a page's edge is no evidence)."""
    score = _score(words)
    if turn == 0:
        return 1.15 * score
    if turn == 180:
        return score / 1.5 if score >= 12 else 0.0
    return score


def upright(bgr: np.ndarray, read: Any) -> tuple[np.ndarray, list[Word], int]:
    """The sketch turned so that its writing reads left to right, its words, and the turn in degrees (clockwise).

    ``read(image) -> [Word]`` is the OCR. A sketch with text lines standing on end is read turned both ways and
    the better reading wins; any other is read upside down too. A sketch with no words is turned
    when its strokes run mostly up and down (a wireframe's text lines and bars run across).
    """
    import cv2

    words = read(bgr)
    longish = [w for w in words if len(w.text) >= 3]
    tall = sum(1 for w in longish if w.box.h > 1.3 * w.box.w)
    wide = sum(1 for w in longish if w.box.w > 1.3 * w.box.h)
    turns = {0: (bgr, words)}
    if tall >= 3 and tall > 2 * wide:
        for deg, code in ((90, cv2.ROTATE_90_CLOCKWISE), (270, cv2.ROTATE_90_COUNTERCLOCKWISE)):
            img = cv2.rotate(bgr, code)
            turns[deg] = (img, read(img))
    elif not longish and _strokes_stand(bgr):
        img = cv2.rotate(bgr, cv2.ROTATE_90_CLOCKWISE)
        return img, read(img), 90
    elif words:
        # upside-down handwriting reads as confident one- and two-letter scraps (":am", "od"), so a weak
        # reading cannot be told by its confidence: read it the other way up as well and keep the better
        img = cv2.rotate(bgr, cv2.ROTATE_180)
        turns[180] = (img, read(img))
    best = max(turns, key=lambda d: _turn_score(d, turns[d][1]))
    return turns[best][0], turns[best][1], best


def _strokes_stand(bgr: np.ndarray) -> bool:
    """Most long strokes run up and down: a wireframe with no words photographed sideways."""
    import cv2

    from tools.vision._sketch_detect import ink_mask

    mask = ink_mask(bgr)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    w, h = stats[1:, 2], stats[1:, 3]
    side = max(mask.shape) / 40
    across = int(np.sum((w > 3 * h) & (w > side)))
    up = int(np.sum((h > 3 * w) & (h > side)))
    return up >= 4 and up > 2.5 * across


def level(bgr: np.ndarray) -> tuple[np.ndarray, float, np.ndarray | None]:
    """The sketch rotated so that its long straight strokes lie level (a tilt under 1 degree is left alone), the
    angle, and the 2x3 matrix that took the original's points to the levelled image's (None when not turned)."""
    import cv2

    from tools.vision._sketch_detect import ink_mask

    small = bgr
    scale = 1.0
    if max(bgr.shape[:2]) > 800:
        scale = 800 / max(bgr.shape[:2])
        small = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = ink_mask(small)
    segs = cv2.HoughLinesP(mask, 1, np.pi / 360, threshold=60, minLineLength=int(0.15 * max(mask.shape)),
                           maxLineGap=6)
    if segs is None:
        return bgr, 0.0, None
    angles, weights = [], []
    for x0, y0, x1, y1 in np.asarray(segs).reshape(-1, 4):
        a = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        a = (a + 45) % 90 - 45  # horizontal and vertical strokes both say how far the sheet is turned
        if abs(a) < 12:
            angles.append(a)
            weights.append(float(np.hypot(x1 - x0, y1 - y0)))
    if len(angles) < 4:
        return bgr, 0.0, None
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    angle = float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])
    # the rules read a hand-drawn box a few degrees off as a box; turning costs a resample and, near the edges, ink
    if abs(angle) < 2.5 or abs(angle) > 12:
        return bgr, 0.0, None
    h, w = bgr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    # a canvas large enough for the turned sheet, so no corner of the drawing is cut off
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    paper = [int(np.median(bgr[:, :, c])) for c in range(bgr.shape[2])] if bgr.ndim == 3 else int(np.median(bgr))
    return cv2.warpAffine(bgr, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=paper), angle, m


def move_box(box: Box, m: np.ndarray) -> Box:
    """``box`` with its centre moved by the affine matrix ``m``, its size kept."""
    cx, cy = m @ np.array([box.cx, box.cy, 1.0])
    return Box(cx - box.w / 2, cy - box.h / 2, cx + box.w / 2, cy + box.h / 2)


# -- sections -----------------------------------------------------------------------------------------------
_CONTAINERS = ("nav", "header", "section", "card", "form", "footer")
_SMALL_TEXT = ("Label", "Link", "Button", "Image")


def sections_of(top: list[Element], dividers: list[Box], height: float) -> list[Element]:
    """Top-level elements grouped into named bands (see the module docstring). Existing containers stay."""
    if len(top) < 4:
        return top
    items = sorted(top, key=lambda e: (e.box.y0, e.box.x0))
    bands: list[list[Element]] = [[items[0]]]
    bottom = items[0].box.y1
    for e in items[1:]:
        split = e.box.y0 - bottom > 1.5 * height or any(bottom - height < d.cy < e.box.y0 + 0.3 * height
                                                         and d.w > 0.3 * (e.box.x1 - e.box.x0) for d in dividers)
        if split and e.box.y0 >= bottom - 0.3 * height:
            bands.append([e])
        else:
            bands[-1].append(e)
        bottom = max(bottom, e.box.y1)
    if len(bands) < 2:
        return top
    out: list[Element] = []
    for n, band in enumerate(bands):
        cards = [e for e in band if e.role == "card"]
        if len(cards) == len(band) >= 3 and _one_row(band, height):
            box = band[0].box
            for e in band[1:]:
                box = box.union(e.box)
            out.append(Element("section", box.pad(0.3 * height, 0.3 * height), "", 0.5,
                               children=sorted(band, key=lambda e: e.box.x0), kind="features"))
            continue
        if len(band) == 1 or all(e.role in _CONTAINERS for e in band):
            out.extend(band)
            continue
        role, kind, children = _name_band(band, n, len(bands), height, out)
        box = band[0].box
        for e in band[1:]:
            box = box.union(e.box)
        out.append(Element(role, box.pad(0.3 * height, 0.3 * height), "", 0.5, children=children, kind=kind))
    return out


def _name_band(band: list[Element], n: int, count: int, height: float, before: list[Element]
               ) -> tuple[str, str, list[Element]]:
    roles = [e.role for e in band]
    row = _one_row(band, height)
    leaves = [e for e in band if e.role not in _CONTAINERS]
    if n == 0 and row and len(band) >= 2 and all(r in _SMALL_TEXT + ("Heading",) for r in roles):
        return "nav", "", band
    if n == count - 1 and count >= 3 and all(r in _SMALL_TEXT + ("Paragraph",) for r in roles) and len(band) >= 2:
        return "footer", "", band
    fields = sum(r in ("TextBox", "ComboBox", "CheckBox", "RadioButton") for r in roles)
    if fields >= 2 or (fields and "Button" in roles and len(leaves) <= 4):
        return "form", "", band
    columns = _columns(band, height)
    if len(columns) >= 3 and max(len(c) for c in columns) <= 4:
        widths = [max(e.box.x1 for e in c) - min(e.box.x0 for e in c) for c in columns]
        if max(widths) < 1.8 * min(widths):
            cards = []
            for c in columns:
                box = c[0].box
                for e in c[1:]:
                    box = box.union(e.box)
                cards.append(Element("card", box.pad(0.2 * height, 0.2 * height), "", 0.45,
                                     children=sorted(c, key=lambda e: (e.box.y0, e.box.x0))))
            return "section", "features", cards
    heads = not any(e.kind == "hero" for e in before)
    if heads and "Heading" in roles and ("Button" in roles or "Image" in roles) and len(leaves) >= 2:
        return "section", "hero", band
    return "section", "", band


def _one_row(band: list[Element], height: float) -> bool:
    cy = median(e.box.cy for e in band)
    return all(abs(e.box.cy - cy) < 1.2 * height for e in band)


def _columns(band: list[Element], height: float) -> list[list[Element]]:
    """Elements grouped into columns that do not overlap sideways."""
    cols: list[list[Element]] = []
    for e in sorted(band, key=lambda e: e.box.x0):
        for c in cols:
            if e.box.x0 < max(o.box.x1 for o in c) - 0.3 * height:
                c.append(e)
                break
        else:
            cols.append([e])
    return cols
