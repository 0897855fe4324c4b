"""The :class:`Agent`: the library entry point over the LangGraph runtime."""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from agent._heap import release_free_memory
from agent.events import Event, EventSink
from agent.executor import StepExecutor, resolve_executor
from agent.graph import build_graph
from agent.inputs import discover_inputs
from agent.journal import StepJournal
from agent.learning import remember_run
from agent.nodes import Budgets, RunContext
from agent.runs import RunResult, export_outputs, find_run, new_run_id
from agent.runs import runs_dir as default_runs_dir
from agent.tracing import run_tracer
from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from modalities.ingest import Limits, ingest_file
from modalities.settings import Settings
from modalities.store import ArtifactStore
from planners import resolve_planner
from planners.feasibility import check_deliverables, complete_deliverables, plan_or_explain
from planners.memory import resolve_memory, with_memory
from planners.plan import Plan, validate
from planners.requirements import input_name, with_requirements
from tools.registry import ToolRegistry, default_registry, load_tools

__all__ = ["Agent"]

InputsArg = Sequence[str | os.PathLike[str]] | Mapping[str, str | os.PathLike[str]]


def _input_names(inputs: InputsArg) -> dict[str, Path]:
    if isinstance(inputs, Mapping):
        return {str(k): Path(v) for k, v in inputs.items()}
    named: dict[str, Path] = {}
    for p in map(Path, inputs):
        base = input_name(p.name)
        name, n = base, 2
        while name in named:
            name, n = f"{base}_{n}", n + 1
        named[name] = p
    return named


def _recorded_summary(run_dir: Path, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The run's summary.json when it records the state the checkpoint ended in (a run killed between its last
    checkpoint and its summary has a stale one)."""
    try:
        recorded = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return recorded if recorded.get("status") == values.get("status") else None


class Agent:
    """Plans a task into typed steps and runs them, checking each result and replanning what diverges.

    Args:
        planner: A planner object, or a ``--planner`` spec: ``auto`` (default), ``symbolic``, ``local``,
            ``llm:<provider:model>``, ``package.module:attribute``.
        tools: A :class:`ToolRegistry`, a list of tools, a ``module:attr`` spec, or None for the built-ins.
        home: Base folder (default ``$MMAGENT_HOME`` or ``~/.mmagent``): runs under ``runs/``, artifacts under
            ``store/``.
        runs_dir: Where run directories go (overrides ``home``/runs).
        max_replans: Replans allowed for the divergences of one step (the whole run: twice that).
        max_steps: Largest plan allowed.
        step_timeout_s: Time limit of any one step (tools also have their own).
        run_timeout_s: Time limit of the whole run.
        max_workers: Steps that may run at once.
        approve: Pause after planning for a person to accept, edit or reject the plan.
        executor: Where steps run: an executor object, or a spec: ``local`` (threads in this process),
            ``ray`` (a private local Ray head) or ``ray=ADDRESS`` (a Ray cluster). Default: ``$MMAGENT_EXECUTOR``,
            else ``local``.
        device: Device for model-backed tools (default ``$MMAGENT_DEVICE`` or ``cpu``).
        limits: Input file limits (size, pixels, audio length).
        settings: The ``MMAGENT_*`` settings to use (default: read from the environment once, now); the home,
            executor, device and input limits come from them unless given here, and the tools run with them (in
            worker processes too: they travel with each step).
        memory: The plan memory: ``"default"`` (``$MMAGENT_MEMORY``, else ``memory.sqlite`` in ``home``), a path,
            a :class:`~planners.memory.PlanMemory`, or None for none. Succeeded runs add their plan, failed runs
            a negative; planning reuses the plan of a request seen before and shows the planner similar ones.

    Example:
        >>> from planners.testing import ScriptedPlanner
        >>> import tempfile
        >>> agent = Agent(planner=ScriptedPlanner([{"steps": [
        ...     {"id": "note", "tool": "write_text", "params": {"template": "Hello {task}"}}]}]),
        ...     home=tempfile.mkdtemp())
        >>> result = agent.run("world")
        >>> result.status, result.outputs["note"].read_text()
        ('succeeded', 'Hello world')
    """

    def __init__(self, planner: Any = "auto", tools: ToolRegistry | Sequence[Any] | str | None = None, *,
                 home: str | os.PathLike[str] | None = None, runs_dir: str | os.PathLike[str] | None = None,
                 store: ArtifactStore | None = None, max_replans: int = 3, max_steps: int = 64,
                 step_timeout_s: float | None = None, run_timeout_s: float | None = None, max_workers: int = 4,
                 approve: bool = False, executor: StepExecutor | str | None = None,
                 device: str | None = None, limits: Limits | None = None, memory: Any = "default",
                 settings: Settings | None = None) -> None:
        self.planner_spec = planner if isinstance(planner, str) else None
        self._planner = planner if not isinstance(planner, str) else None
        self.tools_spec = tools if isinstance(tools, str) else None
        if isinstance(tools, ToolRegistry):
            self.registry = tools
        elif isinstance(tools, str) or tools is None:
            self.registry = load_tools(tools) if tools else default_registry()
        else:
            self.registry = ToolRegistry(tools)
        self.settings = settings or Settings()  # read once; what this agent uses comes from here
        self.registry.configure(self.settings)  # the tools run with them, in whichever process a step runs
        self.home = Path(home).expanduser() if home else self.settings.home_dir
        if runs_dir:
            self.runs_dir = Path(runs_dir).expanduser()
        else:
            self.runs_dir = self.home / "runs"
        self.store = store or ArtifactStore(self.home / "store")
        self.budgets = Budgets(max_replans=max_replans, max_steps=max_steps, step_timeout_s=step_timeout_s,
                               run_timeout_s=run_timeout_s)
        self.approve = approve
        if executor is None or isinstance(executor, str):
            executor = resolve_executor(executor, max_workers=max_workers, settings=self.settings)
        self.executor: StepExecutor = executor
        self.device = device or self.settings.device
        self.limits = limits or Limits(max_bytes=self.settings.max_input_bytes, max_pixels=self.settings.max_pixels)
        self.memory = resolve_memory(memory, home=self.home, settings=self.settings)
        self._planner = with_memory(self._planner, self.memory) if self._planner is not None else None
        self._cancels: dict[str, Future[None]] = {}

    @property
    def planner(self) -> Any:
        if self._planner is None:
            self._planner = with_memory(resolve_planner(self.planner_spec, settings=self.settings), self.memory)
        return self._planner

    @planner.setter
    def planner(self, planner: Any) -> None:
        """Plan later runs with ``planner`` (an object; a spec string is resolved on first use)."""
        if isinstance(planner, str):
            self.planner_spec, self._planner = planner, None
        else:
            self.planner_spec, self._planner = None, with_memory(planner, self.memory)

    # -- public API ---------------------------------------------------------------------------------------
    def ingest(self, inputs: InputsArg) -> dict[str, Artifact]:
        """Validate and store input files (raises :class:`~modalities.errors.InputFileError` on a bad one)."""
        return {name: ingest_file(path, self.store, name=name, limits=self.limits)
                for name, path in _input_names(inputs).items()}

    def plan(self, task: str, inputs: InputsArg = ()) -> Plan:
        """A validated plan, without running it (a dry run)."""
        arts = self.ingest(inputs)
        plan = with_requirements(plan_or_explain(self.planner, task, arts, self.registry), task, arts, self.registry)
        kinds = {k: a.kind for k, a in arts.items()}
        plan = complete_deliverables(plan, self.registry, kinds)
        validate(plan, self.registry, kinds, max_steps=self.budgets.max_steps)
        check_deliverables(plan, self.registry, kinds)
        return plan

    def discover_inputs(self, task: str, inputs: Sequence[str | os.PathLike[str]] = ()) -> tuple[list[Path],
                                                                                             list[str]]:
        """``inputs`` plus the files ``task`` names by a bare name in the working directory ("transcribe
        talk.wav"), each validated like an input; and notes on the names left alone (see
        :func:`agent.inputs.discover_inputs`)."""
        return discover_inputs(task, [Path(p) for p in inputs], lambda path: self.ingest([path]))

    @classmethod
    def from_run(cls, run_id: str, *, runs_dir: str | os.PathLike[str] | None = None, planner: Any = None,
                 tools: ToolRegistry | Sequence[Any] | str | None = None, **kwargs: Any) -> Agent:
        """An agent set up as the one that started run ``run_id`` (its planner, tools, store and approval), to
        resume it; ``planner`` and ``tools`` override what the run recorded."""
        settings = kwargs.get("settings")
        if runs_dir:
            base = Path(runs_dir).expanduser()
        else:
            base = settings.home_dir / "runs" if settings is not None else default_runs_dir()
        meta = json.loads((find_run(run_id, base) / "run.json").read_text())
        return cls(planner=planner or meta.get("planner_spec") or "auto", tools=tools or meta.get("tools"),
                   runs_dir=base, store=ArtifactStore(meta["store"]), approve=bool(meta.get("approve")), **kwargs)

    def run(self, task: str, inputs: InputsArg = (), *, run_id: str | None = None,
            on_event: Callable[[Event], None] | None = None) -> RunResult:
        """Plan and run ``task`` over ``inputs`` (paths, or name -> path); returns when the run ends."""
        arts = self.ingest(inputs)
        run_id = run_id or new_run_id()
        run_dir, meta = self._new_run_dir(run_id, task, arts)
        state = {"run_id": run_id, "task": task, "inputs": {k: a.to_state() for k, a in arts.items()},
                 "status": "running"}
        return self._execute(run_id, run_dir, state, meta, on_event=on_event)

    def stream(self, task: str, inputs: InputsArg = (), *, run_id: str | None = None) -> Iterator[Event]:
        """Run ``task`` and yield its progress events as they happen; the last one is ``run_finished``."""
        arts = self.ingest(inputs)
        run_id = run_id or new_run_id()
        run_dir, meta = self._new_run_dir(run_id, task, arts)
        state = {"run_id": run_id, "task": task, "inputs": {k: a.to_state() for k, a in arts.items()},
                 "status": "running"}
        return self._stream(lambda cb: self._execute(run_id, run_dir, state, meta, on_event=cb))

    def resume(self, run_id: str, *, decision: Any = None,
               on_event: Callable[[Event], None] | None = None) -> RunResult:
        """Finish a run that crashed, was killed, timed out or waits for approval, without re-running finished
        steps. ``decision`` answers an approval pause: ``"accept"``, ``"reject"`` or ``{"plan": {...}}``."""
        run_dir = find_run(run_id, self.runs_dir)
        meta = json.loads((run_dir / "run.json").read_text())  # what the run was started with, on disk
        return self._execute(run_dir.name, run_dir, None, meta, decision=decision, on_event=on_event)

    def prepare(self, task: str, inputs: InputsArg = (), *, run_id: str | None = None) -> str:
        """Ingest ``inputs`` and write the run directory without running it; :meth:`resume` starts it later, in
        this process or another (``agent serve`` queues runs this way). Returns the run id."""
        run_id = run_id or new_run_id()
        self._new_run_dir(run_id, task, self.ingest(inputs))
        return run_id

    def cancel(self, run_id: str) -> bool:
        """Stop ``run_id`` from another thread: no new step starts, running steps are stopped, and the run ends
        with status ``cancelled`` (its finished steps stay in the journal). A run that has not started yet in
        this agent ends so when it starts. Returns whether it was running."""
        running = run_id in self._cancels
        signal = self._cancels.setdefault(run_id, Future())
        if not signal.done():
            signal.set_result(None)
        return running

    # -- internals ----------------------------------------------------------------------------------------
    def _new_run_dir(self, run_id: str, task: str, arts: dict[str, Artifact]) -> tuple[Path, dict[str, Any]]:
        run_dir = self.runs_dir / run_id
        if run_dir.exists():
            raise ConfigError(f"run {run_id!r} already exists in {str(self.runs_dir)!r}; pick another id")
        run_dir.mkdir(parents=True)
        meta = {"run_id": run_id, "task": task, "planner": self.planner_spec or getattr(self.planner, "name", None),
                "planner_spec": self.planner_spec, "tools": self.tools_spec, "store": str(self.store.root),
                "inputs": {k: a.to_state() for k, a in arts.items()}, "created": time.time(),
                "approve": self.approve}
        tmp = run_dir / ".run.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, run_dir / "run.json")
        return run_dir, meta

    def _stream(self, start: Callable[[Callable[[Event], None]], RunResult]) -> Iterator[Event]:
        q: queue.Queue[Event | BaseException | None] = queue.Queue()

        def target() -> None:
            try:
                start(q.put)
            except BaseException as exc:  # re-raised in the consumer's thread
                q.put(exc)
            finally:
                q.put(None)

        threading.Thread(target=target, daemon=True, name="mmagent-run").start()
        while True:
            item = q.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _execute(self, run_id: str, run_dir: Path, state: dict[str, Any] | None, meta: dict[str, Any], *,
                 decision: Any = None, on_event: Callable[[Event], None] | None = None) -> RunResult:
        from langgraph.checkpoint.sqlite import SqliteSaver
        from langgraph.types import Command

        start_executor = getattr(self.executor, "start", None)
        if start_executor is not None:  # join a cluster before any step starts: a bad address fails here, clearly
            start_executor()
        t0 = time.time()
        started_before = (run_dir / "events.jsonl").exists() and (run_dir / "events.jsonl").stat().st_size > 0
        cancel = self._cancels.setdefault(run_id, Future())
        sink = EventSink(run_id, run_dir / "events.jsonl")
        if on_event:
            sink.subscribe(on_event)
        traced = run_tracer(run_id, meta.get("task", ""))  # None unless OpenTelemetry is set up (agent/tracing.py)
        if traced is not None:
            sink.subscribe(traced.on_event)
        outcome: tuple[str, str | None] = ("failed", "the run stopped unexpectedly")
        journal = StepJournal(run_dir / "journal.sqlite")
        conn = sqlite3.connect(run_dir / "checkpoints.sqlite", check_same_thread=False)
        # WAL with NORMAL sync survives a killed process (what resume needs) without an fsync per superstep
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            planner = self._planner_for(meta)
            executor = self.executor
            if traced is not None:
                planner, executor = traced.planner(planner), traced.executor(executor)
            ctx = RunContext(run_id=run_id, run_dir=run_dir, store=self.store, registry=self.registry,
                             planner=planner, journal=journal, sink=sink, executor=executor,
                             budgets=self.budgets, device=self.device, task=meta.get("task", ""), cancel=cancel,
                             settings=self.settings)
            graph = build_graph(ctx, checkpointer=SqliteSaver(conn), approve=meta.get("approve", self.approve))
            config = {"configurable": {"thread_id": run_id}, "recursion_limit": 1_000_000}
            if state is not None:
                sink.emit("run_started", task=state["task"], inputs=sorted(state["inputs"]))
                graph_input: Any = state
            else:
                snapshot = graph.get_state(config)
                if not snapshot.values:
                    # killed before the first checkpoint: start again from what run.json recorded
                    graph_input = {"run_id": run_id, "task": meta["task"], "inputs": meta["inputs"],
                                   "status": "running"}
                    sink.emit("run_started", task=meta["task"], inputs=sorted(meta["inputs"]),
                              resumed=started_before)
                elif snapshot.interrupts:
                    graph_input = Command(resume=decision if decision is not None else "accept")
                elif not snapshot.next and (recorded := _recorded_summary(run_dir, snapshot.values)) is not None:
                    # the run already ended: report it as it was, without rewriting its summary or its time
                    values = dict(snapshot.values)
                    return self._result(run_id, run_dir, values, values.get("status", "failed"),
                                        float(recorded.get("wall_s") or 0.0), journal)
                else:
                    graph_input = None  # continue from the last checkpoint
            # "sync": each superstep is on disk before the next starts (measured faster than "async" here, too)
            for _ in graph.stream(graph_input, config, stream_mode="updates", durability="sync"):
                pass
            snapshot = graph.get_state(config)
            values = dict(snapshot.values)
            status = values.get("status", "failed")
            if snapshot.interrupts:
                status = "interrupted"
            elif snapshot.next:
                status = "failed"
            if cancel.done() and status == "failed":
                status = "cancelled"
            result = self._result(run_id, run_dir, values, status, time.time() - t0, journal)
            (run_dir / "summary.json").write_text(json.dumps(result.summary(), indent=1))
            if status == "interrupted":  # after the summary: whoever sees the pause can answer it at once
                sink.emit("interrupted", plan=values.get("plan"))
            sink.emit("run_finished", status=result.status, error=result.error, wall_s=round(result.wall_s, 3),
                      outputs={k: str(v) for k, v in result.outputs.items()})
            from agent.report import write_report

            write_report(run_dir, self.store)
            outcome = (result.status, result.error)
            if self.memory is not None:
                remember_run(self.memory, run_dir, result.status, values.get("plan"), decision=decision,
                             error=result.error)
            return result
        finally:
            if traced is not None:
                traced.end(*outcome)
            self._cancels.pop(run_id, None)
            conn.close()
            journal.close()
            sink.close()
            release_free_memory()  # a process that runs many requests keeps only what it still uses

    def _planner_for(self, meta: dict[str, Any]) -> Any:
        if self._planner is not None or self.planner_spec is not None:
            return self.planner
        return with_memory(resolve_planner(meta.get("planner_spec"), settings=self.settings), self.memory)

    def _result(self, run_id: str, run_dir: Path, values: dict[str, Any], status: str, wall_s: float,
                journal: StepJournal) -> RunResult:
        executions = journal.executions()
        plan = Plan.model_validate(values["plan"]) if values.get("plan") else Plan()
        results = values.get("results") or {}
        steps = []
        for s in plan.steps:
            rec = results.get(s.id)
            steps.append({"id": s.id, "tool": s.tool, "status": rec["status"] if rec else "pending",
                          "executions": executions.get(s.id, 0),
                          "checks": [{"name": c["name"], "passed": c["passed"], "value": c.get("value")}
                                     for c in (rec or {}).get("checks", [])]})
        artifacts = {k: Artifact.from_state(v) for k, v in (values.get("outputs") or {}).items()}
        # a failed run's outputs are what its finished steps made; an interrupted one has none yet
        outputs = export_outputs(artifacts, self.store, run_dir) if status in ("succeeded", "failed") else {}
        return RunResult(run_id=run_id, status=status, outputs=outputs, steps=steps,
                         replans=len(values.get("replans") or []), wall_s=wall_s, run_dir=run_dir,
                         error=values.get("error"), artifacts=artifacts,
                         requirements=values.get("requirements") or [], state=values)
