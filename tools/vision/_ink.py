"""The ink of a sketch photo as regions, read from the pixels alone (no element detector, no OCR).

This is the evidence ``sketch_fidelity`` judges a page against, so it must not share the analyser's blind spots:
it makes no guess about what an element *is* beyond three shapes anyone can see:

- ``box``: a closed, mostly hollow outline (an input, a button, a card, a section);
- ``image``: such an outline with both diagonals drawn (the wireframe convention for a picture);
- ``text``: any other ink (handwriting, squiggles standing for text, solid bars), grouped into line-sized blobs.

A frame drawn around the whole page (a phone or browser outline) is not content and is dropped; every region box
is a fraction of the content box (the extent of the remaining ink), so a photo with wide margins and a page
rendered at 1280 px compare directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tools.vision._contrast import deepened
from tools.vision._paper import paper_lines

__all__ = ["InkRegion", "InkReading", "read_ink", "diagonals_drawn"]

RegionKind = Literal["text", "box", "image"]

_DARK = 110
"""Grey level (of 255, after the light is flattened) under which ink is a pen's or pencil's, not a paper line's."""
_FAINT = 180.0
"""Grey the darkest ink of a faint sketch (pencil, an over-exposed photo) is deepened to before the threshold,
which wants a stroke 30 greys darker than the paper around it: a faint stroke breaks into pieces and a box into
scraps of "text". The real photos' darkest ink lies at 194 at most here (157 on the wireframes). On copies of the
25 dev sketches at 0.45x contrast, pages built from their own boxes pass 22 of 25 as they are and 25 deepened to
180 (200: 24)."""
_DESK = 0.5
"""Mean grey of what lies around the sheet, as a share of the sheet's, under which it is not paper."""
_WORK_SIDE = 1000
"""Longest side analysed, px: strokes stay 2+ px wide and one sketch takes well under a second."""
_MARGIN_GAP = 0.08
"""Clear gap, as a share of the content's width (height, at the top or bottom), that sets a mark in a margin apart
from the drawing."""


@dataclass(frozen=True)
class InkRegion:
    """One region of ink: where it is (fractions of the content box), what shape it has, how much ink it holds."""

    box: tuple[float, float, float, float]
    kind: RegionKind
    ink_px: int


@dataclass(frozen=True)
class InkReading:
    """The regions of a sketch, its content box (fractions of the image) and whether a page frame was dropped."""

    regions: list[InkRegion]
    content_box: tuple[float, float, float, float]
    frame: bool


def _ink_mask(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels darker than their surroundings: pen and pencil on paper, under uneven light; and among them the
    darkest, which no printed paper line reaches."""
    import cv2

    side = max(gray.shape)
    # flatten the light first (shadows, vignetting): divide by a blur much wider than a stroke
    k = max(31, (side // 12) | 1)
    background = cv2.medianBlur(gray, min(k, 255))
    flat = deepened(cv2.divide(gray, np.maximum(background, 1), scale=255), _FAINT)
    # a stroke is at least 12% darker than the paper around it; faint ruled or grid lines on paper are not
    # (measured on the dev photos, blue rules sit at 3-8% below the paper in grey)
    block = max(15, (side // 40) | 1)
    mask = (cv2.adaptiveThreshold(flat, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 30) > 0)
    # the pieces of printed lines that pass the threshold sit at a grey of 185-207 (median; 86-123 for the
    # darkest tenth) on four ruled and grid photos of the wireframes; a pen's core is darker than most of them
    return mask.astype(np.uint8), (mask & (flat < _DARK)).astype(np.uint8)


def _drop_rules(mask: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """The mask without lines that run across most of the sheet: a ruled or grid paper's lines, a margin line, the
    edges of a frame drawn around the whole page. None of them is content, and left in they join every stroke
    they cross into one blob.

    A line counts when it spans half the sheet; its run is found by an opening with a long, thin kernel, on a mask
    thickened a little across the line so that a photo's slight tilt (about 1 degree) does not break it."""
    import cv2

    h, w = mask.shape
    rules = np.zeros_like(mask)
    for horizontal in (True, False):
        span = w if horizontal else h
        thick = cv2.dilate(mask, np.ones((3, 1) if horizontal else (1, 3), np.uint8))
        kernel = np.ones((1, max(3, span // 5)) if horizontal else (max(3, span // 5), 1), np.uint8)
        runs = cv2.morphologyEx(thick, cv2.MORPH_OPEN, kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        for i in range(1, n):
            if stats[i, 2 if horizontal else 3] >= span / 2:
                rules |= (labels == i).astype(np.uint8)
    # ruled or grid paper whose lines are too faint to run whole: the pieces along each printed line
    rules |= paper_lines(mask, keep=dark)
    # a stroke the rule crossed is cut where the rule was; a small closing mends the cut (rules are 2-4 px)
    return cv2.morphologyEx(mask & (1 - rules), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return labels, stats


def _side_coverage(comp: np.ndarray) -> list[float]:
    """For each side of a component's bounding box (top, bottom, left, right): the share of positions along it
    that have ink within a band near that side. A hand-drawn outline wobbles, so the band is 12% of the short
    side deep (at least 3 px)."""
    h, w = comp.shape
    band = max(3, round(0.12 * min(h, w)))
    return [float(comp[:band].any(axis=0).mean()), float(comp[-band:].any(axis=0).mean()),
            float(comp[:, :band].any(axis=1).mean()), float(comp[:, -band:].any(axis=1).mean())]


def diagonals_drawn(comp: np.ndarray, beside: float = 0.55) -> bool:
    """Whether both diagonals of the box are inked (an X: the picture placeholder). Sampled along the middle
    60% of each diagonal, with a tolerance of 6% of the short side for a hand's wobble; and some line beside a
    diagonal must meet ink over less than ``beside`` of its length (see :func:`_clear_beside`)."""
    import cv2

    h, w = comp.shape
    tol = max(2, round(0.06 * min(h, w)))
    near = cv2.dilate(comp, np.ones((2 * tol + 1, 2 * tol + 1), np.uint8))
    t = np.linspace(0.2, 0.8, 40)
    xs = np.clip((t * (w - 1)).round().astype(int), 0, w - 1)
    ys = np.clip((t * (h - 1)).round().astype(int), 0, h - 1)
    main = near[ys, xs].mean()
    anti = near[ys, w - 1 - xs].mean()
    # 80%: a diagonal may pass behind a word or break where the pen lifted, but most of it must be there
    return bool(main >= 0.8 and anti >= 0.8 and _clear_beside(near, beside))


def _clear_beside(near: np.ndarray, most: float) -> bool:
    """Whether some line parallel to a diagonal, 15% of the box off it, runs mostly clear of ink across the
    box's middle. A box full of content (a card with a picture and text beside it) has ink along every line
    across it; an X has room beside its strokes, even with a word written in it. On the dev photos the clearest
    such line met ink over 27-53% of its length in X boxes and 60-90% in boxes of content."""
    h, w = near.shape
    t = np.linspace(0.3, 0.7, 30)
    ys = np.clip((t * (h - 1)).round().astype(int), 0, h - 1)
    met = []
    for off in (0.15, -0.15):
        xs = np.clip(((t + off) * (w - 1)).round().astype(int), 0, w - 1)
        met += [near[ys, xs].mean(), near[ys, w - 1 - xs].mean()]
    return bool(min(met) < most)


def _is_outline(comp: np.ndarray) -> bool:
    """A closed (or nearly closed) hollow box: ink along at least three sides, little ink inside."""
    h, w = comp.shape
    sides = _side_coverage(comp)
    if sum(s >= 0.7 for s in sides) < 3:  # a hand-drawn box may leave one side open or gapped
        return False
    band = max(3, round(0.12 * min(h, w)))
    inner = comp[band:h - band, band:w - band]
    # a filled bar (a text placeholder) is dense inside; an outline, even with an X or a word in it, is not
    return inner.size == 0 or float(inner.mean()) < 0.25


def _long_lines(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Pixels of horizontal or vertical strokes at least ``min_len`` long (thickened by 3 px across, so a hand's
    wobble or a photo's tilt does not break the run)."""
    import cv2

    lines = np.zeros_like(mask)
    for kernel, across in (((1, min_len), (3, 1)), ((min_len, 1), (1, 3))):
        thick = cv2.dilate(mask, np.ones(across, np.uint8))
        lines |= cv2.morphologyEx(thick, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))
    return lines & mask


def _frame(stats: np.ndarray, keep: list[int], labels: np.ndarray) -> int | None:
    """The page frame, if one was drawn: one outline around (nearly) all the ink, i.e. a phone or browser drawn
    around the page, often with the header's rule and a word or two touching it. A title or a note may be written
    outside it, so it need not span all the ink: it is the frame if it spans 85% of the ink's width and height,
    or if nine tenths of the ink lies within it and it spans half the ink each way."""
    if len(keep) < 2:
        return None
    x0 = min(stats[i, 0] for i in keep)
    y0 = min(stats[i, 1] for i in keep)
    x1 = max(stats[i, 0] + stats[i, 2] for i in keep)
    y1 = max(stats[i, 1] + stats[i, 3] for i in keep)
    i = max(keep, key=lambda i: stats[i, 2] * stats[i, 3])
    x, y, w, h = (int(v) for v in stats[i, :4])
    if sum(s >= 0.7 for s in _side_coverage((labels[y:y + h, x:x + w] == i).astype(np.uint8))) < 3:
        return None
    if w >= 0.85 * (x1 - x0) and h >= 0.85 * (y1 - y0):
        return i
    ink = sum(int(stats[j, 4]) for j in keep)
    outside = sum(int(stats[j, 4]) for j in keep if not _overlaps(stats[j, :4], (x, y, w, h)))
    if w >= 0.5 * (x1 - x0) and h >= 0.5 * (y1 - y0) and outside <= 0.1 * ink:
        return i
    return None


def _overlaps(a: Any, b: Any) -> bool:
    """Whether two (x, y, w, h) boxes share any pixel."""
    return bool(a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def _loosen(labels: np.ndarray, stats: np.ndarray, structure: list[int], min_px: int
            ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Take the straight strokes out of structural components (a frame, the paper's edge) and hand back what
    else was joined to them (a title touching the frame, words crossing the header rule) as components of their
    own: the labels and stats with those appended, and their indices."""
    import cv2

    if not structure:
        return labels, stats, []
    comp = np.isin(labels, structure).astype(np.uint8)
    x0 = min(stats[i, 0] for i in structure)
    y0 = min(stats[i, 1] for i in structure)
    span = min(max(stats[i, 0] + stats[i, 2] for i in structure) - x0,
               max(stats[i, 1] + stats[i, 3] for i in structure) - y0)
    # strokes half as long as the structure are its edges and rules; a box drawn against it is smaller
    loose = comp & (1 - _long_lines(comp, max(5, span // 2)))
    n0 = len(stats)
    _, more_labels, more_stats, _ = cv2.connectedComponentsWithStats(loose, connectivity=8)
    labels = np.where(np.isin(labels, structure), 0, labels)
    labels = np.where(more_labels > 0, more_labels + n0 - 1, labels)
    stats = np.concatenate([stats, more_stats[1:]])
    return labels, stats, [n0 + j - 1 for j in range(1, len(more_stats)) if more_stats[j, 4] >= min_px]


def read_ink(bgr: np.ndarray) -> InkReading:
    """Regions of ink of a sketch image (BGR, as :func:`tools.vision.sketch.load_sketch` returns it).

    Example:
        >>> import cv2
        >>> img = np.full((400, 600, 3), 255, np.uint8)
        >>> wave = np.array([(x, 60 + 8 * np.sin(x / 6)) for x in range(50, 250)], np.int32)
        >>> _ = cv2.polylines(img, [wave], False, (0, 0, 0), 3)                 # a squiggle: text
        >>> _ = cv2.rectangle(img, (50, 150), (250, 300), (0, 0, 0), 3)         # an input or a card
        >>> _ = cv2.rectangle(img, (320, 150), (550, 300), (0, 0, 0), 3)        # a picture: a box with an X
        >>> _ = cv2.line(img, (320, 150), (550, 300), (0, 0, 0), 3)
        >>> _ = cv2.line(img, (320, 300), (550, 150), (0, 0, 0), 3)
        >>> sorted(r.kind for r in read_ink(img).regions)
        ['box', 'image', 'text']
    """
    import cv2

    h, w = bgr.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(h, w))
    work = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else bgr
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY) if work.ndim == 3 else work
    mask = _drop_rules(*_ink_mask(gray)) & _sheet(gray)
    labels, stats = _components(mask)
    wh, ww = mask.shape
    # specks (dust, paper grain, JPEG noise) under 0.002% of the image are not ink anyone drew
    min_px = max(6, round(2e-5 * wh * ww))
    kept = [i for i in range(1, len(stats)) if stats[i, 4] >= min_px]
    structure = [i for i in kept if _background(stats[i], ww, wh)]
    keep = [i for i in kept if i not in structure]
    frame = _frame(stats, keep, labels)
    if frame is not None:
        structure.append(frame)
        keep.remove(frame)
        # what is written outside the screen drawn (the sheet's title, a note in the margin) is about the
        # sketch, not on the page: the analysis leaves it out too
        fx, fy, fw, fh = (int(v) for v in stats[frame, :4])
        keep = [i for i in keep if _overlaps(stats[i, :4], (fx, fy, fw, fh))]
    labels, stats, loose = _loosen(labels, stats, structure, min_px)
    keep += loose
    if not keep:
        return InkReading([], (0.0, 0.0, 0.0, 0.0), frame is not None)
    cx0 = min(stats[i, 0] for i in keep)
    cy0 = min(stats[i, 1] for i in keep)
    cx1 = max(stats[i, 0] + stats[i, 2] for i in keep)
    cy1 = max(stats[i, 1] + stats[i, 3] for i in keep)
    cw, ch = max(cx1 - cx0, 1), max(cy1 - cy0, 1)
    short = min(cw, ch)

    regions: list[InkRegion] = []
    rest = np.zeros_like(mask)
    for i in keep:
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        comp = (labels[y:y + bh, x:x + bw] == i).astype(np.uint8)
        # a box is at least 3% of the content's short side each way: smaller closed shapes are letters (o, D)
        if min(bw, bh) >= 0.03 * short and _is_outline(comp):
            # the X may be cut from the outline (a lifted pen, a ruled line taken out): look at all the ink
            kind: RegionKind = "image" if diagonals_drawn(mask[y:y + bh, x:x + bw]) else "box"
            regions.append(InkRegion(_norm((x, y, bw, bh), cx0, cy0, cw, ch), kind, int(stats[i, 4])))
        else:
            rest[y:y + bh, x:x + bw] |= comp
    # thin straight strokes a tenth of the content long are rules, separators and the edges of open outlines, not
    # text: a squiggle's waves and a word's letters are shorter, and a solid bar (a text placeholder) is thick
    span = max(5, short // 10)
    bars = cv2.morphologyEx(rest, cv2.MORPH_OPEN, np.ones((7, span), np.uint8))
    rest = rest & (1 - (_long_lines(rest, span) & (1 - bars)))
    pictures = [r.box for r in regions if r.kind == "image"]
    # the strokes of a picture placeholder (its X, a mountain) are the picture, not text within it
    texts = [r for r in _text_regions(rest, cx0, cy0, cw, ch) if not any(_inside(r.box, p) for p in pictures)]
    regions += _without_binding([r for r in texts if not _sliver(r, cw, ch)])
    if frame is None:  # inside a drawn frame, everything is on the screen drawn, a short word at its edge too
        regions = _without_margin_marks(regions)
    return _recentred(regions, (cx0 / ww, cy0 / wh, cw / ww, ch / wh), frame is not None)


def _sliver(region: InkRegion, cw: int, ch: int) -> bool:
    """A tall, thin blob (under 2% of the content wide, four times as tall as wide): a piece of a printed line or
    a frame's edge left over, not writing; words written sideways are wider than that (3-5% on the dev photos)."""
    w, h = region.box[2] * cw, region.box[3] * ch
    return region.box[2] < 0.02 and h > 4 * w


def _without_binding(texts: list[InkRegion]) -> list[InkRegion]:
    """The text regions without a notebook's binding: its rings or holes are a line of six or more blobs of one
    size (two rings seen as one make a longer blob), one after the other at a short pitch (under 6% of the
    content apart), near an edge of the content: down the left or right, or across the top of a pad bound
    there. A menu written down the side or across the top is shorter, its items further apart and of other
    sizes."""
    drop: set[int] = set()
    for along in (1, 0):  # a column down a side, then a row across the top or bottom
        across = 1 - along

        def centre(r: InkRegion, axis: int) -> float:
            return r.box[axis] + r.box[axis + 2] / 2

        edge = [r for r in texts if centre(r, across) < 0.15 or centre(r, across) > 0.85]
        for r in edge:
            line = sorted((q for q in edge if abs(centre(q, across) - centre(r, across)) < 0.03
                           and 0.67 < q.box[across + 2] / max(r.box[across + 2], 1e-6) < 1.5
                           and 0.4 < q.box[along + 2] / max(r.box[along + 2], 1e-6) < 2.5),
                          key=lambda q: q.box[along])
            centres = [centre(q, along) for q in line]
            if len(line) >= 6 and float(np.median(np.diff(centres))) < 0.06:
                drop |= {id(q) for q in line}
    return [r for r in texts if id(r) not in drop]


def _without_margin_marks(regions: list[InkRegion]) -> list[InkRegion]:
    """The regions without marks alone in a margin: a few small scraps of "text" at an edge of the content, a
    clear gap (8% of its width or height) from everything else, within its outer tenth. What is left of a
    notebook's rings after :func:`_without_binding` (too few for a line), a hole punch, a tick in the margin. They
    would count as drawn parts no page shows, and, being the content's edge, shift every other region against
    the page. A menu down the side is further in, or wider, or its words as long as the rest's; a line of writing
    at the top or bottom (a logo, a footer) is longer than a scrap."""
    kept = list(regions)
    for axis, mirrored in ((0, False), (0, True), (1, False), (1, True)):
        def span(r: InkRegion, a: int = axis, m: bool = mirrored) -> tuple[float, float]:
            lo, hi = r.box[a], r.box[a] + r.box[a + 2]
            return (1 - hi, 1 - lo) if m else (lo, hi)

        ordered = sorted(kept, key=lambda r: span(r)[0])
        reach, cut = 0.0, 0
        for i, r in enumerate(ordered[:-1]):
            reach = max(reach, span(r)[1])
            if span(ordered[i + 1])[0] - reach >= _MARGIN_GAP:
                cut = i + 1
                break
        edge = ordered[:cut]
        # a scrap is small across the gap; along the edge, a side's scraps of rings may stand taller than a top's
        along = 0.15 if axis == 0 else 0.06
        marks = [r for r in edge if r.kind == "text" and r.box[2 + axis] <= 0.06 and r.box[3 - axis] <= along]
        if edge and len(marks) == len(edge) and reach <= 0.1 and len(edge) <= len(ordered) // 3:
            kept = [r for r in kept if r not in edge]
    return kept


def _recentred(regions: list[InkRegion], content: tuple[float, float, float, float], frame: bool) -> InkReading:
    """The reading with its content box made the extent of the regions themselves. Ink that made no region (a
    paper's margin line, a long stroke, the edge of a shadow) must not stretch the box the page is compared in:
    a page is normalised to its own elements' extent."""
    if not regions:
        return InkReading([], content, frame)
    x0 = min(r.box[0] for r in regions)
    y0 = min(r.box[1] for r in regions)
    w = max(max(r.box[0] + r.box[2] for r in regions) - x0, 1e-6)
    h = max(max(r.box[1] + r.box[3] for r in regions) - y0, 1e-6)
    moved = [InkRegion((round((r.box[0] - x0) / w, 4), round((r.box[1] - y0) / h, 4), round(r.box[2] / w, 4),
                        round(r.box[3] / h, 4)), r.kind, r.ink_px) for r in regions]
    cx, cy, cw, ch = content
    return InkReading(moved, (cx + x0 * cw, cy + y0 * ch, w * cw, h * ch), frame)


def _sheet(gray: np.ndarray) -> np.ndarray:
    """Where the sheet of paper is (uint8, 0/1): the largest bright area of the photo, filled. Ink outside it is
    the desk's grain or a shadow, not a drawing. A scan or a drawing app's export is all sheet."""
    import cv2

    side = max(gray.shape)
    blur = cv2.GaussianBlur(gray, (0, 0), max(2.0, side / 100))
    _, bright = cv2.threshold(blur, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # a desk around the sheet is far darker than paper (0.12-0.39 of the sheet's grey on the dev photos);
    # light falling unevenly on one sheet, or a hand's shadow over the drawing, splits it into two greys closer
    # together (0.52-0.97): then nothing is cut
    dark, light = blur[bright == 0], blur[bright > 0]
    if not dark.size or not light.size or dark.mean() > _DESK * light.mean():
        return np.ones_like(gray, np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright.astype(np.uint8), connectivity=4)
    if n < 2:
        return np.ones_like(gray, np.uint8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    # a sheet fills most of a photo of it; a bright area under a third of the photo is not the sheet (a dark
    # drawing, a photo of a whiteboard under uneven light): then nothing is cut
    if stats[biggest, cv2.CC_STAT_AREA] < gray.size / 3:
        return np.ones_like(gray, np.uint8)
    contours, _ = cv2.findContours((labels == biggest).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    sheet = np.zeros_like(gray, np.uint8)
    cv2.drawContours(sheet, [cv2.convexHull(np.concatenate(contours))], -1, 1, thickness=-1)
    return sheet


def _background(stat: Any, w: int, h: int) -> bool:
    """A dark blob touching the photo's edge and spanning a third of it: the desk or the paper's shadow."""
    x, y, bw, bh = stat[:4]
    touches = x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1
    return bool(touches and (bw >= w / 3 or bh >= h / 3))


def _text_regions(rest: np.ndarray, cx0: int, cy0: int, cw: int, ch: int) -> list[InkRegion]:
    """Ink that is not an outline, joined into line-sized blobs: letters of a word and the waves of a squiggle
    merge across gaps of 2% of the content width, but two lines of a paragraph stay apart (0.6% of its height,
    under the gap between written lines)."""
    import cv2

    kx = max(3, round(0.02 * cw)) | 1
    ky = max(1, round(0.006 * ch)) | 1
    joined = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kx, ky)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    found: list[tuple[tuple[int, int, int, int], int, np.ndarray]] = []
    for i in range(1, n):
        x, y, bw, bh, _ = (int(v) for v in stats[i])
        ink = int(rest[y:y + bh, x:x + bw][labels[y:y + bh, x:x + bw] == i].sum())
        # a mark under 1% of the content width and height is a dot, a stray tick or noise, not a text region
        if bw < 0.01 * cw and bh < 0.01 * ch:
            continue
        # ink cut by the photo's border is the paper's edge, a notebook's binding or the desk, not writing
        if x <= 1 or y <= 1 or x + bw >= rest.shape[1] - 1 or y + bh >= rest.shape[0] - 1:
            continue
        # structure, not text: a tall blob with little ink (an open outline, a corner, a long stroke joining
        # boxes), or a straight line (across it, no wider than twice its stroke, as a rule or separator is, and
        # four times as long) or a speck as dense; a word written in thick strokes is as dense, but no speck
        line_like = bh <= 2 * ink / bw or bw <= 2 * ink / bh
        if (bh > 0.08 * ch and ink / (bw * bh) < 0.06) or (line_like and (max(bw, bh) >= 4 * min(bw, bh)
                                                                          or max(bw, bh) < 0.04 * min(cw, ch))):
            continue
        blob = (labels[y:y + bh, x:x + bw] == i) & (rest[y:y + bh, x:x + bw] > 0)
        if _straight(blob):
            continue
        found.append(((x, y, bw, bh), ink, blob))
    # a letter can be one curve (C, S, $) or a corner (L): a piece of an outline is longer than a line of writing
    # is tall (the median blob's height)
    line = float(np.median([b[3] for b, _, _ in found])) if found else 0.0
    # a stroke with a tenth of the ink of the larger text regions (the upper quartile: a few ticks must not
    # lower the bar) is a tick, a pen's slip or the overshoot of a frame's corner; the shortest words hold more
    least = 0.1 * float(np.percentile([ink for _, ink, _ in found], 75)) if found else 0.0
    return [InkRegion(_norm(b, cx0, cy0, cw, ch), "text", ink) for b, ink, blob in found
            if ink >= least and not (b[3] > 2.5 * line and _upright_curve(blob))
            and not (min(b[2], b[3]) > 1.5 * line and _corner(blob))]


def _straight(blob: np.ndarray) -> bool:
    """Whether a blob's ink is one straight stroke at any angle: a tilted rule, a frame's edge, a separator drawn
    askew. Its tightest rotated box is then no thicker than 2.5 strokes (the stroke's width being its ink over its
    length) and four times as long as thick; a word's letters or a squiggle's waves make it thicker."""
    import cv2

    pts = cv2.findNonZero(blob.astype(np.uint8))
    if pts is None or len(pts) < 5:
        return False
    (_, _), (a, b), _ = cv2.minAreaRect(pts)
    length, thick = max(a, b, 1.0), min(a, b)
    stroke = len(pts) / length
    return bool(thick <= max(2.5 * stroke, 3.0) and length >= 4 * max(thick, 1.0))


def _upright_curve(blob: np.ndarray) -> bool:
    """Whether a blob is one smooth stroke standing up: the side of a frame drawn with a bow in it. Down its length
    every cross-section meets one run of ink no thicker than 3 strokes, and its middle follows a gentle curve (a
    parabola) to within a stroke's width. A level stroke may be a line of text drawn as a plain line, so it stays
    text; an upright one on an upright page is structure."""
    if blob.shape[0] <= blob.shape[1]:
        return False
    b = blob.T
    h, w = b.shape
    cols = b.any(axis=0)
    px = int(b.sum())
    if cols.sum() < 8 or px == 0:
        return False
    stroke = px / cols.sum()
    if w < 6 * max(stroke, 1.0):
        return False
    xs = np.flatnonzero(cols)
    sub = b[:, xs].astype(np.int8)
    runs = (np.diff(np.vstack([np.zeros((1, len(xs)), np.int8), sub]), axis=0) == 1).sum(axis=0)
    extent = h - np.argmax(sub[::-1], axis=0) - np.argmax(sub, axis=0)
    if np.mean((runs == 1) & (extent <= 3 * max(stroke, 1.0))) < 0.9:
        return False
    mids = (sub * np.arange(h)[:, None]).sum(axis=0) / np.maximum(sub.sum(axis=0), 1)
    fit = np.polyval(np.polyfit(xs, mids, 2), xs)
    return bool(np.std(mids - fit) <= max(1.0, stroke))


def _corner(blob: np.ndarray) -> bool:
    """Whether a blob is the corner of an outline (an L, at any of its four turns): nearly all its ink lies along
    one upright and one level side of its box, and the box is several strokes wide each way, so no letter."""
    h, w = blob.shape
    px = int(blob.sum())
    if px == 0:
        return False
    stroke = px / (w + h)
    band = max(2, round(2 * stroke))
    if min(w, h) < 6 * max(stroke, 1.0):
        return False
    for side_x in (slice(0, band), slice(w - band, w)):
        for side_y in (slice(0, band), slice(h - band, h)):
            edge = np.zeros_like(blob, dtype=bool)
            edge[:, side_x] = True
            edge[side_y, :] = True
            if (blob & edge).sum() >= 0.9 * px:
                return True
    return False


def _inside(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether box ``a`` lies (90% of its area) inside box ``b``."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy >= 0.9 * a[2] * a[3]


def _norm(box: tuple[int, int, int, int], cx0: int, cy0: int, cw: int, ch: int) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return (round((x - cx0) / cw, 4), round((y - cy0) / ch, 4), round(w / cw, 4), round(h / ch, 4))
