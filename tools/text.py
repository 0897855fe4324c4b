"""Text tools: ``write_text`` writes narration or page copy from a layout, a brief and the task.

The deterministic writer needs no model: it reads the page's headings, paragraphs and buttons and turns them into
short spoken sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from modalities.errors import ConfigError
from modalities.layout import Layout
from tools._speech import FRAMES, content_words, normalize_words, number_words, speakable
from tools.base import ToolContext
from tools.function_tool import LayoutFile, Result, TextFile, tool

__all__ = ["write_text", "narration_from_layout"]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" .,:;-")


def _said(text: str, language: str = "en") -> str:
    """The part of a page's text a voice can say (see :func:`tools._speech.speakable`), without its final stop,
    a word repeated in a row said once: a sketch's placeholder ("text text text") is not read as a stutter, which
    a recogniser writes back as one word and the round trip counts as errors.

    Example:
        >>> _said("Text text TEXT text. About me")
        'Text. About me'
    """
    return _clean(re.sub(r"\b(\w+)(?:\s+\1\b)+", r"\1", speakable(text, language), flags=re.IGNORECASE))


def _once(texts: Iterable[str]) -> list[str]:
    """Each text once, whatever its case: a sketch repeats its placeholders ("Text", "TEXT")."""
    seen: dict[str, str] = {}
    for t in texts:
        seen.setdefault(t.lower(), t)
    return list(seen.values())


PageWords = Literal["all", "headings", "none"]


def _words(text: str) -> set[str]:
    """The words of ``text`` as the round trip compares them (and names the ones it misheard)."""
    return set(normalize_words(text))


def narration_from_layout(layout: Layout, *, max_words: int = 60, brief: str = "",
                          page_words: PageWords | bool = "all", language: str = "en",
                          avoid: Iterable[str] = ()) -> str:
    """Short spoken narration of a page, in reading order: what it is, what it offers, what to do.

    It is written for the voice of ``language`` (a key of :data:`tools._speech.FRAMES`): the narrator's sentences
    in it, and the page's words through :func:`tools._speech.speakable`, so OCR debris, symbols and words the
    voice cannot say are left out and numbers are spelled out. The words of ``avoid`` (those the voice did not
    say back last time) are left out too, and a page text with nothing left to say about the page with them.

    Example:
        >>> from modalities.layout import LayoutElement as E
        >>> page = Layout(elements=[E(role="Label", box=(0, 0, 1, 0.1), text="0"),
        ...                         E(role="Button", box=(0, 0.2, 1, 0.1), text=">")])
        >>> narration_from_layout(page)
        'Welcome to our new landing page. Thanks for watching.'
    """
    level = ("all" if page_words else "none") if isinstance(page_words, bool) else page_words
    frame = FRAMES.get(language) or FRAMES["en"]
    # a voice that stumbled on the page's words is given fewer of them: its titles, options and first action
    # only (short, and what a page video must still name), or none, when the page is described plainly
    avoided = {w for a in avoid for w in _words(a)}

    def said(text: str, whole: bool = False) -> str:
        words = _said(text, language) if level != "none" else ""
        if not avoided or not _words(words) & avoided:
            return words
        if whole:  # a title is a name: said as written or not at all ("Welcome to it works" names nothing)
            return ""
        kept = " ".join(t for t in words.split() if not _words(t) & avoided)
        return kept if content_words(kept) else ""  # "in blog" without "blog" says nothing

    def body(text: str) -> str:
        # a paragraph's first sentence: the narration tours the page, it does not read it out
        return _first_sentence(said(text)) if level == "all" else ""

    headings = _once(t for e in layout.walk() if e.role in ("Heading",) and (t := said(e.text, whole=True)))
    bodies = _once(body(e.text) for e in layout.walk() if e.role in ("Paragraph", "Label"))
    paragraphs = [t for t in bodies if t and t.lower() not in {h.lower() for h in headings}]
    actions = [t for e in layout.walk() if e.role in ("Button", "Link") and (t := said(e.text))]
    fields = [e.role for e in layout.walk() if e.role in ("TextBox", "CheckBox", "RadioButton", "ComboBox")]
    # a form's options are the page's own words, and what a visitor picks from: said by name, a few of them
    choices = _once(t for e in layout.walk() if e.role in ("CheckBox", "RadioButton") and (t := said(e.text)))
    images = sum(1 for e in layout.walk() if e.role == "Image")
    sentences: list[str] = []
    if brief and _said(brief, language):
        sentences.append(_said(brief, language) + ".")
    if headings:
        sentences.append(frame["welcome"].format(headings[0]))
        sentences.extend(f"{h}." for h in headings[1:3])
    else:
        sentences.append(frame["landing"])
    # two of the page's lines, or more while they are short ("Home. Resume. About me."): a page video's narration
    # names at least three of the page's own words where the page has them, counted as the acceptance counts
    # them (a "#7" said as "seven" names no word of the page)
    own = content_words(" ".join(e.text for e in layout.walk() if e.text))
    named = content_words(" ".join(headings[:3])) & own
    told = 0
    for p in paragraphs:
        if told >= 5 or (told >= 2 and len(named) >= 3):
            break
        if told >= 2 and not (content_words(p) & own) - named:
            continue  # past the first two, a line that names no new word of the page is skipped
        sentences.append(f"{p}.")
        named |= content_words(p) & own
        told += 1
    # a page that says little but its menu (a portfolio's Home, About me, Projects) is toured by its menu
    places = [a for a in _once(actions[1:]) if content_words(a) - named][:4]
    if len(named) < 3 and places:
        sentences.append(frame["go"].format(_listed(places, frame["or"])))
        named |= content_words(" ".join(places))
    if fields:
        sentences.append(frame["forms" if len(fields) > 1 else "form"].format(number_words(len(fields), language)))
        # a form that says little else is toured by its fields' names ("Nombre, Correo y Provincia"), at every
        # level: a rewrite that left out the lines the voice misheard still names the page
        if len(named) < 3:
            asked = [t for t in _once(said(e.text) for e in layout.walk() if e.role in ("Label", "TextBox", "ComboBox"))
                     if t and len(t.split()) <= 3 and content_words(t) & own - named][:3]
            if asked:
                sentences.append(frame["asks"].format(_listed(asked, frame["and"])))
                named |= content_words(" ".join(asked)) & own
    if images:
        sentences.append(frame["pictures" if images > 1 else "picture"])
    if choices:
        sentences.append(frame["choose"].format(_listed(choices[:4], frame["or"])))
    if actions:
        sentences.append(frame["press"].format(actions[0]))
    # what does not fit is left out, not what follows it: the call to action and the closing line still come
    closing = frame["thanks"].split()
    words: list[str] = []
    for sentence in sentences:
        parts = sentence.split()
        if not words or len(words) + len(parts) + len(closing) <= max_words:
            words.extend(parts)
    return " ".join(words + closing)


def _first_sentence(text: str) -> str:
    """``text`` up to its first full stop (without it).

    Example:
        >>> _first_sentence("Everything you need. Start small")
        'Everything you need'
    """
    return re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0].rstrip(".!?")


def _listed(items: list[str], last: str) -> str:
    """"a, b or c" (or "a, b and c": ``last`` is the word before the last item) in the narration's language."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


# the narrator's own words, in every language it speaks: a rewrite cannot leave them out, only the page's words
_FRAME_WORDS = {w for frames in FRAMES.values() for line in frames.values() for w in _words(line)}


def _without_misheard(params: Mapping[str, Any], evidence: Mapping[str, Any]) -> dict[str, Any]:
    """A rewrite's ``avoid``: the page words earlier rewrites left out and those the last round trip misheard."""
    misheard = {w for w in evidence.get("misheard") or () if isinstance(w, str)} - _FRAME_WORDS
    if not misheard:
        return {}
    return {"avoid": sorted({*(params.get("avoid") or ()), *misheard})}


@tool(family="text", metrics={"words": "number of words written", "language": "the language it is written in"},
      checks=("text nonempty",),
      # a narration the voice could not say back (speech_roundtrip) is rewritten without the words it misheard:
      # shorter, then with the page's titles, options and first action only
      retry_params=({"max_words": 30}, {"max_words": 25, "page_words": "headings"}), revise=_without_misheard,
      revised_params=("avoid",), light=True)
def write_text(ctx: ToolContext, layout: LayoutFile | None = None, brief: TextFile | None = None,
               purpose: str = "narration", template: str | None = None, max_words: int = 60,
               page_words: PageWords = "all", language: str = "auto", avoid: list[str] | None = None) -> TextFile:
    """Write a short narration or page copy for a page layout, a brief or the task.

    Args:
        layout: The page whose narration or copy to write.
        brief: Notes or copy to build on.
        purpose: 'narration' (spoken tour of the page) or 'copy' (a paragraph of page copy).
        template: A fixed text with {task} and {brief} placeholders; used as is when given.
        max_words: Upper bound on the length.
        page_words: Which of the page's own words to say: 'all' (headings, paragraphs, labels, options, buttons),
            'headings' (its titles, options and first action: fewer, and still this page's), or 'none' (the page
            described in plain words only).
        language: The narration's language: 'auto' (the page's own: the one a rendered page declares in its
            ``<html lang>``, else the one its words are in, English when unsure), or a code such as 'en' or 'es'.
            The text carries it, and ``speak`` and ``speech_roundtrip`` take their voice and recogniser from it.
        avoid: Words to leave out of a narration (the page's texts are said without them). A failed round trip
            fills it with the words the voice did not say back.
    """
    brief_text = brief.read_text().strip() if brief is not None else ""
    lang = "en"
    if template is not None:
        text = template.format(task=ctx.task, brief=brief_text)
    elif layout is not None:
        page = layout.load()
        lang = (page.language if page.language in FRAMES else _page_language(page)) if language == "auto" \
            else language
        if lang not in FRAMES:
            raise ConfigError(f"write_text language {language!r} has no narration; use 'auto' or one of "
                              f"{', '.join(FRAMES)}")
        text = narration_from_layout(page, max_words=max_words, brief=brief_text if purpose == "copy" else "",
                                     page_words=page_words, language=lang, avoid=avoid or ())
    else:
        source = brief_text or ctx.task
        words = _clean(source).split()[:max_words]
        text = " ".join(words) + "." if words else ""
    art = ctx.store.put_text(text, "text", language=lang)
    return Result(art, {"words": len(text.split()), "language": lang})


def _page_language(page: Layout) -> str:
    """The language of the words a page shows that were read off its sketch: the page generator's own stock copy
    (in the language it took the page to be in) is no evidence of it."""
    from tools._language import page_language
    from tools.code._stock import is_stock

    return page_language(e.text for e in page.walk() if e.text and not is_stock(e.text))
