"""Stand-in tools with the built-ins' names and kinds (no models), for planner tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.registry import ToolRegistry


def stand_in(name: str, description: str, inputs: Mapping[str, str], outputs: Mapping[str, str], *,
             optional: tuple[str, ...] = (), metrics: Mapping[str, str] | None = None,
             judges: tuple[str, ...] = (), checks: tuple[str, ...] = (), available: bool = True) -> Tool:
    def run(self: Tool, ctx: ToolContext, inputs: dict[str, Any], params: dict[str, Any]) -> ToolResult:
        raise AssertionError("stand-in tools are for planning only")

    def avail(self: Tool) -> Availability:
        return Availability(available, "" if available else "needs weights")

    cls = type(f"StandIn_{name}", (Tool,), {
        "name": name, "description": description, "inputs": dict(inputs), "outputs": dict(outputs),
        "optional_inputs": frozenset(optional), "metrics": dict(metrics or {}), "judges": judges,
        "default_checks": checks, "run": run, "available": avail})
    return cls()


def builtin_stand_ins() -> ToolRegistry:
    return ToolRegistry([
        stand_in("write_text", "Write a short narration or page copy for a page layout, a brief or the task.",
                 {"layout": "layout", "brief": "text"}, {"text": "text"}, optional=("layout", "brief"),
                 metrics={"words": "number of words"}, checks=("text nonempty",)),
        stand_in("analyze_sketch", "Read a hand-drawn UI sketch or wireframe image into a layout of labelled boxes.",
                 {"image": "image"}, {"layout": "layout"}),
        stand_in("layout_similarity", "Compare two page layouts and report how similar they are.",
                 {"reference": "layout", "candidate": "layout"}, {"report": "json"},
                 metrics={"layout_score": "0-1 similarity"}, judges=("candidate",), checks=("layout_score >= 0.7",)),
        stand_in("sketch_fidelity", "Check a generated page against the original sketch image: every region of ink "
                 "drawn must be covered by a page element of a fitting role.",
                 {"sketch": "image", "page": "html"}, {"report": "json"},
                 metrics={"ink_coverage": "0-1", "role_agreement": "0-1"}, judges=("page",),
                 checks=("ink_coverage >= 0.8", "role_agreement >= 0.7")),
        stand_in("image_text_score", "Score how well an image matches a text with CLIP.",
                 {"image": "image", "text": "text"}, {"report": "json"}, metrics={"clip_score": "0-1"},
                 available=False),
        stand_in("zero_shot_classify", "Classify an image into text labels with CLIP.",
                 {"image": "image"}, {"report": "json"}, metrics={"label": "best label"}, available=False),
        stand_in("image_similarity", "Compare two images with CLIP embeddings.",
                 {"reference": "image", "candidate": "image"}, {"report": "json"},
                 metrics={"image_score": "0-1"}, available=False),
        stand_in("transcribe", "Transcribe speech audio into text.", {"audio": "audio"}, {"text": "text"}),
        stand_in("speak", "Speak a text aloud as narration audio.", {"text": "text"}, {"audio": "audio"},
                 checks=("audio.duration_s > 0",)),
        stand_in("speech_roundtrip", "Transcribe spoken audio back and measure the word error rate against its text.",
                 {"text": "text", "audio": "audio"}, {"report": "json"}, metrics={"wer": "word error rate"},
                 judges=("audio",), checks=("wer <= 0.2",)),
        stand_in("generate_html", "Generate an HTML landing page from a layout.", {"layout": "layout", "brief": "text"},
                 {"html": "html"}, optional=("brief",)),
        stand_in("render_page", "Render an HTML page in a browser to a screenshot and its layout.", {"html": "html"},
                 {"screenshot": "image", "layout": "layout"}),
        stand_in("record_page_video", "Record a scrolling video of a web page, with optional narration audio.",
                 {"html": "html", "audio": "audio"}, {"video": "video"}, optional=("audio",)),
        stand_in("text_to_image", "Generate an image from a text prompt.", {"prompt": "text"}, {"image": "image"}),
        stand_in("compose_video", "Compose a slideshow video from images.", {"images": "image"}, {"video": "video"}),
    ])
