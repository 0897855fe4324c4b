"""Page copy: every text region of a sketch gets words, sized to the lines drawn, and the page gets a headline and a
call to action.

Each leaf is a *slot* (headline, subhead, feature title, feature body, call to action, menu entry, form label...)
decided by its role and the section it is in (:mod:`tools.code._sections`), with a capacity in characters from its
box at the slot's type size. Words the sketch has (handwriting read by OCR) are used as written; OCR debris such as
``"000"`` or ``">"`` is not a word (:func:`tools._page_content.has_words`) and is replaced. The words come from a
:class:`Copy`: the deterministic template here, or the one the local model wrote (``tools/code/_copy_model.py``),
with the template filling whatever the model left out. A region is never left empty. The template writes in the
language of the sketch's words (:mod:`tools.code._stock`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from modalities.layout import CONTAINER_ROLES, LayoutElement
from tools._page_content import has_words
from tools.code._sections import section_kind
from tools.code._stock import Stock, stock_for

__all__ = ["Copy", "Slot", "fill_page", "slot_of", "template_copy", "topic_of"]

# type size (px at the 1280 px design width) each slot is written for: the capacity of a box is what fits at it
_SIZE = {"headline": 44.0, "section_title": 30.0, "feature_title": 22.0, "subhead": 20.0, "body": 17.0,
         "feature_body": 16.0, "cta": 17.0, "nav": 16.0, "brand": 20.0, "label": 15.0, "option": 15.0,
         "footer": 14.0, "caption": 15.0, "field": 15.0, "note": 15.0}
_MAX_CHARS = {"headline": 60, "section_title": 48, "feature_title": 28, "subhead": 150, "body": 420,
              "feature_body": 160, "cta": 22, "nav": 12, "brand": 18, "label": 24, "option": 32, "footer": 60,
              "caption": 40, "field": 20, "note": 20}


@dataclass(frozen=True)
class Slot:
    """What one text region says: its kind, its place among slots of that kind, and how many characters fit."""

    kind: str
    index: int
    chars: int


@dataclass
class Copy:
    """The words for a page's slots. Lists are taken in order by the slots of each kind."""

    headline: str = ""
    subhead: str = ""
    cta: str = ""
    features: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""  # the user's own words (a brief): the page's first body text, as written
    source: str = "template"
    reply: str = ""  # what the model wrote, as it wrote it (for a person checking its copy)
    language: str = "en"  # the page's: the template's filler is written in it

    @property
    def stock(self) -> Stock:
        return stock_for(self.language)


_TOPIC = re.compile(r"\b(?:for|about)\s+(?:an?|the|my|our|your)?\s*([a-z][a-z0-9' -]{2,40}?)"
                    r"(?=\s*(?:[.,;:!?]|$|\b(?:and|with|that|which|to|in|so)\b))", re.I)
_NOT_TOPICS = frozenset({"it", "this", "them", "me", "us", "page", "landing page", "website", "site", "sketch",
                         "wireframe", "video"})


def topic_of(task: str, words: Sequence[str] = ()) -> str:
    """What the page is about: the request's "for/about X", else the first words the sketch has, else ``""``.

    Example:
        >>> topic_of("Make a landing page for a coffee shop and a video of it")
        'coffee shop'
        >>> topic_of("Turn this wireframe into a landing page", ["Blog", "About"])
        'Blog'
    """
    for m in _TOPIC.finditer(task):
        topic = m.group(1).strip(" -'").lower()
        if topic and topic not in _NOT_TOPICS and not topic.startswith(("this ", "the ")):
            return topic
    return next((w.strip() for w in words if has_words(w)), "")


def _fit(options: Sequence[str], chars: int) -> str:
    """The longest option that fits ``chars``, else the shortest (a tight box shrinks its font instead)."""
    fitting = [o for o in options if len(o) <= chars]
    return max(fitting, key=len) if fitting else min(options, key=len)


def _fill_to(sentences: Sequence[str], chars: int, start: int) -> str:
    """Sentences from ``start`` (cycling) until ``chars`` is nearly reached; always at least one."""
    out: list[str] = []
    i = start
    while not out or len(" ".join(out)) + len(sentences[i % len(sentences)]) + 1 <= chars:
        out.append(sentences[i % len(sentences)])
        i += 1
        if i - start >= 3 * len(sentences):
            break
    return " ".join(out)


def template_copy(topic: str, language: str = "en") -> Copy:
    """Deterministic copy about ``topic`` (or about a product in general when there is none), in ``language``.

    Example:
        >>> template_copy("coffee shop").headline
        'Coffee shop, made simple'
        >>> template_copy("", "es").cta
        'Empezar'
    """
    stock = stock_for(language)
    if topic:
        t = topic[0].upper() + topic[1:]
        return Copy(headline=stock.made_simple.format(topic=t), subhead=stock.topic_subhead.format(topic=topic.lower()),
                    cta=stock.ctas[0], features=list(stock.features), language=language)
    return Copy(headline=stock.headline, subhead=stock.subhead, cta=stock.ctas[0], features=list(stock.features),
                language=language)


def slot_of(el: LayoutElement, section: str, index: int, height_px: float, first_heading: bool) -> Slot:
    """The slot of a leaf: its kind from role and section, its capacity from its box at the slot's type size."""
    role = el.role
    kind: str
    if role == "Heading":
        kind = ("feature_title" if section == "features" else
                "headline" if first_heading or section == "hero" else "section_title")
    elif role == "Paragraph":
        kind = {"hero": "subhead", "features": "feature_body", "footer": "footer"}.get(section, "body")
    elif role in ("Label", "Link"):
        kind = {"header": "nav", "footer": "footer", "form": "label", "features": "feature_title"}.get(section,
                                                                                                       "body")
        if role == "Link" and kind == "body":
            kind = "cta"
    elif role == "Button":
        kind = "cta"
    elif role in ("TextBox", "ComboBox"):
        kind = "field"
    elif role in ("CheckBox", "RadioButton"):
        kind = "option"
    else:
        kind = "caption"
    size = _SIZE[kind]
    w_px, h_px = max(el.box[2] * 1280.0, 24.0), max(el.box[3] * height_px, 12.0)
    glyph = 0.6 if kind in ("headline", "section_title", "feature_title") else 0.52
    per_line = max(int(w_px / (glyph * size)), 4)
    lines = max(int(h_px / (1.35 * size)), 1)
    if kind == "body" and role == "Label" and per_line * lines < min(len(s) for s in stock_for("en").body):
        # a label too small for a sentence of copy says a word or two (a tag, not a form's field name: there is
        # no form here): a sentence would wrap down a narrow box and push the rest of the page out of place
        kind = "note"
    return Slot(kind, index, min(per_line * lines, _MAX_CHARS[kind]))


def _words_for(slot: Slot, copy: Copy, brand: str) -> str:
    stock = copy.stock
    feats = copy.features or list(stock.features)
    if copy.body and slot.kind in ("subhead", "body") and slot.index == 0:
        return copy.body
    at = slot.index
    match slot.kind:
        case "headline":
            return _fit([copy.headline, stock.headline, stock.short_headline], slot.chars)
        case "subhead":
            return copy.subhead if len(copy.subhead) <= slot.chars else _fill_to(stock.body, slot.chars, at)
        case "feature_title":
            return feats[at % len(feats)][0]
        case "feature_body":
            body = feats[at % len(feats)][1]
            return body if len(body) <= slot.chars + 20 else _fill_to(stock.body, slot.chars, at)
        case "section_title":
            # a section of its own per index: rotating through the titles keeps two sections from sharing one
            return stock.section_titles[at % len(stock.section_titles)]
        case "body":
            return _fill_to(stock.body, slot.chars, at)
        case "cta":
            return copy.cta if at == 0 and copy.cta else stock.ctas[at % len(stock.ctas)]
        case "nav":
            return brand if at == 0 and brand else stock.nav[at % len(stock.nav)]
        case "label" | "field":
            return stock.fields[at % len(stock.fields)]
        case "note":
            return stock.notes[at % len(stock.notes)]
        case "option":
            return stock.options[at % len(stock.options)]
        case "footer":
            return (stock.footer[at % len(stock.footer)] if slot.chars < 30 else
                    stock.signature.format(brand=brand or stock.studio))
        case _:
            return stock.captions[at % len(stock.captions)]


def fill_page(sections: Sequence[LayoutElement], copy: Copy, height_px: float, topic: str = ""
              ) -> list[LayoutElement]:
    """Every leaf given words (the sketch's own where it has them), then a headline and a call to action made
    sure of. Input and output are top-level elements as :func:`~tools.code._sections.sectioned` returns them.

    Example:
        >>> E = LayoutElement
        >>> page = [E(role="section", box=(0, 0, 1, 0.5), text="hero", children=[
        ...     E(role="Label", box=(0.1, 0.1, 0.6, 0.08), text="000"), E(role="Image", box=(0.1, 0.2, 0.8, 0.3))])]
        >>> hero = fill_page(page, template_copy(""), 900.0)[0]
        >>> [(e.role, e.text) for e in hero.children]
        [('Heading', 'Build something people love'), ('Image', 'Product photo')]
    """
    counters: dict[str, int] = {}
    headings: set[str] = set()
    seen_heading = [False]
    brand = (topic[:1].upper() + topic[1:])[:18] if topic else ""

    def visit(el: LayoutElement, section: str) -> LayoutElement:
        if el.role in CONTAINER_ROLES:
            kind = section_kind(el) if el.role != "card" else "features"
            return el.model_copy(update={"children": [visit(c, kind) for c in el.children]})
        first = el.role == "Heading" and not seen_heading[0] and section != "features"
        slot = slot_of(el, section, 0, height_px, first)
        slot = Slot(slot.kind, counters.get(slot.kind, 0), slot.chars)
        counters[slot.kind] = slot.index + 1
        if el.role == "Heading" and section != "features":
            seen_heading[0] = True
        kept = el.text.strip() if has_words(el.text) else ""
        text = kept or _words_for(slot, copy, brand)
        if el.role == "Heading":
            if not kept:  # a drawn heading stays as drawn; a written one never repeats another heading
                spare = [t for t, _ in (copy.features or copy.stock.features)] + list(copy.stock.section_titles)
                text = next((t for t in (text, *spare) if t.lower() not in headings), text)
            headings.add(text.lower())
        return el.model_copy(update={"text": text, "children": [visit(c, section) for c in el.children]})

    filled = [visit(e, section_kind(e) if e.role in CONTAINER_ROLES else "hero") for e in sections]
    filled = _ensure_heading(filled, copy)
    return _ensure_call_to_action(filled, copy)


def _all(elements: Sequence[LayoutElement]) -> list[tuple[LayoutElement, str]]:
    out: list[tuple[LayoutElement, str]] = []
    for e in elements:
        kind = section_kind(e) if e.role in CONTAINER_ROLES else "hero"
        for x in e.walk():
            out.append((x, kind))
    return out


def _replace(elements: Sequence[LayoutElement], old: LayoutElement, new: LayoutElement) -> list[LayoutElement]:
    out = []
    for e in elements:
        if e is old:
            out.append(new)
        elif e.children:
            out.append(e.model_copy(update={"children": _replace(e.children, old, new)}))
        else:
            out.append(e)
    return out


def _ensure_heading(elements: list[LayoutElement], copy: Copy) -> list[LayoutElement]:
    """A page without a heading gets one: the topmost text line outside header, footer and form becomes it, else
    the hero's biggest picture or box carries the headline over it."""
    pairs = _all(elements)
    if any(e.role == "Heading" and kind != "features" for e, kind in pairs):
        return elements  # a feature's title is no headline: a page of feature cards still needs one
    lines = [e for e, kind in pairs if e.role in ("Label", "Paragraph") and kind not in ("header", "footer", "form")]
    boxes = [e.box for e, _ in pairs if e.role not in CONTAINER_ROLES]
    top_y = min((b[1] for b in boxes), default=0.0)
    height = max((b[1] + b[3] for b in boxes), default=1.0) - top_y
    # a line is the headline where a headline goes: near the top; lower down, a picture up there carries it
    high = [e for e in lines if e.box[1] <= top_y + 0.35 * height]
    pictures = [e for e, kind in pairs if e.role == "Image" and e.box[1] <= top_y + 0.4 * height]
    if not high and pictures:
        return _overlay(elements, copy, with_heading=True, hosts=pictures)
    if lines:
        top = min(lines, key=lambda e: (round(e.box[1], 2), e.box[0]))
        # a drawn word stays; a line the filler wrote as body text becomes the headline instead
        text = top.text if len(top.text) <= 60 else copy.headline or copy.stock.headline
        return _replace(elements, top, top.model_copy(update={"role": "Heading", "text": text}))
    return _overlay(elements, copy, with_heading=True)


def _ensure_call_to_action(elements: list[LayoutElement], copy: Copy) -> list[LayoutElement]:
    """A page without a button (or a link outside the menus) gets a call to action: under the headline."""
    pairs = _all(elements)
    if any(e.role == "Button" or (e.role == "Link" and kind not in ("header", "footer")) for e, kind in pairs):
        return elements
    heading = next((e for e, _ in pairs if e.role == "Heading"), None)
    if heading is None:
        return _overlay(elements, copy, with_heading=False)
    cta = LayoutElement(role="Button", box=heading.box, text=copy.cta or copy.stock.ctas[0])
    return _replace(elements, heading, heading.model_copy(update={"children": [*heading.children, cta]}))


def _overlay(elements: list[LayoutElement], copy: Copy, *, with_heading: bool,
             hosts: list[LayoutElement] | None = None) -> list[LayoutElement]:
    """The biggest picture or box of the page (of ``hosts``, when given) carries the headline and a call to action
    over it, as a hero banner does."""
    pairs = [e for e, _ in _all(elements) if e.role not in CONTAINER_ROLES]
    hosts = hosts or [e for e in pairs if e.role in ("Image", "TextBox")] or pairs
    if not hosts:
        return elements
    host = max(hosts, key=lambda e: e.box[2] * e.box[3])
    if host.role != "Image":
        # a big empty box that is no picture is a panel: it holds the headline and the call to action
        x, y, w, h = host.box
        kids = [LayoutElement(role="Button", box=(x + 0.05 * w, y + 0.6 * h, min(0.4 * w, 0.25), min(0.25 * h, 0.07)),
                              text=copy.cta or copy.stock.ctas[0])]
        if with_heading:
            kids.insert(0, LayoutElement(role="Heading", box=(x + 0.05 * w, y + 0.1 * h, 0.9 * w, 0.4 * h),
                                         text=copy.headline or copy.stock.headline))
        return _replace(elements, host, LayoutElement(role="card", box=host.box, children=kids))
    kids = list(host.children)
    if with_heading:
        kids.append(LayoutElement(role="Heading", box=host.box, text=copy.headline or copy.stock.headline))
    kids.append(LayoutElement(role="Button", box=host.box, text=copy.cta or copy.stock.ctas[0]))
    return _replace(elements, host, host.model_copy(update={"children": kids}))
