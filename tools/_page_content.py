"""What a rendered page says: is every text element filled, is there a heading, is there a call to action.

Read from a page's DOM layout (``render_page``'s), so it judges the page a visitor sees, not the layout the page
was generated from. Pure Python over :class:`~modalities.layout.Layout`: cheap to import anywhere.
"""

from __future__ import annotations

import re
from typing import Any

from modalities.layout import Layout, LayoutElement

__all__ = ["TEXT_ROLES", "content_metrics", "has_words"]

TEXT_ROLES = frozenset({"Heading", "Paragraph", "Label", "Link", "Button"})
"""Leaf roles whose whole point is their text: empty, they are the shell of a page."""

_WORD = re.compile(r"[^\W\d_]{3,}")
# a numbered item ("Post #2") or a price says something a visitor reads, as a word does
_NUMBERED = re.compile(r"#\s*\d|[$€£]\s*\d")
_LETTERS = re.compile(r"[^\W\d_]+")
# real words of two letters; other pairs ("wr", "rn", "co e") are what OCR reads off a pen's squiggles
_TWO_LETTER_WORDS = frozenset("""am an as at be by do go hi if in is it me my no of ok on or so to up us we
ab ad ai ap cv eu faq id la le tv uk ux ui
fb gh ig li tw yt""".split())  # the last line: the social sites' initials a footer's icons are labelled with
_CHROME = frozenset({"nav", "header", "footer"})


def has_words(text: str) -> bool:
    """Whether ``text`` holds a word: three letters or more in a row (any script), a real two-letter word (or a
    social site's initials), a numbered item ("#2") or a price.

    OCR debris such as ``"000"``, ``"O"``, ``">"`` or ``"co e"`` is not a word; ``"Go"`` and ``"Über"`` are.

    Example:
        >>> [has_words(t) for t in ("000", "O", ">", "co e", "wr", "Go", "Über uns", "#2", "FB")]
        [False, False, False, False, False, True, True, True, True]
    """
    return (bool(_WORD.search(text)) or bool(_NUMBERED.search(text))
            or any(w.lower() in _TWO_LETTER_WORDS for w in _LETTERS.findall(text)))


def _leaves_with_context(elements: list[LayoutElement], inside_chrome: bool = False
                         ) -> list[tuple[LayoutElement, bool]]:
    out: list[tuple[LayoutElement, bool]] = []
    for e in elements:
        if e.role in TEXT_ROLES:
            out.append((e, inside_chrome))
        out += _leaves_with_context(e.children, inside_chrome or e.role in _CHROME)
    return out


def content_metrics(layout: Layout) -> dict[str, Any]:
    """Content figures of a page layout.

    - ``text_elements``: leaves of the text roles (heading, paragraph, label, link, button);
    - ``empty_text``: how many of them hold no word;
    - ``text_filled``: the share that hold one (1.0 for a page with no text elements: nothing is left empty);
    - ``headings``: headings that hold a word;
    - ``calls_to_action``: buttons with a word, and links with a word outside the nav, header and footer (a
      menu entry is navigation, not an invitation to act);
    - ``repeated_headings``: headings whose words another heading has already said (filler a designer would
      not ship: four sections all called "How it works").

    Example:
        >>> from modalities.layout import LayoutElement as E
        >>> page = Layout(elements=[E(role="nav", box=(0, 0, 1, 0.1), children=[
        ...     E(role="Link", box=(0.8, 0.02, 0.1, 0.05), text="About")]),
        ...     E(role="Heading", box=(0.1, 0.2, 0.8, 0.1), text="000"),
        ...     E(role="Button", box=(0.1, 0.4, 0.2, 0.1), text="Start now")])
        >>> m = content_metrics(page)
        >>> m["empty_text"], m["headings"], m["calls_to_action"]
        (1, 0, 1)
    """
    leaves = _leaves_with_context(layout.elements)
    filled = [has_words(e.text) for e, _ in leaves]
    said = [" ".join(e.text.lower().split()) for (e, _), ok in zip(leaves, filled, strict=True)
            if ok and e.role == "Heading"]
    return {
        "repeated_headings": len(said) - len(set(said)),
        "text_elements": len(leaves),
        "empty_text": filled.count(False),
        "text_filled": round(sum(filled) / len(filled), 4) if filled else 1.0,
        "headings": sum(1 for (e, _), ok in zip(leaves, filled, strict=True) if ok and e.role == "Heading"),
        "calls_to_action": sum(1 for (e, chrome), ok in zip(leaves, filled, strict=True)
                               if ok and (e.role == "Button" or (e.role == "Link" and not chrome))),
    }
