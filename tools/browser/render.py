"""``render_page``: render HTML in a sandboxed headless Chromium; return a screenshot and the DOM layout."""

from __future__ import annotations

import io
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modalities.artifacts import Artifact
from modalities.errors import ToolError
from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.browser._chromium import browser_available
from tools.browser._sandbox import parse_viewport, snapshot_html

__all__ = ["RenderPage", "RenderParams"]


class RenderParams(BaseModel):
    """Params of ``render_page``."""

    model_config = ConfigDict(extra="forbid")

    viewport: str = Field("desktop", description="'desktop' (1280x720), 'mobile' (390x844) or 'WIDTHxHEIGHT'")
    full_page: bool = Field(True, description="screenshot the whole page, not only the first screen")
    script_limit_s: float = Field(5.0, gt=0, le=60, description="seconds page scripts get to load the page")
    max_mb: float = Field(5.0, gt=0, le=100, description="largest HTML accepted, in MiB")
    javascript: bool = Field(True, description="run the page's inline scripts (network access stays blocked)")

    @field_validator("viewport")
    @classmethod
    def _viewport(cls, value: str) -> str:
        parse_viewport(value)
        return value


class RenderPage(Tool):
    """Render an HTML page in a sandbox: no network, no files, scripts time-limited.

    Outputs a PNG screenshot and the layout read back from the rendered DOM (boxes as fractions of the full page),
    which ``layout_similarity`` compares with the layout the page was generated from.

    Example:
        >>> import tempfile
        >>> from modalities.store import ArtifactStore
        >>> store = ArtifactStore(tempfile.mkdtemp())
        >>> page = store.put_text("<h1>Hello</h1><button>Go</button>", "html")
        >>> result = RenderPage().run(ToolContext(store), {"html": page}, {})  # doctest: +SKIP
        >>> [e.role for e in store_layout(store, result).leaves()]  # doctest: +SKIP
        ['Heading', 'Button']
    """

    name: ClassVar[str] = "render_page"
    description: ClassVar[str] = ("Render an HTML page in a sandboxed headless browser; output a screenshot and the "
                                  "layout of the rendered page (element roles and boxes) for comparison")
    family: ClassVar[str] = "browser"
    inputs: ClassVar[dict[str, str]] = {"html": "html"}
    outputs: ClassVar[dict[str, str]] = {"screenshot": "image", "layout": "layout"}
    params_model: ClassVar[type[BaseModel]] = RenderParams
    metrics: ClassVar[dict[str, str]] = {
        "render_s": "seconds to load, lay out and screenshot the page",
        "page_height": "height of the rendered page in CSS pixels",
        "page_width": "width of the rendered page in CSS pixels",
        "blocked_requests": "requests the sandbox refused (network, files, websockets)",
        "elements": "number of elements read back from the DOM",
    }
    default_checks: ClassVar[tuple[str, ...]] = ("elements >= 1",)
    requires: ClassVar[tuple[str, ...]] = ("playwright",)
    extra: ClassVar[str | None] = "browser"
    timeout_s: ClassVar[float] = 120.0

    def available(self) -> Availability:
        ok, reason = browser_available(self.settings.chromium or "")
        return Availability(ok, reason)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        p = RenderParams.model_validate(params)
        html = ctx.store.read_text(inputs["html"])
        if not html.strip():
            raise ToolError("the HTML to render is empty; generate the page first")
        snap = snapshot_html(html, viewport=parse_viewport(p.viewport), full_page=p.full_page,
                             script_limit_s=p.script_limit_s, max_bytes=int(p.max_mb * 2**20),
                             javascript=p.javascript, chromium=ctx.settings.chromium or "")
        width, height = _png_size(snap.png)
        shot = ctx.store.put_bytes(snap.png, "image", "image/png", width=width, height=height,
                                   step=ctx.step_id, output="screenshot")
        layout = ctx.store.put_json(snap.layout.model_dump(mode="json"), "layout", step=ctx.step_id,
                                    output="layout", viewport=p.viewport)
        return ToolResult(
            outputs={"screenshot": shot, "layout": layout},
            metrics={"render_s": round(snap.render_s, 3), "page_height": snap.height, "page_width": snap.width,
                     "blocked_requests": snap.blocked_requests, "elements": sum(1 for _ in snap.layout.walk())},
        )


def _png_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return im.width, im.height


def store_layout(store: Any, result: ToolResult) -> Any:
    """The :class:`~modalities.layout.Layout` a ``render_page`` result stored (a helper for callers and tests)."""
    from modalities.layout import Layout

    return Layout.model_validate(store.read_json(result.outputs["layout"]))
