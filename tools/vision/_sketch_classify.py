"""Hand-drawn UI sketch detection, part 2: from shapes and words to classed, nested elements.

A box with an X is an Image, a box with a small cell or a "v" at its right end a ComboBox, a box with words a
Button, an empty wide box a TextBox; a square or circle beside a phrase is a CheckBox or RadioButton (with its
label); other phrases are Headings (the page title, or tall), Links (underlined), Paragraphs (long stacked lines,
or stacked strokes standing for text) or Labels. A box with words placed at its left end, in a wide field, is a
TextBox with a placeholder. A ring or square that is part of a word (the "o" of "your", the loop of a "P") is no
control. A box that holds other elements, or several lines of text and much taller than them, is a container: the
page-wide one at the top a ``nav``, at the bottom a ``footer``, else a ``card`` (``section`` when page-wide), with
the larger first line of its text as its Heading. All sizes are relative to the median letter height, so one rule
fits a whiteboard photo and a paper scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median

import numpy as np

from tools._page_content import has_words
from tools.vision import _sketch_marks as marks_
from tools.vision._ink import diagonals_drawn
from tools.vision._sketch_detect import (
    Box,
    Element,
    Shape,
    Word,
    arrow_cell,
    closed_shapes,
    crossed,
    dilate,
    filled_rings,
    frames,
    ink_mask,
    square_at_start,
    underlined,
)

__all__ = ["detect_elements", "detect_page", "PageReading"]

_CHECK_GLYPHS = "□口囗☐☑☒▢■"
_NUMBER = re.compile(r"\d{2,}")
_RADIO_WORD = re.compile(r"^[oO0@©◎⊙●○]$")
_RADIO_PREFIX = re.compile(r"^[oO0@©◎⊙●○](?=[A-Z])")
_BOX_READS = "IM"  # capitals OCR makes of a drawn square in front of a word; a "P" or a "G" is a letter
_RING_LETTERS = "oOaAdDgGpPqQbBeR0698@"  # letters whose loop can pass for a radio circle
_TEXT_ROLES = ("Label", "Heading", "Paragraph", "Link", "CheckBox", "RadioButton")


@dataclass
class PageReading:
    """What a sketch shows: its elements, the screen it was drawn for, and where its frame was."""

    elements: list[Element]
    viewport: str | None = None
    frame: Box | None = None
    info: dict[str, int] = field(default_factory=dict)


def detect_elements(bgr: np.ndarray, words: list[Word]) -> list[Element]:
    """Elements of a sketch: leaves (the 10 sketch classes) nested in containers, in the image's pixels.

    Example:
        >>> page = np.full((200, 300, 3), 255, np.uint8)
        >>> page[50:53, 40:200] = page[120:123, 40:200] = 0
        >>> page[50:123, 40:43] = page[50:123, 197:200] = 0
        >>> [e.role for e in detect_elements(page, [])]
        ['TextBox']
    """
    return detect_page(bgr, words).elements


def detect_page(bgr: np.ndarray, words: list[Word]) -> PageReading:
    """Elements of a sketch: leaves (the 10 sketch classes) nested in containers, in the image's pixels.

    Args:
        bgr: The sketch as a BGR uint8 array, already scaled to the working size.
        words: OCR words in the same pixels.

    Example:
        >>> page = np.full((200, 300, 3), 255, np.uint8)
        >>> page[50:53, 40:200] = page[120:123, 40:200] = 0
        >>> page[50:123, 40:43] = page[50:123, 197:200] = 0
        >>> [e.role for e in detect_elements(page, [])]
        ['TextBox']
    """
    from tools.vision._sketch_page import page_frame, sections_of

    mask = marks_.lined_paper(ink_mask(bgr))
    words = [_tighten(w, mask) for w in words if w.text.strip()]
    heights = [w.box.h for w in words if not _is_glyph(w.text)]
    height = float(median(heights)) if heights else max(12.0, max(mask.shape) / 40)
    shapes = _find_shapes(mask, words, height)
    words = [w for w in words if not _is_glyph(w.text)]
    marks = [s for s in shapes if max(s.box.w, s.box.h) < 1.9 * height and 0.5 < s.box.w / max(s.box.h, 1) < 2.0
             and _isolated(s, height) and not _letter_hole(s, words) and not _in_word(s, words, height)]
    boxes = [s for s in shapes if s not in marks and max(s.box.w, s.box.h) >= 1.9 * height
             and min(s.box.w, s.box.h) >= 0.6 * height]
    boxes = _drop_nested_duplicates(boxes)
    figures = _figures(mask, boxes, words, height)
    boxes = [b for b in boxes if not any(b.box.inside(f.box, 2) for f in figures)]
    # marks inside a box (a letter's hole, the cell of a combo box) are not checkboxes
    marks = _drop_nested_duplicates([m for m in marks if not any(m.box.inside(b.box, 2) for b in boxes)])
    # a box ruled into a grid is a table: its cells are not boxes of their own
    tables = [Element("Paragraph", b.box, "", 0.5, kind="table") for b in sorted(boxes, key=lambda b: -b.box.area)
              if b.box.w >= 4 * height and b.box.h >= 3 * height and _grid(mask, b.box, height)]
    boxes = [b for b in boxes if not any(b.box.inside(t.box, 4) for t in tables)]
    # a ring with a handle, read by OCR as a letter, is the search icon
    icons = [Element("Image", w.box, "", 0.5, kind="icon:search") for w in words
             if len(w.text) == 1 and w.text in "QqOo0Pp9@" and marks_.icon_name(mask, w.box) == "search"]
    words = [w for w in words if not any(i.box == w.box for i in icons)]
    # letters OCR reads off a pen's squiggles ("wr", "co e", "n") are no words: their ink goes to the stroke reader
    # below, which takes a squiggle for the text placeholder it is; ring letters stay for the radio buttons
    words = [w for w in words if has_words(w.text) or _RADIO_WORD.match(w.text.strip()) or _NUMBER.search(w.text)]
    # a phone or browser drawn around the page is no content: it says which screen the page is for
    frame = page_frame(mask, boxes, words, height)
    if frame is not None:
        boxes = [b for b in boxes if not any(b.box.inside(f, 2) and f.area <= 1.05 * b.box.area
                                             for f in frame.drop)]
        marks = [m for m in marks if frame.screen.contains_point(m.box.cx, m.box.cy)]
        words = [w for w in words if frame.screen.contains_point(w.box.cx, w.box.cy)]
    # a picture marked by its name: "Picture" written in a ring or an oval
    figures += _named_pictures(mask, words, boxes)
    words = [w for w in words if not any(f.box.contains_point(w.box.cx, w.box.cy) for f in figures)]
    # the ink that is neither a box's outline, a word nor a mark: placeholders, doodles, dots, dividers
    left = marks_.leftover_ink(mask, [b.box for b in boxes] + (frame.drop if frame else []), words,
                               [m.box for m in marks] + [f.box for f in figures], height)
    if frame is not None:
        left = _clip(left, frame.screen)
    found = marks_.strokes(left, height)
    # a box's edge drawn twice leaves its second stroke behind: along an edge, it is no text
    found = [f for f in found if not any(_edge_remnant(f.box, b.box, height) for b in boxes)
             and f.box.x0 > 3 and f.box.y0 > 3 and f.box.x1 < mask.shape[1] - 3 and f.box.y1 < mask.shape[0] - 3]
    lines = marks_.text_lines(found, height, mask.shape, [_union([w.box for w in r]) for r in _rows(words, height)])

    used: set[int] = set()
    leaves: list[Element] = [*tables, *icons, *figures]
    sections: list[Element] = []
    classified = []
    for shape in sorted(boxes, key=lambda s: s.box.area):
        inner = [w for w in words if shape.box.contains_point(w.box.cx, w.box.cy)]
        element = _classify_box(shape, inner, shapes, mask, height, left, lines)
        # a combo box grows by its arrow cell: its words and marks are all part of it
        inside = [i for i, w in enumerate(words) if element.box.contains_point(w.box.cx, w.box.cy)]
        if element.role == "ComboBox":
            marks = [m for m in marks if not m.box.inside(element.box, 4)]
        classified.append((element, inside))
    content = _union([s.box for s in boxes] + [w.box for w in words]) if boxes or words else None
    for element, inner in classified:
        holds = sum(1 for other, _ in classified if other is not element and other.box.inside(element.box, 4))
        if element.role not in ("Image", "ComboBox"):
            holds += sum(1 for s in lines if s.box.inside(element.box.pad(-0.4 * height, -0.3 * height)))
        role = _container_role(element, [words[i] for i in inner], holds, content, height)
        if role:
            element.role = role  # a box around other elements or several lines of text groups them
            sections.append(element)
            continue
        used.update(inner)
        leaves.append(element)

    free = [w for i, w in enumerate(words) if i not in used]
    phrases = _phrases(free, height, [m.box for m in marks])
    phrase_boxes = [_union([w.box for w in p]) for p in phrases]
    pairs = _pair_marks(marks, phrase_boxes, height)
    rest: list[list[Word]] = []
    for pi, phrase in enumerate(phrases):
        pbox, text = phrase_boxes[pi], _text(phrase)
        if pi in pairs:
            mark = marks[pairs[pi]]
            role = "RadioButton" if mark.round else "CheckBox"
            leaves.append(Element(role, mark.box.union(pbox), _strip_mark(text), _conf(phrase)))
        elif (len(phrase) > 1 and _RADIO_WORD.match(phrase[0].text)) or _RADIO_PREFIX.match(text):
            leaves.append(Element("RadioButton", pbox, _strip_mark(text), _conf(phrase)))
        elif (not text[:1].isupper() or text[:1] in _BOX_READS) and square_at_start(mask, pbox, height):
            # OCR read the box as a letter ("Ichoice", "M choices"): the ink says it is a square
            leaves.append(Element("CheckBox", pbox, re.sub(r"^[IlM|\[]\s*(?=\w)", "", text), _conf(phrase)))
        else:
            rest.append(phrase)
    taken = set(pairs.values())
    for i, m in enumerate(marks):
        if i in taken:
            continue
        # a ring with a handle running off to the lower right, and no label: the search magnifier
        if m.round and m.outer is not None and marks_.icon_name(mask, m.outer) == "search":
            leaves.append(Element("Image", m.outer, "", 0.5, kind="icon:search"))
        else:
            leaves.append(Element("RadioButton" if m.round else "CheckBox", m.box, "", 0.4))
    edges = [b.box for b in boxes if b.box.w > 2 * height]
    leaves.extend(_text_elements(rest, mask, height, [e.box for e in leaves], edges))
    leaves.extend(_placeholders(found, lines, left, leaves, sections, mask, height))
    leaves = _without_doubles(leaves)
    _pad_text(leaves, height)
    dividers = marks_.separators(found, lines, height, content.w if content else mask.shape[1])
    top = _nest(leaves, sections)
    for container in sections:
        _title_heading(container)
    top = sections_of(top, [d.box for d in dividers], height)
    info = {"placeholders": sum(1 for e in leaves if e.kind in ("placeholder", "list")),
            "icons": sum(1 for e in leaves if e.kind.startswith("icon:")), "separators": len(dividers)}
    return PageReading(top, frame.viewport if frame else None, frame.box if frame else None, info)


def _figures(mask: np.ndarray, boxes: list[Shape], words: list[Word], height: float) -> list[Element]:
    """Freehand drawings that hold a closed shape: a stick figure's head, a face, a cup. The shape's own stroke
    runs on well past it (a body, a handle) into a drawing a few lines of text across that holds no word and no
    other box. A control's outline ends at its box; one joined to the page's frame makes a far bigger blob."""
    import cv2

    if not boxes:
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[Element] = []
    for shape in boxes:
        b = shape.box
        ring = labels[int(max(b.y0, 0)):int(b.y1) + 1, int(max(b.x0, 0)):int(b.x1) + 1]
        ids, counts = np.unique(ring[ring > 0], return_counts=True)
        if not len(ids):
            continue
        x, y, w, h, _ = (int(v) for v in stats[int(ids[np.argmax(counts)])])
        blob = Box(x, y, x + w, y + h)
        beyond = max(b.x0 - blob.x0, blob.x1 - b.x1, b.y0 - blob.y0, blob.y1 - b.y1)
        if (blob.area >= 2.5 * b.area and beyond >= 1.5 * height and max(w, h) <= 15 * height
                and not any(blob.contains_point(wd.box.cx, wd.box.cy) for wd in words)
                and not any(o is not shape and o.box.inter(blob) > 0.5 * o.box.area for o in boxes)
                and not any(blob.inside(f.box, 2) for f in out)):
            out.append(Element("Image", blob, "", 0.4, kind="drawing"))
    return out


_PICTURE_WORDS = frozenset({"picture", "pic", "image", "img", "photo", "photograph", "avatar", "portrait"})


def _is_picture_word(text: str) -> bool:
    return text.strip(" ?.:!()[]").lower() in _PICTURE_WORDS


def _named_pictures(mask: np.ndarray, words: list[Word], boxes: list[Shape]) -> list[Element]:
    """Pictures drawn as a ring or an oval around the word "picture" (or "image", "photo"): the ring need not
    close, it is one stroke around the word. The word in a box is the box's business."""
    import cv2

    named = [w for w in words if _is_picture_word(w.text)
             and not any(b.box.contains_point(w.box.cx, w.box.cy) for b in boxes)]
    if not named:
        return []
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out: list[Element] = []
    for w in named:
        rings = []
        for i in range(1, len(stats)):
            x, y, bw, bh, _ = (int(v) for v in stats[i])
            ring = Box(x, y, x + bw, y + bh)
            if not (w.box.inside(ring) and ring.w >= 1.3 * w.box.w and ring.h >= 2 * w.box.h
                    and ring.area <= 60 * w.box.area):
                continue
            inside = labels[int(w.box.y0):int(w.box.y1) + 1, int(w.box.x0):int(w.box.x1) + 1] == i
            if inside.mean() < 0.05:  # around the word, not its own letters
                rings.append(ring)
        if rings:
            out.append(Element("Image", min(rings, key=lambda r: r.area), w.text, 0.5))
    return out


def _without_doubles(leaves: list[Element]) -> list[Element]:
    """The leaves without doubles: two of one role covering mostly the same place (a line of writing gone over
    twice, read as two placeholders) are one element, the union of both, with the words either had. A page built
    from both put them side by side at half the width each."""
    kept: list[Element] = []
    gone: set[int] = set()
    for el in sorted(leaves, key=lambda e: -e.box.area):
        twin = next((o for o in kept if o.role == el.role and el.box.inter(o.box) >= 0.6 * min(el.box.area, o.box.area)
                     and not (el.text and o.text)), None)
        if twin is None:
            kept.append(el)
            continue
        twin.box = twin.box.union(el.box)
        twin.text = twin.text or el.text
        gone.add(id(el))
    return [e for e in leaves if id(e) not in gone]


def _edge_remnant(s: Box, b: Box, height: float) -> bool:
    """A stroke lying along the top or bottom edge of box ``b`` (most of its width): a second pass of the pen."""
    along = min(s.x1, b.x1) - max(s.x0, b.x0) > 0.6 * s.w and s.w > 0.3 * b.w
    return along and s.h < 1.2 * height and min(abs(s.cy - b.y0), abs(s.cy - b.y1)) < 0.7 * height


def _clip(mask: np.ndarray, box: Box) -> np.ndarray:
    out = np.zeros_like(mask)
    y0, y1, x0, x1 = max(int(box.y0), 0), int(box.y1), max(int(box.x0), 0), int(box.x1)
    out[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
    return out


_CONTROLS = ("Button", "TextBox", "ComboBox", "Image", "CheckBox", "RadioButton")


def _placeholders(found: list[Shape], lines: list, left: np.ndarray, leaves: list[Element],
                  sections: list[Element], mask: np.ndarray, height: float) -> list[Element]:
    """Text drawn as squiggles or bars, icons, and carousel dots, from the leftover ink outside the controls."""
    controls = [e.box for e in leaves if e.role in _CONTROLS]
    texts = [e.box for e in leaves if e.role not in _CONTROLS]

    def free(b: Box) -> bool:
        return (not any(b.inter(c) > 0.4 * b.area for c in controls)
                and not any(b.inter(t) > 0.25 * b.area for t in texts))

    lines = [s for s in lines if free(s.box)]
    rows, dots = marks_.dot_rows([s for s in found if free(s.box)], height)
    page = Box(0, 0, mask.shape[1], mask.shape[0])
    out = marks_.text_blocks(lines, dots, height, page) + rows
    taken = [e.box for e in out] + controls + texts
    others = [s for s in found if s not in lines and free(s.box)
              and not any(s.box.inter(t) > 0 for t in taken)]
    icons = marks_.icons(others, left, height)
    for icon in icons:
        # a doodle next to a word on its line is a letter OCR did not box, not an icon
        near_text = any(icon.box.v_overlap(t) > 0.4 and min(abs(icon.box.x0 - t.x1), abs(t.x0 - icon.box.x1))
                        < 0.8 * height for t in texts)
        crowded = sum(1 for s in found if s.box.inter(icon.box.pad(0.8 * height, 0.8 * height)) > 0
                      and not s.box.inside(icon.box, 2)) > 0
        if not near_text and not crowded:
            out.append(icon)
    rest = [s for s in others if not any(s.box.inter(i.box) > 0 for i in icons)]
    out.extend(marks_.unexplained(rest, height))
    return out


def _container_role(element: Element, inner: list[Word], holds: int, content: Box | None, height: float
                    ) -> str | None:
    """The container a frame is, or None when it is a control.

    A frame holding other boxes, or much taller than its text with several lines in it, groups them: a ``card``,
    or a ``section`` when it spans the page. A page-wide frame at the top holding several phrases is the ``nav``;
    one at the bottom holding text, taller than a button, is the ``footer``.
    """
    box = element.box
    # a region is larger than a control: a small box saying "Menu" is the menu's button
    named = _region_named(_text(inner)) if box.w >= 8 * height and box.h >= 1.8 * height else None
    if named is not None and element.role in ("Button", "TextBox"):
        return named
    rows = _rows(inner, height)
    line = float(median(w.box.h for w in inner)) if inner else height
    tall = box.h > 3.5 * line
    grouping = (holds >= 2 or (holds >= 1 and box.area > 24 * height * height) or len(_phrases(inner, height)) > 2
                or (len(rows) >= 2 and tall))
    wide = content is not None and box.w >= 0.75 * content.w
    if content is not None and wide and (element.role in ("Button", "TextBox") or grouping):
        if box.y0 <= content.y0 + 0.5 * height and len(_phrases(inner, height)) >= 2:
            return "nav"
        if box.y1 >= content.y1 - 0.5 * height and inner and (grouping or tall):
            return "footer"
    if grouping:
        return "section" if wide else "card"
    return None


# wireframes label a page's regions by name: a box holding only "HEADER", "Main content" or "Side bar" is that
# region, not a button or a field with that word in it
_REGIONS = {"header": "header", "banner": "header", "hero": "header", "masthead": "header", "nav": "nav",
            "navigation": "nav", "navbar": "nav", "menu": "nav", "footer": "footer", "body": "section",
            "content": "section", "main": "section", "sidebar": "section", "aside": "section"}
_REGION_FILLER = {"area", "here", "goes", "the", "page", "side", "bar", "top", "bottom", "main", "content", "section"}


def _region_named(text: str) -> str | None:
    """The container role a box's words name ("HEADER" -> header, "main content" -> section), or None when they
    say anything else. A misread of four letters or more counts as the region word it is one edit from."""
    from tools.vision._spelling import _nearest_web_word

    words = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    words = [w if w in _REGIONS or w in _REGION_FILLER or len(w) < 4 else (_nearest_web_word(w) or w)
             for w in words]
    if "side" in words and "bar" in words:
        words.append("sidebar")
    roles = [_REGIONS[w] for w in words if w in _REGIONS]
    if not roles or not all(w in _REGIONS or w in _REGION_FILLER for w in words):
        return None
    return roles[0] if "sidebar" not in words else "section"


def _title_heading(container: Element) -> None:
    """The first text line of a container, set larger than the lines under it, is its heading."""
    texts = sorted((c for c in container.children if c.role in ("Label", "Paragraph", "Heading")),
                   key=lambda c: (c.box.y0, c.box.x0))
    if len(texts) < 2 or texts[0].role != "Label" or any(c.box.y1 <= texts[0].box.cy for c in container.children):
        return
    rest = [c.box.h for c in texts[1:] if c.role != "Paragraph"]
    if rest and texts[0].box.h >= 1.2 * median(rest):
        texts[0].role = "Heading"


# -- shapes -------------------------------------------------------------------------------------------------
def _find_shapes(mask: np.ndarray, words: list[Word], height: float) -> list[Shape]:
    shapes = closed_shapes(mask, min_side=0.35 * height)
    holes = [s.box for s in shapes]
    # the strokes of one box often do not meet: bridge small gaps, then look for frames; a wide bridge also glues
    # the text inside to the frame, so try a narrow one too
    for k in sorted({3, max(3, int(0.25 * height)) | 1}):
        found = [Shape(f.box.pad(-(k // 2), -(k // 2)), False, 1.0)
                 for f in frames(dilate(mask, k), 0.8 * height, small=1.9 * height)]
        shapes += [f for f in found if not any(f.box.inter(b) > 0.5 * max(f.box.area, b.area) for b in holes)]
        holes += [f.box for f in found]
    # a selected radio button beside a word, not read as part of one
    for ring in filled_rings(mask, 0.5 * height, 1.6 * height):
        b = ring.box
        if (not any(s.box.inter(b) > 0.3 * b.area for s in shapes)
                and not any(w.box.pad(2, 2).contains_point(b.cx, b.cy) for w in words)
                and any(w.box.v_overlap(b) > 0.5 and 0 < w.box.x0 - b.x1 < 1.5 * height for w in words)):
            shapes.append(ring)
    # OCR often reads a drawn checkbox as a glyph; where no shape was found there, the glyph is the mark
    for w in words:
        if _is_glyph(w.text) and not any(s.box.inter(w.box) > 0.3 * w.box.area for s in shapes):
            shapes.append(Shape(w.box, False, 1.0))
    return shapes


def _isolated(shape: Shape, height: float) -> bool:
    """A drawn mark is a stroke of its own; the hole of a letter belongs to a stroke as long as its word."""
    if shape.outer is None:
        return True
    if min(shape.box.w, shape.box.h) < 0.4 * height:
        return False
    slack = max(0.5 * height, 0.35 * max(shape.box.w, shape.box.h))
    return shape.outer.w <= shape.box.w + 2 * slack and shape.outer.h <= shape.box.h + 2 * slack


def _in_word(shape: Shape, words: list[Word], height: float) -> bool:
    """A small ring or square inside a word's box is part of a letter ('o' in "your", the loop of a "P"), unless it
    is the whole word (OCR read the mark as "o") or stands at one end of the word with no other word close on that
    side (a radio circle read into its label: "OMedium")."""
    b = shape.box
    for w in words:
        if b.inter(w.box) < 0.5 * b.area or w.box.w < 1.6 * b.w or any(c in _CHECK_GLYPHS for c in w.text):
            continue
        left, right = b.x0 - w.box.x0, w.box.x1 - b.x1
        edge = 0.3 * height
        if left > edge and right > edge:
            return True
        end = w.text[0] if left <= edge else w.text[-1]
        if not shape.round or end not in _RING_LETTERS:
            continue  # a drawn square, or a ring OCR did not read as a round letter: the mark of a control
        for o in words:
            if o is w or o.box.v_overlap(w.box) < 0.5:
                continue
            gap = w.box.x0 - o.box.x1 if left <= edge else o.box.x0 - w.box.x1
            if 0 <= gap < 0.8 * height:
                return True  # the word continues a line of text: the ring is its first (last) letter
    return False


def _letter_hole(shape: Shape, words: list[Word]) -> bool:
    """The hole of an 'o', 'p' or 'g' in a printed word: inside a word's box, and under half its height or with a
    stroke running well past it (a tail). A drawn checkbox or radio circle read into a word stands as tall as the
    letters and is a closed ring."""
    o = shape.outer or shape.box
    tail = o.h > 1.5 * shape.box.h or o.w > 1.5 * shape.box.w
    return any(shape.box.inside(w.box.pad(2, 2)) and (shape.box.h < 0.55 * w.box.h or tail)
               for w in words if not _is_glyph(w.text))


def _drop_nested_duplicates(shapes: list[Shape]) -> list[Shape]:
    """A box drawn with a double stroke gives two nested shapes of nearly the same size: keep the outer."""
    keep: list[Shape] = []
    for s in sorted(shapes, key=lambda s: -s.box.area):
        if any(s.box.inside(k.box, 2) and s.box.area > 0.6 * k.box.area for k in keep):
            continue
        keep.append(s)
    return keep


def _classify_box(shape: Shape, inner: list[Word], shapes: list[Shape], mask: np.ndarray, height: float,
                  left: np.ndarray | None = None, lines: list | None = None) -> Element:
    box = shape.box
    text = _text(inner)
    conf = _conf(inner) if inner else 0.6
    if left is not None:
        special = _toggle_or_table(box, mask, left, height)
        if special is not None:
            return special
    # a combo box: a small cell glued to the right end of a wider box, or a "v" written at its right end
    for other in shapes:
        ob = other.box
        if (other is not shape and ob.x0 >= box.x1 - 0.5 * height and ob.x0 - box.x1 < 0.8 * height
                and box.v_overlap(ob) > 0.6 and ob.w < 0.6 * box.w and ob.w < 2.5 * ob.h and box.w > 1.5 * box.h):
            return Element("ComboBox", box.union(ob), _strip_combo(text), conf)
    right = [w for w in inner if w.box.x1 > box.x0 + 0.7 * box.w]
    if right and right[-1].text[-1:] in "vV∨▽▼√" and box.w > 1.5 * box.h:
        return Element("ComboBox", box, _strip_combo(text), conf)
    if arrow_cell(mask, box):
        return Element("ComboBox", box, _strip_combo(text), conf)
    # OCR reads the X of an image placeholder as a letter; a big picture box may carry a caption over its X
    if (not inner or re.fullmatch(r"[xX×✕+]", text) or box.area > 60 * height * height) and crossed(mask, box):
        return Element("Image", box, "" if re.fullmatch(r"[xX×✕+]", text) else text, 0.7)
    if inner and _is_picture_word(text):
        return Element("Image", box, text, 0.6)  # a box saying "image" is where the image goes
    # a smaller box with words and an X is a picture too, its words a caption ("logo", "photo of us"): the X
    # must then run corner to corner, so that a button's word in the middle does not pass for one
    if inner and _x_drawn(mask, box):
        return Element("Image", box, text, 0.6)
    inside = [s for s in lines or [] if s.box.inside(box, 4)]
    if not inner and left is not None and marks_.drawing_inside(left, box.pad(-0.25 * height, -0.25 * height),
                                                                lines or [], height):
        return Element("Image", box, "", 0.6)  # a mountain and sun, a figure: a picture
    inside = [s for s in inside if s.box.inside(box.pad(-0.4 * height, -0.3 * height)) and marks_.is_wavy(s)]
    if not inner and len(inside) == 1:
        t = inside[0].box
        if box.w > 2.5 * box.h and t.x0 - box.x0 < 0.12 * box.w and box.x1 - t.x1 > 0.3 * box.w:
            return Element("TextBox", box, "", 0.5)
        return Element("Button", box, "", 0.5, kind="placeholder")
    if inner:
        t = _union([w.box for w in inner])
        left, right = t.x0 - box.x0, box.x1 - t.x1
        if (box.w > 2.5 * box.h and len(_rows(inner, height)) == 1 and left < 0.12 * box.w
                and right > max(2.5 * left, 0.2 * box.w)):
            return Element("TextBox", box, text, conf)  # placeholder text at the left of a wide field
        return Element("Button", box, text, conf)
    if box.w > 2.0 * box.h:
        return Element("TextBox", box, "", 0.6)
    if box.area > 40 * height * height:
        return Element("Image", box, "", 0.4)
    return Element("TextBox", box, "", 0.4)


def _x_drawn(mask: np.ndarray, box: Box) -> bool:
    x0, y0 = max(int(box.x0), 0), max(int(box.y0), 0)
    comp = (mask[y0:int(box.y1) + 1, x0:int(box.x1) + 1] > 0).astype(np.uint8)
    # words written along the X leave less room beside its strokes than the ink reader's 0.55 allows (a logo
    # box with two lines of words met ink over 60% of the clearest parallel); a leaf box is not a card of
    # content, so only a box inked along every parallel is refused
    return min(comp.shape) >= 9 and diagonals_drawn(comp, beside=0.8)


def _toggle_or_table(box: Box, mask: np.ndarray, left: np.ndarray, height: float) -> Element | None:
    """A toggle (a small pill with its knob at one end) or a table (a box ruled into a grid)."""

    x0, y0, x1, y1 = int(box.x0), int(box.y0), int(box.x1), int(box.y1)
    if box.h <= 1.7 * height and 1.4 <= box.w / max(box.h, 1) <= 3.2:
        inner = mask[y0 + max(2, int(0.2 * box.h)):y1 - max(2, int(0.2 * box.h)),
                     x0 + max(2, int(0.12 * box.h)):x1 - max(2, int(0.12 * box.h))] > 0
        if inner.size:
            cols = np.flatnonzero(inner.mean(axis=0) > 0.25)
            w = inner.shape[1]
            if cols.size >= 0.15 * w and (cols[-1] < 0.5 * w or cols[0] > 0.5 * w):
                return Element("CheckBox", box, "", 0.5, kind="toggle")
    if box.w >= 4 * height and box.h >= 3 * height and _grid(mask, box, height):
        return Element("Paragraph", box, "", 0.5, kind="table")
    return None


def _grid(mask: np.ndarray, box: Box, height: float) -> bool:
    """Lines across the inside of the box, two or more each way or two across and one down: a table."""
    import cv2

    band = max(3, int(0.4 * height))
    x0, y0, x1, y1 = int(box.x0) + band, int(box.y0) + band, int(box.x1) - band, int(box.y1) - band
    sub = mask[max(y0, 0):y1, max(x0, 0):x1]
    if sub.size == 0:
        return False
    across = cv2.morphologyEx(sub, cv2.MORPH_OPEN, np.ones((1, max(5, int(0.8 * sub.shape[1]))), np.uint8))
    down = cv2.morphologyEx(sub, cv2.MORPH_OPEN, np.ones((max(5, int(0.8 * sub.shape[0])), 1), np.uint8))
    rows, cols = _runs_count(across.any(axis=1)), _runs_count(down.any(axis=0))
    return rows + cols >= 3 and rows >= 1 and cols >= 1


def _runs_count(flags: np.ndarray) -> int:
    return int(np.sum(np.diff(np.concatenate([[0], flags.astype(int), [0]])) == 1))


# -- words --------------------------------------------------------------------------------------------------
def _is_glyph(text: str) -> bool:
    t = text.strip()
    return bool(t) and all(c in _CHECK_GLYPHS + "[]|" for c in t)


def _tighten(word: Word, mask: np.ndarray) -> Word:
    """Shrink an OCR box (the detector pads it) to the ink inside, and drop checkbox glyphs from its text."""
    x0, y0 = max(int(word.box.x0), 0), max(int(word.box.y0), 0)
    x1, y1 = min(int(word.box.x1), mask.shape[1]), min(int(word.box.y1), mask.shape[0])
    text = word.text.strip()
    if not _is_glyph(text):
        text = text.strip(_CHECK_GLYPHS + "[]|").strip() or text
    sub = mask[y0:y1, x0:x1] > 0
    if sub.size == 0:
        return Word(word.box, text, word.confidence, word.line)
    rows = np.flatnonzero(sub.sum(axis=1) > max(1, 0.01 * sub.shape[1]))
    cols = np.flatnonzero(sub.any(axis=0))
    if rows.size < 3 or cols.size < 2:
        return Word(word.box, text, word.confidence, word.line)
    return Word(Box(x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1), text, word.confidence,
                word.line)


def _rows(words: list[Word], height: float) -> list[list[Word]]:
    """Words grouped into text rows (each row in reading order)."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.box.cy):
        for row in rows:
            if row[-1].box.v_overlap(word.box) > 0.5 and abs(row[-1].box.cy - word.box.cy) < 0.6 * height:
                row.append(word)
                break
        else:
            rows.append([word])
    return rows


def _phrases(words: list[Word], height: float, separators: list[Box] | None = None) -> list[list[Word]]:
    """Words on one line with gaps under about a letter height, and no mark between them: one phrase each.

    Words the OCR read as one text line may stand further apart, by their own (larger) letter height: a big
    title is written with wide gaps."""
    phrases: list[list[Word]] = []
    for row in _rows(words, height):
        row.sort(key=lambda w: w.box.x0)
        current = [row[0]]
        for word in row[1:]:
            gap = word.box.x0 - current[-1].box.x1
            # (a mark OCR read as a word, "O", is that word: it leads its label, it does not end the phrase)
            between = any(current[-1].box.cx < m.cx < word.box.cx and m.v_overlap(word.box) > 0.4
                          and m.inter(current[-1].box) < 0.5 * m.area for m in separators or [])
            # a field name ends with a colon: what follows is another element
            pair = (word.box.h, current[-1].box.h)
            same_line = word.line >= 0 and word.line == current[-1].line and max(pair) < 2.0 * min(pair)
            # a radio circle read as "O" stands a little further from its label than words of a phrase do
            reach = 2.0 if len(current) == 1 and _RADIO_WORD.match(current[0].text.strip()) else 1.1
            if between or current[-1].text.endswith(":") or gap > reach * max(height, (max if same_line else min)(
                    pair)):
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


def _strip_mark(text: str) -> str:
    text = text.lstrip(_CHECK_GLYPHS + " []|")
    parts = text.split(" ", 1)
    if len(parts) == 2 and _RADIO_WORD.match(parts[0]):
        return parts[1]
    return _RADIO_PREFIX.sub("", text)


def _strip_combo(text: str) -> str:
    return re.sub(r"\s*[|Il1]?\s*[vV∨▽▼√]$", "", text)


def _pair_marks(marks: list[Shape], phrases: list[Box], height: float) -> dict[int, int]:
    """Phrase index -> mark index, for checkbox and radio labels.

    People put the mark on the same side of its label throughout a sketch. Marks with a phrase on one side only
    vote for that side; then each mark takes the nearest free phrase on the voted side, else on the other side.
    """
    reach = 2.5 * height

    def gap(mark: Box, phrase: Box, side: str) -> float | None:
        if mark.v_overlap(phrase) < 0.4:
            return None
        g = phrase.x0 - mark.x1 if side == "right" else mark.x0 - phrase.x1
        # OCR boxes often include the mark itself, hence the negative gap allowed
        return g if -(mark.w + 0.3 * height) <= g < reach else None

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


# -- text ---------------------------------------------------------------------------------------------------
def _text_elements(phrases: list[list[Word]], mask: np.ndarray, height: float, above: list[Box],
                   edges: list[Box] | None = None) -> list[Element]:
    """Headings, Links, Paragraphs and Labels from the phrases that are not part of a control. ``edges`` are
    the drawn boxes: the top side of one just under a phrase is not its underline."""
    items = sorted(((_union([w.box for w in p]), p) for p in phrases), key=lambda it: (it[0].y0, it[0].x0))
    # the first text of the page is its title when no control stands above it
    first = 0 if items and not any(b.y1 <= items[0][0].y0 for b in above) else -1
    out: list[Element] = []
    merged: set[int] = set()
    for i, (pbox, phrase) in enumerate(items):
        if i in merged:
            continue
        block, bbox = [phrase], pbox
        for j in range(i + 1, len(items)):
            qbox, q = items[j]
            # only long lines make a paragraph: short stacked labels are a form's field names
            if (j not in merged and 0 <= qbox.y0 - bbox.y1 < 0.8 * height and abs(qbox.x0 - bbox.x0) < 1.5 * height
                    and qbox.h < 1.4 * height and pbox.h < 1.4 * height
                    and min(qbox.w, pbox.w) > 7 * height and max(qbox.w, pbox.w) > 9 * height):
                block.append(q)
                bbox = bbox.union(qbox)
                merged.add(j)
        words = [w for p in block for w in p]
        text = " ".join(_text(p) for p in block)
        if len(block) >= 2:
            role = "Paragraph"
        elif re.fullmatch(r"[xX×✕]", text) and pbox.h > 1.8 * height:
            role, text = "Image", ""  # a big X whose frame was not found: the image placeholder itself
        elif pbox.h > 1.8 * height or (i == first and pbox.y0 < 0.2 * mask.shape[0] and pbox.h >= 0.9 * height
                                       and (pbox.h > 1.25 * height or pbox.w > 0.2 * mask.shape[1])):
            role = "Heading"
        elif underlined(mask, pbox, height) and not any(
                abs(e.y0 - pbox.y1) < 0.8 * height and min(e.x1, pbox.x1) - max(e.x0, pbox.x0) > 0.3 * pbox.w
                for e in edges or []):
            role = "Link"
        else:
            role = "Label"
        out.append(Element(role, bbox, text, _conf(words)))
    return out


def _line_paragraphs(mask: np.ndarray, height: float, taken: list[Box]) -> list[Element]:
    """Stacked horizontal strokes of similar length stand for a paragraph of text in wireframes."""
    import cv2

    count, _labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    lines = []
    for i in range(1, count):
        x, y, w, h, _n = (int(v) for v in stats[i])
        b = Box(x, y, x + w, y + h)
        if (w > 3 * height and h < 0.6 * height and w > 6 * h and w < 0.6 * mask.shape[1]
                and not any(b.inter(t) > 0.3 * b.area for t in taken)):
            lines.append(b)
    lines.sort(key=lambda b: b.y0)
    groups: list[list[Box]] = []
    for b in lines:
        for g in groups:
            last = g[-1]
            if 0 < b.y0 - last.y0 < 1.6 * height and abs(b.x0 - last.x0) < 1.5 * height and 0.5 < b.w / last.w < 2:
                g.append(b)
                break
        else:
            groups.append([b])
    return [Element("Paragraph", _union(g), "", 0.5) for g in groups if len(g) >= 2]


def _pad_text(elements: list[Element], height: float) -> None:
    """People draw their boxes loosely around text; pad text-only boxes the same way."""
    for e in elements:
        if e.role in _TEXT_ROLES:
            e.box = e.box.pad(0.3 * min(e.box.h, 2 * height), 0.2 * min(e.box.h, 2 * height))


def _nest(leaves: list[Element], containers: list[Element]) -> list[Element]:
    """Each element goes into the smallest container holding its centre; the rest are top level."""
    containers = sorted(containers, key=lambda c: c.box.area)
    top: list[Element] = []
    for item in [*leaves, *containers]:
        holders = [c for c in containers if c is not item and c.box.area > item.box.area
                   and c.box.contains_point(item.box.cx, item.box.cy)]
        (holders[0].children if holders else top).append(item)
    for c in containers:
        c.children.sort(key=lambda e: (e.box.y0, e.box.x0))
    return sorted(top, key=lambda e: (e.box.y0, e.box.x0))
