"""Acceptance: each requirement of the request checked on the delivered files, by means the tools did not use.

A tool's own checks say it ran well; these say the user got what they asked for. Each check reads the product as
a person would meet it: it decodes the video and listens to its sound track, reads its frames with OCR, compares
its frames with the input images, parses the page's HTML, counts a text's words. Heavy libraries (numpy, OCR,
ffmpeg) load only when a requirement needs them.
"""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.store import ArtifactStore
from planners.requirements import Requirement, input_name
from tools._speech import content_words

__all__ = ["Outcome", "check_requirements", "spoken_scripts"]

_SILENCE_DBFS = -45.0  # speech synthesised or recorded sits around -30..-15 dBFS; digital silence is < -90
_STOPWORDS = {
    "english": {"the", "and", "is", "of", "to", "in", "it", "that", "with", "for", "this", "are"},
    "french": {"le", "la", "les", "et", "est", "des", "une", "un", "du", "dans", "pour", "que", "avec"},
    "spanish": {"el", "la", "los", "las", "y", "es", "de", "una", "un", "en", "para", "que", "con"},
    "german": {"der", "die", "das", "und", "ist", "ein", "eine", "nicht", "mit", "für", "zu", "den"},
    "italian": {"il", "la", "gli", "le", "e", "è", "di", "una", "un", "per", "che", "con", "della"},
    "portuguese": {"o", "a", "os", "as", "e", "é", "de", "uma", "um", "para", "que", "com", "não"},
}
# page parts that show as an element of their own, not only as words
_ELEMENT = {"form": ("<form", "<input"), "button": ("<button", 'role="button"', "btn"), "footer": ("<footer",),
            "header": ("<header", "<nav"), "navigation": ("<nav", "<header"), "nav bar": ("<nav", "<header"),
            "menu": ("<nav", "<menu", "<ul"), "table": ("<table",), "search bar": ('type="search"', "<input"),
            "gallery": ("<img", "<figure", "placeholder")}
_GENERIC = {"section", "form", "button", "table", "bar", "area", "part", "block", "big", "small", "simple", "nice"}


@dataclass
class _Evidence:
    """What a requirement's check may look at besides the delivered file itself."""

    store: ArtifactStore
    outputs: Mapping[str, Artifact]
    inputs: Mapping[str, Artifact]
    texts: Mapping[str, Artifact]
    spoken: Mapping[str, Artifact]
    ocr_side: int | None = None
    output: str = ""  # the name of the delivered output being judged


@dataclass
class Outcome:
    """A requirement's verdict and the evidence it rests on."""

    id: str
    text: str
    passed: bool
    evidence: str
    output: str | None = None  # the delivered output it was judged on

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "passed": self.passed, "evidence": self.evidence,
                "output": self.output}


def check_requirements(requirements: list[Requirement], outputs: Mapping[str, Artifact], store: ArtifactStore, *,
                       inputs: Mapping[str, Artifact] | None = None,
                       texts: Mapping[str, Artifact] | None = None,
                       spoken: Mapping[str, Artifact] | None = None, ocr_side: int | None = None) -> list[Outcome]:
    """Judge every requirement on the delivered ``outputs``.

    Args:
        requirements: What the request asked for.
        outputs: Final output name -> artifact, as the run delivers them.
        store: Where the artifacts' bytes are.
        inputs: The run's inputs by name (for "in the order given").
        texts: Every text the run made, delivered or not, by step (what captions may come from).
        spoken: Delivered output name -> the text its sound track reads (see :func:`spoken_scripts`).
        ocr_side: The caption OCR's detector side (the run's ``sketch_det_side``; default the environment's).
    """
    outcomes = []
    seen = _Evidence(store, outputs, inputs or {}, texts or {}, spoken or {}, ocr_side)
    for req in requirements:
        kinds = set(req.params.get("kinds") or [req.target])
        candidates = {name: art for name, art in outputs.items() if art.kind in kinds}
        if not candidates:
            outcomes.append(Outcome(req.id, req.text, False, f"no {' or '.join(sorted(kinds))} was delivered"))
            continue
        check = _CHECKS[req.kind]
        verdicts = []
        for name, art in candidates.items():
            try:
                passed, evidence = check(req, store.path(art), replace(seen, output=name))
            except Exception as exc:  # noqa: BLE001 - an unreadable product fails its requirement, it does not crash
                passed, evidence = False, f"could not be checked: {type(exc).__name__}: {exc}"[:300]
            verdicts.append(Outcome(req.id, req.text, bool(passed), str(evidence), name))  # plain types: checkpointed
            if passed:
                break
        outcomes.append(next((v for v in verdicts if v.passed), verdicts[-1]))
    return outcomes


# -- one check per requirement kind: (requirement, file, evidence) -> (passed, evidence in words) ----------
def _deliverable(req: Requirement, path: Path, *_: Any) -> tuple[bool, str]:
    kind = req.target
    if kind == "video":
        from tools._video import probe_video

        info = probe_video(path)
        spread = _frame_spread(path, info.duration_s or 0.0)
        ok = bool(info.video_codec) and (info.duration_s or 0) > 0.2 and spread > 2.0
        return ok, (f"{info.video_codec} video, {info.duration_s or 0:.1f} s, {info.width}x{info.height}, "
                    f"frame detail {spread:.1f}" + ("" if ok else " (no picture content)"))
    if kind == "audio":
        level, seconds = _loudness(path)
        ok = level > _SILENCE_DBFS and seconds > 0.2
        return ok, f"{seconds:.1f} s of audio at {level:.0f} dBFS" + ("" if ok else " (silent)")
    if kind == "image":
        import numpy as np
        from PIL import Image

        with Image.open(path) as im:
            spread = float(np.asarray(im.convert("L"), dtype=np.float32).std())
            size = im.size
        ok = spread > 2.0
        return ok, f"{size[0]}x{size[1]} image, pixel spread {spread:.1f}" + ("" if ok else " (blank)")
    if kind == "html":
        words = _visible_words(path.read_text(errors="replace"))
        return len(words) >= 3, f"page with {len(words)} visible words"
    if kind == "json":
        import json

        value = json.loads(path.read_text(errors="replace"))
        return bool(value), f"a report with {len(value) if hasattr(value, '__len__') else 1} entries"
    words = path.read_text(errors="replace").split()
    return len(words) >= 1, f"text of {len(words)} words"


def _audio_track(req: Requirement, path: Path, *_: Any) -> tuple[bool, str]:
    from tools._video import probe_video

    info = probe_video(path)
    if not info.audio_codec:
        return False, "the video has no sound track"
    level, seconds = _loudness(path)
    ok = level > _SILENCE_DBFS
    return ok, f"{info.audio_codec} sound track, {seconds:.1f} s at {level:.0f} dBFS" + ("" if ok else " (silent)")


def _captions(req: Requirement, path: Path, seen: _Evidence) -> tuple[bool, str]:
    texts, store = seen.texts, seen.store
    from tools._video import probe_video

    duration = probe_video(path).duration_s or 0.0
    read: set[str] = set()
    for frame in _frames(path, duration, 6):
        h = frame.shape[0]
        read |= _ocr_words(frame[int(h * 0.6):], seen.ocr_side)  # captions sit in the lower part of the picture
    if not read:
        return False, "OCR of 6 frames found no caption text in the lower part of the picture"
    if not req.params.get("from_text_output"):
        ok = len(read) >= 2
        return ok, f"OCR read {len(read)} caption words: {' '.join(sorted(read)[:8])}"
    reference: set[str] = set()
    for art in texts.values():
        reference |= _word_set(store.path(art).read_text(errors="replace"))
    shared = read & reference
    ok = len(shared) >= max(2, round(0.3 * len(read)))
    return ok, (f"OCR read {len(read)} caption words, {len(shared)} of them from the run's text "
                f"({' '.join(sorted(shared)[:8]) or 'none'})")


def _duration(req: Requirement, path: Path, *_: Any) -> tuple[bool, str]:
    from tools._video import probe_video

    seconds = probe_video(path).duration_s or 0.0
    low, high = req.params["min_s"], req.params["max_s"]
    return low <= seconds <= high, f"lasts {seconds:.1f} s (wanted {low:.1f}-{high:.1f} s)"


def _order(req: Requirement, path: Path, seen: _Evidence) -> tuple[bool, str]:
    inputs, store = seen.inputs, seen.store
    import numpy as np
    from PIL import Image

    from tools._video import probe_video

    wanted = [n for n in req.params["inputs"]]
    thumbs = {}
    for name in wanted:
        art = inputs.get(_input_key(name, inputs))
        if art is None:
            return False, f"input {name!r} is not among the run's inputs"
        with Image.open(store.path(art)) as im:
            thumbs[name] = np.asarray(im.convert("RGB").resize((24, 24)), dtype=np.float32)
    sequence: list[str] = []
    duration = probe_video(path).duration_s or 0.0
    for frame in _frames(path, duration, 4 * len(wanted) + 2):
        small = np.asarray(Image.fromarray(frame).resize((24, 24)), dtype=np.float32)
        best = min(wanted, key=lambda n: float(np.abs(small - thumbs[n]).mean()))
        if not sequence or sequence[-1] != best:
            sequence.append(best)
    first_seen = [n for i, n in enumerate(sequence) if n not in sequence[:i]]
    ok = first_seen == wanted
    return ok, f"frames show {' -> '.join(sequence)}" + ("" if ok else f" (wanted {' -> '.join(wanted)})")


def _contains(req: Requirement, path: Path, *_: Any) -> tuple[bool, str]:
    page = path.read_text(errors="replace")
    lowered = page.lower()
    what = req.params["what"]
    words = _visible_words(page)
    missing = [w for w in re.findall(r"[a-z]+", what) if w not in _GENERIC and w not in words]
    head = next((k for k in _ELEMENT if what.endswith(k)), None)
    element = head is None or any(marker in lowered for marker in _ELEMENT[head])
    ok = not missing and element
    why = [f"words {missing} not on the page"] if missing else []
    if not element:
        why.append(f"no {head} element")
    return ok, f"page has a {what}" if ok else "; ".join(why)


def _language(req: Requirement, path: Path, *_: Any) -> tuple[bool, str]:
    words = re.findall(r"\w+", path.read_text(errors="replace").lower())
    hits = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    best = max(hits, key=lambda k: hits[k])
    lang = req.params["language"]
    ok = hits.get(lang, 0) >= 2 and best == lang
    return ok, f"most common function words are {best.capitalize()} ({hits[best]} of {len(words)} words)"


_NORMAL_WPS = 3.0  # words a second of the shipped voices at speed 1, on ordinary prose: piper 3.3-3.5, espeak 2.9


def _speed(req: Requirement, path: Path, seen: _Evidence) -> tuple[bool, str]:
    inputs, texts, store = seen.inputs, seen.texts, seen.store
    """The pace of the speech from the words it reads and how long it lasts: no tool's own speed setting counts."""
    sources = [a for a in [*inputs.values(), *texts.values()] if a.kind == "text"]
    if not sources:
        return False, "no text the speech reads was found to measure its pace"
    words = max(len(store.path(a).read_text(errors="replace").split()) for a in sources)
    level, seconds = _loudness(path)
    pace = words / seconds if seconds else 0.0
    factor = req.params["factor"]
    # generous bounds: voices differ, pauses count; a pace on the wrong side of normal always fails
    # a band around the asked pace that still excludes the natural pace of either voice (at 2x: >= 4.2 words/s; at
    # 0.5x: <= 2.1)
    ok = pace >= 0.7 * factor * _NORMAL_WPS if factor > 1 else pace <= 1.4 * factor * _NORMAL_WPS
    return ok, f"{words} words in {seconds:.1f} s: {pace:.1f} words/s (normal about {_NORMAL_WPS} words/s)"


# what ffmpeg names the container and the codecs a file of each format has: judged on the bytes, not the name
_FORMATS = {"mp3": ("mp3", ("mp3",)), "wav": ("wav", ("pcm_",)), "ogg": ("ogg", ("vorbis", "opus")),
            "flac": ("flac", ("flac",)), "mp4": ("mp4", ("h264", "hevc", "mpeg4", "av1")),
            "webm": ("webm", ("vp8", "vp9", "av1")), "png": ("png", ("png",)), "jpg": ("jpeg", ("mjpeg",))}


def _format(req: Requirement, path: Path, *_: Any) -> tuple[bool, str]:
    fmt = req.params["format"]
    container, codecs = _FORMATS[fmt]
    if fmt in ("png", "jpg"):
        from PIL import Image

        with Image.open(path) as im:
            real = (im.format or "?").lower()
        ok = real == container and path.suffix.lower().lstrip(".") in (fmt, container)
        return ok, f"a {real.upper()} image in a {path.suffix or 'nameless'} file"
    from tools._video import probe_video

    info = probe_video(path)
    codec = (info.audio_codec if req.target == "audio" else info.video_codec) or "none"
    ok = codec.startswith(codecs) and path.suffix.lower() == f".{fmt}"
    return ok, f"{codec} {req.target} in a {path.suffix or 'nameless'} file" + ("" if ok else f", not {fmt.upper()}")


def _about(req: Requirement, path: Path, seen: _Evidence) -> tuple[bool, str]:
    """The narration of a video of a page talks about that page: its script names the page's own words."""
    script, outputs, inputs, store = seen.spoken.get(seen.output), seen.outputs, seen.inputs, seen.store
    page = next((a for a in (*outputs.values(), *inputs.values()) if a.kind == "html"), None)
    if page is None:
        return False, "no page was delivered or given to compare the narration with"
    if script is None:
        return False, "the video's sound track was not read from a text, so what it says cannot be checked"
    page_words = content_words(" ".join(_visible_words(store.read_text(page))))
    said = content_words(store.read_text(script))
    shared = sorted(page_words & said)
    if not page_words:
        return True, "the page has no words of its own to compare the narration with"
    need = min(3, len(page_words))
    ok = len(shared) >= need
    return ok, (f"the narration names {len(shared)} of the page's {len(page_words)} words"
                + (f" ({', '.join(shared[:8])})" if shared else "") + ("" if ok else f"; it needs {need}"))


def spoken_scripts(plan: Any, delivered: Mapping[str, str], artifact: Callable[[str], Artifact | None],
                   registry: Any) -> dict[str, Artifact]:
    """Delivered output name -> the text its sound is read from: a video's audio input, made by a voice from a
    text input (``speak(text=...)``), back to that text. Outputs with no such chain are left out.

    Args:
        plan: The plan that ran.
        delivered: Output name -> reference (``step.output`` or ``input:name``).
        artifact: Reference -> the artifact it resolved to in this run (None when it did not run).
        registry: The tools, for the kinds of their inputs.
    """
    by_id = {s.id: s for s in plan.steps}

    def upstream(ref: str, kind: str) -> str | None:
        step = by_id.get(ref.split(".", 1)[0]) if not ref.startswith("input:") else None
        if step is None or step.tool not in registry:
            return None
        tool = registry.get(step.tool)
        return next((r for n, r in step.inputs.items() if tool.inputs.get(n) == kind), None)

    scripts = {}
    for name, ref in delivered.items():
        audio = upstream(ref, "audio")
        text = upstream(audio, "text") if audio else None
        found = artifact(text) if text else None
        if found is not None:
            scripts[name] = found
    return scripts


_CHECKS: dict[str, Callable[..., tuple[bool, str]]] = {
    "speed": _speed, "format": _format, "about": _about,
    "deliverable": _deliverable, "audio_track": _audio_track, "captions": _captions, "duration": _duration,
    "order": _order, "contains": _contains, "language": _language,
}


# -- helpers --------------------------------------------------------------------------------------------------
def _input_key(file_name: str, inputs: Mapping[str, Any]) -> str:
    name = input_name(file_name)
    return name if name in inputs else file_name


def _word_set(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 2}


def _visible_words(page: str) -> set[str]:
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", page)
    return _word_set(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)))


def _loudness(path: Path) -> tuple[float, float]:
    """(RMS level in dBFS, seconds) of a file's first audio stream, decoded to 16 kHz mono."""
    import numpy as np

    from tools._video import ffmpeg_exe

    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-vn", "-ac", "1", "-ar",
                           "16000", "-f", "s16le", "-"], capture_output=True, timeout=120)
    samples = np.frombuffer(proc.stdout, dtype=np.int16).astype(np.float32) / 32768.0
    if samples.size == 0:
        return -120.0, 0.0
    rms = float(np.sqrt(np.mean(samples**2)))
    return (float(20 * np.log10(rms)) if rms > 0 else -120.0), samples.size / 16000


def _frames(path: Path, duration: float, count: int) -> list[Any]:
    """``count`` RGB frames spread evenly over the video (each at the middle of its share of the time)."""
    import numpy as np
    from PIL import Image

    from tools._video import ffmpeg_exe

    frames = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            t = duration * (i + 0.5) / count
            out = Path(tmp) / f"f{i}.png"
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", f"{t:.3f}",
                            "-i", str(path), "-frames:v", "1", "-y", str(out)], capture_output=True, timeout=60)
            if out.exists():
                with Image.open(out) as im:
                    frames.append(np.asarray(im.convert("RGB")))
    return frames


def _frame_spread(path: Path, duration: float) -> float:
    import numpy as np

    frames = _frames(path, duration, 3)
    return max((float(np.asarray(f, dtype=np.float32).std()) for f in frames), default=0.0)


def _ocr_words(image: Any, det_side: int | None = None) -> set[str]:
    import numpy as np

    from modalities.settings import settings
    from tools.model_cache import model_cache
    from tools.vision.sketch import _load_ocr, ocr_key  # the same engine the sketch tool loads, once per process

    det_side = det_side or settings().sketch_det_side
    engine = model_cache.get(ocr_key(det_side), "cpu", lambda: _load_ocr(det_side))
    result = engine(np.ascontiguousarray(image[:, :, ::-1]), use_cls=False)
    return _word_set(" ".join(getattr(result, "txts", None) or ()))
