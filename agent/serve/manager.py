"""The server's runs: a queue, a fixed number of runs at once on threads of this process, and one step executor
shared by all of them (so warm worker processes keep their models across runs).

Nothing here outlives the process that the run directories do not hold: a run is queued by writing its directory
(with :data:`~agent.serve.rundir.SERVED`), started by ``Agent.resume`` under a :class:`RunLock`, answered by
writing :data:`~agent.serve.rundir.DECISION`. :meth:`RunManager.recover` rebuilds the queue from them.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

from agent.serve.rundir import DECISION, SERVED, TERMINAL, RunLock, awaits_decision, mark_ended, read_json, run_status
from modalities.errors import ConfigError
from modalities.settings import Settings

__all__ = ["RunManager", "ConflictError", "UnknownRunError"]

log = logging.getLogger("mmagent.serve")


class ConflictError(ConfigError):
    """The run is not in a state that allows the call (a decision for a run that is not paused, say)."""


class UnknownRunError(ConfigError):
    """No run of that id here (or a malformed id)."""


class RunManager:
    """Runs submitted runs, at most ``concurrency`` at once; the rest wait as ``queued``.

    Args:
        runs_dir: Where run directories go.
        concurrency: Runs that may run at once.
        planners: Planner specs a submission may name; the first is the default.
        tools: The tools spec every run uses (None: the built-ins).
        executor: The step executor shared by every run (default: a local one sized for ``concurrency``).
        settings: The settings every run's agent takes (default: the environment's, read now).

    Example:
        >>> import tempfile
        >>> manager = RunManager(Path(tempfile.mkdtemp()), concurrency=1, planners=["symbolic"])
        >>> manager.status("20250101-000000-abcdef")
        Traceback (most recent call last):
        ...
        agent.serve.manager.UnknownRunError: no run '20250101-000000-abcdef' here; list runs with GET /api/runs
    """

    def __init__(self, runs_dir: Path, *, concurrency: int = 2, planners: list[str] | None = None,
                 tools: str | None = None, executor: Any = None, settings: Settings | None = None) -> None:
        self.runs_dir = runs_dir
        self.settings = settings or Settings()
        self.concurrency = concurrency
        self.planners = planners or ["auto"]
        self.tools = tools
        self._executor = executor
        self._queue: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._live: dict[str, str] = {}  # run id -> queued | running, for runs of this process
        self._agents: dict[str, Any] = {}
        self._cancel_asked: set[str] = set()  # cancelled while its agent was being made
        self._again: set[str] = set()  # answered while its thread was still ending the pause
        self._threads: list[threading.Thread] = []

    @property
    def executor(self) -> Any:
        if self._executor is None:
            from agent.executor import resolve_executor

            self._executor = resolve_executor(None, max_workers=max(4, 2 * self.concurrency), settings=self.settings)
        return self._executor

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the run threads and queue the runs a previous server left unfinished."""
        for i in range(self.concurrency):
            t = threading.Thread(target=self._work, name=f"mmagent-serve-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        self.recover()

    def recover(self) -> list[str]:
        """Queue every served run that has not ended and that no process runs: those that were running first
        (they resume from their journal), then queued ones, oldest first. Returns their ids."""
        if not self.runs_dir.exists():
            return []
        found = []
        for run_dir in self.runs_dir.iterdir():
            if not (run_dir / SERVED).exists() or run_dir.name in self._live:
                continue
            status = run_status(run_dir)
            if status in ("incomplete", "queued"):
                started = status == "incomplete"
                found.append((not started, (read_json(run_dir / "run.json") or {}).get("created") or 0, run_dir.name))
        for _, _, run_id in sorted(found):
            self._enqueue(run_id)
        return [r for _, _, r in sorted(found)]

    # -- calls ----------------------------------------------------------------------------------------------
    def submit(self, task: str, files: list[Path], *, planner: str | None = None,
               approve: bool = False) -> str:
        """Ingest the files, write the run directory and queue the run; returns its id at once."""
        from agent import Agent

        spec = planner or self.planners[0]
        if spec not in self.planners and spec not in ("auto", "symbolic", "local") and not spec.startswith("llm:"):
            raise ConfigError(f"planner {spec!r} is not allowed here; use one of {', '.join(self.planners)}, "
                              "auto, symbolic, local or llm:<provider:model>")
        if not task.strip():
            raise ConfigError("the task is empty; say what to do, e.g. 'make a page from this sketch'")
        agent = Agent(planner=spec, tools=self.tools, runs_dir=self.runs_dir, approve=approve,
                      executor=self.executor, settings=self.settings)
        run_id = agent.prepare(task, files)
        (self.runs_dir / run_id / SERVED).write_text(json.dumps({"submitted": time.time()}))
        self._enqueue(run_id)
        return run_id

    def status(self, run_id: str) -> str:
        run_dir = self.run_dir(run_id)
        with self._lock:
            live = self._live.get(run_id)
        on_disk = run_status(run_dir)
        # the files lead once the run has ended or paused: its thread may still be writing the report
        return on_disk if on_disk in TERMINAL or on_disk == "paused" else live or on_disk

    def run_dir(self, run_id: str) -> Path:
        from agent.runs import _RUN_ID

        run_dir = self.runs_dir / run_id
        if not _RUN_ID.match(run_id) or not (run_dir / "run.json").is_file():
            raise UnknownRunError(f"no run {run_id!r} here; list runs with GET /api/runs")
        return run_dir

    def decide(self, run_id: str, decision: Any) -> None:
        """Answer a paused run (``"accept"``, ``"reject"`` or ``{"plan": {...}}``) and queue it to go on."""
        run_dir = self.run_dir(run_id)
        with self._lock:
            ours = self._live.get(run_id) == "running"
        # the pause is on disk before this process's run thread lets go of the run (it still writes the report):
        # an answer given then is kept, and the thread takes the run up again as it lets go (see _enqueue)
        if self.status(run_id) != "paused" and not (ours and awaits_decision(run_dir)):
            raise ConflictError(f"run {run_id!r} is {self.status(run_id)}, not paused for approval")
        tmp = run_dir / f".{DECISION}.tmp"
        tmp.write_text(json.dumps({"decision": decision, "t": time.time()}))
        os.replace(tmp, run_dir / DECISION)  # on disk first: a restart resumes with this answer
        self._enqueue(run_id)

    def cancel(self, run_id: str) -> str:
        """Cancel a queued, running or paused run; returns the status it had."""
        run_dir = self.run_dir(run_id)
        with self._lock:
            live = self._live.get(run_id)
            on_disk = run_status(run_dir)
            if on_disk in TERMINAL:
                raise ConflictError(f"run {run_id!r} has already ended: {on_disk}")
            if live == "running" and on_disk != "paused":
                if run_id in self._agents:
                    self._agents[run_id].cancel(run_id)
                else:
                    self._cancel_asked.add(run_id)
                return "running"
            if live is None and on_disk == "running":
                raise ConflictError(f"run {run_id!r} is run by another process; cancel it there")
            if live == "queued":
                del self._live[run_id]  # its thread skips it
            self._again.discard(run_id)
            mark_ended(run_dir, "cancelled", "cancelled by request")
            return "queued" if live == "queued" else on_disk

    # -- the run threads ------------------------------------------------------------------------------------
    def _enqueue(self, run_id: str) -> None:
        with self._lock:
            if self._live.get(run_id) == "running":
                self._again.add(run_id)
                return
            if self._live.get(run_id) == "queued":
                return
            self._live[run_id] = "queued"
        self._queue.put(run_id)

    def _work(self) -> None:
        while True:
            run_id = self._queue.get()
            try:
                self._run(run_id)
            except Exception:  # noqa: BLE001 - one broken run must not stop this thread serving the others
                log.exception("run %s", run_id)

    def _run(self, run_id: str) -> None:
        run_dir = self.runs_dir / run_id
        lock = RunLock(run_dir, "serve")
        with self._lock:
            if self._live.get(run_id) != "queued":
                return  # cancelled while it waited
            if not lock.acquire():
                self._live.pop(run_id, None)
                return  # another process runs it
            self._live[run_id] = "running"
        try:
            summary = read_json(run_dir / "summary.json") or {}
            if summary.get("status") in TERMINAL:
                return
            answer = (read_json(run_dir / DECISION) or {}).get("decision")
            decision = answer if summary.get("status") == "interrupted" else None
            try:
                self._agent_for(run_dir).resume(run_id, decision=decision)
            except Exception as exc:  # noqa: BLE001 - the run ends failed, saying why, instead of staying queued
                log.exception("run %s", run_id)
                mark_ended(run_dir, "failed", f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._live.pop(run_id, None)
                self._agents.pop(run_id, None)
                self._cancel_asked.discard(run_id)
                lock.release()
                again = run_id in self._again
                self._again.discard(run_id)
            if again:
                self._enqueue(run_id)

    def _agent_for(self, run_dir: Path) -> Any:
        from agent import Agent
        from modalities.store import ArtifactStore

        meta = read_json(run_dir / "run.json") or {}
        agent = Agent(planner=meta.get("planner_spec") or self.planners[0], tools=meta.get("tools"),
                      runs_dir=self.runs_dir, store=ArtifactStore(meta["store"]), approve=bool(meta.get("approve")),
                      executor=self.executor, settings=self.settings)
        with self._lock:
            self._agents[run_dir.name] = agent
            if run_dir.name in self._cancel_asked:
                agent.cancel(run_dir.name)  # honoured when the run starts
        return agent
