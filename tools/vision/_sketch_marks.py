"""Hand-drawn UI sketch detection, part 3: the ink that is neither a box nor a word people wrote.

Wireframes draw most of their text as placeholders and most of their pictures as doodles. Once the boxes' outlines
and the OCR words are taken out of the ink mask, what is left is read here:

- text placeholders: wavy or squiggly lines and solid bars, one per line of text; stacked lines with their left
  ends aligned are a paragraph, and a paragraph whose lines start with a dot is a list. A line drawn taller or
  bolder than the others is a heading;
- separators: a long straight stroke on its own;
- carousel dots: three to six small blobs of one size, evenly spaced in a row;
- icons: a small doodle about a letter high, named when its shape is one of the common ones (hamburger, search
  magnifier, close, chevron, user, heart, cart);
- drawings inside a box (a mountain and sun, a stick figure, a star) that make it a picture.

Sizes are relative to the letter height of the sketch, as in the other parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.vision._sketch_detect import Box, Element, Word

__all__ = ["Stroke", "leftover_ink", "strokes", "lined_paper", "text_lines", "is_wavy", "text_blocks", "dot_rows",
           "separators", "icons", "drawing_inside", "icon_name"]


@dataclass
class Stroke:
    """A connected blob of leftover ink (after closing small gaps along the line)."""

    box: Box
    ink: int  # pixels of ink
    thickness: float  # mean stroke thickness, px (ink over the length of the stroke's skeleton)
    wave: float  # spread of the stroke's middle line around a straight fit, px
    rough: float = 1.0  # how much the ink's height varies along the stroke: p90 over median column extent


def lined_paper(mask: np.ndarray) -> np.ndarray:
    """The mask without the printed lines of ruled or grid paper: at least six parallel lines, each across nearly
    the whole sheet. A drawn box, a table or a page-wide divider stops short of the paper's edges, so it stays."""
    import cv2

    out = mask.copy()
    h, w = mask.shape
    for horizontal in (True, False):
        span = w if horizontal else h
        thick = cv2.dilate(mask, np.ones((3, 1) if horizontal else (1, 3), np.uint8))
        kernel = np.ones((1, max(3, span // 6)) if horizontal else (max(3, span // 6), 1), np.uint8)
        runs = cv2.morphologyEx(thick, cv2.MORPH_OPEN, kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        # printed rules run (nearly) edge to edge of the sheet; a drawn table's lines stop at its frame
        long = [i for i in range(1, n) if stats[i, 2 if horizontal else 3] >= 0.85 * span]
        if len(long) >= 6:
            rules = np.isin(labels, long)
            out[rules & (cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) == 0)] = 0
            out[rules] = 0
    return cv2.morphologyEx(out, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


def leftover_ink(mask: np.ndarray, outlines: list[Box], words: list[Word], taken: list[Box], height: float
                 ) -> np.ndarray:
    """The ink left once the drawn boxes' outlines (a band along each side), the words and the already classed
    marks are removed."""
    out = mask.copy()
    band = max(3, int(0.3 * height))
    H, W = mask.shape
    for b in outlines:
        x0, y0, x1, y1 = int(b.x0), int(b.y0), int(b.x1), int(b.y1)
        for ya, yb, xa, xb in ((y0 - band, y0 + band, x0 - band, x1 + band), (y1 - band, y1 + band, x0 - band,
                                                                                x1 + band),
                               (y0 - band, y1 + band, x0 - band, x0 + band), (y0 - band, y1 + band, x1 - band,
                                                                              x1 + band)):
            out[max(ya, 0):min(yb, H), max(xa, 0):min(xb, W)] = 0
    for b in [w.box for w in words] + taken:
        p = b.pad(0.15 * height, 0.15 * height)
        out[max(int(p.y0), 0):min(int(p.y1) + 1, H), max(int(p.x0), 0):min(int(p.x1) + 1, W)] = 0
    return out


def strokes(ink: np.ndarray, height: float, join: float = 0.6) -> list[Stroke]:
    """Blobs of ``ink``, pieces closer than ``join`` letter heights along a line joined into one."""
    import cv2

    kx = max(3, int(join * height)) | 1
    joined = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, kx), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out: list[Stroke] = []
    for i in range(1, n):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if w * h < 4:
            continue
        sub = (labels[y:y + h, x:x + w] == i) & (ink[y:y + h, x:x + w] > 0)
        px = int(sub.sum())
        if px < max(8, 0.05 * height * height):
            continue
        cols = sub.any(axis=0)
        length = float(max(cols.sum(), 1)) if w >= h else float(max(sub.any(axis=1).sum(), 1))
        thickness = px / length
        wave = 0.0
        if w >= 2 * h and cols.sum() >= 3:
            ys = np.arange(h)[:, None]
            counts = sub.sum(axis=0)
            xs = np.flatnonzero(counts)
            mids = (sub * ys).sum(axis=0)[xs] / counts[xs]
            fit = np.polyfit(xs, mids, 1)
            wave = float(np.std(mids - np.polyval(fit, xs)))
            top = np.argmax(sub, axis=0)[xs]
            bottom = h - 1 - np.argmax(sub[::-1], axis=0)[xs]
            extent = bottom - top + 1
            rough = float(np.percentile(extent, 90) / max(np.median(extent), 1))
        else:
            rough = 1.0
        out.append(Stroke(Box(x, y, x + w, y + h), px, thickness, wave, rough))
    return out


def _is_line(s: Stroke, height: float) -> bool:
    """Long and low: a line of text drawn as a placeholder (a squiggle, a bar), written too badly for OCR, or a
    straight stroke (a divider, an underline, a box's loose edge)."""
    b = s.box
    return b.w >= 1.5 * height and b.h <= 1.8 * height and b.w >= 3 * b.h


def is_wavy(s: Stroke) -> bool:
    """A squiggle or handwriting, not a ruled stroke: its middle line wanders by half its thickness, or its ink is
    much taller in places (loops, letters) than along most of it. A solid bar is thick for its height."""
    bar = s.thickness >= 0.45 * s.box.h and s.box.h >= 4
    return s.wave >= 0.45 * max(s.thickness, 1.0) or s.rough >= 2.0 or bar


def _stacks(lines: list[Stroke], height: float) -> list[list[Stroke]]:
    """Lines stacked under each other, left ends (or most of their length) aligned, a line's gap apart."""
    groups: list[list[Stroke]] = []
    for s in sorted(lines, key=lambda s: (s.box.y0, s.box.x0)):
        for g in groups:
            last = g[-1]
            gap = s.box.y0 - last.box.y1
            overlap = min(s.box.x1, last.box.x1) - max(s.box.x0, last.box.x0)
            aligned = abs(s.box.x0 - last.box.x0) < 1.5 * height or overlap > 0.6 * min(s.box.w, last.box.w)
            if -0.3 * height < gap < 1.2 * height and aligned:
                g.append(s)
                break
        else:
            groups.append([s])
    return groups


def text_lines(found: list[Stroke], height: float, page: tuple[int, int] | None = None,
               written: list[Box] | None = None) -> list[Stroke]:
    """The strokes that stand for a line of text: wavy ones, and straight ones stacked three or more (or two with
    one wavy), which is how people draw a paragraph. Strokes at the photo's edge are the paper's, not text; a lone
    stroke just under a written phrase, about as long, underlines it."""
    H, W = page or (10**9, 10**9)
    cand = [s for s in found if _is_line(s, height) and s.box.x0 > 3 and s.box.y0 > 3 and s.box.x1 < W - 3
            and s.box.y1 < H - 3]
    out: list[Stroke] = []
    for g in _stacks(cand, height):
        wavy = [s for s in g if is_wavy(s)]
        if len(g) == 3 and max(s.box.w for s in g) < 2.6 * height and g[-1].box.y1 - g[0].box.y0 < 1.8 * height:
            continue  # three short bars close together: a hamburger menu icon, not a paragraph
        if len(g) >= 3 or (len(g) == 2 and wavy):
            out.extend(g)
        else:
            # one stroke across half the page is a divider, however unsteady the hand
            out.extend(s for s in wavy if 2 * height <= s.box.w < 0.45 * min(W, 10**6)
                       and not any(0 <= s.box.y0 - r.y1 < 0.6 * height and abs(s.box.x0 - r.x0) < height
                                   and s.box.w < 1.5 * r.w for r in written or []))
    return out


def separators(found: list[Stroke], lines: list[Stroke], height: float, content_w: float) -> list[Stroke]:
    """Long straight strokes that are not text: a divider between parts of the page."""
    return [s for s in found if s not in lines and _is_line(s, height) and not is_wavy(s)
            and s.box.w >= max(6 * height, 0.3 * content_w) and s.box.w >= 12 * s.box.h]


def text_blocks(lines: list[Stroke], bullets: list[Stroke], height: float, page: Box) -> list[Element]:
    """Placeholder lines grouped into text elements: stacked lines aligned at the left are a Paragraph (a ``list``
    when they start with dots), a line drawn taller or bolder than the rest a Heading, any other line a Label."""
    if not lines:
        return []
    order = sorted(lines, key=lambda s: (s.box.y0, s.box.x0))
    line_h = float(np.median([s.box.h for s in order]))
    weight = float(np.median([s.thickness for s in order]))
    groups: list[list[Stroke]] = []
    for s in order:
        for g in groups:
            last = g[-1]
            gap = s.box.y0 - last.box.y1
            overlap = min(s.box.x1, last.box.x1) - max(s.box.x0, last.box.x0)
            aligned = abs(s.box.x0 - last.box.x0) < 2.0 * height or overlap > 0.6 * min(s.box.w, last.box.w)
            similar = s.box.h < 1.6 * last.box.h and last.box.h < 1.6 * s.box.h
            # squiggles stand for lines of text, drawn with the spacing of handwriting: a wider gap still
            # belongs to the same paragraph
            spacing = 2.2 if is_wavy(s) and is_wavy(last) else 1.2
            if -0.3 * height < gap < max(1.1 * height, spacing * line_h) and aligned and similar:
                g.append(s)
                break
        else:
            groups.append([s])
    out: list[Element] = []
    for g in groups:
        box = g[0].box
        for s in g[1:]:
            box = box.union(s.box)
        dots = [d for d in bullets if any(d.box.v_overlap(s.box) > 0.3 and 0 <= s.box.x0 - d.box.x1 < 1.5 * height
                                          for s in g)]
        if dots:
            box = box.union(dots[0].box)
            for d in dots[1:]:
                box = box.union(d.box)
        big = max(s.box.h for s in g) >= 1.5 * line_h or max(s.thickness for s in g) >= 1.7 * weight
        if len(g) >= 2 or len(dots) >= 2:
            role, kind = "Paragraph", "list" if len(dots) >= 2 else "placeholder"
            if len(g) == 2 and big and g[0].box.h > 1.4 * g[1].box.h:
                out.append(Element("Heading", g[0].box, "", 0.45, kind="placeholder"))
                out.append(Element("Label", g[1].box, "", 0.45, kind="placeholder"))
                continue
        elif big and len(lines) >= 2:
            role, kind = "Heading", "placeholder"
        elif box.w > 0.35 * page.w and box.y0 < page.y0 + 0.25 * page.h and len(lines) >= 3 and box.h >= line_h:
            role, kind = "Heading", "placeholder"  # a long line near the top, alone: the page's title
        else:
            role, kind = "Label", "placeholder"
        out.append(Element(role, box, "", 0.45, kind=kind))
    return out


def dot_rows(found: list[Stroke], height: float) -> tuple[list[Element], list[Stroke]]:
    """Rows of 3-6 small blobs of one size, evenly spaced: carousel dots. Returns them and the dots left over
    (list bullets are single dots at the start of a line)."""
    dots = [s for s in found if max(s.box.w, s.box.h) <= 0.9 * height and min(s.box.w, s.box.h) >= 0.12 * height
            and 0.5 <= s.box.w / max(s.box.h, 1) <= 2.0]
    rows: list[Element] = []
    used: set[int] = set()
    for i, d in enumerate(sorted(dots, key=lambda s: s.box.x0)):
        if i in used:
            continue
        row = [d]
        for j, e in enumerate(sorted(dots, key=lambda s: s.box.x0)):
            if j <= i or j in used:
                continue
            last = row[-1]
            gap = e.box.x0 - last.box.x1
            if (abs(e.box.cy - last.box.cy) < 0.35 * max(last.box.h, 0.3 * height) and 0 < gap < 2.5 * height
                    and 0.6 < e.box.h / max(last.box.h, 1) < 1.6):
                row.append(e)
        if 3 <= len(row) <= 6:
            gaps = np.diff([r.box.cx for r in row])
            if gaps.std() < 0.25 * gaps.mean():
                box = row[0].box
                for r in row[1:]:
                    box = box.union(r.box)
                rows.append(Element("RadioButton", box, "", 0.5, kind="carousel"))
                used.update(j for j, e in enumerate(sorted(dots, key=lambda s: s.box.x0)) if e in row)
    ordered = sorted(dots, key=lambda s: s.box.x0)
    return rows, [d for j, d in enumerate(ordered) if j not in used]


def icons(found: list[Stroke], ink: np.ndarray, height: float) -> list[Element]:
    """Small doodles about a letter or two high, each an icon; named when its shape is a common one."""
    cand = [s for s in found if 0.7 * height <= max(s.box.w, s.box.h) <= 2.6 * height
            and min(s.box.w, s.box.h) >= 0.45 * height and 0.4 <= s.box.w / max(s.box.h, 1) <= 2.5]
    used: set[int] = set()
    out: list[Element] = []
    # a hamburger is three short bars stacked: three strokes, not one
    bars = [s for s in found if s.box.h <= 0.45 * height and 0.5 * height <= s.box.w <= 2.6 * height]
    for a in bars:
        stack = [b for b in bars if abs(b.box.x0 - a.box.x0) < 0.35 * a.box.w
                 and abs(b.box.w - a.box.w) < 0.35 * a.box.w and 0 <= b.box.y0 - a.box.y0 < 1.6 * height]
        if len(stack) == 3:
            ys = sorted(b.box.cy for b in stack)
            g = np.diff(ys)
            if g.min() > 0.15 * height and g.max() < 1.8 * g.min():
                box = stack[0].box
                for b in stack[1:]:
                    box = box.union(b.box)
                if not any(e.box.inter(box) > 0 for e in out):
                    out.append(Element("Image", box, "", 0.55, kind="icon:menu"))
                    used.update(id(b) for b in stack)
    for s in cand:
        if id(s) in used or any(e.box.inter(s.box) > 0 for e in out):
            continue
        name = icon_name(ink, s.box)
        if name != "generic":  # an unnamed doodle is as likely a stray mark or a letter OCR did not read
            out.append(Element("Image", s.box, "", 0.45, kind="icon:" + name))
    return out


def icon_name(ink: np.ndarray, box: Box) -> str:
    """The common icon a small doodle looks like, or 'generic'."""
    import cv2

    x0, y0, x1, y1 = max(int(box.x0), 0), max(int(box.y0), 0), int(box.x1), int(box.y1)
    sub = (ink[y0:y1, x0:x1] > 0).astype(np.uint8)
    h, w = sub.shape
    if h < 4 or w < 4 or not sub.any():  # a box with no ink left in it (read off a word's box) is no icon
        return "generic"
    contours, hier = cv2.findContours(sub, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    holes = [cv2.boundingRect(c) for c, hh in zip(contours, hier[0], strict=True) if hh[3] >= 0
             and cv2.contourArea(c) > 0.02 * w * h] if hier is not None else []
    density = float(sub.mean())
    # both diagonals inked, nothing along the sides: a close (x) mark
    t = np.linspace(0.15, 0.85, 20)
    near = cv2.dilate(sub, np.ones((max(3, h // 6), max(3, w // 6)), np.uint8))
    xs, ys = (t * (w - 1)).astype(int), (t * (h - 1)).astype(int)
    if near[ys, xs].mean() > 0.85 and near[ys, w - 1 - xs].mean() > 0.85 and not holes:
        return "close"
    if holes:
        hx, hy, hw, hh = max(holes, key=lambda r: r[2] * r[3])
        # a ring at the top left with a handle running down to the right: the search magnifier
        if hx + hw < 0.8 * w and hy + hh < 0.8 * h and sub[int(0.8 * h):, int(0.7 * w):].any():
            return "search"
        # a ring on top of a wider, lower shape (head and shoulders): the user
        if hy + hh < 0.6 * h and hw < 0.7 * w and sub[int(0.75 * h):].any(axis=0).mean() > 0.55:
            return "user"
        top = sub[: max(1, h // 3)]
        notch = top[:, int(0.4 * w):int(0.6 * w)].mean() < 0.5 * top.mean()
        if notch and sub[-max(1, h // 6):].any(axis=0).mean() < 0.35:
            return "heart"  # two lobes at the top, a point at the bottom
        wheels = sub[int(0.8 * h):]
        if wheels.size and 2 <= _runs(wheels.any(axis=0)) <= 3 and wheels.any(axis=0).mean() < 0.6:
            return "cart"  # a basket on two wheels
        return "generic"
    if density < 0.25:
        hull = cv2.convexHull(cv2.findNonZero(sub))
        poly = cv2.approxPolyDP(hull, 0.12 * max(w, h), True)
        if len(poly) == 3:
            px, py = poly[:, 0, 0], poly[:, 0, 1]
            # the apex is the corner farthest from the others' side
            def _area(k: int) -> float:
                (ax_, ay_), (bx_, by_) = poly[(k + 1) % 3, 0] - poly[(k + 2) % 3, 0], poly[k, 0] - poly[(k + 1) % 3, 0]
                return abs(float(ax_) * float(by_) - float(ay_) * float(bx_))

            apex = max(range(3), key=_area)
            ax, ay = px[apex], py[apex]
            if w >= h:
                return "chevron-down" if ay > 0.6 * h else "chevron-up" if ay < 0.4 * h else (
                    "chevron-right" if ax > 0.5 * w else "chevron-left")
            return "chevron-right" if ax > 0.6 * w else "chevron-left" if ax < 0.4 * w else (
                "chevron-down" if ay > 0.5 * h else "chevron-up")
    return "generic"


def _runs(flags: np.ndarray) -> int:
    return int(np.sum(np.diff(np.concatenate([[0], flags.astype(int), [0]])) == 1))


def drawing_inside(ink: np.ndarray, box: Box, lines: list[Stroke], height: float) -> bool:
    """A picture drawn in the box (a mountain and sun, a figure, a star): leftover ink spread over much of its
    inside both ways, most of it not in text lines."""
    x0, y0, x1, y1 = int(box.x0), int(box.y0), int(box.x1), int(box.y1)
    sub = ink[max(y0, 0):y1, max(x0, 0):x1] > 0
    if sub.size == 0:
        return False
    px = int(sub.sum())
    if px < 0.6 * height * height:
        return False
    in_lines = sum(s.ink for s in lines if s.box.inside(box, 2))
    if in_lines > 0.5 * px:
        return False
    rows, cols = np.flatnonzero(sub.any(axis=1)), np.flatnonzero(sub.any(axis=0))
    return (rows[-1] - rows[0]) >= 0.35 * sub.shape[0] and (cols[-1] - cols[0]) >= 0.3 * sub.shape[1]


def unexplained(found: list[Stroke], height: float) -> list[Element]:
    """Ink no other rule took, grouped by nearness, that is still something drawn: a freehand drawing (a figure,
    a logo, a product) is a picture, and a line of writing OCR could not read is text. What a user drew lands on
    the page in some form; only stray marks (small, or one straight stroke) are let go."""
    groups: list[list[Stroke]] = []
    reach = 0.6 * height
    for s in sorted(found, key=lambda s: (s.box.y0, s.box.x0)):
        near = [g for g in groups if any(s.box.inter(t.box.pad(reach, reach)) > 0 for t in g)]
        merged = [s] + [t for g in near for t in g]
        groups = [g for g in groups if not any(g is n for n in near)] + [merged]
    out: list[Element] = []
    for g in groups:
        box = g[0].box
        for s in g[1:]:
            box = box.union(s.box)
        ink = sum(s.ink for s in g)
        # one long stroke, straight or not wavy: a divider's or an outline's leftover
        straight = len(g) == 1 and not is_wavy(g[0]) and max(box.w, box.h) >= 4 * min(box.w, box.h)
        if straight or ink < 0.6 * height * height:
            continue
        if box.w >= 2.5 * height and box.h >= 2.5 * height and max(box.w, box.h) <= 12 * height:
            out.append(Element("Image", box, "", 0.35, kind="drawing"))
        elif 0.5 * height <= box.h <= 2.2 * height and box.w >= 2 * height and box.w >= 2 * box.h:
            out.append(Element("Label", box, "", 0.35, kind="placeholder"))
    return out
