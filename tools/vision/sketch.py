"""``analyze_sketch``: a photo or scan of a hand-drawn UI becomes a :class:`~modalities.layout.Layout`.

OpenCV finds the drawn shapes, rapidocr reads the handwriting, and heuristics in
:mod:`tools.vision._sketch_detect` name each element's class. Everything runs offline on the CPU.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import InputFileError, ToolError
from modalities.layout import CONTAINER_ROLES, Layout, LayoutElement
from modalities.settings import settings
from tools._extras import require
from tools.base import Tool, ToolContext, ToolResult
from tools.checks import register_property
from tools.vision._sketch_classify import detect_page
from tools.vision._sketch_detect import WORK_SIDE, Box, Element, Word
from tools.vision._sketch_page import level, move_box, upright
from tools.vision._spelling import corrected, looks_english

__all__ = ["AnalyzeSketch", "SketchParams", "analyze_sketch_image", "load_sketch", "ocr_key", "rapidocr_words",
           "turned_upright"]


class SketchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_confidence: float = Field(0.3, ge=0.0, le=1.0, description="drop OCR words read with less confidence")
    max_side: int = Field(WORK_SIDE, ge=320, le=4096, description="longest side of the image as analysed, px")
    det_side: int | None = Field(None, ge=320, le=4096, description="longest side the OCR detector reads, px "
                                 "(default MMAGENT_SKETCH_DET_SIDE); larger finds smaller writing, slower")
    backend: Literal["auto", "opencv", "llm"] = Field(
        "auto", description="'opencv' (strokes + OCR, offline), 'llm' (the vision chat model set by "
                            "MMAGENT_VISION_MODEL), or 'auto': llm when one is configured, else opencv")


def load_sketch(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> np.ndarray:
    """The image at ``path`` as a BGR uint8 array, or :class:`InputFileError` saying what is wrong with it (one
    over ``max_pixels``, default ``MMAGENT_MAX_PIXELS``, is refused before it is decoded).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "notes.png"; _ = p.write_text("not an image")
        >>> try:
        ...     load_sketch(p)
        ... except InputFileError as exc:
        ...     print(exc.problem.split(" (")[0])
        is not an image
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    max_pixels = max_pixels or settings().max_pixels
    too_big = f"over the {max_pixels / 1e6:.0f} MP limit; resize it or raise MMAGENT_MAX_PIXELS"
    try:
        with warnings.catch_warnings():
            # our own pixel limit below decides; Pillow's warning would only repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(p)
        with im:
            w, h = im.size  # from the header: refuse a huge image before decoding it
            if w * h > max_pixels:
                raise InputFileError(p, f"image is {w}x{h} = {w * h / 1e6:.0f} megapixels, {too_big}")
            im = ImageOps.exif_transpose(im)  # phone photos are stored sideways with an EXIF turn
            rgb = np.asarray(im.convert("RGB"))
    except InputFileError:
        raise
    except FileNotFoundError:
        raise InputFileError(p, "no such file; check the path") from None
    except Image.DecompressionBombError as exc:  # Pillow's own guard fires first past twice its limit
        raise InputFileError(p, f"image is a decompression bomb ({str(exc)[:60]}...), {too_big}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise InputFileError(p, f"is not an image ({first}); give a PNG or JPEG photo or scan of the "
                                "sketch") from None
    if min(rgb.shape[:2]) < 32:
        raise InputFileError(p, f"image is only {rgb.shape[1]}x{rgb.shape[0]} px; a sketch needs at least 32 px "
                                "a side")
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _load_ocr(det_side: int | None = None) -> tuple[Any, int]:
    """A RapidOCR engine whose detector reads at most ``det_side`` px a side (default ``MMAGENT_SKETCH_DET_SIDE``),
    and its approximate size."""
    rapidocr = require("rapidocr", "sketch")
    # the detector upscales the short side to 736 px by default: a wide strip photo became 4000 px and took
    # 5 s; capping the long side keeps every sketch near 1 s
    engine = rapidocr.RapidOCR(params={"Global.log_level": "error", "Det.limit_type": "max",
                                       "Det.limit_side_len": det_side or settings().sketch_det_side})
    return engine, 40 * 2**20


def ocr_key(det_side: int) -> str:
    """The model cache's name for the OCR engine reading at ``det_side``: users of the same engine share it."""
    return f"rapidocr:{det_side}"


def rapidocr_words(engine: Any, bgr: np.ndarray, min_confidence: float = 0.3) -> list[Word]:
    """Words read by a RapidOCR engine, each with its own box (split from the line's word boxes)."""
    # the angle classifier only matters for upside-down text, which sketches do not have; skipping it saves time
    result = engine(bgr, use_cls=False, return_word_box=True)
    words: list[Word] = []
    if result is None or getattr(result, "boxes", None) is None:
        return words
    per_line = result.word_results or [()] * len(result.txts)
    for n, (line_box, text, score, parts) in enumerate(zip(result.boxes, result.txts, result.scores, per_line,
                                                           strict=False)):
        if parts and all(len(p) == 3 for p in parts):
            for wtext, wscore, wbox in parts:
                if wtext.strip() and float(wscore) >= min_confidence:
                    words.append(Word(_quad_box(wbox, line_box), wtext.strip(), float(wscore), n))
        elif text.strip() and float(score) >= min_confidence:
            words.append(Word(_quad_box(line_box, line_box), text.strip(), float(score), n))
    return words


def _quad_box(quad: Any, line_quad: Any) -> Box:
    q = np.asarray(quad, dtype=float).reshape(-1, 2)
    line = np.asarray(line_quad, dtype=float).reshape(-1, 2)
    # a word box is cut from its (possibly slanted) line: clip it to the line, never beyond
    return Box(q[:, 0].min(), max(q[:, 1].min(), line[:, 1].min()), q[:, 0].max(), min(q[:, 1].max(),
                                                                                     line[:, 1].max()))


def analyze_sketch_image(bgr: np.ndarray, ocr: Any, *, min_confidence: float = 0.3,
                         max_side: int = WORK_SIDE) -> tuple[Layout, dict[str, Any]]:
    """Layout and metrics of a sketch image (BGR array) using the OCR engine ``ocr``.

    Args:
        bgr: The sketch, as :func:`load_sketch` returns it.
        ocr: A RapidOCR engine (or any callable with its interface).
        min_confidence: OCR words below this score are ignored.
        max_side: The image is scaled to this longest side before analysis (see :func:`_at_working_size`).

    Example:
        >>> from rapidocr import RapidOCR  # doctest: +SKIP
        >>> layout, metrics = analyze_sketch_image(load_sketch("sketch.jpg"), RapidOCR())  # doctest: +SKIP
    """
    import cv2

    h, w = bgr.shape[:2]
    work = _at_working_size(bgr, max_side)
    # photos as people take them: sideways or upside down with no EXIF turn, or a few degrees askew
    work, words, turn = upright(work, lambda img: rapidocr_words(ocr, img, min_confidence))
    levelled_from = work.shape[:2]
    work, tilt, turned = level(work)
    if turned is not None:
        words = [Word(move_box(x.box, turned), x.text, x.confidence, x.line) for x in words]
    if turn in (90, 270):
        w, h = h, w
    page = detect_page(work, words)
    if turned is not None:
        # boxes are given in the photo as it is (upright), not in the levelled copy
        back = cv2.invertAffineTransform(turned)
        for e in _walk(page.elements):
            e.box = move_box(e.box, back)
        wh, ww = levelled_from
    else:
        wh, ww = work.shape[:2]
    # misreads are put back into words on an English sketch only: another language's words are a misread's
    # neighbours in English ("Forma" -> "Form")
    english = looks_english(e.text for e in _walk(page.elements))
    layout = Layout(width=w, height=h, source="sketch", viewport=page.viewport,
                    elements=[_to_layout(e, ww, wh, english) for e in page.elements])
    leaves = layout.leaves()
    metrics = {
        "elements": len(leaves),
        "containers": sum(1 for _ in layout.walk()) - len(leaves),
        "words": len(words),
        "ocr_confidence": round(float(np.mean([x.confidence for x in words])), 4) if words else 0.0,
        "turned": turn, "tilt_deg": round(tilt, 1), "viewport": page.viewport, **page.info,
    }
    return layout, metrics


def turned_upright(bgr: np.ndarray, ocr: Any | None, *, max_side: int = WORK_SIDE) -> tuple[np.ndarray, int]:
    """The sketch turned so that its writing reads left to right, and the turn in degrees (clockwise).

    The same reading of the photo as :func:`analyze_sketch_image` makes, for a judge that compares a page with the
    sketch: a page built from a sideways photo is upright. With no OCR engine (``None``), only the strokes say:
    a sketch whose long strokes mostly stand is turned a quarter.
    """
    import cv2

    def read(img: np.ndarray) -> list[Word]:
        return rapidocr_words(ocr, img) if ocr is not None else []

    _, _, turn = upright(_at_working_size(bgr, max_side), read)
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return (cv2.rotate(bgr, codes[turn]) if turn else bgr), turn


def _at_working_size(bgr: np.ndarray, max_side: int) -> np.ndarray:
    """The image scaled to ``max_side`` px on its longest side: down when bigger; up when it is more than a fifth
    smaller, since the strokes' widths and gaps that the shape rules see are pixels (a sketch photographed at half
    size: detection F1 0.66 as it is, 0.86 scaled up); as it is otherwise."""
    import cv2

    h, w = bgr.shape[:2]
    scale = max_side / max(h, w)
    if scale > 1.25:
        return cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    if scale < 1:
        return cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    return bgr


def _walk(elements: list[Element]) -> list[Element]:
    out = []
    for e in elements:
        out.append(e)
        out.extend(_walk(e.children))
    return out


def _to_layout(e: Element, w: int, h: int, fix_words: bool = False) -> LayoutElement:
    b = e.box
    x0, y0 = max(b.x0, 0.0) / w, max(b.y0, 0.0) / h
    x1, y1 = min(b.x1, w) / w, min(b.y1, h) / h
    # misreads are put back into words once the element is known (a radio's circle read as a leading "O" has
    # been taken off by then): a page shows what was written, not what OCR made of it
    return LayoutElement(role=e.role, box=(x0, y0, max(x1 - x0, 0.0), max(y1 - y0, 0.0)),
                         text=corrected(e.text) if fix_words else e.text,
                         confidence=round(e.confidence, 3), kind=e.kind,
                         children=[_to_layout(c, w, h, fix_words) for c in e.children])


def _leaf_count(art: Artifact, store: Any) -> int:
    if art.kind != "layout":
        raise ValueError(f"'leaves' applies to layouts, not {art.kind}")
    return len(Layout.model_validate(store.read_json(art)).leaves())


# checks may say ``layout.leaves >= 5`` on any layout output, not only on this tool's metric
register_property("leaves", _leaf_count)


class AnalyzeSketch(Tool):
    """Read a hand-drawn UI sketch (photo or scan) into a layout of elements with classes, text and nesting.

    Example:
        >>> tool = AnalyzeSketch()
        >>> tool.inputs, tool.outputs
        ({'image': 'image'}, {'layout': 'layout'})
    """

    name = "analyze_sketch"
    description = ("Detect the UI elements of a hand-drawn sketch photo (boxes, checkboxes, buttons, text, "
                   "images...) and read their text, giving a page layout.")
    family = "vision"
    inputs = {"image": "image"}
    outputs = {"layout": "layout"}
    params_model = SketchParams
    metrics = {"elements": "number of leaf elements found",
               "containers": "number of container elements (sections) found",
               "words": "number of words read by OCR",
               "ocr_confidence": "mean OCR confidence of the words read, 0-1"}
    default_checks = ("elements >= 1",)
    requires = ("cv2", "rapidocr", "onnxruntime")
    extra = "sketch"
    stateful = True  # keeps its model loaded between calls
    timeout_s = 120.0
    # read again more closely (fainter words, finer strokes, small writing on a big photo the detector missed),
    # then more coarsely (broken strokes join up)
    retry_params = ({"min_confidence": 0.1, "max_side": 1600, "det_side": 1600},
                    {"min_confidence": 0.2, "max_side": 1024})

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        art = inputs["image"]
        backend = params.get("backend", "auto")
        if backend != "opencv":
            from tools.chat import configured_chat_model

            model = configured_chat_model("vision", ctx.settings)
            if model is None and backend == "llm":
                raise ToolError("backend 'llm' needs a vision chat model; set MMAGENT_VISION_MODEL (e.g. "
                                "'openai:gpt-4o') or use backend 'opencv'")
            if model is not None:
                return self._run_llm(ctx, art, model)
        bgr = load_sketch(ctx.store.path(art), max_pixels=ctx.settings.max_pixels)
        det_side = params.get("det_side") or ctx.settings.sketch_det_side
        ocr = ctx.load_model(ocr_key(det_side), lambda: _load_ocr(det_side))
        layout, metrics = analyze_sketch_image(bgr, ocr, min_confidence=params.get("min_confidence", 0.3),
                                               max_side=params.get("max_side", WORK_SIDE))
        if not layout.elements:
            raise ToolError(f"no UI elements found in sketch {art.meta.get('name', art.short_id)!r}; photograph it "
                            "closer, with even light and dark pen strokes")
        out = ctx.store.put_json(layout.model_dump(mode="json"), "layout", step=ctx.step_id, output="layout",
                                 elements=metrics["elements"])
        return ToolResult({"layout": out}, metrics)

    def _run_llm(self, ctx: ToolContext, art: Artifact, model: Any) -> ToolResult:
        from tools.vision._sketch_llm import layout_from_chat_model

        layout = layout_from_chat_model(model, ctx.store.read_bytes(art), art.media_type, art.meta.get("width"),
                                        art.meta.get("height"), cache_dir=ctx.settings.cache_dir)
        leaves = len(layout.leaves())
        metrics = {"elements": leaves, "containers": sum(1 for e in layout.walk() if e.role in CONTAINER_ROLES),
                   "words": sum(len(e.text.split()) for e in layout.walk()), "ocr_confidence": None,
                   "backend": "llm"}
        out = ctx.store.put_json(layout.model_dump(mode="json"), "layout", step=ctx.step_id, output="layout",
                                 elements=leaves)
        return ToolResult({"layout": out}, metrics)
