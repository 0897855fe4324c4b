"""OpenTelemetry spans when tracing is on, and nothing at all when it is off.

Tracing is on when the application has set an OpenTelemetry tracer provider (then ``opentelemetry`` is already
imported), or when the standard variables ask for it (``OTEL_TRACES_EXPORTER=console|otlp``,
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``): then this module sets up the SDK's
provider from them, once per process (worker processes inherit the variables and do the same). Otherwise no
OpenTelemetry module is imported, and :func:`span` costs one dictionary lookup.

Prompts and file contents are recorded only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``
(the GenAI conventions' opt-in).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["tracer", "span", "attached", "traceparent", "capture_content"]

log = logging.getLogger("mmagent.tracing")
_ENV = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_setup_lock = threading.Lock()
_configured: list[bool] = []  # whether this process set up a provider from the variables (once)


def _asked_by_env() -> bool:
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(exporter) or any(os.environ.get(v) for v in _ENV)


def _configure_from_env() -> bool:
    """Set the SDK's tracer provider from the OTEL_* variables; False when the SDK or the exporter is missing."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        log.warning("OTEL_* variables ask for traces, but the SDK is missing: pip install 'mmagent[otel]'")
        return False
    names = [n.strip() for n in (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").lower().split(",")]
    exporters: list[Any] = []
    for name in names:
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                log.warning("OTEL_TRACES_EXPORTER=otlp needs opentelemetry-exporter-otlp-proto-http; "
                            "pip install opentelemetry-exporter-otlp-proto-http")
                continue
            exporters.append(OTLPSpanExporter())
    if not exporters:
        return False
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or "mmagent"})
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return True


def tracer() -> Any | None:
    """The mmagent tracer, or None when tracing is off (then nothing of OpenTelemetry is imported)."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None and not _asked_by_env():
        return None
    if trace is None or _unset(trace.get_tracer_provider()):
        if not _asked_by_env():
            return None  # imported (by a library) but never set up: off
        with _setup_lock:
            if not _configured:  # once per process, even when the exporter is missing
                _configured.append(_configure_from_env())
        trace = sys.modules.get("opentelemetry.trace")
        if trace is None or not _configured[0]:
            return None
    return trace.get_tracer("mmagent")


def _unset(provider: Any) -> bool:
    return type(provider).__name__ in ("ProxyTracerProvider", "NoOpTracerProvider")


def capture_content() -> bool:
    """Whether prompts and contents may be recorded (the GenAI conventions' opt-in variable)."""
    return os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "").lower() in ("1", "true")


@contextlib.contextmanager
def span(name: str, attributes: Mapping[str, Any] | None = None, *, kind: str = "INTERNAL") -> Iterator[Any]:
    """A span around the block, current inside it (a child of the current one); None when tracing is off.

    Example:
        >>> with span("chat qwen", {"gen_ai.operation.name": "chat"}) as s:
        ...     pass
    """
    t = tracer()
    if t is None:
        yield None
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with t.start_as_current_span(name, kind=getattr(SpanKind, kind), attributes=dict(attributes or {}),
                                 record_exception=False, set_status_on_exception=False) as s:
        try:
            yield s
        except BaseException as exc:
            s.set_attribute("error.type", type(exc).__qualname__)
            s.set_status(Status(StatusCode.ERROR, str(exc).splitlines()[0][:200] if str(exc) else None))
            raise


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to carry to another process; None when tracing is off."""
    if "opentelemetry.trace" not in sys.modules:
        return None
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def attached(parent: str | None) -> Iterator[None]:
    """Make the span a ``traceparent`` names the current one in this thread (a step run in a worker process or a
    Ray worker continues its driver's trace); nothing when ``parent`` is None or OpenTelemetry is missing."""
    if not parent:
        yield
        return
    try:
        from opentelemetry import context, propagate
    except ImportError:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": parent}))
    try:
        yield
    finally:
        context.detach(token)
