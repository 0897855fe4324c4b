"""The step journal: a durable record of every tool execution, keyed by step id and content.

LangGraph checkpoints the graph between its steps; the journal records each step the moment it finishes, from the
worker thread, so a crash between a step's end and the next checkpoint loses nothing: on resume the scheduler
finds the record by its key (step id, tool, params, input artifact ids, attempt) and does not run the step again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["StepJournal", "step_key", "finished_steps"]


def step_key(step_id: str, tool: str, params: dict[str, Any], input_ids: dict[str, str], attempt: int) -> str:
    """Identity of one execution: same key, same work."""
    blob = json.dumps([step_id, tool, params, input_ids, attempt], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class StepJournal:
    """Append-mostly SQLite log of step executions for one run directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._closed = False
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes, which is what we need
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS executions (id INTEGER PRIMARY KEY, step_id TEXT NOT NULL, key TEXT NOT NULL,"
            " status TEXT NOT NULL, record TEXT, started REAL NOT NULL, finished REAL)")
        self._conn.execute("CREATE INDEX IF NOT EXISTS executions_key ON executions(key)")
        # keys with a finished record: lets the scheduler skip the look-up for new work (nearly every step)
        self._done_keys = {k for (k,) in self._conn.execute(
            "SELECT DISTINCT key FROM executions WHERE record IS NOT NULL")}

    def started(self, step_id: str, key: str) -> int:
        with self._lock:
            cur = self._conn.execute("INSERT INTO executions (step_id, key, status, started) VALUES (?, ?, ?, ?)",
                                     (step_id, key, "running", time.time()))
            return int(cur.lastrowid or 0)

    def finished(self, row: int, record: dict[str, Any]) -> None:
        with self._lock:
            if self._closed:  # a call abandoned at its limit ended after its run did: nothing to record
                return
            self._done_keys.add(record.get("key", ""))
            # only the first word counts: a call abandoned at its time limit that ends later cannot overwrite it
            self._conn.execute("UPDATE executions SET status = ?, record = ?, finished = ? "
                               "WHERE id = ? AND record IS NULL",
                               (record["status"], json.dumps(record, default=str), time.time(), row))

    def completed(self, key: str) -> dict[str, Any] | None:
        """The finished record for ``key``, if this work was already done."""
        with self._lock:
            if key not in self._done_keys:
                return None
            row = self._conn.execute(
                "SELECT record FROM executions WHERE key = ? AND record IS NOT NULL ORDER BY id DESC LIMIT 1",
                (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def executions(self) -> dict[str, int]:
        """Step id -> how many times its tool was actually invoked (all attempts, crashes included)."""
        with self._lock:
            rows = self._conn.execute("SELECT step_id, COUNT(*) FROM executions GROUP BY step_id").fetchall()
        return {step_id: n for step_id, n in rows}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._conn.close()


def finished_steps(path: Path) -> set[str]:
    """Ids of steps with a finished record in the journal at ``path`` (read from another process, e.g. while the
    run is going or after it was killed); empty when the journal is missing or locked."""
    if not path.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            rows = conn.execute("SELECT DISTINCT step_id FROM executions WHERE record IS NOT NULL").fetchall()
    except sqlite3.OperationalError:
        return set()
    return {r[0] for r in rows}
