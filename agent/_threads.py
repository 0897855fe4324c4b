"""A pool of daemon threads whose workers can be written off.

Daemon threads matter: a call that hangs past its time limit is abandoned and cannot keep the process alive at
exit; the pool then starts another thread so it keeps its capacity.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["ThreadPool"]


class ThreadPool:
    """Runs callables on up to ``max_workers`` daemon threads; :meth:`submit` returns a future.

    Example:
        >>> pool = ThreadPool(2)
        >>> pool.submit(lambda: 6 * 7).result()
        42
        >>> pool.shutdown()
    """

    def __init__(self, max_workers: int = 4, name: str = "mmagent-step") -> None:
        self.max_workers = max_workers
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0
        self._started = 0

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((future, fn))
        with self._lock:
            if self._idle == 0 and self._workers < self.max_workers:
                self._workers += 1
                self._started += 1
                threading.Thread(target=self._work, name=f"{self.name}-{self._started}", daemon=True).start()
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
