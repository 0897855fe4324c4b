"""Decode any audio or video container to 16 kHz mono float32 with imageio-ffmpeg's ffmpeg binary, and the
text normalisation used to compare transcripts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from modalities.errors import InputFileError, ToolError
from tools._extras import require
from tools._speech import normalize_words

__all__ = ["SAMPLE_RATE", "decode_audio", "check_not_silent", "normalize_words", "word_error_rate", "misheard_words",
           "ffmpeg_exe"]

SAMPLE_RATE = 16_000
_SILENCE_RMS = 1e-3  # about -60 dBFS: below it there is nothing a recogniser could hear


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped in imageio-ffmpeg."""
    return require("imageio_ffmpeg", "audio").get_ffmpeg_exe()


def decode_audio(path: str | Path, *, max_seconds: float = 3600.0) -> np.ndarray:
    """Samples of the first audio stream of ``path`` as 16 kHz mono float32 in [-1, 1].

    Raises:
        InputFileError: The file is missing, empty, corrupt, has no audio stream or an unsupported codec.

    Example:
        >>> import tempfile, wave, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "tone.wav"
        >>> with wave.open(str(p), "wb") as w:
        ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        ...     w.writeframes((np.sin(np.arange(8000) / 3) * 9000).astype("<i2").tobytes())
        >>> decode_audio(p).shape
        (16000,)
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "no such audio file; check the path")
    if p.stat().st_size == 0:
        raise InputFileError(p, "audio file is empty (0 bytes); record or export it again")
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(p), "-vn", "-map", "0:a:0",
           "-t", str(max_seconds), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-acodec", "pcm_f32le", "-"]
    proc = subprocess.run(cmd, capture_output=True, timeout=max(60.0, max_seconds / 10), check=False)
    if proc.returncode != 0:
        raise InputFileError(p, f"cannot decode audio ({_ffmpeg_reason(proc.stderr)}); give a WAV, MP3, FLAC, "
                                "OGG, M4A, MP4 or WebM file with an audio track")
    return np.frombuffer(proc.stdout, dtype="<f4").astype(np.float32)


def _ffmpeg_reason(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace")
    known = (("matches no streams", "it has no audio stream"),
             ("does not contain any stream", "it has no audio stream"),
             ("Invalid data found", "the data is corrupt or not a media file"),
             ("Decoder", "unsupported codec"), ("decoder", "unsupported codec"),
             ("Unsupported codec", "unsupported codec"))
    for needle, reason in known:
        if needle in text:
            return reason
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0][:160] if lines else "ffmpeg failed"


def check_not_silent(samples: np.ndarray, label: str) -> float:
    """Duration in seconds; :class:`ToolError` when the audio is empty or silent."""
    duration = samples.size / SAMPLE_RATE
    if samples.size < SAMPLE_RATE // 10:
        raise ToolError(f"audio {label!r} is empty ({duration:.2f} s of samples); it needs at least 0.1 s of speech")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms < _SILENCE_RMS:
        raise ToolError(f"audio {label!r} is silent (RMS {rms:.1e} over {duration:.1f} s); nothing to transcribe - "
                        "check the recording or the step that made it")
    return duration


def word_error_rate(reference: str, hypothesis: str, language: str = "en") -> tuple[float, dict[str, int]]:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalize_words`, and the edit counts.

    Example:
        >>> word_error_rate("the cat sat", "the cat sat down")[0]
        0.3333333333333333
    """
    import jiwer

    ref, hyp = normalize_words(reference, language), normalize_words(hypothesis, language)
    if not ref:
        counts = {"reference_words": 0, "substitutions": 0, "deletions": 0, "insertions": len(hyp)}
        return (0.0 if not hyp else 1.0), counts
    out = jiwer.process_words(" ".join(ref), " ".join(hyp) or " ")
    counts = {"reference_words": len(ref), "substitutions": out.substitutions, "deletions": out.deletions,
              "insertions": out.insertions}
    return float(out.wer), counts


def misheard_words(reference: str, hypothesis: str, language: str = "en") -> list[str]:
    """The words of ``reference`` (as :func:`normalize_words` writes them) that ``hypothesis`` did not give back:
    replaced, dropped, or followed by words it added; each once, in order. What a rewrite of the script leaves out.

    Example:
        >>> misheard_words("Welcome to Entrados Anteriores. Press Meas to begin.",
        ...                "Welcome to Entrato's interiors. Press MESTA begin.")
        ['entrados', 'anteriores', 'meas', 'to']
        >>> misheard_words("Bienvenido a Cine. Selecciona Provincia.", "Bienvenido a cine. Selección a provincia.")
        ['selecciona']
        >>> misheard_words("Welcome to Canolive Kenmorthy. blog index. me blog project.",
        ...                "Welcome to the channel of KenmoreTheBlogEndXmeblog project.")
        ['canolive', 'kenmorthy', 'index', 'me']
    """
    import jiwer

    ref, hyp = normalize_words(reference, language), normalize_words(hypothesis, language)
    if not ref:
        return []
    out = jiwer.process_words(" ".join(ref), " ".join(hyp) or " ")
    chunks = out.alignments[0]
    # whisper runs words it did not follow together ("KenmoreTheBlogEndXmeblog"): a word of four letters or more
    # inside such a run was heard, and a rewrite that left it out would name less of the page
    runs = [h for c in chunks if c.type != "equal" for h in hyp[c.hyp_start_idx:c.hyp_end_idx]]

    def lost(word: str) -> bool:
        return len(word) < 4 or not any(len(h) > len(word) + 2 and word in h for h in runs)

    wrong: list[str] = []
    for n, chunk in enumerate(chunks):
        if chunk.type in ("substitute", "delete"):
            wrong += [w for w in ref[chunk.ref_start_idx:chunk.ref_end_idx] if lost(w)]
        elif chunk.type == "insert" and chunk.ref_start_idx > 0:
            # a word heard as two ("Selecciona" as "selección a") shows as an added word beside a replaced one,
            # which is the one at fault; an added word between two heard right is the first one's, stretched
            after = chunks[n + 1] if n + 1 < len(chunks) else None
            if after is None or after.type == "equal":
                wrong.append(ref[chunk.ref_start_idx - 1])
    return list(dict.fromkeys(wrong))
