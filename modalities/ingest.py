"""Turn user files into artifacts: identify them by content, validate them, store them.

A run's inputs are checked here, before planning: an empty, corrupt, unsupported or oversized file raises
:class:`~modalities.errors.InputFileError` naming the file and the problem (the CLI exits with code 2).
"""

from __future__ import annotations

import io
import json
import os
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact, Kind
from modalities.errors import InputFileError
from modalities.settings import settings
from modalities.store import ArtifactStore

__all__ = ["Limits", "sniff", "ingest_file", "ingest_bytes", "probe_mp4_duration"]

_MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Input limits; the defaults come from ``MMAGENT_MAX_INPUT_MB`` and ``MMAGENT_MAX_PIXELS`` (read when a
    ``Limits`` is made, so an Agent made after the environment changed sees the change)."""

    max_bytes: int = field(default_factory=lambda: settings().max_input_bytes)
    max_pixels: int = field(default_factory=lambda: settings().max_pixels)
    max_text_bytes: int = 5 * _MiB
    max_audio_s: float = 3600.0


def sniff(head: bytes) -> tuple[Kind, str] | None:
    """Kind and media type from the first bytes of a file, or None for text-like or unknown content."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "image/gif"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image", "image/bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio", "audio/mpeg"
    if head[:4] == b"fLaC":
        return "audio", "audio/flac"
    if head[:4] == b"OggS":
        return "audio", "audio/ogg"
    if head[4:8] == b"ftyp":
        return "video", "video/mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video", "video/webm"
    return None


def ingest_file(path: str | os.PathLike[str], store: ArtifactStore, *, name: str | None = None,
                limits: Limits | None = None) -> Artifact:
    """Validate a user file and store it.

    Args:
        path: The file to read.
        store: Where the bytes go.
        name: The input's name in the run (defaults to the file stem).
        limits: Size limits; see :class:`Limits`.

    Raises:
        InputFileError: The file is missing, empty, too big, corrupt or of an unsupported type.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "brief.txt").write_text("A landing page")
        14
        >>> ingest_file(d / "brief.txt", ArtifactStore(d / "store")).kind
        'text'
    """
    limits = limits or Limits()
    p = Path(path)
    if not p.exists():
        raise InputFileError(p, "no such file; check the path")
    if not p.is_file():
        raise InputFileError(p, "is not a regular file; pass a file, not a folder")
    size = p.stat().st_size
    if size == 0:
        raise InputFileError(p, "is empty (0 bytes); pass a file with content")
    if size > limits.max_bytes:
        raise InputFileError(p, f"is {size / _MiB:.1f} MiB, over the {limits.max_bytes / _MiB:.0f} MiB input "
                                "limit; shrink it or raise MMAGENT_MAX_INPUT_MB")
    with open(p, "rb") as f:
        head = f.read(64)
    sniffed = sniff(head)
    if sniffed is not None and sniffed[0] == "video" or size > limits.max_text_bytes and sniffed is None:
        # big media is validated from the file itself, never read whole into memory
        meta = _validate(p, None, sniffed, limits)
        kind, media_type = meta.pop("_kind"), meta.pop("_media_type")
        return store.put_file(p, kind, media_type, name=name or p.stem, **meta)
    data = p.read_bytes()
    return ingest_bytes(data, store, name=name or p.stem, label=str(p), limits=limits)


def ingest_bytes(data: bytes, store: ArtifactStore, *, name: str, label: str | None = None,
                 limits: Limits | None = None) -> Artifact:
    """Like :func:`ingest_file` for bytes already in memory; ``label`` names them in errors."""
    limits = limits or Limits()
    label = label or name
    if not data:
        raise InputFileError(label, "is empty (0 bytes); pass a file with content")
    if len(data) > limits.max_bytes:
        raise InputFileError(label, f"is {len(data) / _MiB:.1f} MiB, over the input limit")
    meta = _validate(Path(label), data, sniff(data[:64]), limits)
    kind, media_type = meta.pop("_kind"), meta.pop("_media_type")
    return store.put_bytes(data, kind, media_type, name=name, **meta)


def _validate(p: Path, data: bytes | None, sniffed: tuple[Kind, str] | None, limits: Limits) -> dict[str, Any]:
    try:
        return _validate_kind(p, data, sniffed, limits)
    except InputFileError:
        raise
    except Exception as exc:  # a decoder tripping on hostile bytes is still the file's fault, never a crash
        raise InputFileError(p, f"could not be read ({type(exc).__name__}: {_first_line(exc)}); check the file")


def _validate_kind(p: Path, data: bytes | None, sniffed: tuple[Kind, str] | None, limits: Limits) -> dict[str, Any]:
    if sniffed is None:
        if data is None:
            raise InputFileError(p, f"is text-like but over the {limits.max_text_bytes // _MiB} MiB text limit")
        return _validate_text(p, data, limits)
    kind, media_type = sniffed
    if kind == "image":
        meta = _validate_image(p, data or b"", limits)
    elif kind == "audio":
        meta = _validate_audio(p, data or b"", media_type, limits)
    else:
        meta = _validate_video(p, media_type, data)
    return {"_kind": kind, "_media_type": media_type, **meta}


def _validate_image(p: Path, data: bytes, limits: Limits) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size  # read from the header before decoding anything
            if w <= 0 or h <= 0:
                raise InputFileError(p, f"image has an invalid size {w}x{h}")
            if w * h > limits.max_pixels:
                raise InputFileError(p, f"image is {w}x{h} = {w * h / 1e6:.0f} megapixels, over the "
                                        f"{limits.max_pixels / 1e6:.0f} MP limit (a decompression bomb or a huge "
                                        "scan); resize it or raise MMAGENT_MAX_PIXELS")
            im.load()  # decodes fully: truncated or corrupt data fails here
    except InputFileError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise InputFileError(p, f"image data is corrupt or truncated ({_first_line(exc)}); re-export the image")
    except Image.DecompressionBombError:  # Pillow's own guard fires first on absurd headers
        raise InputFileError(p, f"image header claims too many pixels, over the {limits.max_pixels / 1e6:.0f} MP "
                                "limit (a decompression bomb); resize it or raise MMAGENT_MAX_PIXELS")
    return {"width": w, "height": h}


def _validate_audio(p: Path, data: bytes, media_type: str, limits: Limits) -> dict[str, Any]:
    if media_type == "audio/wav":
        try:
            with wave.open(io.BytesIO(data)) as w:
                frames, rate, channels = w.getnframes(), w.getframerate(), w.getnchannels()
        except (wave.Error, EOFError, struct.error, RuntimeError, ValueError) as exc:
            raise InputFileError(p, f"WAV header is invalid ({_first_line(exc)}); re-export as 16-bit PCM WAV")
        if rate <= 0 or channels <= 0:
            raise InputFileError(p, f"WAV header is invalid (rate {rate}, channels {channels})")
        if frames == 0:
            raise InputFileError(p, "WAV file holds no audio frames; record some audio")
        duration = frames / rate
        if duration > limits.max_audio_s:
            raise InputFileError(p, f"audio lasts {duration:.0f} s, over the {limits.max_audio_s:.0f} s limit")
        return {"duration_s": round(duration, 3), "sample_rate": rate, "channels": channels}
    if len(data) < 128:
        raise InputFileError(p, f"{media_type} file is truncated ({len(data)} bytes)")
    return {}


def _validate_video(p: Path, media_type: str, data: bytes | None) -> dict[str, Any]:
    if media_type != "video/mp4":
        return {}
    try:
        duration = probe_mp4_duration(io.BytesIO(data) if data is not None else p)
    except ValueError as exc:
        raise InputFileError(p, f"MP4 is broken ({exc}); re-encode it")
    return {"duration_s": round(duration, 3)} if duration is not None else {}


def _validate_text(p: Path, data: bytes, limits: Limits) -> dict[str, Any]:
    if len(data) > limits.max_text_bytes:
        raise InputFileError(p, f"text is {len(data) / _MiB:.1f} MiB, over the "
                                f"{limits.max_text_bytes // _MiB} MiB text limit")
    if b"\x00" in data[:4096]:
        raise InputFileError(p, "unsupported binary format; give an image, audio, video, HTML, JSON or text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(p, f"text is not valid UTF-8 (byte {exc.start}); save it as UTF-8")
    stripped = text.lstrip().lower()
    if stripped.startswith(("<!doctype html", "<html")):
        return {"_kind": "html", "_media_type": "text/html", "chars": len(text)}
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(p, f"JSON is invalid at line {exc.lineno} column {exc.colno}: {exc.msg}")
        if isinstance(value, dict) and isinstance(value.get("elements"), list):
            from pydantic import ValidationError

            from modalities.layout import Layout

            try:
                Layout.model_validate(value)
            except ValidationError as exc:
                raise InputFileError(p, f"layout JSON is invalid: {_first_line(exc)}")
            return {"_kind": "layout", "_media_type": "application/vnd.mmagent.layout+json"}
        return {"_kind": "json", "_media_type": "application/json"}
    return {"_kind": "text", "_media_type": "text/plain", "chars": len(text)}


def probe_mp4_duration(source: str | os.PathLike[str] | io.BytesIO) -> float | None:
    """Duration in seconds from an MP4's ``moov/mvhd`` box; ValueError when the box structure is broken.

    Kept over PyAV on purpose: input files are checked in the driver before any worker exists, and reading one box
    in pure Python keeps a native demuxer out of that process (and out of the base install).
    """
    if isinstance(source, io.BytesIO):
        return _mp4_duration(source, len(source.getbuffer()))
    with open(source, "rb") as f:
        return _mp4_duration(f, os.path.getsize(source))


def _mp4_duration(f: Any, size: int) -> float | None:
    moov = _find_box(f, 0, size, b"moov")
    if moov is None:
        raise ValueError("no 'moov' box: the file is truncated or not finished")
    mvhd = _find_box(f, moov[0], moov[1], b"mvhd")
    if mvhd is None:
        raise ValueError("no 'mvhd' box in 'moov'")
    f.seek(mvhd[0])
    version = f.read(1)[0]
    f.read(3)
    if version == 1:
        f.read(16)
        timescale, duration = struct.unpack(">IQ", f.read(12))
    else:
        f.read(8)
        timescale, duration = struct.unpack(">II", f.read(8))
    return duration / timescale if timescale else None


def _find_box(f: Any, start: int, end: int, name: bytes) -> tuple[int, int] | None:
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            raise ValueError(f"box header cut at byte {pos}")
        box_size, box_type = struct.unpack(">I4s", header)
        header_len = 8
        if box_size == 1:
            box_size = struct.unpack(">Q", f.read(8))[0]
            header_len = 16
        elif box_size == 0:
            box_size = end - pos
        if box_size < header_len or pos + box_size > end:
            raise ValueError(f"box {box_type!r} at byte {pos} claims {box_size} bytes past the end")
        if box_type == name:
            return pos + header_len, pos + box_size
        pos += box_size
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
