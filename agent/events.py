"""Typed progress events. The CLI's live view, ``Agent.stream``, the event log and the report are built from them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["EventKind", "Event", "EventSink", "read_events"]

EventKind = Literal["run_started", "plan_made", "step_started", "model_loading", "step_finished", "check_passed",
                    "check_failed", "replanning", "replanned", "interrupted", "run_finished"]


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run.

    Attributes:
        kind: What happened.
        run_id: The run it happened in.
        data: Details (``step``, ``tool``, ``check``, ``value``...).
        t: Seconds since the Unix epoch.
    """

    kind: EventKind
    run_id: str
    data: dict[str, Any] = field(default_factory=dict)
    t: float = field(default_factory=time.time)

    def to_json(self) -> str:
        raw = {"kind": self.kind, "run_id": self.run_id, "data": self.data, "t": self.t}
        return json.dumps(raw, default=str, ensure_ascii=False)


class EventSink:
    """Fans events out to listeners and appends them to the run's ``events.jsonl``. Thread-safe."""

    def __init__(self, run_id: str, log_path: Path | None = None) -> None:
        self.run_id = run_id
        self.log_path = log_path
        self._listeners: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        # one handle, line-buffered: each event reaches the file as a whole line, even if the process is killed
        self._log = open(log_path, "a", encoding="utf-8", buffering=1) if log_path is not None else None

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, kind: EventKind, **data: Any) -> Event:
        event = Event(kind=kind, run_id=self.run_id, data=data)
        line = event.to_json() + "\n"
        with self._lock:
            if self._log is not None and not self._log.closed:
                self._log.write(line)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)
        return event


    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()


def read_events(path: Path) -> list[Event]:
    """Events from an ``events.jsonl`` file (a torn last line, from a crash, is skipped)."""
    events = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            continue
        events.append(Event(kind=raw["kind"], run_id=raw["run_id"], data=raw.get("data", {}), t=raw.get("t", 0.0)))
    return events
