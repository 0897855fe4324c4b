"""analyze_sketch on the conventions people draw wireframes with: placeholders, frames, icons, photos as taken.

Synthetic drawings (OpenCV strokes on off-white paper) for each convention, and real wireframes from
../shared/data/wireframes where they show one (skipped when the shared data is absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("rapidocr")

import cv2  # noqa: E402

from modalities.layout import Layout  # noqa: E402
from tools.vision.sketch import _load_ocr, analyze_sketch_image, load_sketch  # noqa: E402

WIREFRAMES = Path(__file__).resolve().parents[3] / "shared" / "data" / "wireframes"
INK = (60, 40, 30)


@pytest.fixture(scope="module")
def ocr():
    engine, _ = _load_ocr()
    return engine


def _paper(w: int, h: int) -> np.ndarray:
    return np.full((h, w, 3), (236, 238, 240), np.uint8)


def _squiggle(img: np.ndarray, x0: int, y: int, length: int, amp: float = 5, thick: int = 3) -> None:
    pts = np.array([(x, y + amp * np.sin((x - x0) / 7.0)) for x in range(x0, x0 + length)], np.int32)
    cv2.polylines(img, [pts], False, INK, thick)


def _xbox(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    cv2.rectangle(img, (x0, y0), (x1, y1), INK, 3)
    cv2.line(img, (x0, y0), (x1, y1), INK, 3)
    cv2.line(img, (x0, y1), (x1, y0), INK, 3)


def _analyze(img: np.ndarray, ocr) -> tuple[Layout, dict]:
    return analyze_sketch_image(img, ocr)


def _walk(layout: Layout) -> list:
    return list(layout.walk())


def _page(img: np.ndarray, x0: int, y0: int) -> None:
    """A landing page's content: a heading squiggle, a paragraph of squiggles, a picture."""
    _squiggle(img, x0, y0, 260, amp=9, thick=7)
    for k in range(3):
        _squiggle(img, x0, y0 + 70 + 32 * k, 300 - 20 * k)
    _xbox(img, x0, y0 + 190, x0 + 300, y0 + 380)


def test_squiggles_are_text_a_bold_one_a_heading(ocr) -> None:
    img = _paper(900, 700)
    _page(img, 100, 80)
    layout, metrics = _analyze(img, ocr)
    leaves = layout.leaves()
    paragraphs = [e for e in leaves if e.role == "Paragraph" and e.kind == "placeholder"]
    assert len(paragraphs) == 1, [(e.role, e.kind, e.box) for e in leaves]
    assert paragraphs[0].box[3] > 2 * 32 / 700  # the three lines, not one
    heads = [e for e in leaves if e.role == "Heading"]
    assert heads and heads[0].box[1] < paragraphs[0].box[1]
    assert any(e.role == "Image" for e in leaves)
    assert metrics["placeholders"] >= 2


def test_a_phone_frame_is_not_content_and_makes_the_page_mobile(ocr) -> None:
    img = _paper(800, 1000)
    cv2.rectangle(img, (220, 60), (580, 900), INK, 4)  # the phone, twice as tall as wide
    cv2.circle(img, (400, 870), 14, INK, 3)  # its home button
    _page(img, 250, 140)
    layout, _ = _analyze(img, ocr)
    assert layout.viewport == "mobile"
    # nothing is as wide and tall as the phone: the frame did not become a section, a card or a picture
    assert not any(e.box[2] > 0.42 and e.box[3] > 0.8 for e in _walk(layout)), [(e.role, e.box) for e in
                                                                                _walk(layout)]
    assert any(e.role == "Paragraph" for e in layout.leaves())


def test_browser_chrome_makes_the_page_desktop(ocr) -> None:
    img = _paper(1200, 850)
    cv2.rectangle(img, (60, 50), (1140, 800), INK, 4)
    cv2.line(img, (60, 110), (1140, 110), INK, 3)  # the chrome bar
    for k in range(3):
        cv2.circle(img, (95 + 30 * k, 80), 9, INK, 2)  # its three dots
    _page(img, 120, 160)
    _xbox(img, 600, 200, 1000, 560)
    layout, _ = _analyze(img, ocr)
    assert layout.viewport == "desktop"
    # the three dots of the chrome are no radio buttons, and the window is no container
    assert not any(e.role == "RadioButton" for e in _walk(layout))
    assert not any(e.box[2] > 0.85 and e.box[3] > 0.8 for e in _walk(layout))


def test_icons_and_carousel_dots(ocr) -> None:
    img = _paper(1000, 700)
    for k in range(3):  # a hamburger, top left
        cv2.line(img, (60, 60 + 14 * k), (100, 60 + 14 * k), INK, 4)
    cv2.circle(img, (880, 70), 16, INK, 3)  # a search magnifier, top right
    cv2.line(img, (892, 82), (912, 102), INK, 4)
    _xbox(img, 200, 160, 800, 460)  # a carousel: a picture with dots under it
    for k in range(4):
        cv2.circle(img, (440 + 35 * k, 500), 7, INK, -1)
    layout, metrics = _analyze(img, ocr)
    kinds = {e.kind: e for e in _walk(layout)}
    assert "icon:menu" in kinds and kinds["icon:menu"].box[0] < 0.15
    assert "icon:search" in kinds and kinds["icon:search"].box[0] > 0.8
    assert "carousel" in kinds and kinds["carousel"].box[1] > 0.68
    assert metrics["icons"] == 2


def test_a_table_is_a_grid(ocr) -> None:
    img = _paper(900, 700)
    cv2.rectangle(img, (100, 100), (800, 500), INK, 3)
    for y in (200, 300, 400):
        cv2.line(img, (100, y), (800, y), INK, 3)
    for x in (330, 560):
        cv2.line(img, (x, 100), (x, 500), INK, 3)
    layout, _ = _analyze(img, ocr)
    tables = [e for e in _walk(layout) if e.kind == "table"]
    assert len(tables) == 1 and tables[0].box[2] > 0.7


def _words_sketch() -> np.ndarray:
    """A sign-up form with printed words: what OCR reads decides which way up the photo is."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (1000, 700), (236, 238, 240))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=44)
    draw.text((80, 60), "Welcome back", font=font, fill=INK[::-1])
    draw.text((80, 180), "Email address", font=font, fill=INK[::-1])
    draw.rectangle((80, 250, 700, 320), outline=INK[::-1], width=4)
    draw.text((80, 380), "Password please", font=font, fill=INK[::-1])
    draw.rectangle((80, 450, 700, 520), outline=INK[::-1], width=4)
    draw.rectangle((80, 580, 340, 650), outline=INK[::-1], width=4)
    draw.text((120, 592), "Sign in", font=font, fill=INK[::-1])
    return np.asarray(img)[:, :, ::-1].copy()


def test_a_photo_turned_by_exif_reads_upright(tmp_path, ocr) -> None:
    from PIL import Image

    upright = _words_sketch()
    sideways = Image.fromarray(upright[:, :, ::-1]).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn me 90 degrees clockwise to view"
    path = tmp_path / "phone.jpg"
    sideways.save(path, exif=exif, quality=92)
    layout, metrics = _analyze(load_sketch(path), ocr)
    assert metrics["turned"] == 0  # EXIF already did it
    assert any(e.role == "TextBox" and e.box[2] > 0.5 for e in layout.leaves())
    assert any("welcome" in e.text.lower() for e in layout.leaves())


@pytest.mark.parametrize("turn", [cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180])
def test_a_photo_taken_sideways_or_upside_down_without_exif_reads_upright(turn, ocr) -> None:
    layout, metrics = _analyze(cv2.rotate(_words_sketch(), turn), ocr)
    assert metrics["turned"] in (90, 180)
    assert (layout.width, layout.height) == (1000, 700)
    assert any("welcome" in e.text.lower() for e in layout.leaves())
    boxes = [e for e in layout.leaves() if e.role == "TextBox"]
    assert len(boxes) == 2 and all(e.box[2] > 3 * e.box[3] for e in boxes)


def test_a_real_handwritten_sketch_upside_down_reads_upright(ocr) -> None:
    """Upside down, this form's handwriting reads as confident scraps (':am' at 0.9): confidence alone cannot
    tell, so the photo is read the other way up too."""
    sketch = next((WIREFRAMES.parent / "sketches" / "images").glob("5679fe0e*"), None)
    if sketch is None:
        pytest.skip("../shared/data/sketches is not here")
    layout, metrics = _analyze(cv2.rotate(load_sketch(sketch), cv2.ROTATE_180), ocr)
    assert metrics["turned"] == 180
    assert "entry form" in " ".join(e.text.lower() for e in layout.leaves())


def test_a_printed_scrap_does_not_turn_a_wordless_wireframe_over(ocr) -> None:
    """jillguardian's boxes, drawn below a torn-off printed 'DEFAULT': one misread word either way up."""
    _, metrics = _analyze(load_sketch(_real("jillguardian__cursed_wireframe_sketch.jpg")), ocr)
    assert metrics["turned"] == 0


def test_lined_paper_rules_are_not_content(ocr) -> None:
    img = _paper(900, 1100)
    for y in range(40, 1100, 45):
        cv2.line(img, (0, y), (899, y), (215, 190, 160), 2)  # blue rules, printed across the sheet
    _page(img, 150, 200)
    layout, _ = _analyze(img, ocr)
    assert not any(e.box[2] > 0.9 for e in _walk(layout))
    assert any(e.role == "Image" for e in layout.leaves())


# -- real wireframes --------------------------------------------------------------------------------------------
def _real(name: str) -> Path:
    path = WIREFRAMES / name
    if not path.is_file():
        pytest.skip(f"shared data absent: {path}")
    return path


def test_real_squiggle_paragraphs_are_text(ocr) -> None:
    """Liam-Mackey's blog index: numbered posts, each a handwritten number and squiggled lines of text."""
    layout, metrics = _analyze(load_sketch(_real("Liam-Mackey__wireframe-blog-index.jpg")), ocr)
    placeholders = [e for e in layout.leaves() if e.kind in ("placeholder", "list")]
    assert len(placeholders) >= 6, metrics
    # the squiggles under posts 6 and 7 (lower left, about a third of the page wide) are one paragraph
    assert any(e.role == "Paragraph" and e.box[0] < 0.3 and e.box[1] > 0.6 and e.box[2] > 0.25
               for e in placeholders), [(e.role, e.box) for e in placeholders]


def test_real_page_frame_and_wavy_lines(ocr) -> None:
    """noahschutte's index: a page drawn inside one tall outline, wavy lines under 'About Me', bulleted skills."""
    layout, _ = _analyze(load_sketch(_real("noahschutte__wireframe-index.jpg")), ocr)
    assert layout.viewport is not None  # the outline was read as the page's frame, not as a box on the page
    texts = [e for e in layout.leaves() if e.role == "Paragraph" and e.kind in ("placeholder", "list")]
    # the three waves under 'About Me' (a third of the way down), and the skills columns under them
    assert any(0.35 < e.box[1] < 0.45 and e.box[2] > 0.5 for e in texts), [(e.role, e.box) for e in texts]
    assert sum(1 for e in texts if 0.48 < e.box[1] < 0.6) >= 2


def test_a_freehand_drawing_is_a_picture_and_a_stray_stroke_is_nothing(ocr) -> None:
    """A figure drawn without a box round it (a head, a body, arms) beside the page's text is a picture on the
    page, not lost; one straight stroke on its own is a stray mark, not content."""
    img = _paper(900, 700)
    _page(img, 80, 80)
    cx, cy = 650, 200
    cv2.circle(img, (cx, cy), 35, INK, 3)  # head
    cv2.line(img, (cx, cy + 35), (cx, cy + 170), INK, 3)  # body
    cv2.line(img, (cx, cy + 70), (cx - 70, cy + 30), INK, 3)  # arms
    cv2.line(img, (cx, cy + 70), (cx + 70, cy + 120), INK, 3)
    cv2.line(img, (cx, cy + 170), (cx - 50, cy + 260), INK, 3)  # legs
    cv2.line(img, (cx, cy + 170), (cx + 50, cy + 260), INK, 3)
    cv2.line(img, (560, 600), (600, 640), INK, 3)  # a stray stroke
    layout, _ = _analyze(img, ocr)
    pictures = [e for e in layout.leaves() if e.role == "Image"]
    figure = [e for e in pictures if e.box[0] < cx / 900 < e.box[0] + e.box[2] and e.box[1] < cy / 700 < e.box[1]
              + e.box[3]]
    assert figure and figure[0].kind == "drawing", [(e.role, e.kind, e.box) for e in layout.leaves()]
    assert not any(e.box[1] > 580 / 700 for e in layout.leaves()), [(e.role, e.box) for e in layout.leaves()]


def test_an_icon_box_with_no_ink_in_it_is_no_icon() -> None:
    """A box taken from a word's reading can hold no ink once the word is cleared (seen on a real wireframe: the
    analysis crashed in OpenCV's convex hull); it is a generic mark, not an error."""
    from tools.vision._sketch_detect import Box
    from tools.vision._sketch_marks import icon_name

    blank = np.zeros((60, 60), np.uint8)
    assert icon_name(blank, Box(5, 5, 40, 40)) == "generic"
    assert icon_name(blank, Box(-6, 5, 40, 40)) == "generic"


def test_hairline_pencil_frames_stay_closed() -> None:
    """A photo taken from afar leaves a pencil's frames 1 px thin. Taking paper grain away must not take them with
    it: each frame is still found as a closed shape, and the grain is not."""
    from tools.vision._sketch_detect import closed_shapes, ink_mask

    rng = np.random.default_rng(3)
    img = _paper(1280, 720)
    specks = rng.integers(0, [1280, 720], (400, 2))
    img[specks[:, 1], specks[:, 0]] = (150, 150, 150)  # grain: single dark pixels
    for x0, y0, x1, y1 in ((200, 80, 1000, 200), (200, 240, 1000, 520), (200, 560, 1000, 660)):
        cv2.rectangle(img, (x0, y0), (x1, y1), (110, 105, 100), 1)
    shapes = closed_shapes(ink_mask(img), min_side=20)
    assert sorted(int(s.box.y0) for s in shapes if s.box.w > 500) == [80, 240, 560], [s.box for s in shapes]


def test_boxes_named_after_page_regions_are_those_regions(ocr) -> None:
    """Wireframes name their regions: a page-wide box holding only "HEADER" is the header, one holding "FOOTER"
    the footer; the word stays on the page as the region's label. A small box saying "Menu" is a button."""
    img = _paper(1200, 900)
    for (x0, y0, x1, y1), word in (((100, 60, 1100, 220), "HEADER"), ((100, 700, 1100, 840), "FOOTER")):
        cv2.rectangle(img, (x0, y0), (x1, y1), INK, 3)
        cv2.putText(img, word, ((x0 + x1) // 2 - 110, (y0 + y1) // 2 + 18), cv2.FONT_HERSHEY_SIMPLEX, 1.6, INK, 3)
    cv2.rectangle(img, (500, 380), (700, 460), INK, 3)
    cv2.putText(img, "Menu", (540, 435), cv2.FONT_HERSHEY_SIMPLEX, 1.2, INK, 3)
    layout, _ = _analyze(img, ocr)
    roles = {e.role: e for e in layout.walk()}
    assert "header" in roles and "footer" in roles, [(e.role, e.text) for e in layout.walk()]
    assert [c.text for c in roles["header"].children] == ["HEADER"]
    assert roles["footer"].box[1] > 0.7 and roles["header"].box[1] < 0.15
    assert any(e.role == "Button" and e.text == "Menu" for e in layout.walk())


def test_numbered_posts_and_social_initials_stay_on_the_page(ocr) -> None:
    """"#1" and "#2" number the posts of a blog index and "FB", "GH" label a footer's icons: OCR reads them for
    certain, and they are content, not letters read off a squiggle."""
    img = _paper(1200, 800)
    for k, y in enumerate((120, 360)):
        cv2.rectangle(img, (100, y), (1100, y + 180), INK, 3)
        cv2.putText(img, f"#{k + 1}", (500, y + 110), cv2.FONT_HERSHEY_SIMPLEX, 2.0, INK, 4)
    for x, word in ((420, "FB"), (640, "GH")):
        cv2.putText(img, word, (x, 680), cv2.FONT_HERSHEY_SIMPLEX, 1.6, INK, 3)
    layout, _ = _analyze(img, ocr)
    said = " ".join(e.text for e in layout.leaves())
    for word in ("#1", "#2", "FB", "GH"):
        assert word in said, said


def test_a_ring_or_box_named_picture_is_a_picture(ocr) -> None:
    """"Picture" written inside an oval drawn in one stroke that does not quite close, or "image" in a box, marks
    where a picture goes: an Image the size of the oval or the box, not a label."""
    img = _paper(1200, 800)
    cv2.ellipse(img, (350, 300), (220, 130), 0, 10, 350, INK, 3)  # an oval left open at its right
    cv2.putText(img, "Picture", (240, 315), cv2.FONT_HERSHEY_SIMPLEX, 1.4, INK, 3)
    cv2.rectangle(img, (700, 180), (1100, 420), INK, 3)
    cv2.putText(img, "image", (830, 315), cv2.FONT_HERSHEY_SIMPLEX, 1.4, INK, 3)
    layout, _ = _analyze(img, ocr)
    pictures = sorted((e for e in layout.leaves() if e.role == "Image"), key=lambda e: e.box[0])
    assert len(pictures) == 2, [(e.role, e.text, e.box) for e in layout.leaves()]
    oval, box = pictures
    assert oval.box[2] > 0.3 and oval.box[3] > 0.25, oval.box  # the oval's size, not the word's
    assert box.box[2] > 0.3 and box.box[3] > 0.25, box.box


def test_a_radio_circle_read_as_o_leads_its_label_a_little_apart(ocr) -> None:
    """OCR reads a drawn radio circle as "O"; the pen leaves more room between the circle and its label than
    between a phrase's words. "O  Action" is one radio button named Action, not a label "O" beside another."""
    img = _paper(1200, 600)
    for y, word in ((200, "Action"), (350, "Comedy")):
        cv2.circle(img, (420, y - 14), 15, INK, 3)
        cv2.putText(img, word, (475, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, INK, 3)
    layout, _ = _analyze(img, ocr)
    radios = [e for e in layout.leaves() if e.role == "RadioButton"]
    assert sorted(e.text for e in radios) == ["Action", "Comedy"], [(e.role, e.text) for e in layout.leaves()]


def test_a_line_gone_over_twice_is_one_element() -> None:
    """Two empty placeholders of one role over mostly the same place (a line of writing drawn twice) are one
    element, their union; the page put them side by side at half the width, and the text wrapped. Two labels
    with words of their own stay two."""
    from tools.vision._sketch_classify import _without_doubles
    from tools.vision._sketch_detect import Box, Element

    a = Element("Label", Box(220, 0, 620, 100), "")
    b = Element("Label", Box(270, 5, 670, 100), "")
    title = Element("Label", Box(10, 5, 170, 80), "title")
    assert [(e.box.x0, e.box.x1) for e in _without_doubles([a, b, title])] == [(220, 670), (10, 170)]
    c = Element("Label", Box(220, 0, 620, 100), "Name")
    d = Element("Label", Box(230, 0, 630, 100), "Email")
    assert len(_without_doubles([c, d])) == 2
