"""What a run directory says about a run that is queued, running in the background or paused: who runs it (a lock),
its numbered events, its status, a summary while it runs, and how a run that is not running is cancelled.

The run directory is the only state: ``agent serve``, a detached ``agent run`` and ``agent watch`` read the same
files, so a server killed with ``kill -9`` finds everything it needs on disk when it starts again.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from agent.events import EventSink

__all__ = ["TERMINAL", "SERVED", "DECISION", "DETACHED", "EventLog", "RunLock", "lock_holder", "run_status",
           "awaits_decision", "live_summary", "read_json", "mark_ended", "is_end", "detached_gone"]

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
SERVED = "serve.json"  # written by the server for the runs it owns: those it resumes when it starts again
DECISION = "decision.json"  # an approval answer not yet acted on (a restart then resumes with it)
DETACHED = "detached.json"  # written by `agent run --detach` for the background process it starts
_LOCK = "run.lock"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def is_end(event: dict[str, Any]) -> bool:
    """Whether ``event`` ends the run for good (a pause also ends with ``run_finished``, but the run goes on)."""
    return event.get("kind") == "run_finished" and (event.get("data") or {}).get("status") in TERMINAL


@dataclass
class EventLog:
    """Reads a run's ``events.jsonl`` as it grows. Events are numbered by their line (from 1): the number is the
    SSE ``id``, stable across server restarts because the file only grows.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "events.jsonl"
        >>> _ = path.write_text('{"kind": "run_started", "data": {}}\\n{"kind": "plan_ma')  # a line still written
        >>> log = EventLog(path)
        >>> [(seq, e["kind"]) for seq, e in log.read_new()]
        [(1, 'run_started')]
    """

    path: Path
    seq: int = 0
    _offset: int = field(default=0, repr=False)

    def read_new(self) -> list[tuple[int, dict[str, Any]]]:
        """Events appended since the last call; a line not yet ended by a newline waits for the next call."""
        try:
            if self.path.stat().st_size <= self._offset:
                return []
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self._offset += end + 1
        out = []
        for line in chunk[:end].split(b"\n"):
            self.seq += 1  # an unreadable line still takes its number, so numbers never shift
            try:
                out.append((self.seq, json.loads(line)))
            except ValueError:
                continue
        return out


class RunLock:
    """An exclusive lock on a run directory while a process runs it (``flock``: the kernel drops it when the
    process dies, even by ``kill -9``). The file says who holds it, so ``agent cancel`` knows whom to ask."""

    def __init__(self, run_dir: Path, holder: str) -> None:
        self.run_dir = run_dir
        self.holder = holder
        self._file: IO[str] | None = None

    def acquire(self, wait_s: float = 1.0) -> bool:
        """Take the lock; False when another holds it. Anyone asking who holds it (:func:`lock_holder`, on every
        status poll) takes it shared for an instant: a run queued again at that instant was dropped as "run by
        another process" and stayed queued for good. So a taken lock is tried again for ``wait_s``; a process
        that runs the run holds it far longer."""
        f = open(self.run_dir / _LOCK, "a+")
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    f.close()
                    return False
                time.sleep(0.02)
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "holder": self.holder}))
        f.flush()
        self._file = f
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_holder(run_dir: Path) -> dict[str, Any] | None:
    """``{"pid", "holder"}`` of the process running the run now, or None when none does."""
    path = run_dir / _LOCK
    if not path.exists():
        return None
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return read_json(path) or {"pid": None, "holder": "?"}
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


def _process_alive(pid: int, command: str) -> bool:
    """Whether process ``pid`` still runs and is ``command`` (on Linux a zombie, or a pid the system has since
    given to another program, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds that pid now: alive, but not ours to judge further
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False  # it exited between the two looks
    except OSError:
        return True  # no /proc here: kill(pid, 0) is all we know
    state = stat.rpartition(")")[2].split()[:1]
    return state != ["Z"] and command.encode() in cmdline


def detached_gone(run_dir: Path) -> int | None:
    """The pid of the background process ``agent run --detach`` started for this run when that process has
    exited and no process holds the run now (it died before it took the run, or was killed mid-run); None when
    the run is not detached, has ended, or something still runs it."""
    info = read_json(run_dir / DETACHED)
    pid = info.get("pid") if isinstance(info, dict) else None
    if not isinstance(pid, int) or lock_holder(run_dir) is not None:
        return None
    if (read_json(run_dir / "summary.json") or {}).get("status") in TERMINAL:
        return None
    return None if _process_alive(pid, "agent.serve.detached") else pid


def awaits_decision(run_dir: Path) -> bool:
    """Whether the run's last stop was a pause for approval that no answer (:data:`DECISION`) has met yet."""
    summary = run_dir / "summary.json"
    if (read_json(summary) or {}).get("status") != "interrupted":
        return False
    decision = run_dir / DECISION
    return not (decision.exists() and decision.stat().st_mtime >= summary.stat().st_mtime)


def run_status(run_dir: Path) -> str:
    """The status the files give: succeeded, failed or cancelled (ended); paused (waits for a decision); running
    (a process holds the run); queued (served, not started yet, or a decision given and not yet acted on; or
    detached and its background process not started yet); incomplete (stopped midway, or its background process
    died before it started, and nothing runs it: ``agent resume`` finishes it)."""
    summary = read_json(run_dir / "summary.json") or {}
    status = summary.get("status")
    if status in TERMINAL:
        return str(status)
    if lock_holder(run_dir) is not None:
        return "running"
    if status == "interrupted":
        return "paused" if awaits_decision(run_dir) else "queued"
    started = (run_dir / "events.jsonl").exists() and (run_dir / "events.jsonl").stat().st_size > 0
    waiting = (run_dir / SERVED).exists() or ((run_dir / DETACHED).exists() and detached_gone(run_dir) is None)
    return "queued" if waiting and not started else "incomplete"


def live_summary(run_dir: Path, status: str) -> dict[str, Any]:
    """The run summary (the JSON of ``agent run --json``) with ``status``: the recorded one when the run has
    ended, else one built from its events so far."""
    meta = read_json(run_dir / "run.json") or {}
    base = {"run_id": run_dir.name, "task": meta.get("task", ""), "created": meta.get("created"),
            "run_dir": str(run_dir), "report": str(run_dir / "report.html")}
    summary = read_json(run_dir / "summary.json")
    if summary and status in TERMINAL | {"paused"}:
        return {**summary, **base, "status": status}
    plan: dict[str, Any] = {}
    steps: dict[str, dict[str, Any]] = {}
    replans = 0
    for _, e in EventLog(run_dir / "events.jsonl").read_new():
        d = e.get("data") or {}
        if e.get("kind") in ("plan_made", "replanned"):
            plan = d.get("plan") or plan
            replans += e["kind"] == "replanned"
        elif e.get("kind") == "step_started":
            steps[d["step"]] = {"status": "running", "executions": steps.get(d["step"], {}).get("executions", 0) + 1,
                                "checks": []}
        elif e.get("kind") in ("check_passed", "check_failed") and d.get("step") in steps:
            steps[d["step"]]["checks"].append({"name": d.get("check"), "passed": e["kind"] == "check_passed",
                                               "value": d.get("value")})
        elif e.get("kind") == "step_finished":
            steps.setdefault(d["step"], {"executions": 0, "checks": []})["status"] = d.get("status")
    rows = [{"id": s["id"], "tool": s["tool"], "status": steps.get(s["id"], {}).get("status", "pending"),
             "executions": steps.get(s["id"], {}).get("executions", 0),
             "checks": steps.get(s["id"], {}).get("checks", [])} for s in plan.get("steps", [])]
    return {**base, "status": status, "outputs": {}, "steps": rows, "replans": replans, "requirements": [],
            "wall_s": round(time.time() - (meta.get("created") or time.time()), 3)}


def mark_ended(run_dir: Path, status: str, error: str | None = None) -> None:
    """End a run that no process is running (queued, paused or stopped midway): its summary says ``status``
    and its event log ends with ``run_finished``, so watchers stop."""
    summary = read_json(run_dir / "summary.json") or {"run_id": run_dir.name, "outputs": {}, "steps": [],
                                                      "replans": 0, "requirements": [], "wall_s": 0.0,
                                                      "run_dir": str(run_dir),
                                                      "report": str(run_dir / "report.html")}
    summary.update(status=status, **({"error": error} if error else {}))
    tmp = run_dir / ".summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1))
    os.replace(tmp, run_dir / "summary.json")
    sink = EventSink(run_dir.name, run_dir / "events.jsonl")
    try:
        sink.emit("run_finished", status=status, error=error, wall_s=summary.get("wall_s"), outputs={})
    finally:
        sink.close()
