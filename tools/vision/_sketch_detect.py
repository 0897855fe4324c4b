"""Hand-drawn UI sketch detection: ink shapes from OpenCV, words from an OCR engine, classes from heuristics.

The pipeline, on an image scaled to at most :data:`WORK_SIDE` pixels:

1. Ink mask: flatten uneven lighting (divide by a blurred background), take the darkest colour channel so that
   coloured markers count as ink, threshold with Otsu.
2. Closed shapes: the holes of the ink mask (RETR_CCOMP level-1 contours) that fill most of their bounding box.
   Small ones (about a text line high) are checkbox squares or radio circles; larger ones are boxes.
3. Words: OCR word boxes, grouped into phrases by horizontal gaps.
4. Classes: a box with diagonals is an Image, a box with a small box or a "v" at its right end a ComboBox, a box
   with words a Button, an empty wide box a TextBox; a mark with a phrase to its right a CheckBox/RadioButton;
   phrases are Headings (tall or first and large), Links (underlined), Paragraphs (stacked lines) or Labels.

All sizes are relative to the median word height, so the same rules hold for a whiteboard photo and a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Protocol

import numpy as np

__all__ = ["Box", "Word", "Element", "OcrEngine", "detect_elements", "ink_mask", "WORK_SIDE"]

WORK_SIDE = 1280
"""Longest side of the working image: enough for handwriting, small enough for 2 s an image on 2 cores."""

_CHECK_GLYPHS = "□口囗☐☑☒▢■"
_RADIO_WORD = re.compile(r"^[oO0@©◎⊙●○]$")
_RADIO_PREFIX = re.compile(r"^[oO0@©◎⊙●○](?=[A-Z])")


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


@dataclass
class Element:
    """A detected element in working-image pixels; ``role`` uses the layout roles."""

    role: str
    box: Box
    text: str = ""
    confidence: float = 0.5
    children: list[Element] = field(default_factory=list)


class OcrEngine(Protocol):
    """Reads words: ``(image_bgr) -> [Word]`` in the image's pixels."""

    def __call__(self, image: np.ndarray) -> list[Word]: ...


# -- ink and shapes -----------------------------------------------------------------------------------------
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
    otsu, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Otsu on a nearly blank page picks noise; strokes are always well below the paper level
    level = min(otsu, 200.0)
    mask = (flat < level).astype(np.uint8) * 255
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))


@dataclass
class _Shape:
    box: Box
    round: bool
    fill: float


def _closed_shapes(mask: np.ndarray, min_side: float) -> list[_Shape]:
    """Holes of the ink mask that look like drawn rectangles or circles."""
    import cv2

    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    shapes: list[_Shape] = []
    if hierarchy is None:
        return shapes
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
        shapes.append(_Shape(Box(x, y, x + w, y + h), _is_round(contour, w, h), fill))
    return shapes


def _frames(mask: np.ndarray, min_side: float) -> list[_Shape]:
    """Connected strokes that run along the four sides of their bounding box: drawn boxes, even with a gap
    in the outline that leaves no closed hole."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[_Shape] = []
    img_area = mask.shape[0] * mask.shape[1]
    for i in range(1, count):
        x, y, w, h, n = (int(v) for v in stats[i])
        if min(w, h) < min_side or w * h > 0.9 * img_area or n > 0.5 * w * h:
            continue
        comp = labels[y:y + h, x:x + w] == i
        band = max(3, int(0.2 * min(w, h)))
        sides = (comp[:band].any(axis=0).mean(), comp[-band:].any(axis=0).mean(),
                 comp[:, :band].any(axis=1).mean(), comp[:, -band:].any(axis=1).mean())
        if min(sides) < 0.5 or sorted(sides)[1] < 0.75:
            continue
        inner = comp[band:-band, band:-band]
        if inner.size and inner.mean() > 0.12:
            continue  # a dense blob (a filled mark, a scribble), not a frame
        out.append(_Shape(Box(x, y, x + w, y + h), False, 1.0))
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


def _diagonal_ink(mask: np.ndarray, box: Box) -> float:
    """Share of points on both diagonals of ``box`` that lie on ink (an X marks an image placeholder)."""
    x0, y0, x1, y1 = int(box.x0), int(box.y0), int(box.x1) - 1, int(box.y1) - 1
    if x1 - x0 < 6 or y1 - y0 < 6:
        return 0.0
    grown = _dilate(mask, 7)
    scores = []
    for ax, ay, bx, by in ((x0, y0, x1, y1), (x0, y1, x1, y0)):
        t = np.linspace(0.15, 0.85, 40)
        xs = np.clip((ax + (bx - ax) * t).astype(int), 0, mask.shape[1] - 1)
        ys = np.clip((ay + (by - ay) * t).astype(int), 0, mask.shape[0] - 1)
        scores.append(float((grown[ys, xs] > 0).mean()))
    return min(scores)


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask, np.ones((k, k), np.uint8))


def _underlined(mask: np.ndarray, box: Box, height: float) -> bool:
    """A stroke just under ``box`` about as wide as it (not a page-wide divider)."""
    y0 = int(box.y1 - 0.15 * height)
    y1 = int(min(mask.shape[0], box.y1 + 0.6 * height))
    x0, x1 = int(max(0, box.x0 - height)), int(min(mask.shape[1], box.x1 + height))
    if y1 <= y0 or x1 <= x0:
        return False
    band = mask[y0:y1, x0:x1] > 0
    cols = band.any(axis=0)
    core = cols[int(height): len(cols) - int(height)] if len(cols) > 2 * height else cols
    if core.size == 0 or core.mean() < 0.8:
        return False
    # a divider continues well past the text: look beyond the box on both sides
    wide0, wide1 = int(max(0, box.x0 - 3 * height)), int(min(mask.shape[1], box.x1 + 3 * height))
    outside = np.concatenate([mask[y0:y1, wide0:x0].any(axis=0), mask[y0:y1, x1:wide1].any(axis=0)])
    return outside.size == 0 or outside.mean() < 0.7


# -- words into phrases -------------------------------------------------------------------------------------
def _phrases(words: list[Word], height: float, separators: list[Box] = ()) -> list[list[Word]]:  # type: ignore[assignment]
    """Words on one line whose gaps are under about a letter height (and hold no mark): one phrase each."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.box.cy):
        for row in rows:
            if row[-1].box.v_overlap(word.box) > 0.5 and abs(row[-1].box.cy - word.box.cy) < 0.6 * height:
                row.append(word)
                break
        else:
            rows.append([word])
    phrases: list[list[Word]] = []
    for row in rows:
        row.sort(key=lambda w: w.box.x0)
        current = [row[0]]
        for word in row[1:]:
            gap = word.box.x0 - current[-1].box.x1
            between = any(current[-1].box.cx < m.cx < word.box.cx and m.v_overlap(word.box) > 0.4
                          for m in separators)
            if between or gap > 1.1 * max(height, min(word.box.h, current[-1].box.h)):
                phrases.append(current)
                current = [word]
            else:
                current.append(word)
        phrases.append(current)
    return phrases


def _union(boxes: list[Box]) -> Box:
    out = boxes[0]
    for b in boxes[1:]:
        out = out.union(b)
    return out


def _text(words: list[Word]) -> str:
    return " ".join(w.text for w in words).strip()


def _conf(words: list[Word]) -> float:
    return float(sum(w.confidence for w in words) / len(words)) if words else 0.5


def _is_glyph(text: str) -> bool:
    t = text.strip()
    return bool(t) and all(c in _CHECK_GLYPHS + "[]|" for c in t)


def _tighten(word: Word, mask: np.ndarray) -> Word:
    """Shrink an OCR box (padded by the detector) to the ink inside it."""
    x0, y0 = max(int(word.box.x0), 0), max(int(word.box.y0), 0)
    x1, y1 = min(int(word.box.x1), mask.shape[1]), min(int(word.box.y1), mask.shape[0])
    sub = mask[y0:y1, x0:x1] > 0
    if sub.size == 0:
        return word
    rows = np.flatnonzero(sub.sum(axis=1) > max(1, 0.01 * sub.shape[1]))
    cols = np.flatnonzero(sub.any(axis=0))
    if rows.size < 3 or cols.size < 2:
        return word
    text = word.text.rstrip(_CHECK_GLYPHS + "[]|").lstrip(_CHECK_GLYPHS + "[]|") or word.text
    return Word(Box(x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1), text, word.confidence)


def _strip_mark(text: str) -> str:
    text = text.lstrip(_CHECK_GLYPHS + " []|")
    parts = text.split(" ", 1)
    if len(parts) == 2 and _RADIO_WORD.match(parts[0]):
        return parts[1]
    return _RADIO_PREFIX.sub("", text)


# -- classification -----------------------------------------------------------------------------------------
def detect_elements(bgr: np.ndarray, words: list[Word]) -> list[Element]:
    """Elements of a sketch: leaves (the 10 sketch classes) nested in containers, in working-image pixels.

    Args:
        bgr: The sketch as a BGR (or grey) uint8 array, already scaled to the working size.
        words: OCR words in the same pixels.

    Example:
        >>> import numpy as np
        >>> page = np.full((200, 300, 3), 255, np.uint8)
        >>> page[50:52, 40:200] = page[120:122, 40:200] = 0
        >>> page[50:122, 40:42] = page[50:122, 198:200] = 0
        >>> [e.role for e in detect_elements(page, [])]
        ['TextBox']
    """
    mask = ink_mask(bgr)
    words = [_tighten(w, mask) for w in words if w.text.strip()]
    heights = [w.box.h for w in words if not _is_glyph(w.text)]
    height = float(median(heights)) if heights else max(12.0, max(mask.shape) / 40)
    shapes = _closed_shapes(mask, min_side=0.35 * height)
    holes = [s.box for s in shapes]
    shapes += [f for f in _frames(mask, 0.5 * height)
               if not any(f.box.inter(b) > 0.5 * f.box.area for b in holes)]
    # OCR often reads a drawn checkbox as a glyph; where no shape was found there, the glyph is the mark
    for w in words:
        if _is_glyph(w.text) and not any(s.box.inter(w.box) > 0.3 * w.box.area for s in shapes):
            shapes.append(_Shape(w.box, False, 1.0))
    words = [w for w in words if not _is_glyph(w.text)]
    marks = [s for s in shapes if max(s.box.w, s.box.h) < 1.9 * height and 0.5 < s.box.w / max(s.box.h, 1) < 2.0]
    boxes = [s for s in shapes if s not in marks and max(s.box.w, s.box.h) >= 1.9 * height
             and min(s.box.w, s.box.h) >= 0.6 * height]
    boxes = _drop_nested_duplicates(boxes)
    # marks drawn inside a box's border (a letter's hole, the square of a combo box) are not checkboxes
    marks = [m for m in marks if not any(m.box.inside(b.box, 2) for b in boxes)]
    marks = _drop_nested_duplicates(marks)

    used: set[int] = set()
    leaves: list[Element] = []
    box_elements: list[tuple[Element, list[int]]] = []
    for shape in sorted(boxes, key=lambda s: s.box.area):
        inner = [i for i, w in enumerate(words) if i not in used and shape.box.contains_point(w.box.cx, w.box.cy)]
        element = _classify_box(shape, [words[i] for i in inner], boxes, mask, height)
        box_elements.append((element, inner))
    # a box holding other boxes or several phrases is a container, not a control
    for element, inner in box_elements:
        holds = sum(1 for other, _ in box_elements if other is not element and other.box.inside(element.box, 4))
        if holds >= 2 or (holds >= 1 and element.box.area > 6 * height * height * 4):
            element.role = "section"
            continue
        if element.role == "Button" and len(_phrases([words[i] for i in inner], height)) > 2:
            element.role = "section"
            continue
        used.update(inner)
        leaves.append(element)

    free = [w for i, w in enumerate(words) if i not in used and w.text.strip()]
    phrases = _phrases(free, height, [m.box for m in marks])
    boxes_of = [_union([w.box for w in p]) for p in phrases]
    pairs = _pair_marks(marks, boxes_of, height)
    rest: list[list[Word]] = []
    for pi, phrase in enumerate(phrases):
        pbox, text = boxes_of[pi], _text(phrase)
        if pi in pairs:
            mark = marks[pairs[pi]]
            role = "RadioButton" if mark.round else "CheckBox"
            leaves.append(Element(role, mark.box.union(pbox), _strip_mark(text), _conf(phrase)))
        elif text[:1] in _CHECK_GLYPHS:
            leaves.append(Element("CheckBox", pbox, _strip_mark(text), _conf(phrase)))
        elif (len(phrase) > 1 and _RADIO_WORD.match(phrase[0].text.strip())) or _RADIO_PREFIX.match(text):
            leaves.append(Element("RadioButton", pbox, _strip_mark(text), _conf(phrase)))
        else:
            rest.append(phrase)
    taken = set(pairs.values())
    for i, mark in enumerate(marks):
        if i not in taken:
            leaves.append(Element("RadioButton" if mark.round else "CheckBox", mark.box, "", 0.4))
    leaves.extend(_text_elements(rest, mask, height))
    _pad_text(leaves, height)
    return _nest(leaves, [e for e, _ in box_elements if e.role == "section"])


def _drop_nested_duplicates(shapes: list[_Shape]) -> list[_Shape]:
    """A box drawn with a double stroke gives two nested holes of nearly the same size: keep the outer."""
    keep: list[_Shape] = []
    for s in sorted(shapes, key=lambda s: -s.box.area):
        if any(s.box.inside(k.box, 2) and s.box.area > 0.6 * k.box.area for k in keep):
            continue
        keep.append(s)
    return keep


def _classify_box(shape: _Shape, inner: list[Word], boxes: list[_Shape], mask: np.ndarray,
                  height: float) -> Element:
    box = shape.box
    text = _text(inner)
    conf = _conf(inner) if inner else 0.6
    if shape.round and not inner:
        return Element("RadioButton", box, "", 0.5)
    # a combo box: a small square cell glued to the right end of a wider box, or a "v" written there
    for other in boxes:
        ob = other.box
        if (ob is not box and ob.x0 >= box.x1 - 0.3 * height and ob.x0 - box.x1 < 0.6 * height
                and box.v_overlap(ob) > 0.7 and ob.w < 0.6 * box.w and ob.w < 2.5 * ob.h):
            return Element("ComboBox", box.union(ob), _strip_combo(text), conf)
    right = [w for w in inner if w.box.cx > box.x0 + 0.75 * box.w]
    if right and re.fullmatch(r"[vV∨▽▼√Y]", right[-1].text.strip()) and box.w > 1.5 * box.h:
        return Element("ComboBox", box, _strip_combo(text), conf)
    if not inner and _diagonal_ink(mask, box) > 0.8:
        return Element("Image", box, "", 0.7)
    if inner:
        return Element("Button", box, text, conf)
    if box.w > 2.0 * box.h:
        return Element("TextBox", box, "", 0.6)
    if box.area > 40 * height * height:
        return Element("Image", box, "", 0.4)
    return Element("TextBox", box, "", 0.4)


def _strip_combo(text: str) -> str:
    return re.sub(r"\s*[vV∨▽▼]$", "", text)


def _pair_marks(marks: list[_Shape], phrases: list[Box], height: float) -> dict[int, int]:
    """Phrase index -> mark index for checkbox/radio labels.

    People put the mark on one side of its label consistently within a sketch. Marks with a phrase on one side
    only vote for that side; then each mark takes the nearest free phrase on the voted side, or the other side.
    """
    reach = 2.5 * height

    def gap(mark: Box, phrase: Box, side: str) -> float | None:
        if mark.v_overlap(phrase) < 0.4:
            return None
        g = phrase.x0 - mark.x1 if side == "right" else mark.x0 - phrase.x1
        return g if -0.5 * mark.w <= g < reach else None

    votes = {"right": 0, "left": 0}
    for m in marks:
        sides = [side for side in votes if any(gap(m.box, p, side) is not None for p in phrases)]
        if len(sides) == 1:
            votes[sides[0]] += 1
    order = ["right", "left"] if votes["right"] >= votes["left"] else ["left", "right"]
    pairs: dict[int, int] = {}
    for side in order:
        for mi, m in sorted(enumerate(marks), key=lambda it: (it[1].box.y0, it[1].box.x0)):
            if mi in pairs.values():
                continue
            options = [(g, pi) for pi, p in enumerate(phrases)
                       if pi not in pairs and (g := gap(m.box, p, side)) is not None]
            if options:
                pairs[min(options)[1]] = mi
    return pairs


def _text_elements(phrases: list[list[Word]], mask: np.ndarray, height: float) -> list[Element]:
    """Headings, Links, Paragraphs and Labels from the phrases left over."""
    items = sorted(((_union([w.box for w in p]), p) for p in phrases), key=lambda it: (it[0].y0, it[0].x0))
    out: list[Element] = []
    merged: set[int] = set()
    for i, (pbox, phrase) in enumerate(items):
        if i in merged:
            continue
        # stacked lines with the same left edge and tight spacing are one paragraph
        block, bbox = [phrase], pbox
        for j in range(i + 1, len(items)):
            qbox, q = items[j]
            if j in merged:
                continue
            # only long lines make a paragraph: short stacked labels are a form's field names
            if (0 <= qbox.y0 - bbox.y1 < 0.8 * height and abs(qbox.x0 - bbox.x0) < 1.5 * height
                    and qbox.h < 1.4 * height and pbox.h < 1.4 * height
                    and min(qbox.w, pbox.w) > 7 * height and max(qbox.w, pbox.w) > 9 * height):
                block.append(q)
                bbox = bbox.union(qbox)
                merged.add(j)
        words = [w for p in block for w in p]
        text = " ".join(_text(p) for p in block)
        if len(block) >= 2:
            out.append(Element("Paragraph", bbox, text, _conf(words)))
        elif pbox.h > 1.45 * height or (pbox.y0 < 0.12 * mask.shape[0] and pbox.h > 1.15 * height):
            out.append(Element("Heading", pbox, text, _conf(words)))
        elif _underlined(mask, pbox, height):
            out.append(Element("Link", pbox, text, _conf(words)))
        else:
            out.append(Element("Label", pbox, text, _conf(words)))
    return out


def _pad_text(elements: list[Element], height: float) -> None:
    """People draw their boxes loosely around text; pad text-only boxes the same way."""
    for e in elements:
        if e.role in ("Label", "Heading", "Paragraph", "Link", "CheckBox", "RadioButton"):
            e.box = e.box.pad(0.3 * min(e.box.h, 2 * height), 0.2 * min(e.box.h, 2 * height))


def _nest(leaves: list[Element], containers: list[Element]) -> list[Element]:
    """Put each leaf into the smallest container that holds its centre; containers into larger ones."""
    containers = sorted(containers, key=lambda c: c.box.area)
    top: list[Element] = []
    for item in [*leaves, *containers]:
        holders = [c for c in containers if c is not item and c.box.area > item.box.area
                   and c.box.contains_point(item.box.cx, item.box.cy)]
        if holders:
            holders[0].children.append(item)
        else:
            top.append(item)
    for c in containers:
        c.children.sort(key=lambda e: (e.box.y0, e.box.x0))
    return sorted(top, key=lambda e: (e.box.y0, e.box.x0))
