"""``generate_html``: compile a page layout (and an optional brief) into a self-contained HTML page."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import ToolError
from modalities.layout import Layout
from tools.base import Tool, ToolContext, ToolResult
from tools.code._compile import Strategy, Theme, compile_layout
from tools.code._copy_model import page_copy

__all__ = ["GenerateHtml", "GenerateHtmlParams", "compile_layout"]


class GenerateHtmlParams(BaseModel):
    """Params of ``generate_html``."""

    model_config = ConfigDict(extra="forbid")

    strategy: Strategy | Literal["llm"] = Field(
        "semantic", description="'semantic' (flex rows, the default), 'grid' (exact grid lines), 'minimal' (only "
                                "the top part of the page) or 'llm' (the chat model set by MMAGENT_CHAT_MODEL "
                                "writes the page)")
    title: str | None = Field(None, description="document title; defaults to the first heading")
    theme: Theme = Field("light", description="'light' or 'dark'")
    # 'template' by default: on a busy 2-core machine the model's load alone passed the step's time limit (the
    # run then timed out twice before the template variant), so the model is asked for, not assumed
    copywriter: Literal["auto", "model", "template"] = Field(
        "template", description="who writes the page's words where the sketch has none: 'template' (deterministic, "
                                "instant), 'model' (the local GGUF model, a few seconds once loaded) or 'auto' (the "
                                "model when it is installed, else the template); words drawn on the sketch are kept")
    copy_seconds: float = Field(6.0, ge=0.5, le=60.0, description="most seconds the model may spend writing copy; "
                                                                 "the template fills what it did not write")


class GenerateHtml(Tool):
    """Compile a layout into clean, semantic, responsive HTML with inline CSS and no external URLs.

    Deterministic: the same layout and params give the same bytes. Form elements become real controls, images
    become inline SVG placeholders, and boxes keep their relative sizes and positions, so the rendered page's
    layout matches the sketch's (``layout_similarity``).

    Example:
        >>> import tempfile
        >>> from modalities.layout import LayoutElement
        >>> from modalities.store import ArtifactStore
        >>> store = ArtifactStore(tempfile.mkdtemp())
        >>> sketch = Layout(width=800, height=600, elements=[
        ...     LayoutElement(role="Heading", box=(0.1, 0.1, 0.8, 0.1), text="Sign up"),
        ...     LayoutElement(role="TextBox", box=(0.1, 0.3, 0.5, 0.08), text="Email")])
        >>> layout = store.put_json(sketch.model_dump(mode="json"), "layout")
        >>> result = GenerateHtml().run(ToolContext(store), {"layout": layout}, {})
        >>> 'type="email"' in store.read_text(result.outputs["html"])
        True
    """

    name: ClassVar[str] = "generate_html"
    description: ClassVar[str] = ("Generate a self-contained responsive HTML page (inline CSS, real form controls) "
                                  "that reproduces a page layout; an optional brief supplies page copy")
    family: ClassVar[str] = "code"
    inputs: ClassVar[dict[str, str]] = {"layout": "layout", "brief": "text"}
    optional_inputs: ClassVar[frozenset[str]] = frozenset({"brief"})
    outputs: ClassVar[dict[str, str]] = {"html": "html"}
    params_model: ClassVar[type[BaseModel]] = GenerateHtmlParams
    metrics: ClassVar[dict[str, str]] = {
        "elements": "layout elements placed on the page",
        "dropped": "layout elements left out (only the 'minimal' strategy drops any)",
        "html_bytes": "size of the page",
        "copy": "who wrote the page's words: 'model', 'template' or 'model+template' (the model ran out of time)",
        "icons": "inline SVG icons on the page",
    }
    default_checks: ClassVar[tuple[str, ...]] = ("elements >= 1",)
    timeout_s: ClassVar[float] = 60.0  # room for the copy model's first load in a fresh worker
    # a page that does not match its sketch is regenerated once: on exact grid lines, with the template's copy
    # (no model sampling in the way); past that, the replanner goes back to the sketch's analysis
    retry_params: ClassVar[tuple[dict[str, Any], ...]] = ({"strategy": "grid", "copywriter": "template"},)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        p = GenerateHtmlParams.model_validate(params)
        layout = Layout.model_validate(ctx.store.read_json(inputs["layout"]))
        total = sum(1 for _ in layout.walk())
        if total == 0:
            raise ToolError("the layout has no elements to place; analyze the sketch again or give a layout "
                            "with at least one element")
        brief = ctx.store.read_text(inputs["brief"]) if "brief" in inputs else ""
        if p.strategy == "llm":
            from tools.chat import configured_chat_model
            from tools.code._llm_page import page_from_chat_model

            model = configured_chat_model("text", ctx.settings)
            if model is None:
                raise ToolError("strategy 'llm' needs a chat model; set MMAGENT_CHAT_MODEL (e.g. 'openai:gpt-4o' "
                                "with MMAGENT_CHAT_BASE_URL for an OpenAI-compatible server) or use 'semantic'")
            page = page_from_chat_model(model, layout, brief)
            art = ctx.store.put_text(page, "html", "text/html", step=ctx.step_id, output="html", strategy="llm")
            return ToolResult(outputs={"html": art}, metrics={"elements": _count_placed(page), "dropped": 0,
                                                              "html_bytes": art.size})
        copy = page_copy(p.copywriter, task=ctx.task, brief=brief, layout=layout, seconds=p.copy_seconds,
                         seed=ctx.attempt, settings=ctx.settings)
        page = compile_layout(layout, strategy=p.strategy, title=p.title, theme=p.theme, brief=brief, copy=copy)
        placed = _count_placed(page)
        art = ctx.store.put_text(page, "html", "text/html", step=ctx.step_id, output="html", strategy=p.strategy,
                                 copy=copy.source)
        return ToolResult(outputs={"html": art},
                          metrics={"elements": placed, "dropped": max(total - placed, 0), "html_bytes": art.size,
                                   "copy": copy.source, "icons": page.count('<svg class="icon"')})


def _count_placed(page: str) -> int:
    """Elements the compiler emitted (each carries one layout element), counted from the markup."""
    import re

    tags = r"<(h[1-3]|p|span class=\"label\"|button|a|input|textarea|label class=\"choice\"|select|figure|nav|"
    tags += r"header|section|article|form|footer)[\s>]"
    # a choice label wraps its own <input>: count the pair once
    return len(re.findall(tags, page)) - page.count('<label class="choice"')
