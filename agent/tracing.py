"""OpenTelemetry GenAI spans of a run, built from its events (see :mod:`tools.tracing` for when tracing is on).

- ``invoke_workflow`` for the run (``gen_ai.operation.name = invoke_workflow``, the run id, the outcome);
- ``plan`` for planning and each replan (the planner's model call, ``chat {model}``, is its child);
- ``execute_tool {tool}`` for each step execution, with ``gen_ai.operation.name``, ``gen_ai.tool.name``,
  ``gen_ai.tool.call.id`` (the step id), the attempt, the input and output artifact ids, and ``error.type`` on a
  failure; its checks are span events, and a replan is an event of the run span.

The step span's ``traceparent`` travels in the step's ``StepTask.extra``, so the step's own work in a worker
process or on a Ray worker (:func:`agent.stepping.execute_step` attaches it) belongs to the same trace.
Nothing here runs unless :func:`tools.tracing.tracer` gives a tracer.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from agent.events import Event
from agent.stepping import StepTask
from modalities.store import ArtifactStore
from tools.base import Tool
from tools.tracing import capture_content, tracer

__all__ = ["RunTracer", "run_tracer"]


def run_tracer(run_id: str, task: str) -> RunTracer | None:
    """A tracer for one run, or None when tracing is off (then the run pays nothing)."""
    t = tracer()
    return RunTracer(t, run_id, task) if t is not None else None


class RunTracer:
    """Turns one run's events into spans. Subscribe :meth:`on_event` to the run's event sink, wrap the planner
    with :meth:`planner` and the executor with :meth:`executor`, and call :meth:`end` when the run returns."""

    def __init__(self, tracer: Any, run_id: str, task: str) -> None:
        from opentelemetry import trace

        self._trace = trace
        self._tracer = tracer
        self.run_id = run_id
        attributes: dict[str, Any] = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "mmagent",
                                      "mmagent.run.id": run_id}
        if capture_content():
            attributes["mmagent.task"] = task
        self.span = tracer.start_span("invoke_workflow", attributes=attributes)
        self.context = trace.set_span_in_context(self.span)
        self._steps: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- events -----------------------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        d = event.data
        kind = event.kind
        if kind == "step_started":
            self._start_step(d)
        elif kind in ("check_passed", "check_failed"):
            with self._lock:
                step = self._steps.get(d.get("step", ""))
            if step is not None:
                step.add_event(kind, {"mmagent.check": str(d.get("check")), "mmagent.check.value": str(d.get("value")),
                                      "mmagent.check.passed": kind == "check_passed"})
        elif kind == "step_finished":
            self._finish_step(d)
        elif kind == "model_loading":
            with self._lock:
                step = self._steps.get(d.get("step", ""))
            (step or self.span).add_event("model_loading", {"mmagent.model": str(d.get("model")),
                                                            "mmagent.device": str(d.get("device"))})
        elif kind in ("replanning", "replanned"):
            self.span.add_event(kind, {"mmagent.replan.number": int(d.get("number") or 0),
                                       "mmagent.replan.reason": str(d.get("reason", ""))[:500],
                                       "mmagent.replan.affected": list(d.get("affected") or [])})
        elif kind == "requirement_checked":
            self.span.add_event(kind, {"mmagent.requirement": str(d.get("text", "")),
                                       "mmagent.requirement.passed": bool(d.get("passed"))})
        elif kind == "plan_made":
            self.span.set_attribute("mmagent.plan.steps", len((d.get("plan") or {}).get("steps") or []))

    def _start_step(self, d: dict[str, Any]) -> None:
        tool = str(d.get("tool"))
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool,
                      "gen_ai.tool.call.id": str(d.get("step")), "gen_ai.tool.type": "function",
                      "mmagent.run.id": self.run_id, "mmagent.step.attempt": int(d.get("attempt") or 1)}
        for name, art in (d.get("inputs") or {}).items():
            attributes[f"mmagent.input.{name}"] = str(art)
        span = self._tracer.start_span(f"execute_tool {tool}", context=self.context, attributes=attributes)
        with self._lock:
            self._steps[str(d.get("step"))] = span

    def _finish_step(self, d: dict[str, Any]) -> None:
        with self._lock:
            span = self._steps.pop(str(d.get("step")), None)
        if span is None:  # a step the journal had finished before: no execution to trace
            return
        for name, art in (d.get("outputs") or {}).items():
            span.set_attribute(f"mmagent.output.{name}", str(art))
        if d.get("status") != "succeeded":
            from opentelemetry.trace import Status, StatusCode

            error = str(d.get("error") or "")
            span.set_attribute("error.type", _error_type(error))
            span.set_status(Status(StatusCode.ERROR, error[:200] or "a check failed"))
        span.end()

    # -- wrappers ---------------------------------------------------------------------------------------------
    def planner(self, planner: Any) -> Any:
        """``planner`` with each ``plan`` and ``replan`` call in a ``plan`` span (current, so the model call
        inside is its child)."""
        return _TracedPlanner(planner, self)

    def executor(self, executor: Any) -> Any:
        """``executor`` that hands each step the ``traceparent`` of its span."""
        return _TracedExecutor(executor, self)

    def step_traceparent(self, step_id: str) -> str | None:
        with self._lock:
            span = self._steps.get(step_id)
        if span is None:
            return None
        from opentelemetry import propagate

        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=self._trace.set_span_in_context(span))
        return carrier.get("traceparent")

    def end(self, status: str, error: str | None = None) -> None:
        """End the run span (and any step span a crash left open) with the run's outcome."""
        from opentelemetry.trace import Status, StatusCode

        with self._lock:
            left = list(self._steps.values())
            self._steps.clear()
        for span in left:
            span.end()
        self.span.set_attribute("mmagent.run.status", status)
        if status == "failed":
            self.span.set_attribute("error.type", _error_type(error or ""))
            self.span.set_status(Status(StatusCode.ERROR, (error or "")[:200]))
        self.span.end()


def _error_type(error: str) -> str:
    """A low-cardinality ``error.type``: the exception's name when the message starts with one, else a class."""
    head = error.split(":", 1)[0].strip()
    if head.isidentifier() and head[:1].isupper():
        return head
    if error.startswith("timed out"):
        return "timeout"
    return "check_failed" if not error else "step_failed"


class _Traced:
    """Stands in for a planner or an executor of one run: what it does not trace, the wrapped object does."""

    def __init__(self, inner: Any, run: RunTracer) -> None:
        self._inner = inner
        self._run = run

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _TracedPlanner(_Traced):

    def _span(self, operation: str) -> Any:
        from opentelemetry import context

        attributes = {"gen_ai.operation.name": "plan", "mmagent.run.id": self._run.run_id,
                      "mmagent.planner": str(getattr(self._inner, "name", type(self._inner).__name__)),
                      "mmagent.plan.kind": operation}
        token = context.attach(self._run.context)  # a child of the run, whatever thread LangGraph plans on
        return token, self._run._tracer.start_as_current_span("plan", attributes=attributes)

    def plan(self, *args: Any, **kwargs: Any) -> Any:
        return self._traced("plan", lambda: self._inner.plan(*args, **kwargs))

    def replan(self, *args: Any, **kwargs: Any) -> Any:
        return self._traced("replan", lambda: self._inner.replan(*args, **kwargs))

    def _traced(self, operation: str, call: Callable[[], Any]) -> Any:
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        token, manager = self._span(operation)
        try:
            with manager as span:
                try:
                    result = call()
                except Exception as exc:
                    span.set_attribute("error.type", type(exc).__qualname__)
                    span.set_status(Status(StatusCode.ERROR, str(exc)[:200]))
                    raise
                span.set_attribute("mmagent.plan.steps", len(getattr(result, "steps", result) or []))
                return result
        finally:
            context.detach(token)


class _TracedExecutor(_Traced):

    def submit(self, task: StepTask, tool: Tool, store: ArtifactStore,
               emit: Callable[[str, dict[str, Any]], None]) -> Future[dict[str, Any]]:
        parent = self._run.step_traceparent(task.step_id)
        if parent is not None:
            task = dataclasses.replace(task, extra={**task.extra, "traceparent": parent})
        return self._inner.submit(task, tool, store, emit)

    def abandon(self, future: Future[dict[str, Any]]) -> None:
        self._inner.abandon(future)

    def close(self) -> None:
        self._inner.close()
