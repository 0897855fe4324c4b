"""The ink reader that ``sketch_fidelity`` judges pages with, on the paper people draw on: ruled and grid sheets
whose faint lines break into pieces, a sheet on a dark desk, rows of cards that line up across the sheet."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from tools.vision._ink import read_ink  # noqa: E402
from tools.vision.sketch import load_sketch  # noqa: E402

WIREFRAMES = Path(__file__).resolve().parents[3] / "shared" / "data" / "wireframes"


def _drawing(rng: np.random.Generator, ruled: bool, desk: bool) -> np.ndarray:
    """A squiggle, a box and a picture box; on faint ruled paper whose lines break into pieces (a photo's
    uneven ink), and on a dark, grainy desk if asked."""
    img = np.full((900, 1200, 3), 235, np.uint8)
    if ruled:
        for y in range(40, 900, 32):
            for x in range(0, 1200, 60):
                if rng.random() < 0.6:  # a faint line shows only in pieces
                    cv2.line(img, (x, y), (x + int(rng.integers(15, 45)), y), (170, 150, 140), 2)
    wave = np.array([(x, 200 + 10 * np.sin(x / 9)) for x in range(300, 700)], np.int32)
    cv2.polylines(img, [wave], False, (40, 40, 40), 4)
    cv2.rectangle(img, (300, 350), (600, 500), (40, 40, 40), 4)
    cv2.rectangle(img, (700, 350), (950, 600), (40, 40, 40), 4)
    cv2.line(img, (700, 350), (950, 600), (40, 40, 40), 4)
    cv2.line(img, (700, 600), (950, 350), (40, 40, 40), 4)
    if desk:
        grain = rng.integers(20, 90, (900, 200, 3)).astype(np.uint8)
        img[:, 1000:] = cv2.GaussianBlur(grain, (3, 3), 0)
    return img


@pytest.mark.parametrize(("ruled", "desk"), [(False, False), (True, False), (False, True), (True, True)])
def test_what_is_drawn_and_only_that(ruled: bool, desk: bool) -> None:
    """The paper's broken lines and the desk's grain are not text; the squiggle, the box and the picture are
    found on every sheet."""
    reading = read_ink(_drawing(np.random.default_rng(7), ruled, desk))
    assert sorted(r.kind for r in reading.regions) == ["box", "image", "text"], reading.regions


def test_cards_in_a_row_keep_their_outlines() -> None:
    """Three cards side by side line up across the sheet (tops, bottoms, text lines), like ruled paper does;
    they are not paper: each card stays a picture box."""
    img = np.full((700, 1200, 3), 235, np.uint8)
    for x in (60, 450, 840):
        cv2.rectangle(img, (x, 80), (x + 300, 400), (60, 60, 60), 3)
        cv2.line(img, (x, 80), (x + 300, 400), (60, 60, 60), 3)
        cv2.line(img, (x, 400), (x + 300, 80), (60, 60, 60), 3)
        for y in (450, 490, 530, 570, 610):
            cv2.line(img, (x, y), (x + 300, y), (60, 60, 60), 3)
    kinds = [r.kind for r in read_ink(img).regions]
    assert kinds.count("image") == 3, kinds


@pytest.mark.skipif(not WIREFRAMES.is_dir(), reason="shared data is missing")
@pytest.mark.parametrize("name", ["ajpage__wireframe-index.jpg", "bobdorff__wireframe-index.JPG",
                                  "d-lange__wireframe-index.jpg"])
def test_pieces_of_printed_lines_are_not_text(name: str) -> None:
    """On these ruled and grid photos (other people's), the reader used to find dozens of 'text' slivers along
    the paper's lines; writing is wider than it is tall, a piece of a printed line is not."""
    reading = read_ink(load_sketch(WIREFRAMES / name))
    slivers = [r for r in reading.regions if r.kind == "text" and r.box[3] > 4 * r.box[2]]
    texts = [r for r in reading.regions if r.kind == "text"]
    assert texts and len(slivers) <= 3, [r.box for r in slivers]


def test_pieces_of_an_outline_are_not_text_but_letters_are() -> None:
    """A frame drawn in pieces leaves a bowed side and a corner apart from the rest; they are structure. Letters
    that are one curve or a corner (C, L, a tall $) among words of their size stay text."""
    img = np.full((900, 1200, 3), 235, np.uint8)
    ink = (40, 40, 40)
    side = np.array([(60 + 0.0009 * (y - 450) ** 2, y) for y in range(150, 750)], np.int32)  # a bowed side
    cv2.polylines(img, [side], False, ink, 4)
    cv2.line(img, (150, 820), (150, 880), ink, 4)  # a corner of an outline, the rest of it lost
    cv2.line(img, (150, 880), (330, 880), ink, 4)
    for y in (200, 300, 400, 500):  # lines of writing: words of squiggles, each line led by one letter
        cv2.ellipse(img, (330, y), (14, 20), 0, 50, 310, ink, 4)  # a C
        for x0 in (400, 560, 720):
            wave = np.array([(x, y + 9 * np.sin(x / 5)) for x in range(x0, x0 + 120)], np.int32)
            cv2.polylines(img, [wave], False, ink, 4)
    kinds = [(r.kind, r.box) for r in read_ink(img).regions]
    texts = [b for k, b in kinds if k == "text"]
    assert not any(b[3] > 0.4 for b in texts), texts  # no side
    assert not any(b[1] > 0.9 and b[2] > 0.1 for b in texts), texts  # no corner
    assert sum(1 for b in texts if b[0] < 0.02) == 4, texts  # every C, at the left of the content


def test_a_word_in_thick_strokes_is_text_and_a_tick_is_not() -> None:
    """A word written with a thick pen is as dense as a rule is (half its box inked) but not four times as long
    as it is tall: it stays text. A corner's overshoot, a tenth of a word's ink, is no text region."""
    img = np.full((900, 1200, 3), 235, np.uint8)
    ink = (40, 40, 40)
    cv2.rectangle(img, (100, 100), (1100, 800), ink, 3)  # a box for the words to sit in
    for y in (250, 450, 650):  # short words in thick strokes, as dense as a bar
        cv2.putText(img, "HEAD", (450, y), cv2.FONT_HERSHEY_SIMPLEX, 2.0, ink, 16)
    cv2.polylines(img, [np.array([(85, 40), (60, 40), (60, 60)], np.int32)], False, ink, 2)  # a corner's hook
    texts = sorted(r.box[1] for r in read_ink(img).regions if r.kind == "text")
    assert len(texts) == 3, texts


@pytest.mark.parametrize("side", ["left", "top"])
def test_a_notebooks_binding_is_not_text(side: str) -> None:
    """The rings of a spiral pad, down its left side or across its top, are a line of alike blobs at a short
    pitch: no text. The words on the page are."""
    img = np.full((900, 1200, 3), 235, np.uint8)
    ink = (40, 40, 40)
    for k in range(18):
        centre = (40, 150 + 30 * k) if side == "left" else (150 + 40 * k, 40)
        cv2.circle(img, centre, 9, ink, 4)
    for y in (250, 400, 550):  # lines of writing, as squiggles
        wave = np.array([(x, y + 10 * np.sin(x / 9)) for x in range(300, 700)], np.int32)
        cv2.polylines(img, [wave], False, ink, 4)
    texts = [r.box for r in read_ink(img).regions if r.kind == "text"]
    assert len(texts) == 3, texts


def test_a_title_written_above_the_drawn_screen_is_not_on_the_page() -> None:
    """"Blog page" written above the browser window drawn: the sheet's title, which the analysis leaves out, not
    a text region the page must show; the words inside the window are."""
    img = np.full((1600, 2000, 3), 235, np.uint8)  # the window takes under half the sheet: no paper rule
    ink = (40, 40, 40)
    title = np.array([(x, 270 + 10 * np.sin(x / 9)) for x in range(650, 900)], np.int32)
    cv2.polylines(img, [title], False, ink, 4)
    cv2.rectangle(img, (300, 350), (1200, 1000), ink, 4)
    for y in (480, 600, 720, 840):
        wave = np.array([(x, y + 10 * np.sin(x / 9)) for x in range(500, 1000)], np.int32)
        cv2.polylines(img, [wave], False, ink, 4)
    reading = read_ink(img)
    assert reading.frame
    assert len([r for r in reading.regions if r.kind == "text"]) == 4, reading.regions


def _squiggles(img: np.ndarray, x0: int, x1: int, rows: range) -> None:
    for y in rows:
        wave = np.array([(x, y + 10 * np.sin(x / 9)) for x in range(x0, x1)], np.int32)
        cv2.polylines(img, [wave], False, (40, 40, 40), 4)


def test_scraps_alone_in_a_side_margin_are_not_drawn_parts() -> None:
    """What is left of a notebook's rings (too few to make a line) and a tick by the edge, far out to the left,
    right and top of the drawing, are not parts a page must show, nor the content's edge the page is compared in."""
    img = np.full((900, 1200, 3), 235, np.uint8)
    _squiggles(img, 300, 900, range(200, 700, 100))
    for y in (250, 520, 610):  # three scraps of rings down the left, one scribble at the right
        cv2.ellipse(img, (60, y), (14, 20), 0, 50, 310, (40, 40, 40), 4)
    cv2.polylines(img, [np.array([(1130, 400), (1140, 430), (1150, 405), (1160, 428)], np.int32)], False,
                  (40, 40, 40), 4)
    cv2.ellipse(img, (600, 40), (14, 20), 90, 50, 310, (40, 40, 40), 4)  # a ring of a pad bound at the top
    reading = read_ink(img)
    assert len(reading.regions) == 5, reading.regions
    x0, y0, w, h = reading.content_box
    assert abs(x0 - 300 / 1200) < 0.02 and abs(w - 600 / 1200) < 0.03, reading.content_box
    assert abs(y0 - 190 / 900) < 0.02, reading.content_box


def test_a_menu_down_the_side_stays() -> None:
    """A column of short menu words down the left of the page, apart from the body, is content: wider than a
    scrap, and as many items as a menu has."""
    img = np.full((900, 1200, 3), 235, np.uint8)
    _squiggles(img, 400, 1000, range(200, 700, 100))
    _squiggles(img, 100, 220, range(220, 700, 60))  # eight menu items
    reading = read_ink(img)
    assert len(reading.regions) == 13, reading.regions
    assert reading.content_box[0] < 100 / 1200 + 0.01, reading.content_box


def test_a_short_word_at_the_edge_of_a_drawn_screen_stays() -> None:
    """Inside a browser window drawn around the page, everything is on the screen: a short word written at its
    left edge, apart from the rest ("FOOTER" read as a scrap), is a drawn part, not a mark in the margin."""
    img = np.full((1600, 2000, 3), 235, np.uint8)  # the window takes under half the sheet: no paper rule
    cv2.rectangle(img, (300, 350), (1200, 1000), (40, 40, 40), 4)
    _squiggles(img, 550, 1100, range(450, 900, 100))
    cv2.polylines(img, [np.array([(330, 930), (340, 960), (350, 935), (360, 958)], np.int32)], False,
                  (40, 40, 40), 4)
    reading = read_ink(img)
    assert reading.frame
    assert len(reading.regions) == 6, reading.regions
