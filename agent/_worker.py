"""The worker process side of :mod:`agent.workers`: ``python -m agent._worker READ_FD WRITE_FD``.

A worker runs one step at a time, in its main thread, and keeps what it loaded (tools, models, artifact stores)
between steps. It talks to the driver over two pipes with :class:`multiprocessing.connection.Connection` framing:

- driver -> worker: ``("run", call_id, StepTask, pickled tool)`` or ``("exit",)``;
- worker -> driver: ``("ready", pid)`` once, then per step any number of ``("event", call_id, kind, data)``, and
  ``("done", call_id, record, rss_bytes, loaded_model)`` (``loaded_model``: whether the step put a model in this
  process's cache, so the driver keeps that tool's next steps here) or ``("unloadable", call_id, reason)`` when
  the tool cannot be rebuilt here (defined in the driver's ``__main__`` or a closure); the driver then runs that
  tool in a thread.

Nothing here holds the driver up: the driver enforces each step's time limit from outside by killing this process.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

_PARENT_POLL_S = 1.0
_RELEASE_EVERY_S = 2.0


def rss_bytes() -> int:
    """Resident memory of this process (Linux ``/proc``; 0 where unknown)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _exit_with_parent(parent: int) -> None:
    """A driver killed with -9 cannot close its workers: each worker notices it was orphaned and exits."""

    def watch() -> None:
        while True:
            time.sleep(_PARENT_POLL_S)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="mmagent-parent-watch", daemon=True).start()


class _Worker:
    def __init__(self, inbox: Connection, outbox: Connection) -> None:
        self.inbox = inbox
        self.outbox = outbox
        self.send_lock = threading.Lock()  # a tool may emit events from threads of its own
        self.tools: dict[str, Any] = {}
        self.stores: dict[str, Any] = {}
        self.released_at = time.monotonic()

    def send(self, message: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.outbox.send(message)

    def tool(self, blob: bytes) -> Any:
        # the same tool object for the same pickled tool: its set-up (and its models) stay warm between steps
        key = hashlib.sha256(blob).hexdigest()
        tool = self.tools.get(key)
        if tool is None:
            tool = self.tools[key] = pickle.loads(blob)
        return tool

    def store(self, root: str) -> Any:
        from modalities.store import ArtifactStore

        store = self.stores.get(root)
        if store is None:
            store = self.stores[root] = ArtifactStore(root)
        return store

    def serve(self) -> None:
        from agent.stepping import execute_step

        self.send(("ready", os.getpid()))
        while True:
            try:
                message = self.inbox.recv()
            except (EOFError, OSError):
                return  # the driver went away
            if message[0] == "exit":
                return
            _, call_id, task, blob = message
            try:
                tool = self.tool(blob)
            except Exception as exc:  # noqa: BLE001 - any unpickling failure means "run it elsewhere"
                self.send(("unloadable", call_id, f"{type(exc).__name__}: {exc}"))
                continue

            def emit(kind: str, data: dict[str, Any], call_id: int = call_id) -> None:
                self.send(("event", call_id, kind, dict(data)))

            from agent._heap import release_free_memory
            from tools.model_cache import model_cache

            models_before = set(model_cache.keys())
            record = execute_step(task, tool, self.store(task.store_root), emit)
            loaded_model = bool(set(model_cache.keys()) - models_before)
            self.send(("done", call_id, {**record, "worker": {"pid": os.getpid()}}, rss_bytes(), loaded_model))
            # after the result is on its way, when no step waits, and at most every few seconds: a chain of quick
            # steps must not pay a collection each (it costs milliseconds), a worker doing real work frees plenty
            if time.monotonic() - self.released_at > _RELEASE_EVERY_S and not self.inbox.poll():
                release_free_memory()
                self.released_at = time.monotonic()


def main(argv: list[str]) -> int:
    read_fd, write_fd, parent = int(argv[0]), int(argv[1]), int(argv[2])
    # Ctrl-C belongs to the driver, which decides what to keep and then stops its workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent)
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    sys.path[:0] = [p for p in inbox.recv() if p not in sys.path]  # the driver's import path: its tools load here
    _Worker(inbox, outbox).serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
