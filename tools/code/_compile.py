"""The layout -> HTML compiler behind ``generate_html``.

Geometry is kept by construction. One vertical unit ``--u`` is 1% of the page height, and the page height is the
sketch's aspect ratio times the viewport width (never less than the viewport height, which is what a browser
measures a short page against), so a box ``[x, y, w, h]`` of the sketch lands at the same fractions of the
rendered page. Widths are percentages of the parent; heights and vertical gaps are multiples of ``--u``.

Strategies:

- ``semantic``: siblings grouped into rows by vertical overlap; each row a flex line whose items keep the
  sketch's widths and gaps. Reads like hand-written HTML and stacks into one column on narrow screens.
- ``grid``: each container is a CSS grid whose tracks are the edges of its children's boxes; every element is
  placed on exact lines (the most literal copy of the sketch; also stacks on narrow screens).
- ``minimal``: only the top part of the page (the first section or the top third), laid out like ``semantic``.
"""

from __future__ import annotations

import html as htmlmod
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, assert_never

from modalities.layout import CONTAINER_ROLES, Layout, LayoutElement
from tools._page_content import has_words
from tools.code._copy import Copy, fill_page, topic_of
from tools.code._geometry import EPS, bbox, columns, nest, rows, settled
from tools.code._icons import icon, icon_for
from tools.code._sections import section_kind, sectioned
from tools.code._theme import CSS, THEMES

__all__ = ["Strategy", "Theme", "compile_layout"]

Strategy = Literal["semantic", "grid", "minimal"]
Theme = Literal["light", "dark"]
_DESIGN_W = 1280.0  # px width the font sizes are fitted at
_DESIGN_VH = 720.0
_TILE_PX = 72.0
"""Height (px at the design width) past which a drawn button is laid out as a tile: a pill is 40-56 px tall."""
_CTA_PX = 66.0
"""Height (px) a call to action put under its headline takes: a 2.6em button at 18 px, and the gap above it."""
_TILE_WIDTH = 0.4
"""Share of the page's width past which a drawn button is a tile (a full-width row), not a pill."""

_TAGS = {"nav": "nav", "header": "header", "section": "section", "card": "article", "form": "form",
         "footer": "footer"}
_DEFAULT_TEXT = {"Heading": "Heading", "Paragraph": "A short description of this part of the page.",
                 "Button": "Submit", "Link": "Learn more", "Label": "Label", "CheckBox": "Option",
                 "RadioButton": "Choice", "ComboBox": "Choose one", "TextBox": "", "Image": "Image"}


@dataclass(frozen=True)
class _Page:
    aspect: float  # page height / width of the sketch
    height_px: float  # page height at the design width

    def font(self, el: LayoutElement, largest: float, smallest: float = 11.0) -> int:
        """The largest font size (px) at which the element's text fits its box at the design width, its words
        wrapped as a browser wraps them and never broken."""
        w_px = max(el.box[2] * _DESIGN_W, 24.0)
        h_px = max(el.box[3] * self.height_px, 12.0)
        words = _text(el).split() or ["x"]
        bold = {"Heading": 1.13, "Button": 1.1, "Link": 1.05}.get(el.role, 1.0)  # their font weights
        ems = [_ems(w) * bold for w in words]
        space = 0.32 * bold
        size = largest
        while size > smallest:
            lines = _lines(ems, space, w_px / size)
            if lines and lines * 1.3 * size <= h_px:
                break
            size -= 1
        return int(size)


def _ems(word: str) -> float:
    """A word's width in ems (font sizes), measured on DejaVu Sans, the widest of the fonts a page falls back to:
    capitals and m/w are wide, i/l/t/f/r narrow."""
    return sum(0.3 if c in "ijl.,:;'|!I" else 0.42 if c in "tfr()-" else 0.92 if c in "mwMW" else
               0.68 if c.isupper() or c.isdigit() else 0.6 for c in word)


def _lines(ems: Sequence[float], space: float, width: float) -> int:
    """How many lines words of these widths (ems) take in a box ``width`` ems wide; 0 when a word cannot fit."""
    if max(ems) > width:
        return 0
    lines, used = 1, 0.0
    for w in ems:
        if used and used + space + w > width:
            lines, used = lines + 1, w
        else:
            used = used + space + w if used else w
    return lines


def _text(el: LayoutElement) -> str:
    return el.text.strip() or _DEFAULT_TEXT.get(el.role, "")


def _e(value: str) -> str:
    return htmlmod.escape(value, quote=True)


def _u(frac: float) -> str:
    """A vertical length: ``frac`` of the page height."""
    return f"calc({max(frac, 0.0) * 100:.3f} * var(--u))"


class _Compiler:
    def __init__(self, page: _Page, strategy: Strategy, brief: str, designed: bool = False) -> None:
        self.page = page
        self.strategy = strategy
        self.brief = brief
        self.designed = designed  # sections, copy and icons: the page a designer hands over
        self.headings = 0
        self.buttons = 0
        self.ids = 0
        self.section = ""

    # -- leaves ------------------------------------------------------------------------------------------
    def leaf(self, el: LayoutElement, style: str, in_card: bool) -> str:
        text = _text(el)
        if el.role == "Paragraph" and not el.text.strip() and self.brief:
            text = self.brief
        st = f' style="{style}"' if style else ""
        match el.role:
            case "Heading":
                self.headings += 1
                level = 3 if in_card or self.section == "features" else (1 if self.headings == 1 else 2)
                fits = el
                if el.children:  # its call to action takes a button's height (and a gap) of the box
                    x, y, w, h = el.box
                    fits = el.model_copy(update={"box": (x, y, w, max(h - _CTA_PX / self.page.height_px, 0.0))})
                size = self.page.font(fits, {1: 52.0, 2: 34.0, 3: 24.0}[level], 14.0)
                badge = ""
                if self.designed and level == 3:
                    badge = f'<span class="badge">{icon(icon_for(text, self.headings))}</span>'
                if el.children:  # a call to action the page lacked goes right under its headline
                    inner = "".join(self.inline(c) for c in el.children)
                    heading = f'<h{level} style="font-size:{size}px">{badge}{_e(text)}</h{level}>'
                    return f'<div class="headline"{st}>{heading}{inner}</div>'
                return f'<h{level}{_merge(st, f"font-size:{size}px")}>{badge}{_e(text)}</h{level}>'
            case "Paragraph":
                return f'<p{_merge(st, f"font-size:{self.page.font(el, 18.0)}px")}>{_e(text)}</p>'
            case "Label":
                size = self.page.font(el, 16.0)
                if self.designed and self.section == "header" and self.page_brand(el):
                    return (f'<span class="label brand"{_merge(st, f"font-size:{size}px")}>'
                            f'{icon(icon_for(text))}{_e(text)}</span>')
                return f'<span class="label"{_merge(st, f"font-size:{size}px")}>{_e(text)}</span>'
            case "Button":
                return self.button(el, st)
            case "Link":
                return f'<a href="#"{_merge(st, f"font-size:{self.page.font(el, 16.0)}px")}>{_e(text)}</a>'
            case "TextBox":
                self.ids += 1
                low = text.lower()
                kind = "email" if "mail" in low else "password" if "password" in low else "text"
                label = _e(text or "Text")
                if el.box[3] * self.page.height_px > 70 and kind == "text":
                    return f'<textarea id="f{self.ids}" aria-label="{label}" placeholder="{_e(text)}"{st}></textarea>'
                return (f'<input id="f{self.ids}" type="{kind}" aria-label="{label}" placeholder="{_e(text)}"'
                        f'{st}>')
            case "CheckBox" | "RadioButton":
                kind = "checkbox" if el.role == "CheckBox" else "radio"
                size = self.page.font(el, 16.0)
                return (f'<label class="choice"{_merge(st, f"font-size:{size}px")}><input type="{kind}" '
                        f'name="{kind}-group"> <span>{_e(text)}</span></label>')
            case "ComboBox":
                return f'<select aria-label="{_e(text)}"{st}><option>{_e(text)}</option></select>'
            case "Image":
                glyph = icon("image").replace('class="icon"', 'class="glyph"') if self.designed else ""
                # the style goes in by a function, not %-formatting: the sketch's words may hold a '%'
                def figure(style: str) -> str:
                    return (f'<figure class="placeholder" role="img" aria-label="{_e(text)}"{style}>'
                            f"{_placeholder(self.ids)}{glyph}</figure>")

                shape = figure(st if not el.children else "")
                self.ids += 1
                if el.children:  # a hero banner: the headline and its call to action over the picture
                    inner = "".join(self.inline(c) for c in el.children)
                    return f'<div class="media"{st}>{shape}<div class="overlay">{inner}</div></div>'
                return shape
            case "nav" | "header" | "section" | "card" | "form" | "footer":
                raise AssertionError("containers are compiled by container()")
            case _:
                assert_never(el.role)

    def page_brand(self, el: LayoutElement) -> bool:
        """The first label of the header is the brand (a logo's name)."""
        return el.box[0] < 0.3

    def button(self, el: LayoutElement, st: str) -> str:
        self.buttons += 1
        text = _text(el)
        size = self.page.font(el, 18.0)
        if not self.designed:
            return f'<button type="button"{_merge(st, f"font-size:{size}px")}>{_e(text)}</button>'
        if el.box[3] * self.page.height_px > _TILE_PX or el.box[2] > _TILE_WIDTH:
            # a big drawn box with a word in it ("Featured Post", a row of "post" boxes) is a clickable tile, not
            # a pill: a pill that size is what no designer draws
            return (f'<button type="button" class="tile"{_merge(st, f"font-size:{size}px")}>{_e(text)}'
                    f'{icon("chevron-right")}</button>')
        cls = "" if self.buttons == 1 or self.section == "hero" else ' class="secondary"'
        arrow = icon(icon_for(text) if self.section == "header" else "arrow-right")
        return f'<button type="button"{cls}{_merge(st, f"font-size:{size}px")}>{_e(text)}{arrow}</button>'

    def inline(self, el: LayoutElement) -> str:
        """An element placed in the flow of its host (a headline block or a hero banner), not on the grid."""
        if el.role == "Heading":
            self.headings += 1
            level = 1 if self.headings == 1 else 2
            return f'<h{level} style="font-size:{self.page.font(el, 52.0 if level == 1 else 34.0, 20.0)}px">' \
                   f"{_e(_text(el))}</h{level}>"
        if el.role == "Button":
            self.buttons += 1
            return (f'<button type="button" style="height:2.8em;font-size:18px;padding:0 1.3em">{_e(_text(el))}'
                    f'{icon("arrow-right")}</button>')
        return self.leaf(el.model_copy(update={"children": []}), "", False)

    # -- containers --------------------------------------------------------------------------------------
    def element(self, el: LayoutElement, style: str, in_card: bool) -> str:
        if el.role not in CONTAINER_ROLES:
            return self.leaf(el, style, in_card)
        tag = _TAGS[el.role]
        kind = section_kind(el)
        classes = [c for c in ("card" if el.role == "card" else "", kind if self.designed and el.role != "card"
                               else "") if c]
        cls = f' class="{" ".join(classes)}"' if classes else ""
        outer, self.section = self.section, kind if el.role != "card" else self.section
        inner = self.children(el.children, el.box, in_card or el.role == "card")
        self.section = outer
        style = f"{style};min-height:{_u(el.box[3])}" if style else f"min-height:{_u(el.box[3])}"
        return f'<{tag}{cls} style="{style}">{inner}</{tag}>'

    def children(self, kids: Sequence[LayoutElement], box: Sequence[float], in_card: bool) -> str:
        if self.strategy == "grid":
            return self.grid(kids, box, in_card)
        return self.flow(kids, box, in_card)

    def flow(self, kids: Sequence[LayoutElement], box: Sequence[float], in_card: bool) -> str:
        px, py, pw, _ = box
        parts: list[str] = []
        prev_bottom = py
        for row in settled(rows(kids)):
            top = min(e.box[1] for e in row)
            bottom = max(e.box[1] + e.box[3] for e in row)
            cols = columns(row)
            if len(cols) == 1 and len(row) > 1:
                cols = [[e] for e in row]  # boxes that overlap both ways: keep them side by side
            items: list[str] = []
            prev_right = px
            for col in cols:
                x, y, w, h = bbox(col)
                gap = max(x - prev_right, 0.0) / pw * 100 if pw else 0.0
                width = w / pw * 100 if pw else 100.0
                style = f"width:{width:.3f}%;margin-left:{gap:.3f}%;margin-top:{_u(y - top)}"
                if len(col) == 1:
                    el = col[0]
                    style += f";{'height' if el.role in _FIXED_HEIGHT else 'min-height'}:{_u(h)}"
                    items.append(self.element(el, style, in_card))
                else:
                    # a column of stacked elements beside a tall one (hero text next to a hero image)
                    inner = self.flow(col, (x, y, w, h), in_card)
                    items.append(f'<div class="col" style="{style};min-height:{_u(h)}">{inner}</div>')
                prev_right = max(prev_right, x + w)
            parts.append(f'<div class="row" style="margin-top:{_u(top - prev_bottom)}">{"".join(items)}</div>')
            prev_bottom = max(prev_bottom, bottom)
        return "".join(parts)

    def grid(self, kids: Sequence[LayoutElement], box: Sequence[float], in_card: bool) -> str:
        px, py, pw, ph = box
        xs = _edges([px, px + pw, *(v for e in kids for v in (e.box[0], e.box[0] + e.box[2]))])
        ys = _edges([py, py + ph, *(v for e in kids for v in (e.box[1], e.box[1] + e.box[3]))])
        cols = " ".join(f"minmax(0,{(b - a) / pw * 100 if pw else 0:.3f}%)" for a, b in pairwise(xs))
        rows = " ".join(f"minmax({_u(b - a)},auto)" for a, b in pairwise(ys))
        items = []
        for el in sorted(kids, key=lambda e: (e.box[1], e.box[0])):
            x, y, w, h = el.box
            c0, c1 = _line(xs, x), max(_line(xs, x + w), _line(xs, x) + 1)
            r0, r1 = _line(ys, y), max(_line(ys, y + h), _line(ys, y) + 1)
            style = f"grid-column:{c0 + 1}/{c1 + 1};grid-row:{r0 + 1}/{r1 + 1}"
            items.append(self.element(el, style, in_card))
        return (f'<div class="grid" style="grid-template-columns:{cols};grid-template-rows:{rows}">'
                f'{"".join(items)}</div>')


_FIXED_HEIGHT = frozenset({"TextBox", "ComboBox", "Button", "Image"})


def _edges(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > EPS:
            out.append(v)
    return out


def _line(edges: Sequence[float], value: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def _merge(attr: str, extra: str) -> str:
    """Add declarations to a `` style="..."`` attribute string (or make one)."""
    if not attr:
        return f' style="{extra}"'
    return attr[:-1] + f";{extra}" + '"'


def _placeholder(n: int) -> str:
    """An image placeholder: a soft gradient with hills and a sun (each gradient with its own id in the page)."""
    gid = f"ph{n}"
    return (f'<svg viewBox="0 0 100 60" preserveAspectRatio="xMidYMid slice" aria-hidden="true"><defs>'
            f'<linearGradient id="{gid}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="var(--tint)"/>'
            f'<stop offset="1" stop-color="var(--panel)"/></linearGradient></defs>'
            f'<rect width="100" height="60" fill="url(#{gid})"/>'
            '<path d="M0 60 L35 25 L55 45 L70 32 L100 60 Z" fill="var(--line)" opacity=".7"/>'
            '<circle cx="78" cy="16" r="7" fill="var(--line)" opacity=".7"/></svg>')


def compile_layout(layout: Layout, *, strategy: Strategy = "semantic", title: str | None = None,
                   theme: Theme = "light", brief: str = "", copy: Copy | None = None) -> str:
    """Compile a page layout into one self-contained HTML page (inline CSS, no scripts, no external URLs).

    Args:
        layout: The page: a tree of elements with boxes as fractions of the page.
        strategy: ``semantic`` (flex rows), ``grid`` (exact grid lines) or ``minimal`` (top part only).
        title: The document title; defaults to the first heading.
        theme: ``light`` or ``dark`` colours.
        brief: Copy used for paragraphs the layout leaves empty, and the page description.
        copy: The words for the page (:mod:`tools.code._copy`). Given, the page is designed: the sketch's rows
            become semantic sections, every text region gets words sized to it (the sketch's own where it has
            them), the page gets a headline and a call to action, and icons come in. None compiles the layout
            as drawn, words and all (what a judge of pages needs to see a broken page as broken).

    Returns:
        The HTML document.

    Example:
        >>> from modalities.layout import LayoutElement
        >>> page = Layout(width=1280, height=900, elements=[
        ...     LayoutElement(role="Heading", box=(0.1, 0.05, 0.8, 0.1), text="Welcome"),
        ...     LayoutElement(role="Button", box=(0.1, 0.2, 0.2, 0.06), text="Start")])
        >>> out = compile_layout(page)
        >>> "<h1" in out and '<button type="button"' in out and "http" not in out
        True
    """
    aspect = (layout.height / layout.width) if layout.width and layout.height else 0.75
    aspect = min(max(aspect, 0.3), 8.0)
    page = _Page(aspect=aspect, height_px=max(aspect * _DESIGN_W, _DESIGN_VH))
    elements = nest(layout.elements)
    match strategy:
        case "semantic" | "grid":
            kept = elements
        case "minimal":
            kept = _top_part(elements)
        case _:
            assert_never(strategy)
    if copy is not None:
        words = [e.text for e in layout.walk() if has_words(e.text)]
        kept = fill_page(sectioned(kept), copy, page.height_px, topic_of(brief, words))
    compiler = _Compiler(page, "grid" if strategy == "grid" else "semantic", brief.strip(), copy is not None)
    body = compiler.children(kept, (0.0, 0.0, 1.0, 1.0), False)
    shown = [x for e in kept for x in e.walk()]
    first_heading = next((e.text for e in shown if e.role == "Heading" and e.text.strip()), "")
    doc_title = title or first_heading or "Page"
    colors = ";".join(f"--{k}:{v}" for k, v in THEMES[theme].items())
    design = f' data-copy="{copy.source}"' if copy is not None else ""
    description = f'<meta name="description" content="{_e(brief[:300])}">' if brief.strip() else ""
    lang = copy.language if copy is not None else "en"
    return (
        "<!doctype html>\n"
        f'<html lang="{lang}" style="--aspect:{aspect:.5f};{colors}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(doc_title)}</title>\n{description}\n<style>{CSS}</style>\n</head>\n"
        f'<body>\n<main data-strategy="{strategy}"{design}>{body}</main>\n</body>\n</html>\n'
    )


def _top_part(elements: Sequence[LayoutElement]) -> list[LayoutElement]:
    """The first section of the page (a top container), or what starts in its top third."""
    ordered = sorted(elements, key=lambda e: (e.box[1], e.box[0]))
    if not ordered:
        return []
    first = ordered[0]
    cutoff = first.box[1] + first.box[3] if first.role in CONTAINER_ROLES else first.box[1] + 0.3
    return [e for e in ordered if e.box[1] + e.box[3] <= cutoff + EPS or e is first]
