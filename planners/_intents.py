"""Reading a request: quoted text and file names set aside, clauses in order, kind words, goal kinds.

Everything here is plain English handling, independent of any tool set: the tools come in only through the
similarity scores the symbolic planner computes per clause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Clause", "split_clauses", "KIND_WORDS", "kind_mentions", "goal_kinds", "mask_quotes", "files_as_kinds",
           "in_stated_order", "input_names", "url_kind"]

# English words that name a kind of artifact; adjectives such as "narrated" name the kind they add.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "video": ("video", "movie", "film", "clip", "slideshow", "footage"),
    "audio": ("audio", "sound", "speech", "voiceover", "narration", "narrated", "narrate", "spoken", "voice",
              "recording", "podcast", "soundtrack", "waveform"),
    "image": ("image", "picture", "photo", "illustration", "drawing", "poster", "screenshot", "thumbnail"),
    "text": ("text", "transcript", "summary", "caption", "story", "article", "copy", "script", "paragraph"),
    "html": ("page", "website", "webpage", "site", "html"),
    "layout": ("layout", "wireframe"),
    "url": ("url", "link", "urls", "links"),
    "json": ("report",),
}
_WORD_KIND = {w: k for k, ws in KIND_WORDS.items() for w in ws}
# "make X", "turn ... into X": words after which the next kind word names something to produce
_CREATE = re.compile(r"\b(make|makes|making|create|creates|creating|generate|generating|produce|producing|build|"
                     r"render|design|into|compose|record)\b", re.I)
# "a video of the landing page", "a video of this sketch's landing page" (not "a video of this image": that one
# the user gave)
_OF = re.compile(r"\s+(?:[a-z-]+\s+){0,3}?(?:video|movie|film|clip|slideshow|image|picture|poster)\s+of\s+"
                 r"(?:(?:the|a|an)\s+|(?:this|that|my|our|your|its)\s+[\w-]+'s\s+)(?:[a-z-]+\s+)?([a-z-]+)")
# "this page", "my video": what the user gave; a link word ("into a page") starts what is made
_GIVEN = {"this", "these", "that", "those", "my", "our", "attached", "given"}
_LINKS = {"into", "as", "to", "of", "for", "with", "from", "and"}
_WITH = re.compile(r"\bwith\s+(?:an?\s+|the\s+|some\s+)?(?:[a-z-]+\s+){0,2}?([a-z-]+)\b")
_EXT_KIND = {"jpg": "image", "jpeg": "image", "png": "image", "gif": "image", "bmp": "image", "webp": "image",
             "wav": "audio", "mp3": "audio", "flac": "audio", "ogg": "audio", "m4a": "audio",
             "mp4": "video", "avi": "video", "mov": "video", "webm": "video", "mkv": "video",
             "txt": "text", "md": "text", "html": "html", "htm": "html"}
_FILE = re.compile(r"(?<![\w/.-])([\w-]+\.(" + "|".join(_EXT_KIND) + r"))\b", re.I)
_URL = re.compile(r"\b(?:https?://\S+|www\.\S+|\w*_url\b|\w*-url\S*)", re.I)
_QUOTE = re.compile(r"(?<![A-Za-z0-9])'(.+?)'(?![A-Za-z0-9])|\"(.+?)\"")
_SPLIT = re.compile(r"(?:[.;!?](?:\s+|$))|,\s*(?:and\s+)?(?:then\s+)?|\s+(?:and\s+then|then|and\s+finally|finally|"
                    r"after\s+that|afterwards|and\s+also|also|and|"
                    r"so\s+(?:that\s+)?(?:i|we|you|they)\s+can)\s+", re.I)


@dataclass
class Clause:
    """One piece of the request, in order."""

    text: str
    start: int
    kinds: list[str] = field(default_factory=list)


def mask_quotes(text: str) -> str:
    """The request with quoted passages blanked (their words are data, not instructions), same length."""
    def blank(m: re.Match[str]) -> str:
        inner = m.group(0)
        files = _FILE.findall(inner)
        keep = " ".join(f[0] for f in files)
        return (keep + " " * len(inner))[: len(inner)] if keep else " " * len(inner)

    return _QUOTE.sub(blank, text)


def files_as_kinds(text: str) -> str:
    """``text`` with each file name replaced by the kind of file it is: a name is data ("talk.wav" asks for no
    talking), its extension says what the data is.

    Example:
        >>> files_as_kinds("transcribe talk.wav now")
        'transcribe audio now'
    """
    return _FILE.sub(lambda m: _EXT_KIND[m.group(2).lower()], text)


def in_stated_order(task: str, kinds: Mapping[str, str]) -> dict[str, str]:
    """Run inputs (name -> kind) in the order the request names them: by file name, else by the bare name (a name
    such as "a" is also a word, so its file name decides where there is one); the ones it does not name follow, as
    given. "a slideshow of photo1.png and photo2.png" shows photo1 first.

    Example:
        >>> list(in_stated_order("a slideshow of b.png then a.png", {"a": "image", "b": "image", "c": "text"}))
        ['b', 'a', 'c']
    """
    where: dict[str, int] = {}
    for name in kinds:
        m = re.search(rf"(?<![\w.-]){re.escape(name)}\.\w+(?![\w-])", task, re.I) or \
            re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", task, re.I)
        if m:
            where[name] = m.start()
    named = sorted(where, key=lambda n: where[n])
    return {n: kinds[n] for n in [*named, *(n for n in kinds if n not in where)]}


def input_names(text: str) -> dict[str, str]:
    """Run inputs a request mentions: file names (kind from the extension) and URLs (kind ``url``)."""
    found: dict[str, str] = {}
    for m in _FILE.finditer(text):
        found.setdefault(m.group(1), _EXT_KIND[m.group(2).lower()])
    for i, m in enumerate(_URL.finditer(text)):
        if not _FILE.fullmatch(m.group(0).rstrip(".,'\")")):
            found.setdefault("url" if i == 0 else f"url{i + 1}", "url")
    return found


def split_clauses(text: str) -> list[Clause]:
    """Clauses of the request (quoted passages masked), each with its start offset."""
    masked = mask_quotes(text)
    clauses: list[Clause] = []
    pos = 0
    for m in list(_SPLIT.finditer(masked)) + [None]:
        end = m.start() if m else len(masked)
        piece = masked[pos:end]
        if piece.strip():
            clauses.append(Clause(piece.strip(), pos + len(piece) - len(piece.lstrip()), kind_mentions(piece)))
        pos = m.end() if m else len(masked)
    return clauses


def kind_mentions(text: str) -> list[str]:
    """Kinds named in ``text``, in order of first mention (file names count by extension)."""
    kinds: list[str] = []
    for word in re.findall(r"[A-Za-z][\w.-]*", text.lower()):
        kind = _WORD_KIND.get(word) or _WORD_KIND.get(word.rstrip("s"))
        m = _FILE.fullmatch(word)
        if m:
            kind = _EXT_KIND[m.group(2).lower()]
        if kind and kind not in kinds:
            kinds.append(kind)
    return kinds


def goal_kinds(clause: str) -> list[str]:
    """Kinds a clause asks to produce: the first kind word after a creation verb, with the kind adjectives
    between them ("make a narrated video" -> audio, video; "turn this sketch into a landing page" -> html). What
    the user gave is not made: "render this page as an image" makes no page (the image is read from "as an image").

    Example:
        >>> goal_kinds("turn this sketch into a landing page"), goal_kinds("render this HTML page as an image")
        (['html'], [])
        >>> goal_kinds("render page.html as an image"), goal_kinds("make a narrated video")
        ([], ['audio', 'video'])
    """
    goals: list[str] = []
    lowered = clause.lower()
    for m in _CREATE.finditer(lowered):
        # file names whole ("page.html" is a file, not the words "page" and "html")
        words = [w.rstrip(".") for w in re.findall(r"[a-z][\w.-]*", lowered[m.end():])[:5]]
        found: list[str] = []
        given = False
        for word in words:
            if _FILE.fullmatch(word):
                break  # the object is a file the user gave, not something to make
            if word in _GIVEN:
                given = True  # "render this HTML page": the page named next is one the user gave
            elif word in _LINKS:
                given = False
            kind = _WORD_KIND.get(word) or _WORD_KIND.get(word.rstrip("s"))
            if kind:
                if given:
                    break
                found.append(kind)
                if word not in ("narrated", "spoken", "narrate"):
                    break
        # "make a video of this sketch's landing page": what the object shows is made first
        of_part = _OF.match(lowered, m.end())
        if found and of_part:
            shown = _WORD_KIND.get(of_part.group(1)) or _WORD_KIND.get(of_part.group(1).rstrip("s"))
            if shown and shown not in found:
                found.insert(0, shown)
        # "make a video of it with a spoken narration": what the object comes with is made first
        with_part = _WITH.search(lowered, m.end())
        if found and with_part:
            extra = _WORD_KIND.get(with_part.group(1)) or _WORD_KIND.get(with_part.group(1).rstrip("s"))
            if extra and extra not in found:
                found.insert(len(found) - 1, extra)
        for kind in found:
            if kind not in goals:
                goals.append(kind)
    return goals


def url_kind(text: str) -> str | None:
    """What the first URL in ``text`` holds, when a kind word right before it says so ("the article at URL",
    "a video from URL", "the URL of the article is URL"); None when nothing does.

    Example:
        >>> url_kind("Summarize the article at https://example.com/a and read it aloud")
        'text'
        >>> url_kind("Download a video from example_URL") , url_kind("Open https://example.com")
        ('video', None)
    """
    m = _URL.search(text)
    if m is None:
        return None
    sentence = re.split(r"[.!?]\s", text[: m.start()])[-1]
    for word in reversed(re.findall(r"[a-z][\w-]*", sentence.lower())[-8:]):
        kind = _WORD_KIND.get(word) or _WORD_KIND.get(word.rstrip("s"))
        if kind and kind != "url":
            return kind
    return None
