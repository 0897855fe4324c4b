"""Semantic sections for a page whose sketch drew none: header, hero, features, form, footer, from the rows.

A detector reads a sketch as a flat list of elements; a page a designer would hand over has a header band, a hero,
a feature grid, a form and a footer. The rows of the top-level elements decide: a thin first row is the header,
a thin last row the footer, a run of rows mostly made of form controls is the form, the first other row is the
hero, and a row of two or more side-by-side blocks is a feature grid. Each section is a full-width container over
its rows, so every element keeps its place on the page.

A container's kind (``hero``, ``features``...) travels in its ``text``, which containers never show: the compiler
turns it into a class, the copy writer into the kind of words each slot needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from modalities.layout import CONTAINER_ROLES, LayoutElement
from tools.code._geometry import bbox, columns, rows

__all__ = ["KINDS", "section_kind", "sectioned"]

KINDS = ("header", "hero", "features", "form", "section", "footer")
_THIN = 0.12  # a row at most this tall (share of the content's height) can be a header or footer band
_FIELDS = frozenset({"TextBox", "ComboBox", "CheckBox", "RadioButton"})


def section_kind(el: LayoutElement) -> str:
    """The kind of a container: the one :func:`sectioned` gave it, else what its role says."""
    if el.text in KINDS:
        return el.text
    return {"nav": "header", "header": "header", "footer": "footer", "form": "form"}.get(el.role, "section")


def _leaves(row: Sequence[LayoutElement]) -> list[LayoutElement]:
    return [x for e in row for x in e.walk() if x.role not in CONTAINER_ROLES]


def _is_form(row: Sequence[LayoutElement]) -> bool:
    leaves = _leaves(row)
    fields = [e for e in leaves if e.role in _FIELDS]
    return bool(leaves) and 2 * len(fields) >= len(leaves) and any(e.role in ("TextBox", "ComboBox") for e in fields)


def _is_grid(row: Sequence[LayoutElement]) -> bool:
    cols = columns(row)
    if len(cols) < 2:
        return False
    widths = [bbox(c)[2] for c in cols]
    return min(widths) >= 0.5 * max(widths)  # blocks of like width side by side: a feature grid


def sectioned(elements: Sequence[LayoutElement]) -> list[LayoutElement]:
    """Top-level elements grouped into semantic sections (kept as they are when the sketch has containers).

    Example:
        >>> E = LayoutElement
        >>> page = [E(role="Label", box=(0.05, 0.01, 0.2, 0.05), text="Brand"),
        ...         E(role="Heading", box=(0.1, 0.2, 0.8, 0.1)), E(role="Image", box=(0.1, 0.35, 0.8, 0.3)),
        ...         E(role="Paragraph", box=(0.05, 0.7, 0.4, 0.1)), E(role="Paragraph", box=(0.55, 0.7, 0.4, 0.1)),
        ...         E(role="Label", box=(0.1, 0.93, 0.3, 0.05))]
        >>> [(s.role, s.text, len(s.children)) for s in sectioned(page)]
        [('header', 'header', 1), ('section', 'hero', 2), ('section', 'features', 2), ('footer', 'footer', 1)]
    """
    # a container around (nearly) the whole page is a frame, not a section: its contents are the page
    while len(elements) == 1 and elements[0].role in CONTAINER_ROLES and elements[0].box[3] >= 0.6:
        elements = list(elements[0].children)
    if not elements or any(e.role in CONTAINER_ROLES for e in elements):
        return list(elements)
    found = rows(elements)
    _, top, _, height = bbox(list(elements))
    height = max(height, 1e-6)

    def thin(row: Sequence[LayoutElement]) -> bool:
        return bbox(row)[3] / height <= _THIN

    kinds: list[str] = []
    for i, row in enumerate(found):
        if i == 0 and len(found) >= 3 and thin(row) and not _is_form(row):
            kinds.append("header")
        elif i == len(found) - 1 and len(found) >= 3 and thin(row) and not _is_form(row) and "hero" in kinds:
            kinds.append("footer")
        elif _is_form(row):
            kinds.append("form")
        elif "hero" not in kinds:
            kinds.append("hero")
        elif kinds[-1] == "hero" and kinds.count("hero") == 1 and len(row) == 1 and not _is_grid(row):
            kinds.append("hero")  # a headline row, then its picture or call to action: one hero band
        elif _is_grid(row):
            kinds.append("features")
        else:
            kinds.append("section")
    # consecutive rows of one kind are one section (a form of four rows, a grid of two rows)
    groups: list[tuple[str, list[LayoutElement]]] = []
    for kind, row in zip(kinds, found, strict=True):
        if groups and groups[-1][0] == kind and kind in ("hero", "form", "features", "section"):
            groups[-1][1].extend(row)
        else:
            groups.append((kind, list(row)))
    out = []
    for kind, members in groups:
        _, y, _, h = bbox(members)
        role = {"header": "header", "footer": "footer", "form": "form"}.get(kind, "section")
        out.append(LayoutElement(role=role, box=(0.0, y, 1.0, h), text=kind, children=members))
    return out
