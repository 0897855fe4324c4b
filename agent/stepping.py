"""One step's execution, as a plain function of plain data, so any executor (a thread here, a worker process or
a cluster node elsewhere) can run it: run the tool, verify what it returned, evaluate the step's checks."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import MMAgentError
from modalities.store import ArtifactStore
from tools.base import Tool, ToolContext, ToolResult
from tools.checks import Check, evaluate_check

__all__ = ["StepTask", "execute_step", "error_text", "failed_record"]


@dataclass(frozen=True)
class StepTask:
    """Everything needed to run one step, as picklable data (artifact records, not bytes)."""

    run_id: str
    step_id: str
    tool: str
    inputs: dict[str, dict[str, Any]]
    params: dict[str, Any]
    checks: list[dict[str, Any]]
    attempt: int
    key: str
    task: str = ""
    device: str = "cpu"
    run_dir: str | None = None
    store_root: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, MMAgentError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".strip()


def failed_record(task: StepTask, error: str, started: float | None = None) -> dict[str, Any]:
    """The record of a step that failed outside its tool (its worker died, it could not be started...)."""
    now = time.time()
    started = now if started is None else started
    return {"step": task.step_id, "tool": task.tool, "attempt": task.attempt, "key": task.key,
            "params": task.params, "inputs": task.inputs, "started": started, "status": "failed", "outputs": {},
            "metrics": {}, "checks": [], "error": error, "finished": now, "duration_s": round(now - started, 4)}


def _check_outputs(tool: Tool, result: Any, store: ArtifactStore) -> ToolResult:
    """A tool's result must be a ToolResult with exactly its declared outputs, stored, of the declared kinds."""
    if not isinstance(result, ToolResult):
        raise TypeError(f"tool {tool.name!r} returned {type(result).__name__}, not a ToolResult")
    if set(result.outputs) != set(tool.outputs):
        raise TypeError(f"tool {tool.name!r} returned outputs {sorted(result.outputs)}, "
                        f"declared {sorted(tool.outputs)}")
    for name, art in result.outputs.items():
        if not isinstance(art, Artifact):
            raise TypeError(f"tool {tool.name!r} output {name!r} is a {type(art).__name__}, not an Artifact")
        if art.kind != tool.outputs[name]:
            raise TypeError(f"tool {tool.name!r} output {name!r} is {art.kind}, declared {tool.outputs[name]}")
        if not store.exists(art):
            raise TypeError(f"tool {tool.name!r} output {name!r} is not in the artifact store")
    return result


def execute_step(task: StepTask, tool: Tool, store: ArtifactStore,
                 emit: Callable[[str, dict[str, Any]], None] = lambda kind, data: None) -> dict[str, Any]:
    """Run ``task`` with ``tool``; the result record (status, outputs, metrics, checks or error). Never raises
    for a tool failure: every failure becomes a record the runtime turns into a divergence."""
    started = time.time()
    inputs = {k: Artifact.from_state(v) for k, v in task.inputs.items()}
    record: dict[str, Any] = {"step": task.step_id, "tool": task.tool, "attempt": task.attempt, "key": task.key,
                              "params": task.params, "inputs": task.inputs, "started": started}
    ctx = ToolContext(store=store, step_id=task.step_id, run_dir=Path(task.run_dir) if task.run_dir else None,
                      device=task.device, emit=emit, attempt=task.attempt, task=task.task)
    try:
        tool.ensure_setup()
        result = _check_outputs(tool, tool.run(ctx, dict(inputs), dict(task.params)), store)
        checks = [Check.model_validate(c) for c in task.checks]
        outcomes = [evaluate_check(c, result.outputs, result.metrics, store) for c in checks]
        record.update(status="succeeded" if all(o.passed for o in outcomes) else "failed",
                      outputs={k: a.to_state() for k, a in result.outputs.items()},
                      metrics=result.metrics, checks=[o.model_dump(mode="json") for o in outcomes])
    except Exception as exc:  # a tool failure is a divergence, not a crash of the run
        record.update(status="failed", outputs={}, metrics={}, checks=[], error=error_text(exc),
                      traceback=traceback.format_exc(limit=6))
    record["finished"] = time.time()
    record["duration_s"] = round(record["finished"] - started, 4)
    return record
