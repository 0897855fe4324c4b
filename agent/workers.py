"""Warm worker processes for steps that run native code, with time limits enforced from outside.

Why processes: parallel steps that share one interpreter can freeze it for good. A fork in one thread while
another thread is inside an OpenBLAS call deadlocks in OpenBLAS's fork handler while holding the GIL, and any
tool that blocks in C with the GIL held stops every thread, the scheduler's timers included. A step in a worker
process can always be stopped: the driver kills the worker at the step's limit.

- Workers are started with ``subprocess`` (vfork/posix_spawn, never a plain fork of this threaded process), with
  their BLAS and OpenMP threads capped to their share of the cores.
- A worker runs one step at a time and stays warm: it keeps its tools set up and its models loaded, and a step
  goes preferably to a worker that last ran the same tool.
- A worker that dies mid-step (segfault, OOM kill, ``kill -9``) has its step retried once in a fresh worker; a
  second death is a failed step record naming the signal.
- A worker whose memory grew past its cap is retired after its step, never during one.
- A tool that cannot be rebuilt in a worker (defined in the driver's ``__main__`` or in a closure) runs in the
  driver's threads instead, with a warning, as before.
"""

from __future__ import annotations

import atexit
import hashlib
import itertools
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from agent.stepping import StepTask, failed_record
from modalities.settings import Settings
from tools.base import Tool

__all__ = ["WorkerPool", "shared_pool", "shutdown_shared_pool"]

log = logging.getLogger("mmagent.workers")

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS")
Emit = Callable[[str, dict[str, Any]], None]


@dataclass(eq=False)
class _Call:
    id: int
    task: StepTask
    tool_key: str
    blob: bytes
    emit: Emit
    fallback: Callable[[], Future[dict[str, Any]]]
    future: Future[dict[str, Any]] = field(default_factory=Future)
    deaths: int = 0
    abandoned: bool = False
    worker: _Worker | None = None


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen[bytes]
    outbox: Connection
    inbox: Connection
    call: _Call | None = None
    loaded: set[str] = field(default_factory=set)  # tools (with their models) this worker has built
    retiring: bool = False
    killed: bool = False
    steps: int = 0


class WorkerPool:
    """Up to ``size`` warm worker processes that run steps one at a time each.

    Args:
        size: Workers that may run at once (more steps wait in a queue).
        threads_per_worker: BLAS/OpenMP threads of each worker (default: the ``worker_threads`` setting,
            ``MMAGENT_WORKER_THREADS``, else the cores divided by ``size``, at least 1).
        memory_cap: Resident bytes past which a worker is replaced after its step (default: the ``worker_memory``
            setting, ``MMAGENT_WORKER_MEMORY``, else the model memory budget plus 2 GB).
        kill_grace_s: Seconds between SIGTERM and SIGKILL when a worker is stopped at a step's limit.
        retries: Times a step whose worker died is run again in a fresh worker.
        settings: Where the defaults above come from (default: the environment's, read now).

    Example:
        >>> pool = WorkerPool(size=1)
        >>> pool.stats()["spawned"]
        0
        >>> pool.close()
    """

    def __init__(self, size: int = 4, *, threads_per_worker: int | None = None, memory_cap: int | None = None,
                 kill_grace_s: float = 2.0, retries: int = 1, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self.size = max(1, size)
        self.threads_per_worker = threads_per_worker or _default_threads(self.size, settings)
        self.memory_cap = memory_cap if memory_cap is not None else _default_memory_cap(settings)
        self.kill_grace_s = kill_grace_s
        self.retries = retries
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._pending: deque[_Call] = deque()
        self._calls: dict[int, _Call] = {}
        self._by_future: dict[Future[Any], _Call] = {}
        self._ids = itertools.count(1)
        self._model_tools: set[str] = set()  # tools whose steps loaded a model into their worker
        self._thread_only: set[str] = set()  # tools (by pickled identity) that a worker could not rebuild
        self._warned: set[str] = set()
        self._closed = False
        self._counts = {"spawned": 0, "died": 0, "killed": 0, "recycled": 0, "retried": 0, "in_threads": 0}

    # -- public ----------------------------------------------------------------------------------------------
    def submit(self, task: StepTask, tool: Tool, emit: Emit,
               fallback: Callable[[], Future[dict[str, Any]]]) -> Future[dict[str, Any]]:
        """Run ``task`` in a worker; ``fallback()`` runs it in the driver instead when the tool cannot travel."""
        try:
            blob = pickle.dumps(tool)
        except Exception as exc:  # noqa: BLE001 - a lambda, a lock, a local class: anything unpicklable
            self._warn_threaded(tool.name, f"{type(exc).__name__}: {exc}")
            return fallback()
        key = f"{tool.name}:{hashlib.sha256(blob).hexdigest()[:16]}"
        if key in self._thread_only:
            return fallback()
        call = _Call(next(self._ids), task, key, blob, emit, fallback)
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            self._calls[call.id] = call
            self._by_future[call.future] = call
            self._pending.append(call)
            self._dispatch_locked()
        return call.future

    def owns(self, future: Future[Any]) -> bool:
        return future in self._by_future

    def abandon(self, future: Future[Any]) -> bool:
        """The step ran past its limit: stop its worker (SIGTERM, then SIGKILL). False if not this pool's."""
        with self._lock:
            call = self._by_future.get(future)
            if call is None:
                return False
            call.abandoned = True
            if call in self._pending:
                self._pending.remove(call)
            worker = call.worker
            self._forget_locked(call)
        if worker is not None:
            self._kill(worker)
        return True

    def stats(self) -> dict[str, int]:
        """Counts since the pool started: workers spawned, died, killed at a limit, recycled for memory, steps
        retried after a death, steps run in threads; and workers alive now."""
        with self._lock:
            return {**self._counts, "alive": len(self._workers)}

    def pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._workers]

    def close(self) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            pending = list(self._pending)
            self._pending.clear()
        for call in pending:
            if not call.future.done():
                call.future.set_result(failed_record(call.task, "the worker pool was closed before the step ran"))
        for w in workers:
            if w.call is None:
                try:
                    w.outbox.send(("exit",))
                except OSError:
                    pass
            else:
                self._kill(w, grace_s=0.5)
        deadline = time.time() + 2.0
        for w in workers:
            try:
                w.proc.wait(timeout=max(0.05, deadline - time.time()))
            except subprocess.TimeoutExpired:
                w.proc.kill()

    # -- dispatch ---------------------------------------------------------------------------------------------
    def _dispatch_locked(self) -> None:
        # not first-come-only: a step waiting for the worker that holds its model must not hold up the others
        for call in list(self._pending):
            worker = self._pick_locked(call)
            if worker is None:
                continue
            self._pending.remove(call)
            worker.call, call.worker = call, worker
            try:
                worker.outbox.send(("run", call.id, call.task, call.blob))
            except OSError:  # it died just now; its reader thread will retry the call
                pass

    def _pick_locked(self, call: _Call) -> _Worker | None:
        key = call.tool_key
        live = [w for w in self._workers if not w.retiring and not w.killed]
        idle = [w for w in live if w.call is None]
        for w in idle:
            if key in w.loaded:
                return w  # its model is loaded already
        if key in self._model_tools:
            # a second copy of a model costs its whole size for as long as the worker lives: make one only when
            # more steps of this tool wait to start than there are workers holding (or loading) it. Steps already
            # running do not count: one may be a replaced attempt finishing, which a replan does not stop
            holders = {w for w in live if key in w.loaded or (w.call is not None and w.call.tool_key == key)}
            waiting = sum(1 for c in self._pending if c.tool_key == key)
            if holders and waiting <= len(holders):
                return None
        fresh = [w for w in idle if not w.loaded]
        if fresh:
            return fresh[0]
        if len(self._workers) < self.size:
            return self._spawn_locked()
        return min(idle, key=lambda w: len(w.loaded & self._model_tools), default=None)

    def _spawn_locked(self) -> _Worker:
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        env = dict(os.environ)
        for var in _THREAD_VARS:
            env.setdefault(var, str(self.threads_per_worker))
        # glibc makes a heap arena per thread that touches malloc; a worker's many native threads (BLAS,
        # onnxruntime) would each keep one, with free pages the system cannot take back
        env.setdefault("MALLOC_ARENA_MAX", "2")
        try:
            # subprocess starts the child with vfork/posix_spawn: no fork handlers run in this threaded process
            proc = subprocess.Popen(
                [sys.executable, "-m", "agent._worker", str(to_worker_r), str(from_worker_w), str(os.getpid())],
                pass_fds=(to_worker_r, from_worker_w), stdin=subprocess.DEVNULL, stdout=_stderr_fd(), env=env)
        finally:
            os.close(to_worker_r)
            os.close(from_worker_w)
        worker = _Worker(proc, Connection(to_worker_w, readable=False), Connection(from_worker_r, writable=False))
        worker.outbox.send(list(sys.path))
        self._workers.append(worker)
        self._counts["spawned"] += 1
        threading.Thread(target=self._read, args=(worker,), name=f"mmagent-worker-{proc.pid}", daemon=True).start()
        return worker

    # -- messages from a worker ---------------------------------------------------------------------------
    def _read(self, worker: _Worker) -> None:
        while True:
            try:
                message = worker.inbox.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # noqa: BLE001 - a message that does not unpickle: treat as a dead worker
                log.warning("worker %s sent a message this process cannot read: %s", worker.proc.pid, exc)
                self._kill(worker)
                break
            kind = message[0]
            if kind == "event":
                call = self._calls.get(message[1])
                if call is not None and not call.abandoned:
                    try:
                        call.emit(message[2], message[3])
                    except Exception:  # noqa: BLE001 - a broken subscriber must not kill the reader
                        log.exception("event handler failed")
            elif kind == "done":
                self._done(worker, message[1], message[2], message[3], message[4])
            elif kind == "unloadable":
                self._unloadable(worker, message[1], message[2])
        self._died(worker)

    def _done(self, worker: _Worker, call_id: int, record: dict[str, Any], rss: int, loaded_model: bool) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            worker.call = None
            worker.steps += 1
            if call is not None:
                worker.loaded.add(call.tool_key)
                if loaded_model:
                    self._model_tools.add(call.tool_key)
                self._forget_locked(call)
            if self.memory_cap and rss > self.memory_cap:
                # between steps, never mid-step: its models reload lazily in the next worker
                worker.retiring = True
                self._counts["recycled"] += 1
                log.info("worker %s uses %.0f MB, over its cap of %.0f MB: replacing it", worker.proc.pid,
                         rss / 1e6, self.memory_cap / 1e6)
                try:
                    worker.outbox.send(("exit",))
                except OSError:
                    pass
            self._dispatch_locked()
        if call is not None and not call.abandoned and not call.future.done():
            call.future.set_result(record)

    def _unloadable(self, worker: _Worker, call_id: int, reason: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            worker.call = None
            if call is not None:
                self._forget_locked(call)
                self._thread_only.add(call.tool_key)
            self._dispatch_locked()
        if call is None or call.abandoned:
            return
        self._warn_threaded(call.task.tool, reason)
        _chain(call.fallback(), call.future)

    def _died(self, worker: _Worker) -> None:
        try:
            code = worker.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            code = worker.proc.wait()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            call = worker.call
            worker.call = None
            if not (worker.retiring or worker.killed or self._closed):
                self._counts["died"] += 1
            give_up = self._closed
            if call is not None and not call.abandoned and not call.future.done() and not self._closed:
                if call.deaths < self.retries:
                    call.deaths += 1
                    call.worker = None
                    self._counts["retried"] += 1
                    log.warning("worker %s died (%s) running step %r; retrying it in a fresh worker",
                                worker.proc.pid, _exit_text(code), call.task.step_id)
                    self._pending.appendleft(call)
                else:
                    give_up = True
            if call is not None and (give_up or call.abandoned or call.future.done()):
                self._forget_locked(call)
            if not self._closed:
                self._dispatch_locked()
        for conn in (worker.inbox, worker.outbox):
            conn.close()
        if give_up and call is not None and not call.future.done():
            if self._closed:
                call.future.set_result(failed_record(call.task, "the worker pool was closed while the step ran"))
                return
            deaths = call.deaths + 1
            call.future.set_result(failed_record(
                call.task, f"its worker process died ({_exit_text(code)}) {deaths} time{'s' if deaths > 1 else ''}; "
                           "the tool crashes or runs out of memory on this input"))

    # -- helpers ----------------------------------------------------------------------------------------------
    def _forget_locked(self, call: _Call) -> None:
        self._calls.pop(call.id, None)
        self._by_future.pop(call.future, None)

    def _kill(self, worker: _Worker, grace_s: float | None = None) -> None:
        with self._lock:
            if worker.killed:
                return
            worker.killed = True
            self._counts["killed"] += 1
        try:
            worker.proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            return
        timer = threading.Timer(self.kill_grace_s if grace_s is None else grace_s, _kill_hard, (worker.proc,))
        timer.daemon = True
        timer.start()

    def _warn_threaded(self, tool: str, reason: str) -> None:
        with self._lock:
            self._counts["in_threads"] += 1
            first = tool not in self._warned
            self._warned.add(tool)
        if first:
            log.warning("tool %r cannot run in a worker process (%s); it runs in a thread, where a hang cannot be "
                        "stopped at its limit. Define it at module level in an importable module to isolate it.",
                        tool, reason)


def _chain(source: Future[dict[str, Any]], target: Future[dict[str, Any]]) -> None:
    def copy(done: Future[dict[str, Any]]) -> None:
        if target.done():
            return
        exc = done.exception()
        if exc is not None:
            target.set_exception(exc)
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


def _kill_hard(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _stderr_fd() -> int:
    # a worker's stdout is this process's stderr: tools that print must not break `--json` on stdout
    try:
        return sys.__stderr__.fileno() if sys.__stderr__ is not None else 2
    except (AttributeError, ValueError, OSError):
        return 2


def _default_threads(size: int, settings: Settings) -> int:
    configured = settings.worker_threads
    if configured:
        return configured
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // min(size, cores))


def _default_memory_cap(settings: Settings) -> int:
    configured = settings.worker_memory
    if configured is not None:
        return int(configured)
    from tools.model_cache import ram_budget

    return ram_budget(settings) + 2 * 10**9  # the model budget these settings give each worker, plus headroom


_shared: WorkerPool | None = None
_shared_lock = threading.Lock()


def shared_pool(size: int = 4, settings: Settings | None = None) -> WorkerPool:
    """The process-wide pool: workers (and their loaded models) stay warm across runs of this process. Its thread
    and memory caps come from ``settings`` when this call starts it (the steps bring their own settings)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = WorkerPool(size, settings=settings)
            atexit.register(_shared.close)
        elif size > _shared.size:
            _shared.size = size
        return _shared


def shutdown_shared_pool() -> None:
    """Stop the shared pool's workers now (Ctrl-C does this before the process exits)."""
    with _shared_lock:
        pool = _shared
    if pool is not None:
        pool.close()
