"""What a request asks for, as checkable requirements: the deliverables and the properties they must have.

Planners decide how; requirements say what, and the runtime checks each one on the files the run delivered, by
other means than the tools that made them (:mod:`agent.acceptance`). They come from the request's words, the same
way whatever the planner: plain English handling, no tool names, so they hold for phrasings nobody wrote down.

Example:
    >>> for r in extract_requirements("Make a 20-second narrated video of a.png and b.png with captions"):
    ...     print(r.id, "|", r.text)
    deliver_video | a video
    narrated | the video has a sound track with speech
    captions | the video has captions
    duration | the video lasts about 20 s
    order | the video shows a.png, b.png in that order
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from planners._intents import _EXT_KIND, _FILE, KIND_WORDS, goal_kinds, mask_quotes, split_clauses
from planners._merge import asks_for_several, merge_identical_steps

__all__ = ["Requirement", "extract_requirements", "with_requirements", "fit_params", "input_name",
           "DELIVERABLE_KINDS"]

RequirementKind = Literal["deliverable", "audio_track", "captions", "duration", "order", "contains", "language",
                          "speed", "format", "about"]
DELIVERABLE_KINDS = ("video", "html", "audio", "image", "text")
_NOUN = {"video": "a video", "html": "a page", "audio": "an audio file", "image": "an image", "text": "a text"}


class Requirement(BaseModel):
    """One thing the user must get, checked on the delivered files when the run ends.

    Attributes:
        id: Unique within a plan, e.g. ``deliver_video``, ``captions``.
        kind: What is checked: a deliverable of a kind exists and is real, a video's sound track, captions seen
            on its frames, a duration, inputs shown in the stated order, page content, a text's language.
        target: The artifact kind it is checked on (``video``, ``html``, ``audio``, ``image``, ``text``).
        text: The requirement in words, as reports show it.
        params: What the check needs (seconds, input names in order, words, a language).
        words: The request's words it came from.
    """

    id: str
    kind: RequirementKind
    target: str
    text: str
    params: dict[str, Any] = Field(default_factory=dict)
    words: str = ""


# words that ask for production without one of goal_kinds' creation verbs
_SPEECH = re.compile(r"\b(?:read|say|speak|recite)\b[^;!?]*?\baloud\b|\bread\s+(?:it|this|them|[\w.-]+)\s+out\b|"
                     r"\btext[- ]to[- ]speech\b|\b(?:an?|as)\s+(?:mp3|wav|ogg|flac)\b", re.I)
_TEXT = re.compile(r"\b(?:transcribe|transcript(?:ion)?\s+of|summari[sz]e|translate|write\s+(?:a|an|the|me))\b",
                   re.I)
_FORMAT_KIND = {"mp3": "audio", "wav": "audio", "ogg": "audio", "flac": "audio", "aac": "audio", "m4a": "audio",
                "opus": "audio", "mp4": "video", "webm": "video", "mov": "video", "mkv": "video", "avi": "video",
                "gif": "video", "png": "image", "jpg": "image", "jpeg": "image", "webp": "image", "html": "html"}
# "an mp3", "as a WAV", "into mp3", "in webm format": the file format the deliverable must have
_FORMAT = re.compile(r"\b(?:an?|as|in|to|into)\s+(?:an?\s+)?(" + "|".join(_FORMAT_KIND) + r")\b", re.I)
_NARRATED = re.compile(r"\b(?:narrat\w*|voice[- ]?over|voiced|spoken|with\s+(?:a\s+)?(?:sound|audio|speech|voice))\b",
                       re.I)
_PAGE = re.compile(r"\b(?:web\s?page|web\s?site|landing page|home ?page|site|page)\b", re.I)
_CAPTIONS = re.compile(r"\b(?:captions?|captioned|subtitles?|subtitled)\b", re.I)
_DURATION = re.compile(r"\b(?:(?P<bound>under|at most|no (?:longer|more) than|less than|at least|over|more than)\s+)?"
                       r"(?P<n>\d+(?:\.\d+)?)[- ]?(?P<unit>seconds?|secs?|s|minutes?|mins?)\b", re.I)
_CONTAINS = re.compile(r"\b(?:with|including|includes?|that has|containing|and)\s+(?:an?|the|some|its)?\s*"
                       r"(?P<what>(?:[a-z-]+\s+){0,2}?(?:section|form|button|footer|header|navigation|nav bar|"
                       r"menu|gallery|table|testimonials?|faq|pricing|newsletter sign-?up|search bar)"
                       r"(?:\s+(?:section|form|button|table))?)\b", re.I)
# a question about the given files asks for an answer: a report or a text that reads them
_QUESTION = re.compile(r"^\s*(?:which|what|who|whom|whose|where|when|why|how|is|are|was|were|does|do|did|can|could|"
                       r"has|have|tell me (?:which|what|whether|if|how))\b[^?]*\?\s*$", re.I)
_SPEED = re.compile(r"\b(?:(?P<word>twice|two times|three times|half)\s+as\s+(?P<dir>fast|quick(?:ly)?|slow(?:ly)?)|"
                    r"at\s+(?P<half>half)\s+speed|(?:at\s+)?(?P<x>\d+(?:\.\d+)?)\s*x\s+(?:the\s+)?speed|"
                    r"(?P<plain>faster|slower|slowly|quickly)\b)", re.I)
_LANGUAGES = ("english", "french", "spanish", "german", "italian", "portuguese")
_LANGUAGE = re.compile(r"\b(?:in(?:to)?|to)\s+(?P<lang>" + "|".join(_LANGUAGES) + r")\b", re.I)


# requests that ask without a creation verb: "put together a clip", "I need a page", "give me an image"
_ASK = re.compile(r"\b(?:put together|assemble|prepare|give me|send me|i need|i want|i'd like|we need|export|"
                  r"edit(?: together)?|cut)\s+(?:me\s+)?(?:an?|the|some|one)?\s*(?:[a-z-]+\s+){0,2}?"
                  r"(?P<word>" + "|".join(w for k in DELIVERABLE_KINDS for w in KIND_WORDS.get(k, ())) + r")s?\b",
                  re.I)
_WORD_KIND = {w: k for k in DELIVERABLE_KINDS for w in KIND_WORDS.get(k, ())}
# nouns only: "narrated" or "spoken" before a noun describe it ("a narrated clip" is a video with a sound track)
_KIND_WORD = "(?P<word>" + "|".join(sorted((w for w in _WORD_KIND if w not in ("narrated", "narrate", "spoken")),
                                           key=len, reverse=True)) + r")s?\b"
# "code this mockup as a web page", "export it to a video": the thing after as/into/to is made
_AS = re.compile(r"\b(?:code|implement|convert|render|export|save|turn|rebuild|recreate)\b(?:[^.;!?]|\.(?=\w))*?"
                 r"\b(?:as|into|to)"
                 r"\s+(?:an?|the|one)?\s*(?:[a-z-]+\s+){0,2}?" + _KIND_WORD, re.I)
# a clause that is only a noun phrase continues the request: "a website from my drawing, plus a narrated clip"
_MORE = re.compile(r"^(?:plus|as well as|along with|together with|and)?\s*(?:an?|one|some)\s+(?:[a-z-]+\s+){0,3}?"
                   + _KIND_WORD, re.I)
# things people ask to have made that no kind here is: said as such, so the request is refused, not substituted
_UNSUPPORTED = {"3d model": "a 3D model", "song": "a song", "music": "music", "melody": "a melody",
                "spreadsheet": "a spreadsheet", "pdf": "a PDF", "presentation": "a presentation",
                "slide deck": "a slide deck", "powerpoint": "a PowerPoint deck", "mobile app": "a mobile app",
                "app": "an app", "game": "a game"}
_MAKE = re.compile(r"\b(?:make|makes|create|generate|build|design|compose|produce|write|code|develop|give me|"
                   r"i need|i want)\b\s+((?:[\w'-]+\s+){0,4}?)(" + "|".join(_UNSUPPORTED) + r")s?\b", re.I)


def _deliverables(masked: str) -> list[str]:
    kinds: list[str] = []
    for clause in split_clauses(masked):
        asked = [_WORD_KIND[m.group("word").lower()] for m in (*_ASK.finditer(clause.text),
                                                                *_AS.finditer(clause.text))]
        more = _MORE.match(clause.text)
        if kinds and more:
            asked.append(_WORD_KIND[more.group("word").lower()])
        for kind in goal_kinds(clause.text) + asked:
            if kind in DELIVERABLE_KINDS and kind not in kinds:
                kinds.append(kind)
        for word in _FORMAT.findall(clause.text):
            kind = _FORMAT_KIND[word.lower()]
            if kind not in kinds:
                kinds.append(kind)
        if _SPEECH.search(clause.text) and "audio" not in kinds:
            kinds.append("audio")
        if _TEXT.search(clause.text) and not kinds:
            kinds.append("text")
    return kinds


def extract_requirements(task: str, input_files: list[str] | None = None) -> list[Requirement]:
    """The requirements a request states, in the order a reader meets them.

    Args:
        task: The request.
        input_files: Names of the run's inputs, with or without extension (to find the ones the request lists
            in an order).

    Example:
        >>> [r.id for r in extract_requirements("transcribe talk.wav")]
        ['deliver_text']
        >>> extract_requirements("order me a pizza")
        []
        >>> [r.text for r in extract_requirements("what is in this photo?")]
        ['an answer']
    """
    masked = mask_quotes(task)
    kinds = _deliverables(masked)
    narrated = _NARRATED.search(masked)
    if "video" in kinds and narrated and not re.search(r"\b(?:audio file|mp3|wav|recording)\b", masked, re.I):
        kinds = [k for k in kinds if k != "audio"]  # "a narrated video": a sound track, not an audio file
    reqs = [Requirement(id=f"deliver_{k}", kind="deliverable", target=k, text=_NOUN[k]) for k in kinds]
    for m in _MAKE.finditer(masked):
        before = m.group(1).lower().split()
        if any(_WORD_KIND.get(w) or _WORD_KIND.get(w.rstrip("s")) for w in before):
            continue  # "make a video for my presentation": the video is what is made
        noun = _UNSUPPORTED[m.group(2).lower()]
        reqs.append(Requirement(id=f"deliver_{m.group(2).lower().replace(' ', '_')}", kind="deliverable",
                                target="unsupported", text=noun, words=m.group(0)))
    if not kinds and _QUESTION.match(masked):
        reqs.append(Requirement(id="answer", kind="deliverable", target="json", text="an answer",
                                params={"kinds": ["json", "text"], "answer": True}, words=masked.strip()[:80]))
    speed = _SPEED.search(masked)
    if "audio" in kinds and speed:
        factor = _speed_factor(speed)
        reqs.append(Requirement(id="speed", kind="speed", target="audio", words=speed.group(0),
                                text=f"the speech runs at {factor:g}x the normal pace", params={"factor": factor}))
    timed = "video" if "video" in kinds else "audio" if "audio" in kinds else None
    if "video" in kinds and narrated:
        reqs.append(Requirement(id="narrated", kind="audio_track", target="video", words=narrated.group(0),
                                text="the video has a sound track with speech"))
    page = _PAGE.search(masked)
    if "video" in kinds and narrated and ("html" in kinds or page):
        reqs.append(Requirement(id="narration_about_page", kind="about", target="video",
                                words=(page.group(0) if page else narrated.group(0)),
                                text="the narration talks about the page", params={"subject": "html"}))
    captions = _CAPTIONS.search(masked)
    if "video" in kinds and captions:
        source = re.search(r"\b(?:the\s+)?(transcript|transcription|summary|text)\s+as\s+(?:the\s+)?(?:captions?|"
                           r"subtitles?)\b", masked, re.I)
        reqs.append(Requirement(id="captions", kind="captions", target="video", words=captions.group(0),
                                text="the video has captions" + (f" from the {source.group(1)}" if source else ""),
                                params={"from_text_output": bool(source)}))
    duration = _DURATION.search(masked)
    if timed and duration:
        seconds = float(duration.group("n")) * (60 if duration.group("unit").lower().startswith("m") else 1)
        bound = (duration.group("bound") or "").lower()
        low, high = max(0.0, seconds * 0.75 - 1), seconds * 1.25 + 1  # "20 seconds" is spoken loosely
        if bound in ("under", "at most", "no longer than", "no more than", "less than"):
            low, high, how = 0.0, seconds, f"at most {seconds:g} s"
        elif bound in ("at least", "over", "more than"):
            low, high, how = seconds, float("inf"), f"at least {seconds:g} s"
        else:
            how = f"about {seconds:g} s"
        reqs.append(Requirement(id="duration", kind="duration", target=timed, words=duration.group(0),
                                text=f"the {timed} lasts {how}", params={"min_s": low, "max_s": high,
                                                                         "seconds": seconds}))
    named = [m.group(1) for m in _FILE.finditer(masked) if _EXT_KIND[m.group(2).lower()] == "image"]
    given = {input_name(n) for n in (input_files or named)}
    ordered = [n for i, n in enumerate(named) if input_name(n) in given and n not in named[:i]]
    if "video" in kinds and len(ordered) >= 2:
        reqs.append(Requirement(id="order", kind="order", target="video", words=", ".join(ordered),
                                text=f"the video shows {', '.join(ordered)} in that order",
                                params={"inputs": ordered}))
    if "html" in kinds:
        for i, m in enumerate(_CONTAINS.finditer(masked)):
            what = re.sub(r"\s+", " ", m.group("what").strip().lower())
            reqs.append(Requirement(id=f"contains_{i + 1}", kind="contains", target="html", words=m.group(0),
                                    text=f"the page has a {what}", params={"what": what}))
    for word in dict.fromkeys(w.lower().replace("jpeg", "jpg") for w in _FORMAT.findall(masked)):
        kind = _FORMAT_KIND[word]
        if kind in kinds and kind != "html":
            reqs.append(Requirement(id=f"format_{word}", kind="format", target=kind, words=word,
                                    text=f"the {kind} is in {word.upper()} format", params={"format": word}))
    language = _LANGUAGE.search(masked)
    if "text" in kinds and language:
        lang = language.group("lang").lower()
        reqs.append(Requirement(id="language", kind="language", target="text", words=language.group(0),
                                text=f"the text is in {lang.capitalize()}", params={"language": lang}))
    return reqs


def input_name(file_name: str) -> str:
    """The run input name a file gets: its name up to the first dot, made an identifier ("photo 1.png" ->
    "photo_1"). The request names files, the run names inputs; both spellings meet here.

    Example:
        >>> input_name("photo 1.png"), input_name("notes.v2.txt")
        ('photo_1', 'notes')
    """
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in file_name.split(".")[0]) or "input"


def with_requirements(plan: Any, task: str, inputs: Mapping[str, Any], registry: Any = None) -> Any:
    """``plan`` with the request's requirements (unless its planner already stated them), and, given the
    registry, the params they fix (see :func:`fit_params`). A step that repeats another exactly is merged into it
    unless the request asks for several of something (see :mod:`planners._merge`)."""
    if not asks_for_several(task):
        plan = merge_identical_steps(plan)
    if not plan.requirements:
        plan = plan.model_copy(update={"requirements": extract_requirements(task, list(inputs))})
    return fit_params(plan, registry) if registry is not None else plan


def _transcript_ref(plan: Any, registry: Any) -> str | None:
    """The text output of a step that hears audio (a transcript), as ``step.output``; None when the plan has none."""
    for step in plan.steps:
        tool = registry.get(step.tool) if step.tool in registry else None
        if tool is not None and "audio" in tool.inputs.values():
            out = next((o for o, k in tool.outputs.items() if k == "text"), None)
            if out is not None:
                return f"{step.id}.{out}"
    return None


def _speed_factor(m: re.Match[str]) -> float:
    if m.group("x"):
        return float(m.group("x"))
    if m.group("half"):
        return 0.5
    if m.group("plain"):
        return 1.5 if m.group("plain").lower() in ("faster", "quickly") else 0.75
    times = {"twice": 2.0, "two times": 2.0, "three times": 3.0, "half": 0.5}[m.group("word").lower()]
    return times if m.group("dir").lower().startswith(("fast", "quick")) else 1 / times


def fit_params(plan: Any, registry: Any) -> Any:
    """Params the requirements fix, set on the steps that make the judged kind: a speech pace goes to every
    audio-making step with a ``speed`` param; a file format to every step with a ``format`` param that can write
    it; captions, to a video step that has none, from the transcript the plan makes; a length to every step making
    that kind, as its ``duration_s`` param or, spread over the images it shows, its ``seconds_per_image`` (each
    clamped to what the tool accepts)."""
    speed = next((r for r in plan.requirements if r.kind == "speed"), None)
    duration = next((r for r in plan.requirements if r.kind == "duration" and "seconds" in r.params), None)
    formats = {r.target: r.params["format"] for r in plan.requirements if r.kind == "format"}
    captions = next((r for r in plan.requirements if r.kind == "captions"), None)
    spoken_text = _transcript_ref(plan, registry) if captions is not None else None
    if speed is None and duration is None and not formats and spoken_text is None:
        return plan
    steps = []
    for step in plan.steps:
        tool = registry.get(step.tool) if step.tool in registry else None
        props = (tool.params_schema().get("properties") or {}) if tool is not None else {}
        makes = set(tool.outputs.values()) if tool is not None else set()
        fixed: dict[str, Any] = {}
        if speed is not None and "speed" in props and speed.target in makes:
            fixed["speed"] = speed.params["factor"]
        if duration is not None and duration.target in makes:
            seconds = duration.params["seconds"]
            if "duration_s" in props:
                fixed["duration_s"] = seconds
            elif "seconds_per_image" in props:
                images = sum(1 for name in step.inputs if tool.inputs.get(name) == "image")
                fixed["seconds_per_image"] = seconds / max(images, 1)
        for name, value in fixed.items():
            if isinstance(value, (int, float)):
                low, high = props[name].get("minimum", 0.0), props[name].get("maximum", 1e9)
                fixed[name] = min(high, max(low, value))
        if spoken_text is not None and "captions" in props and "video" in makes and not step.params.get("captions"):
            fixed["captions"] = {"from": spoken_text}  # captions asked for, and a transcript made: it is them
        for kind, fmt in formats.items():
            if kind in makes and fmt in (props.get("format") or {}).get("enum", ()):
                fixed["format"] = fmt
        if fixed:
            step = step.model_copy(update={"params": {**step.params, **fixed}})
        steps.append(step)
    return plan.model_copy(update={"steps": steps})
