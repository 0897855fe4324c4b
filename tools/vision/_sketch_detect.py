"""Hand-drawn UI sketch detection, part 1: boxes, words, and the ink shapes OpenCV finds.

The pipeline, on an image scaled to at most :data:`WORK_SIDE` pixels:

1. Ink mask: flatten uneven lighting (divide by a blurred background), take the darkest colour channel so that
   coloured markers count as ink, threshold with Otsu.
2. Closed shapes: the holes of the ink mask (RETR_CCOMP level-1 contours) that fill most of their bounding box.
   Small ones (about a text line high) are checkbox squares or radio circles; larger ones are boxes. A round blob
   with ink in its middle is a selected radio button whose dot closed the ring's hole.
3. Words: OCR word boxes, grouped into phrases by horizontal gaps.
4. Classes: a box with diagonals is an Image, a box with a small box or a "v" at its right end a ComboBox, a box
   with words a Button, an empty wide box a TextBox; a mark with a phrase to its right a CheckBox/RadioButton;
   phrases are Headings (tall or first and large), Links (underlined), Paragraphs (stacked lines) or Labels.

All sizes are relative to the median word height, so the same rules hold for a whiteboard photo and a scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from tools.vision._contrast import deepened

__all__ = ["Box", "Word", "Element", "Shape", "OcrEngine", "ink_mask", "closed_shapes", "frames", "filled_rings",
           "crossed", "square_at_start", "arrow_cell",
           "underlined", "dilate", "WORK_SIDE"]

WORK_SIDE = 1280
"""Longest side of the working image: enough for handwriting, small enough for 2 s an image on 2 cores."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in working-image pixels (x0, y0 inclusive; x1, y1 exclusive)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def w(self) -> float:
        return self.x1 - self.x0

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    def union(self, other: Box) -> Box:
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def inter(self, other: Box) -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def contains_point(self, x: float, y: float) -> bool:
        return self.x0 <= x <= self.x1 and self.y0 <= y <= self.y1

    def inside(self, other: Box, slack: float = 0.0) -> bool:
        return (self.x0 >= other.x0 - slack and self.y0 >= other.y0 - slack and self.x1 <= other.x1 + slack
                and self.y1 <= other.y1 + slack)

    def v_overlap(self, other: Box) -> float:
        """Vertical overlap as a fraction of the shorter box's height."""
        o = min(self.y1, other.y1) - max(self.y0, other.y0)
        return max(o, 0.0) / max(min(self.h, other.h), 1e-6)

    def pad(self, dx: float, dy: float) -> Box:
        return Box(self.x0 - dx, self.y0 - dy, self.x1 + dx, self.y1 + dy)


@dataclass
class Word:
    box: Box
    text: str
    confidence: float
    line: int = -1  # index of the OCR text line it was read in (-1: unknown)


@dataclass
class Element:
    """A detected element in working-image pixels; ``role`` uses the layout roles."""

    role: str
    box: Box
    text: str = ""
    confidence: float = 0.5
    children: list[Element] = field(default_factory=list)
    kind: str = ""  # a finer kind within the role (LayoutElement.kind): "icon:search", "toggle", "placeholder"...


class OcrEngine(Protocol):
    """Reads words: ``(image_bgr) -> [Word]`` in the image's pixels."""

    def __call__(self, image: np.ndarray) -> list[Word]: ...


# -- ink and shapes -----------------------------------------------------------------------------------------
_LONG = 0.05  # a stroke this share of the image's long side is a drawn line, however thin
_FAINT = 150.0
"""Grey (of 255, on the flattened page) the darkest ink is deepened to when it is fainter: a pen sketch's darkest
ink lies below it, a pencil's may not (copies of the dev sketches at 0.45x contrast: F1 0.57 as they are, 0.86
deepened)."""


def ink_mask(bgr: np.ndarray) -> np.ndarray:
    """Binary mask (uint8 0/255) of pen strokes, robust to shading, paper texture and coloured ink."""
    import cv2

    dark = bgr.min(axis=2) if bgr.ndim == 3 else bgr
    # background estimate: strokes are thin, so a large median removes them and keeps the shading
    side = max(dark.shape)
    k = max(31, (side // 20) | 1)
    small = cv2.resize(dark, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    bg = cv2.medianBlur(small, max(3, (k // 4) | 1))
    bg = cv2.resize(bg, (dark.shape[1], dark.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(dark.astype(np.float32), bg.astype(np.float32) + 1.0, scale=255.0)
    flat = np.clip(flat, 0, 255).astype(np.uint8)
    flat = deepened(flat, _FAINT)
    otsu, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Otsu on a nearly blank page picks noise; strokes are always well below the paper level
    level = min(otsu, 200.0)
    mask = (flat <= level).astype(np.uint8) * 255
    # the opening takes specks of paper grain away, and with them the 1 px pencil lines of a photo taken from
    # afar: the long strokes come back whole, or their frames fall apart into dashes
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    long = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= _LONG * max(mask.shape)
    long[0] = False
    strokes = np.where(long[labels], 255, 0).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) | strokes
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))


@dataclass
class Shape:
    box: Box
    round: bool
    fill: float
    outer: Box | None = None  # bounding box of the stroke that encloses the hole


def closed_shapes(mask: np.ndarray, min_side: float) -> list[Shape]:
    """Holes of the ink mask that look like drawn rectangles or circles."""
    import cv2

    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    shapes: list[Shape] = []
    if hierarchy is None:
        return shapes
    outers = [cv2.boundingRect(c) for c in contours]
    img_area = mask.shape[0] * mask.shape[1]
    for contour, (_n, _p, _c, parent) in zip(contours, hierarchy[0], strict=True):
        if parent < 0:
            continue  # outer boundaries of strokes; the holes are the interiors we want
        x, y, w, h = cv2.boundingRect(contour)
        if min(w, h) < min_side or w * h > 0.9 * img_area:
            continue
        area = cv2.contourArea(contour)
        fill = area / float(w * h)
        if fill < 0.6:
            continue
        hull_area = cv2.contourArea(cv2.convexHull(contour))
        if hull_area <= 0 or area / hull_area < 0.85:
            continue  # concave holes are gaps between letters, not drawn shapes
        ox, oy, ow, oh = outers[parent]
        shapes.append(Shape(Box(x, y, x + w, y + h), _is_round(contour, w, h), fill,
                             Box(ox, oy, ox + ow, oy + oh)))
    return shapes


def frames(mask: np.ndarray, min_side: float, small: float = 0.0) -> list[Shape]:
    """Connected strokes that run along the four sides of their bounding box: drawn boxes, even with a gap
    in the outline that leaves no closed hole. Shapes under ``small`` px may miss most of one side (a quickly
    drawn checkbox is often a U)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[Shape] = []
    img_area = mask.shape[0] * mask.shape[1]
    for i in range(1, count):
        x, y, w, h, n = (int(v) for v in stats[i])
        if min(w, h) < min_side or w * h > 0.9 * img_area or n > 0.5 * w * h:
            continue
        comp = labels[y:y + h, x:x + w] == i
        band = max(3, int(0.2 * min(w, h)))
        sides = (comp[:band].any(axis=0).mean(), comp[-band:].any(axis=0).mean(),
                 comp[:, :band].any(axis=1).mean(), comp[:, -band:].any(axis=1).mean())
        open_side = 0.15 if max(w, h) < small else 0.5
        if min(sides) < open_side or sorted(sides)[1] < 0.75:
            continue
        inner = comp[band:-band, band:-band]
        if inner.size and inner.mean() > 0.3 and not _knob_at_end(inner):
            continue  # a dense blob (a filled mark, a scribble), not a frame; text touching a frame stays under
        out.append(Shape(Box(x, y, x + w, y + h), False, 1.0))
    return out


def _knob_at_end(inner: np.ndarray) -> bool:
    """All the ink inside sits in one end half: the knob of a toggle, not a scribble filling the shape."""
    cols = np.flatnonzero(inner.mean(axis=0) > 0.1)
    w = inner.shape[1]
    return bool(cols.size) and (cols[-1] < 0.55 * w or cols[0] > 0.45 * w)


def filled_rings(mask: np.ndarray, min_side: float, max_side: float) -> list[Shape]:
    """Round strokes with ink inside: a selected radio button drawn as a circle with a dot in it, whose dot
    touches the ring so that no clean hole is left."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[Shape] = []
    for i in range(1, count):
        x, y, w, h, n = (int(v) for v in stats[i])
        if not (min_side <= min(w, h) and max(w, h) <= max_side and 0.75 <= w / h <= 1.33 and n > 0.45 * w * h):
            continue
        comp = (labels[y:y + h, x:x + w] == i).astype(np.uint8)
        contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        c = max(contours, key=cv2.contourArea)
        hull = cv2.convexHull(c)
        area, hull_area, perimeter = cv2.contourArea(c), cv2.contourArea(hull), cv2.arcLength(hull, True)
        if perimeter <= 0 or hull_area <= 0 or area < 0.5 * hull_area or 4 * np.pi * hull_area / perimeter**2 < 0.85:
            continue
        centre = comp[h // 3:h - h // 3, w // 3:w - w // 3]
        ring = np.concatenate([comp[:max(1, h // 6)].ravel(), comp[-max(1, h // 6):].ravel()])
        if centre.mean() > 0.4 and ring.mean() > 0.3 and _is_round(c, w, h):
            out.append(Shape(Box(x, y, x + w, y + h), True, 1.0))
    return out


def _is_round(contour: Any, w: int, h: int) -> bool:
    """Circles leave the corners of their bounding box empty; squares fill them."""
    import cv2

    x, y = contour[:, 0, 0].min(), contour[:, 0, 1].min()
    canvas = np.zeros((h + 2, w + 2), np.uint8)
    cv2.drawContours(canvas, [contour - [x - 1, y - 1]], -1, 255, -1)
    cw, ch = max(1, w // 5), max(1, h // 5)
    corners = [canvas[1:1 + ch, 1:1 + cw], canvas[1:1 + ch, w + 1 - cw:w + 1],
               canvas[h + 1 - ch:h + 1, 1:1 + cw], canvas[h + 1 - ch:h + 1, w + 1 - cw:w + 1]]
    corner_fill = float(np.mean([c.mean() / 255.0 for c in corners]))
    return corner_fill < 0.45


def crossed(mask: np.ndarray, box: Box) -> bool:
    """An X across the box (the image placeholder): ink in the centre and the four corner cells of a 3x3 grid
    of the interior, little in the middle of each side."""
    mx, my = 0.12 * box.w, 0.12 * box.h
    x0, y0, x1, y1 = int(box.x0 + mx), int(box.y0 + my), int(box.x1 - mx), int(box.y1 - my)
    if x1 - x0 < 9 or y1 - y0 < 9:
        return False
    inner = mask[y0:y1, x0:x1] > 0
    hs, ws = np.array_split(np.arange(inner.shape[0]), 3), np.array_split(np.arange(inner.shape[1]), 3)
    cell = [[float(inner[np.ix_(r, c)].mean()) for c in ws] for r in hs]
    ink = 0.004
    corners = sum(cell[r][c] > ink for r in (0, 2) for c in (0, 2))
    edges = sum(v > ink for v in (cell[0][1], cell[1][0], cell[1][2], cell[2][1]))
    return cell[1][1] > ink and corners >= 3 and edges <= 3


def dilate(mask: np.ndarray, k: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask, np.ones((k, k), np.uint8))


def underlined(mask: np.ndarray, box: Box, height: float) -> bool:
    """A pen stroke just under ``box`` (or along its bottom edge), running under most of it, and not a page-wide
    divider. Only long horizontal runs count, so the descenders and baseline strokes of letters do not."""
    import cv2

    y0 = int(max(0, box.y1 - 0.45 * box.h))
    y1 = int(min(mask.shape[0], box.y1 + 0.6 * height))
    x0, x1 = int(max(0, box.x0)), int(min(mask.shape[1], box.x1))
    if y1 - y0 < 2 or x1 - x0 < 1.5 * height:
        return False
    wide0, wide1 = int(max(0, box.x0 - 2 * height)), int(min(mask.shape[1], box.x1 + 2 * height))
    k = max(7, int(0.7 * height))
    band = cv2.dilate(mask[y0:y1, wide0:wide1], np.ones((3, 3), np.uint8))
    runs = cv2.morphologyEx(band, cv2.MORPH_OPEN, np.ones((1, k), np.uint8)) > 0
    inside = runs[:, x0 - wide0:x1 - wide0]
    cols = inside.any(axis=0)
    if cols.mean() < 0.6:
        return False
    rows = np.flatnonzero(inside.mean(axis=1) > 0.3)
    if rows.size == 0 or rows[-1] < 0.4 * (y1 - y0):
        return False  # the long run is high in the band: a line of text, not under it
    # an underline ends near the ends of the text; the side of a box or a divider runs on past them
    reach = int(1.5 * height)
    sides = (runs[:, max(0, x0 - wide0 - reach):x0 - wide0], runs[:, x1 - wide0:x1 - wide0 + reach])
    if any(side.size and side.any(axis=0).mean() >= 0.7 for side in sides):
        return False
    # the bottom of a box around the text: where the line runs past the text, a side of the box rises from it
    covered = runs.any(axis=0)
    lo, hi = x0 - wide0, x1 - wide0
    while lo > 0 and covered[lo - 1]:
        lo -= 1
    while hi < covered.size and covered[hi]:
        hi += 1
    line_y = y0 + int(rows[-1])
    top = int(max(0, box.y0))
    margin = int(0.2 * height)  # the last letter's own stroke is not a side
    for a, b in ((wide0 + lo, x0 - margin), (x1 + margin, wide0 + hi)):
        if b - a > 0.15 * height:
            strip = mask[top:line_y, a:b] > 0
            if strip.size and strip.mean(axis=0).max() > 0.6:
                return False
    return True


def square_at_start(mask: np.ndarray, pbox: Box, height: float) -> bool:
    """The first stroke of a phrase is a hollow square about as tall as the text, set apart from the next."""
    import cv2

    x0, y0 = max(int(pbox.x0) - 2, 0), max(int(pbox.y0) - 2, 0)
    crop = mask[y0:int(pbox.y1) + 2, x0:int(pbox.x1) + 2]
    if crop.size == 0:
        return False
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(crop, connectivity=8)
    parts = sorted((tuple(int(v) for v in stats[i]) for i in range(1, count) if stats[i][4] > 4),
                   key=lambda st: st[0])
    if len(parts) < 2:
        return False
    x, y, w, h, n = parts[0]
    rest_x0 = min((p[0] for p in parts[1:] if p[0] > x), default=x + w)
    if not (0.8 * height <= h and 0.6 <= w / h <= 1.5 and n < 0.45 * w * h and rest_x0 - (x + w) > 0.1 * height):
        return False
    box = crop[y:y + h, x:x + w] > 0
    c = max(1, min(w, h) // 5)
    corners = [box[:c, :c], box[:c, -c:], box[-c:, :c], box[-c:, -c:]]
    return sum(float(k.mean()) > 0.15 for k in corners) >= 3  # a circle or a letter leaves its corners empty


def arrow_cell(mask: np.ndarray, box: Box) -> bool:
    """A combo box drawn as one frame: a vertical divider near the right end, with a mark (the arrow) after it."""
    if box.w < 1.8 * box.h:
        return False
    y0, y1 = int(box.y0 + 0.12 * box.h), int(box.y1 - 0.12 * box.h)
    x0, x1 = int(box.x1 - min(1.6 * box.h, 0.45 * box.w)), int(box.x1 - 0.1 * box.h)
    region = mask[y0:y1, x0:x1] > 0
    if region.size == 0:
        return False
    cols = np.flatnonzero(region.mean(axis=0) > 0.75)
    if cols.size == 0:
        return False
    cell = region[:, int(cols[0]) + max(2, int(0.1 * box.h)):]
    if cell.shape[1] < 0.25 * box.h:
        return False
    # ink in the middle band of the cell, away from the divider and the frame: the arrow
    return float(cell[int(0.2 * cell.shape[0]):int(0.8 * cell.shape[0])].mean()) > 0.03
