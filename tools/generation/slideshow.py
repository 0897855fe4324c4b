"""``compose_video``: a slideshow MP4 from one to four images, with optional narration and captions.

Input shape: ``image`` (required) and ``image2``..``image4`` (optional) are shown in that order; ``audio``
(optional) sets the length and is muxed as AAC. Each image is fitted inside the frame (letterboxed, never cropped);
consecutive images cross-fade.

Captions: with one per image, ``captions[i]`` is drawn over image ``i`` (captions written for the pictures).
Any other number (a transcript's sentences, taken from another step with ``{"from": ...}``) are subtitles: shown
in order over the whole video, each for a share of it in proportion to its length, since that is about how long it
takes to say or to read. A long caption wraps onto up to three lines.
"""

from __future__ import annotations

import math
import subprocess
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import ToolError
from modalities.ingest import probe_mp4_duration
from tools._video import encode_video, ffmpeg_exe, prepare_audio, probe_video
from tools.base import Tool, ToolContext, ToolResult

__all__ = ["ComposeVideo", "ComposeParams", "IMAGE_INPUTS"]

IMAGE_INPUTS = ("image", "image2", "image3", "image4")
_FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
               "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")


class ComposeParams(BaseModel):
    """Params of ``compose_video``."""

    model_config = ConfigDict(extra="forbid")

    captions: list[str] = Field(default_factory=list, max_length=200,
                                description="one caption per image, in order; any other number (e.g. a "
                                            "transcript's sentences) are subtitles shown in turn over the video")
    seconds_per_image: float = Field(3.0, gt=0, le=60, description="time per image when no audio is given")
    duration_s: float | None = Field(None, gt=0, le=600, description="length of the whole video; set, it overrides "
                                     "the narration's pace (the narration is cut, or silence follows it)")
    width: int = Field(1280, ge=64, le=3840, multiple_of=2)
    height: int = Field(720, ge=64, le=2160, multiple_of=2)
    fps: int = Field(25, ge=1, le=60)
    fade_s: float = Field(0.5, ge=0, le=5, description="cross-fade between images")
    background: str = Field("#101318", pattern=r"^#[0-9a-fA-F]{6}$")


def _cut(audio: Path, seconds: float) -> Path:
    """The first ``seconds`` of a WAV file, beside it."""
    out = audio.with_name(f"cut-{audio.name}")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(audio), "-t",
                    f"{seconds:.3f}", "-c:a", "pcm_s16le", str(out)], check=True, capture_output=True, timeout=120)
    return out


class ComposeVideo(Tool):
    """Make a slideshow video from images, paced to narration audio when given, with captions.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> from modalities.store import ArtifactStore
        >>> store = ArtifactStore(tempfile.mkdtemp()); path = store.root / "red.png"
        >>> Image.new("RGB", (320, 240), "red").save(path)
        >>> img = store.put_file(path, "image", "image/png", width=320, height=240)
        >>> out = ComposeVideo().run(ToolContext(store), {"image": img}, {"seconds_per_image": 1, "width": 320,
        ...                                                               "height": 240, "captions": ["Red"]})
        >>> out.metrics["duration_s"]
        1.0
    """

    name: ClassVar[str] = "compose_video"
    description: ClassVar[str] = ("Compose a slideshow video (MP4) from up to four images with optional captions, "
                                  "paced to and muxed with narration audio when given")
    family: ClassVar[str] = "generation"
    inputs: ClassVar[dict[str, str]] = {**{name: "image" for name in IMAGE_INPUTS}, "audio": "audio"}
    optional_inputs: ClassVar[frozenset[str]] = frozenset({*IMAGE_INPUTS[1:], "audio"})
    outputs: ClassVar[dict[str, str]] = {"video": "video"}
    params_model: ClassVar[type[BaseModel]] = ComposeParams
    metrics: ClassVar[dict[str, str]] = {
        "duration_s": "length of the video file",
        "narration_s": "length of the narration audio (null without audio)",
        "duration_error_s": "|video length - intended length|",
        "images": "number of images shown",
        "captions": "number of captions drawn",
        "encode_s": "seconds to build and encode the frames",
    }
    default_checks: ClassVar[tuple[str, ...]] = ("duration_error_s <= 0.5",)
    requires: ClassVar[tuple[str, ...]] = ("imageio_ffmpeg", "numpy")
    extra: ClassVar[str | None] = "generation"
    timeout_s: ClassVar[float] = 300.0

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        import numpy as np

        p = ComposeParams.model_validate(params)
        names = [n for n in IMAGE_INPUTS if n in inputs]
        if not names:
            raise ToolError("compose_video needs at least one image on input 'image'")
        work = ctx.scratch()
        audio_path, narration_s = None, None
        if "audio" in inputs:
            audio_path, narration_s = prepare_audio(ctx.store, inputs["audio"], work)
        target_s = narration_s if narration_s is not None else p.seconds_per_image * len(names)
        if p.duration_s is not None:
            # a length asked for outright wins over the narration's: a longer narration is cut at it
            target_s = p.duration_s
            if audio_path is not None and narration_s is not None and narration_s > target_s:
                audio_path = _cut(audio_path, target_s)
        size = (p.width, p.height)
        slides = [_slide(ctx.store.path(inputs[n]), size, p.background) for n in names]

        start = time.perf_counter()
        fps = p.fps
        frames = max(1, math.ceil(target_s * fps - 1e-6))
        per = frames / len(slides)
        fade = min(round(p.fade_s * fps), int(per // 2))
        caption_at = _caption_timeline([c.strip() for c in p.captions], len(slides), frames, per)
        pictures: dict[tuple[int, str], Any] = {}

        def picture(k: int, i: int) -> Any:
            """Slide ``k`` with the caption shown at frame ``i`` (frames come in order: keep the last few)."""
            key = (k, caption_at(k, i))
            if key not in pictures:
                if len(pictures) > 4:
                    pictures.pop(next(iter(pictures)))
                pictures[key] = _captioned(slides[k], key[1])
            return pictures[key]

        def frame_at(i: int) -> Any:
            k = min(int(i // per), len(slides) - 1)
            into_next = i - (k + 1) * per + fade  # frames into the fade towards slide k+1
            if k + 1 < len(slides) and fade > 0 and into_next > 0:
                a = min(into_next / fade, 1.0)
                mixed = picture(k, i).astype(np.float32) * (1 - a) + picture(k + 1, i).astype(np.float32) * a
                return mixed.astype(np.uint8)
            return picture(k, i)

        out = work / "slideshow.mp4"
        encode_video((frame_at(i) for i in range(frames)), out, size, fps, audio_path)
        encode_s = time.perf_counter() - start
        duration = probe_mp4_duration(out) or frames / fps
        info = probe_video(out)
        art = ctx.store.put_file(out, "video", "video/mp4", duration_s=round(duration, 3), width=p.width,
                                 height=p.height, fps=fps, has_audio=info.audio_codec is not None,
                                 step=ctx.step_id, output="video")
        return ToolResult(outputs={"video": art}, metrics={
            "duration_s": round(duration, 3),
            "narration_s": round(narration_s, 3) if narration_s is not None else None,
            "duration_error_s": round(abs(duration - target_s), 3),
            "images": len(slides),
            "captions": len([c for c in p.captions if c.strip()]),
            "encode_s": round(encode_s, 3),
        })


def _caption_timeline(captions: list[str], slides: int, frames: int, per: float) -> Any:
    """``(slide, frame) -> caption text`` (empty: none) for the rule in the module docstring."""
    if len(captions) == slides or not captions:
        return lambda k, i: captions[k] if captions else ""
    weights = [max(len(c), 1) for c in captions]
    total = sum(weights)
    ends, run = [], 0
    for w in weights:  # caption j ends at this frame: its share of the video in proportion to its length
        run += w
        ends.append(run / total * frames)

    def at(k: int, i: int) -> str:
        # a slide fading in shows the caption of the moment it is fully in, so a fade never flashes a caption
        moment = max(i, (k * per) if k > 0 else 0)
        return captions[next((j for j, end in enumerate(ends) if moment < end), len(captions) - 1)]

    return at


def _slide(path: Any, size: tuple[int, int], background: str) -> Any:
    """One frame: the image fitted inside ``size`` on the background."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            img = im.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ToolError(f"image {path.name!r} cannot be read ({exc}); give a PNG or JPEG") from None
    w, h = size
    scale = min(w / img.width, h / img.height)
    fitted = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
    canvas = Image.new("RGB", size, background)
    canvas.paste(fitted, ((w - fitted.width) // 2, (h - fitted.height) // 2))
    return np.asarray(canvas)


def _captioned(slide: Any, caption: str) -> Any:
    """``slide`` with ``caption`` on a dark band at the bottom: wrapped onto up to three lines, the font shrunk
    until they fit in 90% of the width."""
    import numpy as np
    from PIL import Image, ImageDraw

    if not caption:
        return slide
    canvas = Image.fromarray(slide)
    w, h = canvas.size
    draw = ImageDraw.Draw(canvas, "RGBA")
    font = _font(max(12, h // 22))
    lines = _wrap(draw, caption, font, 0.9 * w)
    while (len(lines) > 3 or any(draw.textlength(line, font=font) > 0.9 * w for line in lines)) \
            and getattr(font, "size", 12) > 12:
        font = _font(int(font.size * 0.9))
        lines = _wrap(draw, caption, font, 0.9 * w)
    boxes = [draw.textbbox((0, 0), line, font=font) for line in lines]
    top = min(b[1] for b in boxes)
    line_h = max(b[3] for b in boxes) - top
    pad = max(6, h // 60)
    band_top = h - len(lines) * (line_h + pad) - 2 * pad
    draw.rectangle((0, band_top, w, h), fill=(0, 0, 0, 150))
    for n, (line, (left, _, right, _)) in enumerate(zip(lines, boxes, strict=True)):
        y = band_top + pad + pad // 2 + n * (line_h + pad) - top
        draw.text(((w - (right - left)) // 2 - left, y), line, font=font, fill=(255, 255, 255, 255))
    return np.asarray(canvas)


def _wrap(draw: Any, text: str, font: Any, width: float) -> list[str]:
    """``text`` broken between words into lines no wider than ``width`` (a single long word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [text]


def _font(size: int) -> Any:
    from PIL import ImageFont

    for path in _FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)
