"""Tools and an MCP server for the interop tests (importable by workers and by spec)."""

from __future__ import annotations

from opentelemetry import trace

from tools import ImageFile, JsonFile, Result, TextFile, ToolRegistry, tool
from tools.base import ToolContext
from tools.text import write_text


@tool(family="text")
def trace_id(ctx: ToolContext) -> TextFile:
    """Write the trace id this step runs in (it runs in a worker process).

    Args:
        ctx: The step's context.
    """
    return Result(format(trace.get_current_span().get_span_context().trace_id, "032x"), {})


@tool(family="text", light=True)
def flaky(ctx: ToolContext) -> TextFile:
    """Fail on the first attempt, succeed on the next.

    Args:
        ctx: The step's context.
    """
    if ctx.attempt == 1:
        raise RuntimeError("first attempts fail")
    return Result(f"attempt {ctx.attempt}", {})


traced = ToolRegistry([trace_id, flaky])
writer = ToolRegistry([write_text])


@tool(family="vision", metrics={"width": "pixels across"}, checks=("width >= 8",))
def image_width(image: ImageFile) -> JsonFile:
    """Measure an image.

    Args:
        image: The image to measure.
    """
    im = image.open()
    return Result({"width": im.width, "height": im.height}, {"width": im.width})
