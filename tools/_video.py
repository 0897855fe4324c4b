"""Shared video plumbing for the video tools: audio normalisation, H.264 encoding, probing.

Everything goes through imageio-ffmpeg's static ffmpeg binary, so no system ffmpeg is needed. imageio_ffmpeg and
numpy are imported inside functions.
"""

from __future__ import annotations

import re
import subprocess
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import ToolError
from modalities.store import ArtifactStore
from tools._extras import require

__all__ = ["VideoInfo", "ffmpeg_exe", "prepare_audio", "encode_video", "probe_video", "first_frame"]


@dataclass(frozen=True)
class VideoInfo:
    """What ``ffmpeg -i`` says about a media file."""

    duration_s: float | None
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    audio_codec: str | None


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    return require("imageio_ffmpeg", "browser").get_ffmpeg_exe()


def prepare_audio(store: ArtifactStore, audio: Artifact, workdir: Path, *, max_s: float = 600.0) -> tuple[Path, float]:
    """Decode any audio ffmpeg reads (WAV, MP3, FLAC, OGG...) into 16-bit PCM WAV; return it and its length.

    Raises:
        ToolError: The audio cannot be decoded, is silent-empty, or is longer than ``max_s``.
    """
    src = store.path(audio)
    out = workdir / "narration.wav"
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-i", str(src), "-vn", "-ac", "2",
                           "-ar", "48000", "-c:a", "pcm_s16le", str(out)], capture_output=True, timeout=120)
    if proc.returncode != 0 or not out.exists():
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise ToolError(f"audio {audio.short_id} ({audio.media_type}) cannot be decoded: {tail[0][:160]}; "
                        "give WAV, MP3, FLAC, OGG or M4A audio")
    with wave.open(str(out)) as w:
        seconds = w.getnframes() / float(w.getframerate())
    if seconds <= 0.05:
        raise ToolError(f"audio {audio.short_id} holds no sound ({seconds:.2f} s); record or synthesise it again")
    if seconds > max_s:
        raise ToolError(f"audio {audio.short_id} lasts {seconds:.0f} s, over the {max_s:.0f} s video limit")
    return out, seconds


def encode_video(frames: Iterable[Any], path: Path, size: tuple[int, int], fps: int,
                 audio: Path | None = None) -> None:
    """Encode RGB uint8 frames (H x W x 3) to H.264 MP4 (yuv420p, faststart), muxing ``audio`` as AAC."""
    iio = require("imageio_ffmpeg", "browser")
    params = ["-preset", "veryfast", "-crf", "23", "-movflags", "+faststart"]
    if audio is not None:
        params += ["-b:a", "128k"]
    writer = iio.write_frames(str(path), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
                              quality=None, macro_block_size=2, output_params=params, ffmpeg_log_level="error",
                              audio_path=str(audio) if audio else None, audio_codec="aac" if audio else None)
    writer.send(None)  # start the generator (launches ffmpeg)
    try:
        for frame in frames:
            writer.send(frame)
    finally:
        writer.close()


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?Video:\s*(\w+).*?,\s*(\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"([\d.]+)\s*fps")
_AUDIO = re.compile(r"Stream #\S+.*?Audio:\s*(\w+)")


def probe_video(path: str | Path) -> VideoInfo:
    """Duration, size, frame rate and codecs of a media file, read from ``ffmpeg -i``'s report.

    Kept over ffprobe or PyAV on purpose: imageio-ffmpeg ships ffmpeg without ffprobe, and PyAV would put a second
    copy of FFmpeg's native libraries into the driver process (which runs no native media code) for four numbers.

    Example:
        >>> probe_video("missing.mp4")  # doctest: +SKIP
        Traceback (most recent call last):
        ...
        modalities.errors.ToolError: ...
    """
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                          timeout=60)
    report = proc.stderr.decode("utf-8", "replace")
    d = _DURATION.search(report)
    if d is None:
        raise ToolError(f"{str(path)!r} is not a readable media file: {report.strip().splitlines()[-1:]}")
    v = _VIDEO.search(report)
    a = _AUDIO.search(report)
    fps = None
    if v:
        f = _FPS.search(report[v.end():].split("\n", 1)[0])
        fps = float(f.group(1)) if f else None
    return VideoInfo(
        duration_s=int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3)),
        width=int(v.group(2)) if v else None, height=int(v.group(3)) if v else None, fps=fps,
        video_codec=v.group(1) if v else None, audio_codec=a.group(1) if a else None,
    )


def first_frame(path: str | Path) -> Any:
    """The first decoded frame of a video as an RGB uint8 array."""
    import numpy as np

    iio = require("imageio_ffmpeg", "browser")
    reader = iio.read_frames(str(path), pix_fmt="rgb24")
    try:
        meta = next(reader)
        w, h = meta["size"]
        data = next(reader)
    finally:
        reader.close()
    return np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
