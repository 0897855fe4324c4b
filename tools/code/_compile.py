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

__all__ = ["Strategy", "Theme", "compile_layout"]

Strategy = Literal["semantic", "grid", "minimal"]
Theme = Literal["light", "dark"]
_DESIGN_W = 1280.0  # px width the font sizes are fitted at
_DESIGN_VH = 720.0
_EPS = 0.004

_THEMES: dict[str, dict[str, str]] = {
    "light": {"bg": "#ffffff", "fg": "#1d2330", "muted": "#5b6475", "line": "#d5dae3", "accent": "#2f6fde",
              "panel": "#f5f7fb", "on-accent": "#ffffff"},
    "dark": {"bg": "#11151c", "fg": "#e8ecf3", "muted": "#a3acbd", "line": "#333c4b", "accent": "#6ea2ff",
             "panel": "#1a202a", "on-accent": "#0b0e13"},
}
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
        """The largest font size (px) at which the element's text fits its box at the design width."""
        w_px = max(el.box[2] * _DESIGN_W, 24.0)
        h_px = max(el.box[3] * self.height_px, 12.0)
        chars = max(len(_text(el)), 1)
        # average glyph width as a fraction of the font size; headings are bold and wider
        glyph = 0.62 if el.role == "Heading" else 0.56
        size = largest
        while size > smallest:
            per_line = max(int(w_px / (glyph * size)), 1)
            lines = -(-chars // per_line)
            if lines * 1.3 * size <= h_px:
                break
            size -= 1
        return int(size)


def _text(el: LayoutElement) -> str:
    return el.text.strip() or _DEFAULT_TEXT.get(el.role, "")


def _e(value: str) -> str:
    return htmlmod.escape(value, quote=True)


def _u(frac: float) -> str:
    """A vertical length: ``frac`` of the page height."""
    return f"calc({max(frac, 0.0) * 100:.3f} * var(--u))"


def _nest(elements: Sequence[LayoutElement]) -> list[LayoutElement]:
    """Move siblings drawn inside a container's box into that container (sketch detectors often leave them flat)."""
    containers = [e for e in elements if e.role in CONTAINER_ROLES]
    out: list[LayoutElement] = []
    adopted: dict[int, list[LayoutElement]] = {id(c): [] for c in containers}
    for el in elements:
        host = None
        for c in containers:
            if c is not el and _inside(el.box, c.box) and (host is None or _area(c.box) < _area(host.box)):
                host = c
        if host is None:
            out.append(el)
        else:
            adopted[id(host)].append(el)
    result = []
    for el in out:
        if el.role in CONTAINER_ROLES:
            kids = _nest([*el.children, *adopted[id(el)]])
            el = el.model_copy(update={"children": kids})
        result.append(el)
    return result


def _area(box: Sequence[float]) -> float:
    return box[2] * box[3]


def _inside(inner: Sequence[float], outer: Sequence[float]) -> bool:
    ix = max(0.0, min(inner[0] + inner[2], outer[0] + outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[1] + inner[3], outer[1] + outer[3]) - max(inner[1], outer[1]))
    return _area(inner) > 0 and ix * iy >= 0.8 * _area(inner) and _area(outer) > _area(inner)


def _rows(elements: Sequence[LayoutElement]) -> list[list[LayoutElement]]:
    """Siblings grouped into rows: an element joins a row when it overlaps the row's span vertically by at least
    40% of the smaller height. Rows are top to bottom; items in a row left to right."""
    rows: list[tuple[float, float, list[LayoutElement]]] = []
    for el in sorted(elements, key=lambda e: (e.box[1], e.box[0])):
        top, bottom = el.box[1], el.box[1] + el.box[3]
        for i, (rt, rb, items) in enumerate(rows):
            overlap = min(bottom, rb) - max(top, rt)
            if overlap > 0.4 * max(min(bottom - top, rb - rt), 1e-6):
                rows[i] = (min(rt, top), max(rb, bottom), [*items, el])
                break
        else:
            rows.append((top, bottom, [el]))
    return [sorted(items, key=lambda e: e.box[0]) for _, _, items in sorted(rows, key=lambda r: r[0])]


class _Compiler:
    def __init__(self, page: _Page, strategy: Strategy, brief: str) -> None:
        self.page = page
        self.strategy = strategy
        self.brief = brief
        self.headings = 0
        self.ids = 0

    # -- leaves ------------------------------------------------------------------------------------------
    def leaf(self, el: LayoutElement, style: str, in_card: bool) -> str:
        text = _text(el)
        if el.role == "Paragraph" and not el.text.strip() and self.brief:
            text = self.brief
        st = f' style="{style}"' if style else ""
        match el.role:
            case "Heading":
                self.headings += 1
                level = 3 if in_card else (1 if self.headings == 1 else 2)
                size = self.page.font(el, {1: 48.0, 2: 34.0, 3: 24.0}[level], 14.0)
                return f'<h{level}{_merge(st, f"font-size:{size}px")}>{_e(text)}</h{level}>'
            case "Paragraph":
                return f'<p{_merge(st, f"font-size:{self.page.font(el, 18.0)}px")}>{_e(text)}</p>'
            case "Label":
                return f'<span class="label"{_merge(st, f"font-size:{self.page.font(el, 16.0)}px")}>{_e(text)}</span>'
            case "Button":
                size = self.page.font(el, 18.0)
                return f'<button type="button"{_merge(st, f"font-size:{size}px")}>{_e(text)}</button>'
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
                return (f'<figure class="placeholder" role="img" aria-label="{_e(text)}"{st}>{_PLACEHOLDER_SVG}'
                        "</figure>")
            case "nav" | "header" | "section" | "card" | "form" | "footer":
                raise AssertionError("containers are compiled by container()")
            case _:
                assert_never(el.role)

    # -- containers --------------------------------------------------------------------------------------
    def element(self, el: LayoutElement, style: str, in_card: bool) -> str:
        if el.role not in CONTAINER_ROLES:
            return self.leaf(el, style, in_card)
        tag = _TAGS[el.role]
        cls = ' class="card"' if el.role == "card" else ""
        inner = self.children(el.children, el.box, in_card or el.role == "card")
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
        for row in _rows(kids):
            top = min(e.box[1] for e in row)
            bottom = max(e.box[1] + e.box[3] for e in row)
            cols = _columns(row)
            if len(cols) == 1 and len(row) > 1:
                cols = [[e] for e in row]  # boxes that overlap both ways: keep them side by side
            items: list[str] = []
            prev_right = px
            for col in cols:
                x, y, w, h = _bbox(col)
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


def _columns(row: Sequence[LayoutElement]) -> list[list[LayoutElement]]:
    """Items of a row grouped into columns by horizontal overlap, left to right."""
    cols: list[tuple[float, float, list[LayoutElement]]] = []
    for el in sorted(row, key=lambda e: e.box[0]):
        left, right = el.box[0], el.box[0] + el.box[2]
        if cols and left < cols[-1][1] - _EPS:
            cl, cr, items = cols[-1]
            cols[-1] = (cl, max(cr, right), [*items, el])
        else:
            cols.append((left, right, [el]))
    return [items for _, _, items in cols]


def _bbox(elements: Sequence[LayoutElement]) -> tuple[float, float, float, float]:
    x0 = min(e.box[0] for e in elements)
    y0 = min(e.box[1] for e in elements)
    x1 = max(e.box[0] + e.box[2] for e in elements)
    y1 = max(e.box[1] + e.box[3] for e in elements)
    return x0, y0, x1 - x0, y1 - y0


_FIXED_HEIGHT = frozenset({"TextBox", "ComboBox", "Button", "Image"})


def _edges(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _EPS:
            out.append(v)
    return out


def _line(edges: Sequence[float], value: float) -> int:
    return min(range(len(edges)), key=lambda i: abs(edges[i] - value))


def _merge(attr: str, extra: str) -> str:
    """Add declarations to a `` style="..."`` attribute string (or make one)."""
    if not attr:
        return f' style="{extra}"'
    return attr[:-1] + f";{extra}" + '"'


_PLACEHOLDER_SVG = (
    '<svg viewBox="0 0 100 60" preserveAspectRatio="xMidYMid slice" aria-hidden="true">'
    '<rect width="100" height="60" fill="var(--panel)"/>'
    '<path d="M0 60 L35 25 L55 45 L70 32 L100 60 Z" fill="var(--line)"/>'
    '<circle cx="78" cy="16" r="7" fill="var(--line)"/></svg>'
)

_CSS = """
*,*::before,*::after{box-sizing:border-box}
html{--u:max(calc(var(--aspect) * 1vw),1vh)}
body{margin:0;background:var(--bg);color:var(--fg);font-family:system-ui,-apple-system,"Segoe UI",Roboto,
"DejaVu Sans",sans-serif;line-height:1.3;overflow-x:hidden}
/* flow-root: a first row's top margin must not collapse through main and push the whole page down */
main{display:flow-root;min-height:calc(100 * var(--u))}
.row{display:flex;flex-wrap:nowrap;align-items:flex-start}
.row>*{flex:0 1 auto}
.col{display:flow-root}
.grid{display:grid;align-items:stretch}
h1,h2,h3,p{margin:0;overflow-wrap:anywhere}
h1,h2,h3{line-height:1.15}
p,.label{color:var(--muted)}
.label{display:block}
nav,header,footer{background:var(--panel)}
header,nav,section,form,footer,article{display:flow-root}
.card{border:1px solid var(--line);border-radius:10px;background:var(--panel)}
button{border:0;border-radius:8px;background:var(--accent);color:var(--on-accent);font:inherit;cursor:pointer}
input,textarea,select{border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);
font:inherit;padding:0 .6em}
textarea{padding:.4em .6em;resize:vertical}
.choice{display:flex;align-items:center;gap:.5em}
.choice input{margin:0;width:1.1em;height:1.1em}
a{color:var(--accent);display:block}
figure{margin:0;display:block;position:relative;border-radius:6px;overflow:hidden}
/* absolute, so the drawing takes the box's size instead of imposing its own aspect ratio */
figure svg{position:absolute;inset:0;display:block;width:100%;height:100%}
@media (max-width:720px){
 html{--u:1vh}
 .row,.grid{display:flex;flex-direction:column;gap:10px;padding:0 12px}
 .col .row{padding:0}
 .row>*,.grid>*,.col>.row{width:100%!important;margin-left:0!important;margin-top:0!important;grid-column:auto!important}
 main,nav,header,section,form,footer,article{min-height:0!important}
 figure{min-height:160px}
}
"""


def compile_layout(layout: Layout, *, strategy: Strategy = "semantic", title: str | None = None,
                   theme: Theme = "light", brief: str = "") -> str:
    """Compile a page layout into one self-contained HTML page (inline CSS, no scripts, no external URLs).

    Args:
        layout: The page: a tree of elements with boxes as fractions of the page.
        strategy: ``semantic`` (flex rows), ``grid`` (exact grid lines) or ``minimal`` (top part only).
        title: The document title; defaults to the first heading.
        theme: ``light`` or ``dark`` colours.
        brief: Copy used for paragraphs the layout leaves empty, and the page description.

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
    elements = _nest(layout.elements)
    match strategy:
        case "semantic" | "grid":
            kept = elements
        case "minimal":
            kept = _top_part(elements)
        case _:
            assert_never(strategy)
    compiler = _Compiler(page, "grid" if strategy == "grid" else "semantic", brief.strip())
    body = compiler.children(kept, (0.0, 0.0, 1.0, 1.0), False)
    first_heading = next((e.text for e in layout.walk() if e.role == "Heading" and e.text.strip()), "")
    doc_title = title or first_heading or "Page"
    colors = ";".join(f"--{k}:{v}" for k, v in _THEMES[theme].items())
    description = f'<meta name="description" content="{_e(brief[:300])}">' if brief.strip() else ""
    return (
        "<!doctype html>\n"
        f'<html lang="en" style="--aspect:{aspect:.5f};{colors}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(doc_title)}</title>\n{description}\n<style>{_CSS}</style>\n</head>\n"
        f'<body>\n<main data-strategy="{strategy}">{body}</main>\n</body>\n</html>\n'
    )


def _top_part(elements: Sequence[LayoutElement]) -> list[LayoutElement]:
    """The first section of the page (a top container), or what starts in its top third."""
    ordered = sorted(elements, key=lambda e: (e.box[1], e.box[0]))
    if not ordered:
        return []
    first = ordered[0]
    cutoff = first.box[1] + first.box[3] if first.role in CONTAINER_ROLES else first.box[1] + 0.3
    return [e for e in ordered if e.box[1] + e.box[3] <= cutoff + _EPS or e is first]
