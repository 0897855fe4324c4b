"""Geometry of a layout for the page compiler: nesting by containment, rows by vertical overlap, columns by
horizontal overlap. Boxes are ``[x, y, w, h]`` fractions of the page, as everywhere in :mod:`modalities.layout`."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from modalities.layout import CONTAINER_ROLES, LayoutElement

__all__ = ["EPS", "area", "bbox", "columns", "inside", "nest", "rows", "settled"]

EPS = 0.004


def area(box: Sequence[float]) -> float:
    return box[2] * box[3]


def inside(inner: Sequence[float], outer: Sequence[float]) -> bool:
    """Whether at least 80% of ``inner`` lies in ``outer``, and ``outer`` is the larger box."""
    ix = max(0.0, min(inner[0] + inner[2], outer[0] + outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[1] + inner[3], outer[1] + outer[3]) - max(inner[1], outer[1]))
    return area(inner) > 0 and ix * iy >= 0.8 * area(inner) and area(outer) > area(inner)


def nest(elements: Sequence[LayoutElement]) -> list[LayoutElement]:
    """Move siblings drawn inside a container's box into that container (sketch detectors often leave them flat)."""
    containers = [e for e in elements if e.role in CONTAINER_ROLES]
    out: list[LayoutElement] = []
    adopted: dict[int, list[LayoutElement]] = {id(c): [] for c in containers}
    for el in elements:
        host = None
        for c in containers:
            if c is not el and inside(el.box, c.box) and (host is None or area(c.box) < area(host.box)):
                host = c
        if host is None:
            out.append(el)
        else:
            adopted[id(host)].append(el)
    result = []
    for el in out:
        if el.role in CONTAINER_ROLES:
            kids = nest([*el.children, *adopted[id(el)]])
            el = el.model_copy(update={"children": kids})
        result.append(el)
    return result


def rows(elements: Sequence[LayoutElement]) -> list[list[LayoutElement]]:
    """Siblings grouped into rows: an element joins a row when it overlaps the row's span vertically by at least
    40% of the smaller height. Rows are top to bottom; items in a row left to right."""
    found: list[tuple[float, float, list[LayoutElement]]] = []
    for el in sorted(elements, key=lambda e: (e.box[1], e.box[0])):
        top, bottom = el.box[1], el.box[1] + el.box[3]
        for i, (rt, rb, items) in enumerate(found):
            overlap = min(bottom, rb) - max(top, rt)
            if overlap > 0.4 * max(min(bottom - top, rb - rt), 1e-6):
                found[i] = (min(rt, top), max(rb, bottom), [*items, el])
                break
        else:
            found.append((top, bottom, [el]))
    return [sorted(items, key=lambda e: e.box[0]) for _, _, items in sorted(found, key=lambda r: r[0])]


def settled(found: Sequence[Sequence[LayoutElement]]) -> list[list[LayoutElement]]:
    """Rows as :func:`rows` found them, made to follow each other without pushing each other down.

    - A row whose items stand one under the other (each overlaps the next across most of its width, and down
      less than half its height: a heading with its field drawn a little into it) becomes a row per item. Side by
      side, each would get a part of the width and none its own place.
    - A row drawn a little into the next ends where the next begins: its items that reach further are cut to it
      (by up to 40% of their height). In a page's flow a row starts below the one before, so each overlap drawn
      would push everything under it down, and a tall page's rows would drift away from their places.
    """
    out: list[list[LayoutElement]] = []
    for row in found:
        items = sorted(row, key=lambda e: e.box[1])
        if len(items) > 1 and all(_under(a.box, b.box) for a, b in pairwise(items)):
            out.extend([e] for e in items)
        else:
            out.append(list(row))
    for i in range(len(out) - 1):
        below = min(e.box[1] for e in out[i + 1])
        out[i] = [_cut(e, below) for e in out[i]]
    return out


def _cut(el: LayoutElement, bottom: float) -> LayoutElement:
    """``el`` ending at ``bottom``, and so its children (a section drawn into the next is cut with its content)."""
    x, y, w, h = el.box
    if y + h <= bottom or bottom - y < 0.6 * h:
        return el
    return el.model_copy(update={"box": (x, y, w, bottom - y), "children": [_cut(c, bottom) for c in el.children]})


def _under(upper: Sequence[float], lower: Sequence[float]) -> bool:
    across = min(upper[0] + upper[2], lower[0] + lower[2]) - max(upper[0], lower[0])
    down = min(upper[1] + upper[3], lower[1] + lower[3]) - max(upper[1], lower[1])
    return across > 0.5 * min(upper[2], lower[2]) and down < 0.5 * min(upper[3], lower[3])


def columns(row: Sequence[LayoutElement]) -> list[list[LayoutElement]]:
    """Items of a row grouped into columns by horizontal overlap, left to right."""
    cols: list[tuple[float, float, list[LayoutElement]]] = []
    for el in sorted(row, key=lambda e: e.box[0]):
        left, right = el.box[0], el.box[0] + el.box[2]
        if cols and left < cols[-1][1] - EPS:
            cl, cr, items = cols[-1]
            cols[-1] = (cl, max(cr, right), [*items, el])
        else:
            cols.append((left, right, [el]))
    return [items for _, _, items in cols]


def bbox(elements: Sequence[LayoutElement]) -> tuple[float, float, float, float]:
    x0 = min(e.box[0] for e in elements)
    y0 = min(e.box[1] for e in elements)
    x1 = max(e.box[0] + e.box[2] for e in elements)
    y1 = max(e.box[1] + e.box[3] for e in elements)
    return x0, y0, x1 - x0, y1 - y0
