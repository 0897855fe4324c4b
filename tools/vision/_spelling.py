"""Handwriting misread by OCR, put back into words: "PESUME" was "RESUME", "Strecming" was "Streaming".

A page shows the words drawn on its sketch as they were written; a misread is not what was written. A token the
dictionary knows is kept. One it does not know becomes the nearest word a web page commonly says (a menu item,
a form label, a section's name) within one edit (two for words of seven letters and more), else the most common
English word one edit away if it is in common use, else it is kept as read: a name ("Spivey") or another
language's word ("Anteriores") has no such word near it and stays. Capitals are kept as written.

The dictionary is ``pyspellchecker``'s English word list (the ``sketch`` extra); without it words pass unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

__all__ = ["corrected", "looks_english"]

# words web pages and their wireframes say; a misread is more likely one of them than a rarer English word
_WEB_WORDS = frozenset("""
about account address archive article articles back banner blog blogs button calendar cancel careers cart
categories checkout comments company contact content copyright daily description details directions download
education email events experience facebook featured features follow footer gallery github header heading hello
help hobbies home image images instagram interests intro introduction latest learn like link linkedin links
location login logout logo menu message more name navigation news newsletter next password personal phone photo
photos picture pictures pinterest portfolio post posts previous price pricing privacy products product profile
projects project quotes random read recent register resume schedule search send services settings share shop
sidebar signup sign site skills slider social store stuff subscribe subtitle support submit team terms
testimonials text title twitter upload username video videos welcome work youtube
""".split())
_TOKEN = re.compile(r"(?<!\w)[A-Za-z]{4,}(?!\w)")  # a whole word: "Metálico" holds no word "lico"
_ANY_WORD = re.compile(r"(?<!\w)[^\W\d_]{3,}(?!\w)")
_COMMON = 1e-6
_JOINED = ("me", "us")  # "About me", "Contact us": written close, read as one word


@lru_cache(maxsize=1)
def _dictionary() -> Any | None:
    try:
        from spellchecker import SpellChecker
    except ImportError:
        return None
    return SpellChecker(distance=1)


def _distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from ``a`` to ``b``.

    Example:
        >>> _distance("pesume", "resume"), _distance("contaet", "contact"), _distance("partol", "patrol")
        (1, 1, 1)
    """
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def _fix(token: str, dictionary: Any) -> str:
    word = token.lower()
    if word in _WEB_WORDS or dictionary.known([word]):
        return token
    for tail in _JOINED:
        if word.endswith(tail) and word[:-len(tail)] in _WEB_WORDS:
            return f"{token[:-len(tail)]} {token[-len(tail):]}"
    fixed = _nearest_web_word(word)
    if fixed is None:
        # a rare word one edit away is likelier a misread of another language's word ("Entrados" is not the
        # architects' "intrados"): only words in common use (one in a million words of running text) are taken
        found = [w for w in dictionary.candidates(word) or () if w != word and _distance(word, w) == 1
                 and dictionary.word_usage_frequency(w) >= _COMMON]
        if not found:
            return token
        fixed = max(found, key=lambda w: (dictionary.word_usage_frequency(w), w))
    if token.isupper():
        return fixed.upper()
    return fixed.capitalize() if token[0].isupper() else fixed


def looks_english(texts: Iterable[str]) -> bool:
    """Whether a sketch's words are English, so that its misreads can be put back into English words: half of
    its words of three letters or more are known ones or misreads of the words web pages say ("COnTAUT" for
    "contact": a sketch read badly is still English). A Spanish form's "Forma", "Pais" and "paso" are one edit
    from "form", "paid" and "past", and must stay as written.

    Example:
        >>> looks_english(["Most Recent Blog", "Rendom Stuff", "ARTICCE TITLE"])  # doctest: +SKIP
        True
        >>> looks_english(["Forma de pago", "Medio transporte", "Dirección", "País"])  # doctest: +SKIP
        False
    """
    dictionary = _dictionary()
    if dictionary is None:
        return False
    words = [w.lower() for t in texts for w in _ANY_WORD.findall(t)]
    known = sum(1 for w in words if w in _WEB_WORDS or (w.isascii() and dictionary.known([w]))
                or (len(w) >= 4 and _nearest_web_word(w) is not None))
    return bool(words) and known >= 0.5 * len(words)


def _nearest_web_word(word: str) -> str | None:
    """The word web pages say that ``word`` (lowercase) is a misread of: the nearest within one edit (two for
    seven letters and more), or None."""
    reach = 2 if len(word) >= 7 else 1
    near = min(((_distance(word, w), w) for w in _WEB_WORDS if abs(len(w) - len(word)) <= reach), default=None)
    return near[1] if near is not None and near[0] <= reach else None


def corrected(text: str) -> str:
    """``text`` with each misread word of four letters or more put back into a word (see the module's doc).

    Example:
        >>> corrected("PESUME CONTAET")  # doctest: +SKIP
        'RESUME CONTACT'
    """
    dictionary = _dictionary()
    if dictionary is None:
        return text
    return _TOKEN.sub(lambda m: _fix(m.group(), dictionary), text)
