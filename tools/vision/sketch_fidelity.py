"""``sketch_fidelity``: does the rendered page hold what the sketch drew? Judged against the sketch image itself.

``layout_similarity`` compares the page with the sketch's *analysis*, so whatever the analysis missed can never
count against the page: a page that lost every text squiggle scored 0.9 and more. This judge reads the ink of the
original image (:mod:`tools.vision._ink`, no detector; OCR only says which way up a photo is), renders the page in
the sandbox, and asks of every ink region whether the page has an element there, and one of a fitting role:

- ``ink_coverage``: the share of ink regions covered by page elements at the same place (both normalised to their
  content box);
- ``role_agreement``: of the covered regions, the share whose cover fits: text ink under an element that shows
  words, a box with an X under an image, any other box under any element;
- with the page's own content figures (:func:`tools._page_content.content_metrics`): every text element filled,
  a heading, a call to action.

It judges the page (``html``): when a check fails, the step that generated the page is the suspect and is redone.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modalities.artifacts import Artifact
from modalities.errors import ToolError
from modalities.layout import CONTAINER_ROLES, LEAF_ROLES, Layout, LayoutElement
from tools._page_content import content_metrics, has_words
from tools.base import ToolContext, ToolResult
from tools.browser._chromium import BrowserTool

__all__ = ["SketchFidelity", "FidelityParams", "compare_page_to_ink"]

_READINGS: dict[str, tuple[Any, int]] = {}
"""Sketch artifact id -> its ink reading and turn, for the few sketches a process judges over and over."""
_GRID = 200
"""Cells per side of the raster that measures overlap: 0.5% of the content box, finer than any stroke gap."""
_SLOP = 0.02
"""Elements are grown by 2% of the content box on each side: a hand does not draw where a browser lays out."""
_COVERED = 0.5
"""A region is covered when elements lie over at least half of its box."""


class FidelityParams(BaseModel):
    """Params of ``sketch_fidelity``."""

    model_config = ConfigDict(extra="forbid")

    viewport: str = Field("desktop", description="viewport the page is rendered at: 'desktop', 'mobile' or 'WxH'")

    @field_validator("viewport")
    @classmethod
    def _viewport(cls, value: str) -> str:
        from tools.browser._sandbox import parse_viewport

        parse_viewport(value)
        return value


def _content_box(elements: list[LayoutElement]) -> tuple[float, float, float, float]:
    boxes = [e.box for e in elements if e.box[2] > 0 and e.box[3] > 0]
    if not boxes:
        return (0.0, 0.0, 1.0, 1.0)
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, max(x1 - x0, 1e-6), max(y1 - y0, 1e-6))


def _raster(boxes: list[tuple[float, float, float, float]], grow: float) -> Any:
    import numpy as np

    grid = np.zeros((_GRID, _GRID), bool)
    for x, y, w, h in boxes:
        c0 = max(0, int((x - grow) * _GRID))
        r0 = max(0, int((y - grow) * _GRID))
        c1 = min(_GRID, int(np.ceil((x + w + grow) * _GRID)))
        r1 = min(_GRID, int(np.ceil((y + h + grow) * _GRID)))
        grid[r0:r1, c0:c1] = True
    return grid


def _share(grid: Any, box: tuple[float, float, float, float]) -> float:
    import numpy as np

    x, y, w, h = box
    c0, r0 = min(int(x * _GRID), _GRID - 1), min(int(y * _GRID), _GRID - 1)
    c1 = max(c0 + 1, min(_GRID, int(np.ceil((x + w) * _GRID))))
    r1 = max(r0 + 1, min(_GRID, int(np.ceil((y + h) * _GRID))))
    return float(grid[r0:r1, c0:c1].mean())


def compare_page_to_ink(reading: Any, page: Layout) -> dict[str, Any]:
    """Coverage and role agreement of a page's elements over a sketch's ink regions.

    Args:
        reading: The sketch's :class:`~tools.vision._ink.InkReading`.
        page: The rendered page's layout (from its DOM).

    Returns:
        A report: ``ink_coverage``, ``role_agreement``, counts per region kind, and each region with its cover.

    Example:
        >>> from tools.vision._ink import InkReading, InkRegion
        >>> ink = InkReading([InkRegion((0.0, 0.0, 1.0, 0.2), "text", 500),
        ...                   InkRegion((0.0, 0.5, 0.5, 0.5), "image", 900)], (0, 0, 1, 1), False)
        >>> page = Layout(elements=[LayoutElement(role="Heading", box=(0, 0, 1, 0.1), text="Hello"),
        ...                         LayoutElement(role="TextBox", box=(0, 0.5, 0.5, 0.5))])
        >>> r = compare_page_to_ink(ink, page)
        >>> r["ink_coverage"], r["role_agreement"]
        (1.0, 0.5)
    """
    all_elements = [e for e in page.walk() if e.box[2] > 0 and e.box[3] > 0]
    leaves = [e for e in all_elements if e.role in LEAF_ROLES]
    frames = _extents(leaves or all_elements)
    # ink read as text alone (the boxes were ruled lines across the sheet, and went with the paper's) spans what
    # was written: the page's words span the same, where its boxes reach further
    if reading.regions and all(r.kind == "text" for r in reading.regions):
        worded = [e for e in leaves if e.role != "Image" and has_words(e.text)]
        words_box = _content_box(worded) if worded else None
        if words_box is not None and words_box not in frames:
            frames.append(words_box)
    reports = [_compare(reading, all_elements, leaves, box) for box in frames]
    return max(reports, key=lambda r: (r["ink_coverage"], r["role_agreement"]))


def _extents(elements: list[LayoutElement]) -> list[tuple[float, float, float, float]]:
    """The boxes a page may be normalised to: the extent of its elements, and that extent without tiny elements
    out at its edges. The ink reader drops specks and a notebook's rings that an analysis may have kept as
    elements (a ring read as a small picture), and one such element at the page's edge would shift every other
    element against the ink. Trimmed elements still cover ink; only the frame of comparison changes."""
    whole = _content_box(elements)
    area = whole[2] * whole[3]
    rest = [e for e in elements if e.box[2] * e.box[3] >= 0.005 * area]
    if len(rest) in (0, len(elements)):
        return [whole]
    trimmed = _content_box(rest)
    return [whole] if trimmed == whole else [whole, trimmed]


def _compare(reading: Any, all_elements: list[LayoutElement], leaves: list[LayoutElement],
             extent: tuple[float, float, float, float]) -> dict[str, Any]:
    cx, cy, cw, ch = extent

    def norm(e: LayoutElement) -> tuple[float, float, float, float]:
        x, y, w, h = e.box
        return ((x - cx) / cw, (y - cy) / ch, w / cw, h / ch)

    # what may cover what: text and pictures are leaves' business (a section around lost text does not hold it);
    # a drawn box may be any element, a card or a form as well as an input
    any_leaf = _raster([norm(e) for e in leaves], _SLOP)
    any_element = _raster([norm(e) for e in all_elements if e.role in LEAF_ROLES or e.role in CONTAINER_ROLES],
                          _SLOP)
    fits = {
        "text": _raster([norm(e) for e in leaves if e.role != "Image" and has_words(e.text)], _SLOP),
        "image": _raster([norm(e) for e in leaves if e.role == "Image"], _SLOP),
        "box": any_element,
    }
    rows = []
    for region in reading.regions:
        cover = _share(any_element if region.kind == "box" else any_leaf, region.box)
        fit = _share(fits[region.kind], region.box)
        rows.append({"kind": region.kind, "box": list(region.box), "covered": cover >= _COVERED,
                     "role_fits": fit >= _COVERED, "cover": round(cover, 3), "fit": round(fit, 3)})
    covered = [r for r in rows if r["covered"]]
    by_kind = {k: sum(1 for r in rows if r["kind"] == k) for k in ("text", "box", "image")}
    missing = {k: sum(1 for r in rows if r["kind"] == k and not r["covered"]) for k in by_kind}
    return {
        "ink_coverage": round(len(covered) / len(rows), 4) if rows else 0.0,
        "role_agreement": round(sum(r["role_fits"] for r in covered) / len(covered), 4) if covered else 0.0,
        "regions": len(rows),
        "regions_by_kind": by_kind,
        "uncovered_by_kind": missing,
        "frame_dropped": reading.frame,
        "region_details": rows,
    }


class SketchFidelity(BrowserTool):
    """Judge a generated page against the sketch image it was made from (not against the sketch's analysis).

    Example:
        >>> SketchFidelity().judges, SketchFidelity().inputs
        (('page',), {'sketch': 'image', 'page': 'html'})
    """

    name: ClassVar[str] = "sketch_fidelity"
    description: ClassVar[str] = ("Check a generated page against the original sketch image: every region of ink "
                                  "drawn must be covered by a page element of a fitting role, and the page must "
                                  "have filled text, a heading and a call to action")
    family: ClassVar[str] = "vision"
    inputs: ClassVar[dict[str, str]] = {"sketch": "image", "page": "html"}
    outputs: ClassVar[dict[str, str]] = {"report": "json"}
    params_model: ClassVar[type[BaseModel]] = FidelityParams
    metrics: ClassVar[dict[str, str]] = {
        "ink_coverage": "share of the sketch's ink regions covered by page elements at the same place, 0-1",
        "role_agreement": "share of covered ink regions whose cover has a fitting role (text shows words, an X box "
                          "is an image), 0-1",
        "regions": "ink regions found in the sketch",
        "empty_text": "page text elements (headings, paragraphs, labels, links, buttons) holding no word",
        "text_filled": "share of page text elements holding a word, 0-1",
        "headings": "page headings holding a word",
        "repeated_headings": "page headings that repeat another heading's words",
        "calls_to_action": "buttons, and links outside the menus, holding a word",
        "turned": "degrees (clockwise) the sketch photo was turned to read upright before its ink was read",
        "missing": "what the page lacks, in words (drawn parts not covered or not of a fitting kind, a heading, a "
                   "call to action, empty text); empty when nothing is",
    }
    # ink_coverage 0.8: most of what was drawn must be on the page, with room for ink a photo adds that nobody
    # drew as content (a shadow's edge, a stray mark, a note beside the sketch): a page built from the annotators'
    # own boxes of the 25 dev sketches covers 0.88-1.0 (mean 0.99) of their ink regions. role_agreement 0.7: most
    # covered ink must be under the right kind of element; the same pages agree on 0.80-1.0 (mean 0.99), while an
    # empty shell (every element in place, no words) agrees on 0.0-0.27 (benchmarks/sketch_fidelity.py)
    default_checks: ClassVar[tuple[str, ...]] = ("ink_coverage >= 0.8", "role_agreement >= 0.7", "empty_text <= 0",
                                                 "headings >= 1", "calls_to_action >= 1",
                                                 "repeated_headings <= 0")
    requires: ClassVar[tuple[str, ...]] = ("cv2", "numpy")  # the browser is checked by available()
    extra: ClassVar[str | None] = "sketch"
    timeout_s: ClassVar[float] = 120.0
    judges: ClassVar[tuple[str, ...]] = ("page",)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        from tools.browser._sandbox import parse_viewport, snapshot_html
        from tools.vision._ink import read_ink
        from tools.vision.sketch import load_sketch, turned_upright

        p = FidelityParams.model_validate(params)
        sketch = inputs["sketch"]
        # a page built from a sideways photo stands upright: the ink is read the way the writing reads. A sketch
        # is judged again after each replan; its reading does not change (an artifact's id is its content's hash)
        reading, turn = _READINGS.get(sketch.id) or (None, 0)
        if reading is None:
            bgr = load_sketch(ctx.store.path(sketch), max_pixels=ctx.settings.max_pixels)
            bgr, turn = turned_upright(bgr, self._ocr(ctx))
            reading = read_ink(bgr)
            _READINGS[sketch.id] = (reading, turn)
            while len(_READINGS) > 32:
                _READINGS.pop(next(iter(_READINGS)))
        if not reading.regions:
            raise ToolError("no ink found in the sketch image; photograph it closer, with even light and dark "
                            "pen strokes")
        html = ctx.store.read_text(inputs["page"])
        if not html.strip():
            raise ToolError("the page to judge is empty; generate the page first")
        snap = snapshot_html(html, viewport=parse_viewport(p.viewport), full_page=True,
                             chromium=ctx.settings.chromium or "")
        report = compare_page_to_ink(reading, snap.layout)
        content = content_metrics(snap.layout)
        report.update(content)
        out = ctx.store.put_json(report, "json", step=ctx.step_id, output="report")
        metrics = {k: report[k] for k in ("ink_coverage", "role_agreement", "regions")}
        metrics["turned"] = turn
        metrics.update({k: content[k] for k in ("empty_text", "text_filled", "headings", "calls_to_action",
                                                "repeated_headings")})
        metrics["missing"] = missing_in_words(report)
        return ToolResult({"report": out}, metrics)

    @staticmethod
    def _ocr(ctx: ToolContext) -> Any | None:
        """The OCR engine analyze_sketch reads with (shared from the model cache), or None where it is not
        installed: the strokes alone then say which way up the sketch is."""
        from tools.vision.sketch import _load_ocr, ocr_key

        try:
            import rapidocr  # noqa: F401
        except ImportError:
            return None
        det_side = ctx.settings.sketch_det_side
        return ctx.load_model(ocr_key(det_side), lambda: _load_ocr(det_side))


_KIND_WORDS = {"text": ("text region", "text regions"), "image": ("picture", "pictures"), "box": ("box", "boxes")}


def _where(box: list[float]) -> str:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    row = "top" if cy < 1 / 3 else "middle" if cy < 2 / 3 else "bottom"
    col = "left" if cx < 1 / 3 else "centre" if cx < 2 / 3 else "right"
    return f"{row} {col}"


def missing_in_words(report: dict[str, Any]) -> str:
    """What a fidelity report says the page lacks, for a person: the drawn parts it does not show (with where
    they are on the sketch), those shown as the wrong kind, and the content a page must have.

    Example:
        >>> missing_in_words({"region_details": [
        ...     {"kind": "text", "box": [0.0, 0.0, 0.2, 0.1], "covered": False, "role_fits": False},
        ...     {"kind": "image", "box": [0.6, 0.7, 0.3, 0.2], "covered": True, "role_fits": False}],
        ...     "headings": 0, "calls_to_action": 1, "empty_text": 0})
        '1 text region not on the page (top left); 1 picture shown as another kind (bottom right); a heading'
    """
    parts = []
    rows = report.get("region_details", [])
    for label, keep in (("not on the page", lambda r: not r["covered"]),
                        ("shown as another kind", lambda r: r["covered"] and not r["role_fits"])):
        for kind, (one, many) in _KIND_WORDS.items():
            hit = [r for r in rows if r["kind"] == kind and keep(r)]
            if hit:
                places = ", ".join(dict.fromkeys(_where(r["box"]) for r in hit[:4]))
                parts.append(f"{len(hit)} {one if len(hit) == 1 else many} {label} ({places})")
    if report.get("headings", 1) < 1:
        parts.append("a heading")
    if report.get("calls_to_action", 1) < 1:
        parts.append("a call to action")
    if report.get("empty_text", 0) > 0:
        parts.append(f"words in {report['empty_text']} empty text element(s)")
    if report.get("repeated_headings", 0) > 0:
        parts.append(f"headings of their own for {report['repeated_headings']} that repeat another")
    return "; ".join(parts)
