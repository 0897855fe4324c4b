"""The frame a page is compared with the sketch's ink in: like with like, whatever the paper took away."""

from __future__ import annotations

import pytest

from modalities.layout import Layout, LayoutElement

pytest.importorskip("numpy")

from tools.vision._ink import InkReading, InkRegion  # noqa: E402
from tools.vision.sketch_fidelity import compare_page_to_ink  # noqa: E402

# a sketch whose boxes were ruled across the whole sheet: the reader took them out with the paper's lines, and
# kept the words written in them: HEADER at the top, BODY in the middle, "home" and "contact" in the footer
WORDS = {"HEADER": (0.727, 0.0, 0.273, 0.085), "BODY": (0.721, 0.468, 0.156, 0.083),
         "home": (0.0, 0.94, 0.124, 0.06), "contact": (0.278, 0.94, 0.212, 0.06)}
INK = InkReading([InkRegion(box, "text", 400) for box in WORDS.values()], (0.16, 0.17, 0.34, 0.75), False)


def _page(words: bool) -> Layout:
    """The page made from it: the words where the sketch has them, and the footer's bar, which has no words and
    reaches to the right edge of the page, far past the last word."""
    def at(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x, y, w, h = box
        return (0.1 + 0.4 * x, 0.05 + 0.8 * y, 0.4 * w, 0.8 * h)

    roles = {"HEADER": "Heading", "BODY": "Paragraph", "home": "Link", "contact": "Link"}
    elements = [LayoutElement(role=roles[word], box=at(box), text=word if words else "")
                for word, box in WORDS.items()]
    elements.append(LayoutElement(role="TextBox", box=(0.3, 0.8, 0.6, 0.05)))
    return Layout(elements=elements)


def test_ink_read_as_words_alone_is_compared_with_the_pages_words() -> None:
    report = compare_page_to_ink(INK, _page(words=True))
    assert report["ink_coverage"] == 1.0 and report["role_agreement"] == 1.0, report["region_details"]


def test_a_page_without_the_words_still_fails() -> None:
    report = compare_page_to_ink(INK, _page(words=False))
    assert report["role_agreement"] < 0.7, report["region_details"]
