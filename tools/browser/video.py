"""``record_page_video``: a smooth scroll-through of a page as an H.264 MP4, paced to a narration.

The page is rendered once in the sandbox as a full-page screenshot; each frame is a viewport-sized window of that
image at an eased scroll offset. That is deterministic (same page, same bytes of frames) and about ten times
faster than screenshotting a live page per frame.
"""

from __future__ import annotations

import io
import math
import time
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modalities.artifacts import Artifact
from modalities.errors import ToolError
from modalities.ingest import probe_mp4_duration
from tools._video import encode_video, first_frame, prepare_audio, probe_video
from tools.base import ToolContext, ToolResult
from tools.browser._chromium import BrowserTool
from tools.browser._sandbox import parse_viewport, snapshot_html

__all__ = ["RecordPageVideo", "RecordParams", "scroll_offsets"]


class RecordParams(BaseModel):
    """Params of ``record_page_video``."""

    model_config = ConfigDict(extra="forbid")

    viewport: str = Field("1280x720", description="video size: 'desktop', 'mobile' or 'WIDTHxHEIGHT'")
    fps: int = Field(25, ge=1, le=60)
    duration_s: float = Field(8.0, gt=0, le=600, description="length when no narration audio is given")
    hold_s: float = Field(0.8, ge=0, le=10, description="seconds held still at the top and at the bottom")
    script_limit_s: float = Field(5.0, gt=0, le=60)
    max_mb: float = Field(5.0, gt=0, le=100)

    @field_validator("viewport")
    @classmethod
    def _viewport(cls, value: str) -> str:
        w, h = parse_viewport(value)
        if w % 2 or h % 2:
            raise ValueError(f"viewport {value!r} must have even sides for H.264 (yuv420p)")
        return value


def scroll_offsets(frames: int, max_offset: int, hold_frames: int) -> list[int]:
    """Scroll position of each frame: still for ``hold_frames`` at both ends, an ease-in-out glide between.

    Example:
        >>> scroll_offsets(8, 100, 2)
        [0, 0, 4, 31, 69, 96, 100, 100]
    """
    hold = min(hold_frames, max((frames - 2) // 2, 0))
    moving = frames - 2 * hold
    out = []
    for i in range(frames):
        p = min(max((i - hold + 0.5) / moving, 0.0), 1.0) if moving > 0 else 0.0
        if i < hold:
            p = 0.0
        elif i >= frames - hold:
            p = 1.0
        out.append(round((0.5 - 0.5 * math.cos(math.pi * p)) * max_offset))
    return out


class RecordPageVideo(BrowserTool):
    """Record a scroll-through video of an HTML page (MP4, H.264), muxed with narration audio when given.

    With audio, the video lasts as long as the narration and the scroll is paced to it; without, it lasts
    ``duration_s``. The page renders in the same sandbox as ``render_page``.

    Example:
        >>> import tempfile
        >>> from modalities.store import ArtifactStore
        >>> store = ArtifactStore(tempfile.mkdtemp())
        >>> page = store.put_text("<h1>Hello</h1>" + "<p>text</p>" * 80, "html")
        >>> out = RecordPageVideo().run(ToolContext(store), {"html": page}, {"duration_s": 2})  # doctest: +SKIP
        >>> out.metrics["duration_s"], out.metrics["blank_frames"]  # doctest: +SKIP
        (2.0, 0)
    """

    name: ClassVar[str] = "record_page_video"
    description: ClassVar[str] = ("Record a smooth scroll-through video (MP4) of an HTML page, paced to and muxed "
                                  "with a narration audio track when one is given")
    family: ClassVar[str] = "browser"
    inputs: ClassVar[dict[str, str]] = {"html": "html", "audio": "audio"}
    optional_inputs: ClassVar[frozenset[str]] = frozenset({"audio"})
    outputs: ClassVar[dict[str, str]] = {"video": "video"}
    params_model: ClassVar[type[BaseModel]] = RecordParams
    metrics: ClassVar[dict[str, str]] = {
        "duration_s": "length of the video file",
        "narration_s": "length of the narration audio (null without audio)",
        "duration_error_s": "|video length - narration length| (or the requested length without audio)",
        "blank_frames": "frames with no content at all: one flat colour over the whole frame",
        "first_frame_diff": "mean absolute difference (0-1) between the first decoded frame and the page top",
        "render_s": "seconds to render the page",
        "encode_s": "seconds to build and encode the frames",
        "video_s_per_output_s": "wall seconds of work per second of video",
    }
    default_checks: ClassVar[tuple[str, ...]] = ("blank_frames <= 0", "duration_error_s <= 0.5",
                                                 "first_frame_diff <= 0.1")
    requires: ClassVar[tuple[str, ...]] = ("playwright", "imageio_ffmpeg", "numpy")
    extra: ClassVar[str | None] = "browser"
    timeout_s: ClassVar[float] = 300.0
    # blank frames or a first frame unlike the page mean the page itself is wrong (e.g. mostly empty): when these
    # checks fail, the step that made the page is a suspect and is redone too
    judges: ClassVar[tuple[str, ...]] = ("html",)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        import numpy as np
        from PIL import Image

        p = RecordParams.model_validate(params)
        width, height = parse_viewport(p.viewport)
        started = time.perf_counter()
        work = ctx.scratch()
        audio_path, narration_s = None, None
        if "audio" in inputs:  # decode first: a bad narration should fail before the browser work
            audio_path, narration_s = prepare_audio(ctx.store, inputs["audio"], work)
        target_s = narration_s if narration_s is not None else p.duration_s

        html = ctx.store.read_text(inputs["html"])
        if not html.strip():
            raise ToolError("the HTML to record is empty; generate the page first")
        snap = snapshot_html(html, viewport=(width, height), full_page=True, script_limit_s=p.script_limit_s,
                             max_bytes=int(p.max_mb * 2**20), chromium=ctx.settings.chromium or "")
        page = _fit_width(np.asarray(Image.open(io.BytesIO(snap.png)).convert("RGB")), width, height)

        encode_start = time.perf_counter()
        frames = max(1, math.ceil(target_s * p.fps - 1e-6))
        content = _content_offsets(page, height)
        # the glide runs over the scroll positions that show some of the page, cutting across a stretch of white
        # taller than the screen (the gap between two sections), so the video never shows an empty screen of an
        # honest page; a page with nothing on it keeps every position, and every frame counts as blank
        stops = content if content.size else np.arange(page.shape[0] - height + 1)
        offsets = [int(stops[i]) for i in scroll_offsets(frames, len(stops) - 1, round(p.hold_s * p.fps))]
        blank = _blank_frames(page, offsets, height)
        out = work / "page.mp4"
        encode_video((np.ascontiguousarray(page[o:o + height]) for o in offsets), out, (width, height), p.fps,
                     audio_path)
        encode_s = time.perf_counter() - encode_start

        duration = probe_mp4_duration(out) or frames / p.fps
        info = probe_video(out)
        diff = float(np.abs(first_frame(out).astype(np.int16) - page[:height].astype(np.int16)).mean() / 255.0)
        art = ctx.store.put_file(out, "video", "video/mp4", duration_s=round(duration, 3), width=width,
                                 height=height, fps=p.fps, has_audio=info.audio_codec is not None,
                                 step=ctx.step_id, output="video")
        total_s = time.perf_counter() - started
        return ToolResult(outputs={"video": art}, metrics={
            "duration_s": round(duration, 3),
            "narration_s": round(narration_s, 3) if narration_s is not None else None,
            "duration_error_s": round(abs(duration - target_s), 3),
            "blank_frames": blank,
            "first_frame_diff": round(diff, 4),
            "frames": frames,
            "scroll_px": int(page.shape[0] - height),
            "render_s": round(snap.render_s, 3),
            "encode_s": round(encode_s, 3),
            "video_s_per_output_s": round(total_s / duration, 3) if duration else None,
            "blocked_requests": snap.blocked_requests,
        })


def _fit_width(page: Any, width: int, height: int) -> Any:
    """The screenshot cropped or padded to the video width, and padded to at least one screen tall."""
    import numpy as np

    page = page[:, :width]
    if page.shape[1] < width:  # a page narrower than the viewport: extend its right edge colour
        page = np.concatenate([page, np.repeat(page[:, -1:], width - page.shape[1], axis=1)], axis=1)
    if page.shape[0] < height:
        page = np.concatenate([page, np.repeat(page[-1:], height - page.shape[0], axis=0)], axis=0)
    return np.ascontiguousarray(page)


def _content_rows(page: Any) -> Any:
    """Per row of the page: does it differ from a flat screen of the colour above it? A row varies within itself
    (text, an edge), or it starts a band of another colour. Differences up to 8 levels are JPEG-like noise and
    barely visible gradients, not content."""
    import numpy as np

    flat = page.reshape(page.shape[0], -1).astype(np.int16)
    varied = (flat.max(axis=1) - flat.min(axis=1)) > 8
    colour = page.mean(axis=1)
    step = np.zeros(page.shape[0], bool)
    step[1:] = np.abs(np.diff(colour, axis=0)).max(axis=1) > 8
    return varied, step


def _window_has_content(page: Any, height: int) -> Any:
    """For each scroll offset, whether the window shows any content: a varied row anywhere in it, or a change of
    colour between two of its rows. Prefix sums keep it linear in the page height."""
    import numpy as np

    varied, step = _content_rows(page)
    pv = np.concatenate([[0], np.cumsum(varied)])
    ps = np.concatenate([[0], np.cumsum(step)])
    o = np.arange(page.shape[0] - height + 1)
    return (pv[o + height] - pv[o] > 0) | (ps[o + height] - ps[o + 1] > 0)


def _content_offsets(page: Any, height: int) -> Any:
    """The scroll offsets whose window shows some content, in order."""
    import numpy as np

    return np.flatnonzero(_window_has_content(page, height))


def _blank_frames(page: Any, offsets: list[int], height: int) -> int:
    """Frames with no content at all: one flat colour over the whole frame (see :func:`_window_has_content`)."""
    has = _window_has_content(page, height)
    return sum(1 for o in offsets if not has[o])
