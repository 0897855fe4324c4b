"""Where steps run. The local executor runs steps that execute native code (models, ffmpeg, the browser, user
tools) in warm worker processes (:mod:`agent.workers`), where a step's time limit is enforced from outside, and
light pure-Python tools on daemon threads of this process.

Every executor has the same three methods: ``submit(task, tool, store, emit) -> Future`` over plain data
(:class:`~agent.stepping.StepTask`; the future's result is a step record, see :class:`~agent.stepping.StepRecord`),
``abandon(future)`` for a step past its limit, and ``close()``, so other executors (a cluster) can take its place.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from agent._threads import ThreadPool
from agent.stepping import StepTask, execute_step
from agent.workers import WorkerPool, shared_pool
from modalities.errors import ConfigError
from modalities.settings import Settings
from modalities.store import ArtifactStore
from tools.base import Tool

__all__ = ["StepExecutor", "LocalExecutor", "resolve_executor"]


class StepExecutor(Protocol):
    """Runs steps somewhere and hands back a future of the step's result record."""

    def submit(self, task: StepTask, tool: Tool, store: ArtifactStore,
               emit: Callable[[str, dict[str, Any]], None]) -> Future[dict[str, Any]]:
        """Start ``task``; the future's result is :func:`~agent.stepping.execute_step`'s record."""
        ...

    def abandon(self, future: Future[dict[str, Any]]) -> None:
        """The step ran past its limit: stop it if this executor can, and free its capacity."""
        ...

    def close(self) -> None:
        """Release what the executor holds (threads, actors; a shared worker pool stays for other runs)."""
        ...


class LocalExecutor:
    """Steps on this machine: light tools on threads, every other tool in a warm worker process.

    Args:
        max_workers: Steps that may run at once on threads, and worker processes that may run at once.
        isolate: Run tools that are not ``light`` in worker processes (``False``: every step on a thread, the way
            of earlier versions; a hung native call then cannot be stopped).
        pool: The worker pool to use (default: the process-wide one, so models stay loaded across runs).
        settings: The worker caps of the process-wide pool, when this executor starts it (default: the
            environment's).

    Example:
        >>> from tools.audio.speak import Speak
        >>> from tools.text import write_text
        >>> executor = LocalExecutor(max_workers=2)
        >>> executor.isolates(Speak()), executor.isolates(write_text)  # a voice model; pure Python
        (True, False)
    """

    def __init__(self, max_workers: int = 4, *, isolate: bool = True, pool: WorkerPool | None = None,
                 settings: Settings | None = None) -> None:
        self.max_workers = max_workers
        self.settings = settings
        self.isolate = isolate
        self._pool = pool
        self._threads = ThreadPool(max_workers)

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = shared_pool(self.max_workers, self.settings)
        return self._pool

    def isolates(self, tool: Tool) -> bool:
        """Whether ``tool`` runs in a worker process."""
        return self.isolate and not tool.light

    def submit(self, task: StepTask, tool: Tool, store: ArtifactStore,
               emit: Callable[[str, dict[str, Any]], None]) -> Future[dict[str, Any]]:
        def in_thread() -> Future[dict[str, Any]]:
            return self._threads.submit(lambda: execute_step(task, tool, store, emit))

        if not self.isolates(tool):
            return in_thread()
        return self.pool.submit(task, tool, emit, fallback=in_thread)

    def abandon(self, future: Future[dict[str, Any]]) -> None:
        if self._pool is not None and self._pool.abandon(future):
            return  # its worker is being killed; a fresh one replaces it when needed
        self._threads.abandon_one()  # a thread cannot be killed: let the pool start another one

    def close(self) -> None:
        self._threads.shutdown()


def resolve_executor(spec: str | None = None, *, max_workers: int = 4,
                     settings: Settings | None = None) -> StepExecutor:
    """The executor a spec names; ``None``: the ``executor`` of ``settings`` (default: the environment's,
    ``MMAGENT_EXECUTOR``, else ``local``).

    Args:
        spec: ``local`` (worker processes, and threads for light tools), ``threads`` (threads only: a hung
            native call cannot be stopped), ``ray`` (a private local Ray head with bounded resources, or the Ray
            session this process already joined), or ``ray=ADDRESS`` (join a running cluster: ``ray=auto`` for the
            one ``ray start --head`` made on this machine, ``ray=HOST:6379``, ``ray=ray://HOST:10001``).
        max_workers: Steps of the local executor that may run at once.
        settings: The settings the spec and the Ray executor's defaults come from.

    Raises:
        ConfigError: An unknown spec.

    Example:
        >>> resolve_executor("local").max_workers
        4
        >>> type(resolve_executor("ray=auto")).__name__  # Ray is imported and joined on the first step
        'RayExecutor'
    """
    settings = settings or Settings()
    text = (spec if spec is not None else settings.executor).strip() or "local"
    name, _, address = text.partition("=")
    name = name.strip().lower()
    if name in ("local", "threads") and not address:
        return LocalExecutor(max_workers, isolate=name == "local", settings=settings)
    if name == "ray":
        from agent.ray_executor import RayExecutor

        return RayExecutor(address.strip() or None, settings=settings)
    source = "" if spec is not None else " (from MMAGENT_EXECUTOR)"
    raise ConfigError(f"unknown executor {text!r}{source}; use 'local', 'threads', 'ray' or 'ray=ADDRESS' "
                      "(e.g. ray=auto, ray=10.0.0.5:6379)")
