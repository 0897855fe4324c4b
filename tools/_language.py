"""Which language a page is written in, from its own words: the narration is written and spoken in it.

Word lists of :mod:`spellchecker` (pyspellchecker, in the ``sketch`` and ``audio`` extras) for the languages the
narrator has sentences for (:data:`tools._speech.FRAMES`). A sketch's labels are few and short, and OCR drops
accents: words are compared with accents folded, each text votes for the language that knows most of its words,
and English wins unless another language has clearly more votes. Without pyspellchecker every page is English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from tools._speech import FRAMES, fold

__all__ = ["known_words", "page_language"]

_WORD = re.compile(r"[^\W\d_]{3,}")


@cache
def known_words(language: str) -> frozenset[str] | None:
    """The words of ``language`` (lower-case, accents folded), or None without pyspellchecker."""
    try:
        from spellchecker import SpellChecker
    except ImportError:
        return None
    return frozenset(fold(w) for w in SpellChecker(language=language, distance=1).word_frequency.dictionary)


def page_language(texts: Iterable[str]) -> str:
    """The language code of the page whose texts are ``texts``: ``"en"``, or another language of
    :data:`~tools._speech.FRAMES` that at least two of its texts are in and half again as many as are in English.
    A text is in the language that knows most of its words (English on a tie); so a long paragraph of filler weighs
    no more than a one-word label.

    Example:
        >>> page_language(["Forma", "Medio de transporte", "Dirección", "Envío", "Aceptar"])  # doctest: +SKIP
        'es'
        >>> page_language(["Home", "About me", "Projects", "Contact"])  # doctest: +SKIP
        'en'
    """
    if known_words("en") is None:
        return "en"
    votes = dict.fromkeys(FRAMES, 0)
    for text in texts:
        words = [fold(w).lower() for w in _WORD.findall(text)]
        known = {lang: sum(1 for w in words if w in (known_words(lang) or ())) for lang in FRAMES}
        best = max(FRAMES, key=lambda lang: (known[lang], lang == "en"))
        if known[best]:
            votes[best] += 1
    other = max((lang for lang in FRAMES if lang != "en"), key=lambda lang: votes[lang])
    return other if votes[other] >= 2 and votes[other] >= 1.5 * votes["en"] else "en"
