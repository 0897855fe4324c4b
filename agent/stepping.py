"""One step's execution, as a plain function of plain data, so any executor (a thread here, a worker process or
a cluster node elsewhere) can run it: run the tool, verify what it returned, evaluate the step's checks."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from modalities.artifacts import Artifact
from modalities.errors import MMAgentError
from modalities.settings import Settings
from modalities.store import ArtifactStore
from tools.base import Tool, ToolContext, ToolResult
from tools.checks import Check, evaluate_check
from tools.model_cache import model_cache
from tools.tracing import attached

__all__ = ["StepTask", "StepRecord", "execute_step", "error_text", "failed_record"]


@dataclass(frozen=True)
class StepTask:
    """Everything needed to run one step, as picklable data (artifact records, not bytes), the settings of the
    agent that runs it included: a worker process or a cluster node runs the step with these, not with its own
    environment's."""

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
    settings: Settings | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, MMAgentError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".strip()


@dataclass
class StepRecord:
    """What one execution of a step came to. Every executor builds it with these constructors; it travels (between
    processes, into the journal and the checkpointed state) as the plain dict :meth:`to_dict` gives.

    Example:
        >>> task = StepTask(run_id="r", step_id="s", tool="t", inputs={}, params={}, checks=[], attempt=1, key="k")
        >>> rec = StepRecord.timed_out(task, 5).to_dict()
        >>> rec["status"], rec["error"]
        ('failed', 'timed out after 5 s (the step time limit)')
    """

    step: str
    tool: str
    status: Literal["succeeded", "failed"]
    attempt: int = 1
    key: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None
    started: float | None = None
    finished: float = field(default_factory=time.time)

    @classmethod
    def _of(cls, task: StepTask, status: Literal["succeeded", "failed"], started: float | None,
            **fields: Any) -> StepRecord:
        return cls(step=task.step_id, tool=task.tool, status=status, attempt=task.attempt, key=task.key,
                   params=task.params, inputs=task.inputs, started=started, **fields)

    @classmethod
    def ok(cls, task: StepTask, result: ToolResult, checks: list[dict[str, Any]], started: float) -> StepRecord:
        """The tool returned; the step succeeded when every check passed."""
        status: Literal["succeeded", "failed"] = "succeeded" if all(c["passed"] for c in checks) else "failed"
        return cls._of(task, status, started, outputs={k: a.to_state() for k, a in result.outputs.items()},
                       metrics=dict(result.metrics), checks=checks)

    @classmethod
    def failed(cls, task: StepTask, error: str, *, started: float | None = None,
               traceback: str | None = None) -> StepRecord:
        """The step failed outside its checks: the tool raised, its worker died, it could not start."""
        return cls._of(task, "failed", started, error=error, traceback=traceback)

    @classmethod
    def timed_out(cls, task: StepTask, limit_s: float, started: float | None = None) -> StepRecord:
        """The step ran past its time limit and was stopped (or, on a thread, abandoned)."""
        return cls.failed(task, f"timed out after {limit_s:g} s (the step time limit)",
                          started=started)

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        for name in ("error", "traceback", "started"):
            if record[name] is None:
                del record[name]
        if self.started is not None:
            record["duration_s"] = round(self.finished - self.started, 4)
        return record


def failed_record(task: StepTask, error: str, started: float | None = None) -> dict[str, Any]:
    """:meth:`StepRecord.failed` as the dict executors hand back."""
    return StepRecord.failed(task, error, started=started if started is not None else time.time()).to_dict()


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
    ctx = ToolContext(store=store, step_id=task.step_id, run_dir=Path(task.run_dir) if task.run_dir else None,
                      device=task.device, emit=emit, attempt=task.attempt, task=task.task,
                      settings=task.settings or tool.settings)
    try:
        # the process's model budgets are this agent's (a worker's environment may say otherwise)
        model_cache.configure(ctx.settings)
        # the step continues the trace of its span in the driver, whichever process or node runs it
        with attached(task.extra.get("traceparent")):
            tool.ensure_setup()
            result = _check_outputs(tool, tool.run(ctx, dict(inputs), dict(task.params)), store)
        checks = [Check.model_validate(c) for c in task.checks]
        outcomes = [evaluate_check(c, result.outputs, result.metrics, store) for c in checks]
        record = StepRecord.ok(task, result, [o.model_dump(mode="json") for o in outcomes], started)
    except Exception as exc:  # a tool failure is a divergence, not a crash of the run
        record = StepRecord.failed(task, error_text(exc), started=started, traceback=traceback.format_exc(limit=6))
    return record.to_dict()
