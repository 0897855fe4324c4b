"""Fault injection: wrap tools so they raise, hang, return the wrong kind or garbage, on chosen calls.

Used by the reliability tests and benchmark to prove that every fault ends in a run that succeeded after
replanning, or failed with a report naming the step, the reason and what was kept.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from modalities.artifacts import Artifact
from tools.base import Tool, ToolContext, ToolResult
from tools.registry import ToolRegistry

__all__ = ["Fault", "FaultyTool", "inject_faults", "FAULT_MODES"]

FaultMode = Literal["raise", "hang", "wrong_kind", "garbage", "missing_output", "unstored"]
FAULT_MODES: tuple[str, ...] = ("raise", "hang", "wrong_kind", "garbage", "missing_output", "unstored")


@dataclass(frozen=True)
class Fault:
    """What goes wrong, and on how many calls (the first ``times`` calls; then the tool works)."""

    mode: FaultMode
    times: int = 1
    hang_s: float = 3600.0


class FaultyTool(Tool):
    """A tool that misbehaves as told, then behaves like the tool it wraps.

    Example:
        >>> from tools.text import write_text
        >>> faulty = FaultyTool(write_text, Fault("raise"))
        >>> faulty.name, faulty.outputs == write_text.outputs
        ('write_text', True)
    """

    def __init__(self, inner: Tool, fault: Fault) -> None:
        super().__init__()
        self.inner = inner
        self.fault = fault
        self.calls = 0
        self._lock = threading.Lock()
        for attr in ("name", "description", "family", "inputs", "optional_inputs", "outputs", "params_model",
                     "metrics", "default_checks", "requires", "extra", "timeout_s", "judges", "retry_params",
                     "revised_params", "light"):
            setattr(self, attr, getattr(inner, attr))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._lock = threading.Lock()

    def configure(self, settings: Any) -> None:
        super().configure(settings)
        self.inner.configure(settings)

    def available(self) -> Any:
        return self.inner.available()

    def setup(self) -> None:
        self.inner.ensure_setup()

    def retry_variant(self, params: Any, attempt: int, evidence: Any = None) -> dict[str, Any] | None:
        return self.inner.retry_variant(params, attempt, evidence)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        with self._lock:
            self.calls += 1
            faulty = self.calls <= self.fault.times
        if not faulty:
            return self.inner.run(ctx, inputs, params)
        mode = self.fault.mode
        if mode == "raise":
            raise RuntimeError(f"injected fault in {self.name!r}")
        if mode == "hang":
            time.sleep(self.fault.hang_s)
            raise RuntimeError("woke from an injected hang")
        if mode == "garbage":
            return {"not": "a ToolResult"}  # type: ignore[return-value]
        name, kind = next(iter(self.outputs.items()))
        if mode == "missing_output":
            return ToolResult(outputs={})
        if mode == "wrong_kind":
            wrong = "json" if kind != "json" else "text"
            return ToolResult({n: ctx.store.put_json({"injected": True}, wrong) if wrong == "json"
                               else ctx.store.put_text("injected") for n in self.outputs})
        # "unstored": a record that points at bytes the store never received
        ghost = Artifact(kind=kind, id="f" * 64, media_type="application/octet-stream", size=1)
        return ToolResult({n: ghost for n in self.outputs})


def inject_faults(registry: ToolRegistry, faults: dict[str, Fault]) -> ToolRegistry:
    """A registry like ``registry`` whose named tools misbehave as given."""
    out = ToolRegistry()
    for name in registry.names():
        tool = registry.get(name)
        out.register(FaultyTool(tool, faults[name]) if name in faults else tool)
    return out
