"""Where steps run. The local executor runs them on daemon threads of this process.

Daemon threads matter: a tool call that hangs past its time limit is abandoned (the step is reported as timed
out) and cannot keep the process alive at exit. The interface is ``submit_step(task, tool, store, emit) -> Future``
over plain data (:class:`~agent.stepping.StepTask`), so other executors (worker processes, a cluster) can take its
place.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from agent.stepping import StepTask, execute_step
from modalities.errors import ConfigError
from modalities.store import ArtifactStore
from tools.base import Tool

__all__ = ["StepExecutor", "LocalExecutor", "EXECUTOR_ENV", "resolve_executor"]

EXECUTOR_ENV = "MMAGENT_EXECUTOR"
"""Environment variable naming the default executor: ``local``, ``ray`` or ``ray=ADDRESS``."""


class StepExecutor(Protocol):
    """Runs steps somewhere and hands back a future of the step's result record."""

    def submit_step(self, task: StepTask, tool: Tool, store: ArtifactStore,
                    emit: Callable[[str, dict[str, Any]], None]) -> Future[dict[str, Any]]:
        """Start ``task``; the future's result is :func:`~agent.stepping.execute_step`'s record."""
        ...

    def shutdown(self) -> None: ...


class LocalExecutor:
    """A pool of daemon worker threads.

    Args:
        max_workers: Steps that may run at once. A worker stuck in a hung call is replaced so the pool keeps its
            capacity.
    """

    def __init__(self, max_workers: int = 4) -> None:
        self.max_workers = max_workers
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0

    def submit_step(self, task: StepTask, tool: Tool, store: ArtifactStore,
                    emit: Callable[[str, dict[str, Any]], None]) -> Future[dict[str, Any]]:
        return self.submit(lambda: execute_step(task, tool, store, emit))

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, fn))
        with self._lock:
            if self._idle == 0 and self._workers < self.max_workers:
                self._workers += 1
                threading.Thread(target=self._work, name=f"mmagent-step-{self._workers}", daemon=True).start()
        return future

    def abandon_one(self) -> None:
        """A worker is stuck in a hung call: allow one more so the pool keeps its capacity."""
        with self._lock:
            self._workers -= 1

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
            if item is None:
                return
            future, fn = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # the scheduler turns it into a divergence
                future.set_exception(exc)

    def shutdown(self) -> None:
        with self._lock:
            n = self._workers
        for _ in range(n):
            self._queue.put(None)


def resolve_executor(spec: str | None = None, *, max_workers: int = 4) -> StepExecutor:
    """The executor a spec names; ``None`` reads ``$MMAGENT_EXECUTOR`` and falls back to ``local``.

    Args:
        spec: ``local`` (threads in this process), ``ray`` (a private local Ray head with bounded resources, or
            the Ray session this process already joined), or ``ray=ADDRESS`` (join a running cluster:
            ``ray=auto`` for the one ``ray start --head`` made on this machine, ``ray=HOST:6379``,
            ``ray=ray://HOST:10001``).
        max_workers: Threads of the local executor.

    Raises:
        ConfigError: An unknown spec.

    Example:
        >>> resolve_executor("local").max_workers
        4
        >>> type(resolve_executor("ray=auto")).__name__  # Ray is imported and joined on the first step
        'RayExecutor'
    """
    text = (spec if spec is not None else os.environ.get(EXECUTOR_ENV, "")).strip() or "local"
    name, _, address = text.partition("=")
    name = name.strip().lower()
    if name == "local" and not address:
        return LocalExecutor(max_workers)
    if name == "ray":
        from agent.ray_executor import RayExecutor

        return RayExecutor(address.strip() or None)
    source = "" if spec is not None else f" (from ${EXECUTOR_ENV})"
    raise ConfigError(f"unknown executor {text!r}{source}; use 'local', 'ray' or 'ray=ADDRESS' "
                      "(e.g. ray=auto, ray=10.0.0.5:6379)")
