"""The lock a process holds on a run directory while it runs the run."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

from agent.serve.rundir import _LOCK, RunLock, lock_holder


def _probe_for(run_dir: Path, seconds: float) -> threading.Thread:
    """Hold the lock file shared for ``seconds``, as a status poll asking who holds the run does for an instant."""
    taken = threading.Event()

    def hold() -> None:
        with open(run_dir / _LOCK, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            taken.set()
            time.sleep(seconds)
            fcntl.flock(f, fcntl.LOCK_UN)

    t = threading.Thread(target=hold)
    t.start()
    taken.wait()
    return t


def test_a_status_poll_at_the_same_instant_does_not_lose_the_run(tmp_path: Path) -> None:
    """'agent serve' queued an approved run again while the console polled its status: the run thread could not
    take the lock, dropped the run as 'run by another process', and the run stayed queued for good."""
    probe = _probe_for(tmp_path, 0.2)
    lock = RunLock(tmp_path, "serve")
    assert lock.acquire()
    assert (lock_holder(tmp_path) or {}).get("holder") == "serve"
    lock.release()
    probe.join()


def test_a_run_another_holds_is_not_taken(tmp_path: Path) -> None:
    first = RunLock(tmp_path, "detached")
    assert first.acquire()
    assert not RunLock(tmp_path, "serve").acquire(wait_s=0.1)
    first.release()
    assert RunLock(tmp_path, "serve").acquire(wait_s=0.1)
