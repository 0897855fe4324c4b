"""Tools and an MCP server for the interop tests (importable by workers and by spec)."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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


_WORKER_SPANS: list[InMemorySpanExporter] = []


def _worker_exporter() -> InMemorySpanExporter:
    """An in-memory exporter on this process's tracer provider (a Ray worker has none: it gets one here)."""
    if not _WORKER_SPANS:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        _WORKER_SPANS.append(InMemorySpanExporter())
        provider.add_span_processor(SimpleSpanProcessor(_WORKER_SPANS[0]))
    _WORKER_SPANS[0].clear()
    return _WORKER_SPANS[0]


@tool(family="text", metrics={"pid": "the process the step ran in"})
def worker_span(ctx: ToolContext) -> JsonFile:
    """Make a span where the step runs, with mmagent's own span helper, and report what the exporter got.

    Args:
        ctx: The step's context.
    """
    from tools.tracing import span

    exporter = _worker_exporter()
    with span("chat toy-model", {"gen_ai.operation.name": "chat"}):
        pass
    (done,) = exporter.get_finished_spans()
    return Result({"name": done.name, "trace_id": format(done.context.trace_id, "032x"),
                   "parent_span_id": format(done.parent.span_id, "016x") if done.parent else None,
                   "pid": os.getpid()}, {"pid": os.getpid()})


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
