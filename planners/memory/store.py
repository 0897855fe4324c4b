"""The plan memory's store: one SQLite file of (request, input kinds, plan, outcome, source) entries.

Safety: the file is in WAL mode and every write is one ``BEGIN IMMEDIATE`` transaction (entry row and its search
row together), so two processes adding at once queue on SQLite's lock (``busy_timeout``) and a process killed with
``-9`` mid-write leaves the last committed state. Search is BM25 over the requests' stemmed content words through
SQLite's FTS5 (``bm25()``), so a lookup reads an index instead of scoring every entry in Python; the few best are
re-ranked by word overlap (and, when asked for, sentence embeddings).

An entry's id is a hash of what it says (request, input kinds, tools and wiring, outcome), so adding the same
plan for the same request again counts a use instead of growing the file, and importing a shared library twice
changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modalities.errors import ConfigError
from modalities.settings import Settings
from planners._intents import input_names, mask_quotes
from planners._similarity import tokens

__all__ = ["MemoryEntry", "PlanMemory", "SOURCES", "OUTCOMES", "request_words", "default_memory_path"]

SOURCES = ("run", "approved", "edited", "feedback", "import", "seed")
OUTCOMES = ("good", "bad")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    words TEXT NOT NULL,
    kinds TEXT NOT NULL,
    kinds_key TEXT NOT NULL,
    plan TEXT NOT NULL,
    tools TEXT NOT NULL,
    outcome TEXT NOT NULL,
    source TEXT NOT NULL,
    run_id TEXT,
    note TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    uses INTEGER NOT NULL DEFAULT 1,
    vector BLOB
);
CREATE INDEX IF NOT EXISTS entries_kinds ON entries (kinds_key, outcome);
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5 (words, id UNINDEXED);
CREATE VIRTUAL TABLE IF NOT EXISTS entries_vocab USING fts5vocab (entries_fts, 'row');
"""
# past this many entries a lookup matches on the request's rarest words only: BM25 over every entry that shares a
# common word ("audio") cost 14 ms of CPU at 10,000 entries, the rarest eight 2 ms, and re-ranking reads all words
_NARROW_FROM = 1000
_RARE_WORDS = 8


def default_memory_path(settings: Settings | None = None) -> Path:
    """``memory.sqlite`` in the home of ``settings`` (default: the environment's, ``$MMAGENT_HOME``, else
    ``~/.mmagent``)."""
    return (settings or Settings()).home_dir / "memory.sqlite"


def request_words(request: str) -> list[str]:
    """The words of a request that carry its meaning: quoted text blanked (data, not instructions), each file
    name or URL replaced by its kind (``talk.wav`` and ``memo.wav`` ask for the same thing), stemmed, stop words
    dropped.

    Example:
        >>> request_words("Please transcribe talk.wav") == request_words("transcribe memo.wav")
        True
    """
    text = mask_quotes(request)
    for name, kind in sorted(input_names(text).items(), key=lambda item: -len(item[0])):
        if kind != "url":
            text = text.replace(name, f" {kind} ")
    text = re.sub(r"\b(?:https?://\S+|www\.\S+)", " url ", text)
    return tokens(text)


@dataclass
class MemoryEntry:
    """One remembered plan.

    Attributes:
        id: Content hash of request, input kinds, plan graph and outcome.
        request: The request as the user wrote it.
        kinds: Run input name -> kind, in the order given.
        plan: The plan (``Plan.model_dump`` form).
        outcome: ``good`` (a verified run, an approval, good feedback) or ``bad`` (a failed run, bad feedback).
        source: ``run``, ``approved``, ``edited``, ``feedback``, ``import`` or ``seed``.
        run_id: The run it came from, if any.
        note: A person's note.
        uses: How many times this same entry was added.
        score: Similarity to the query that found it (0-1), when it came from a search.
    """

    id: str
    request: str
    kinds: dict[str, str]
    plan: dict[str, Any]
    outcome: str = "good"
    source: str = "run"
    run_id: str | None = None
    note: str | None = None
    created: float = 0.0
    updated: float = 0.0
    uses: int = 1
    score: float = 0.0
    words: list[str] = field(default_factory=list, repr=False)

    @property
    def tools(self) -> list[str]:
        return [str(s.get("tool")) for s in self.plan.get("steps", [])]

    def to_json(self) -> dict[str, Any]:
        """The entry as one line of the JSONL exchange format."""
        return {"id": self.id, "request": self.request, "kinds": self.kinds, "plan": self.plan,
                "outcome": self.outcome, "source": self.source, "run_id": self.run_id, "note": self.note,
                "created": self.created, "uses": self.uses}


def _graph_key(plan: Mapping[str, Any]) -> list[Any]:
    """What makes two plans the same plan: each step's tool and where its inputs come from (ids, params, checks
    and explanations vary between planners and do not change the work)."""
    return [[s.get("id"), s.get("tool"), sorted((s.get("inputs") or {}).items())] for s in plan.get("steps", [])]


def _entry_id(request: str, kinds: Mapping[str, str], plan: Mapping[str, Any], outcome: str) -> str:
    raw = json.dumps([" ".join(request.split()), sorted(kinds.items()), _graph_key(plan), outcome])
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _kinds_key(kinds: Mapping[str, str]) -> str:
    return ",".join(sorted(kinds.values()))


def _fts_query(words: Iterable[str]) -> str:
    # each word quoted: FTS5 would read a bare 'and', 'not' or a '-' as query syntax
    return " OR ".join(f'"{w}"' for w in dict.fromkeys(words) if w)


class PlanMemory:
    """Remembered plans in one SQLite file, searched by meaning of the request.

    Args:
        path: The database file (default ``$MMAGENT_HOME/memory.sqlite``); created on first write.
        embeddings: Re-rank search results by sentence-embedding similarity too (needs the ``embeddings`` extra;
            vectors are stored with each entry the first time they are needed).
        timeout_s: How long a writer waits for another process's transaction before failing.

    Example:
        >>> import tempfile, os
        >>> memory = PlanMemory(os.path.join(tempfile.mkdtemp(), "memory.sqlite"))
        >>> plan = {"steps": [{"id": "transcribe", "tool": "transcribe", "inputs": {"audio": "input:talk"}}]}
        >>> entry = memory.add("transcribe talk.wav", {"talk": "audio"}, plan)
        >>> [e.request for e in memory.search("please transcribe memo.wav", {"memo": "audio"})]
        ['transcribe talk.wav']
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, embeddings: bool = False,
                 timeout_s: float = 30.0) -> None:
        self.path = Path(path).expanduser() if path else default_memory_path()
        self.embeddings = embeddings
        self.timeout_s = timeout_s
        self._ready = False

    def __repr__(self) -> str:
        return f"PlanMemory({str(self.path)!r})"

    # -- connection -------------------------------------------------------------------------------------------
    def _prepare(self, conn: sqlite3.Connection) -> None:
        """WAL mode (readers never block the writer, and a killed writer leaves the last commit intact) and the
        schema. Two processes opening a new memory at once race for the lock that switching to WAL takes, and
        SQLite answers "database is locked" at once, without waiting out the busy timeout: so wait here."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        if not write and not self.path.exists():
            conn = sqlite3.connect(":memory:")  # nothing remembered yet: an empty store, no file made by reading
            conn.executescript(_SCHEMA)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            if not self._ready:
                self._prepare(conn)
                self._ready = True
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    # -- writing --------------------------------------------------------------------------------------------
    def add(self, request: str, kinds: Mapping[str, str], plan: Mapping[str, Any], *, outcome: str = "good",
            source: str = "run", run_id: str | None = None, note: str | None = None) -> MemoryEntry:
        """Remember ``plan`` for ``request`` over inputs of ``kinds``; adding the same again counts a use.

        Raises:
            ConfigError: ``outcome`` or ``source`` is not one of the known values.
        """
        return self.add_many([(request, kinds, plan, {"outcome": outcome, "source": source, "run_id": run_id,
                                                      "note": note})])[0]

    def add_many(self, items: Sequence[tuple[str, Mapping[str, str], Mapping[str, Any], Mapping[str, Any]]]
                 ) -> list[MemoryEntry]:
        """Add several entries in one transaction: ``(request, kinds, plan, {outcome, source, run_id, note})``."""
        entries = [self._entry(request, kinds, plan, **extra) for request, kinds, plan, extra in items]
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for e in entries:
                    row = conn.execute("SELECT uses FROM entries WHERE id = ?", (e.id,)).fetchone()
                    if row is not None:
                        conn.execute("UPDATE entries SET uses = uses + 1, updated = ?, note = COALESCE(?, note) "
                                     "WHERE id = ?", (e.updated, e.note, e.id))
                        e.uses = int(row["uses"]) + 1
                        continue
                    conn.execute(
                        "INSERT INTO entries (id, request, words, kinds, kinds_key, plan, tools, outcome, source, "
                        "run_id, note, created, updated, uses) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (e.id, e.request, " ".join(e.words), json.dumps(e.kinds), _kinds_key(e.kinds),
                         json.dumps(e.plan), " ".join(e.tools), e.outcome, e.source, e.run_id, e.note, e.created,
                         e.updated, e.uses))
                    conn.execute("INSERT INTO entries_fts (words, id) VALUES (?, ?)", (" ".join(e.words), e.id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return entries

    def _entry(self, request: str, kinds: Mapping[str, str], plan: Mapping[str, Any], *, outcome: str = "good",
               source: str = "run", run_id: str | None = None, note: str | None = None,
               created: float | None = None) -> MemoryEntry:
        if outcome not in OUTCOMES:
            raise ConfigError(f"memory outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        if source not in SOURCES:
            raise ConfigError(f"memory source {source!r} is not one of {', '.join(SOURCES)}")
        if not isinstance(plan, Mapping) or not isinstance(plan.get("steps"), list) or not plan["steps"]:
            raise ConfigError(f"the plan for {request[:60]!r} has no steps; a remembered plan needs a 'steps' list")
        now = time.time()
        kept = {k: v for k, v in plan.items() if k in ("steps", "outputs", "planner")}
        return MemoryEntry(id=_entry_id(request, kinds, kept, outcome), request=request, kinds=dict(kinds),
                           plan=kept, outcome=outcome, source=source, run_id=run_id, note=note,
                           created=created or now, updated=now, words=request_words(request))

    def forget(self, entry_id: str) -> int:
        """Forget the entries whose id starts with ``entry_id``; how many were forgotten.

        Raises:
            ConfigError: The prefix matches more than one entry (say more of the id).
        """
        if not re.fullmatch(r"[0-9a-f]{4,12}", entry_id):
            raise ConfigError(f"memory id {entry_id!r} is malformed: give 4-12 hex digits from 'agent memory list'")
        with self._connect(write=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [r["id"] for r in conn.execute("SELECT id FROM entries WHERE id LIKE ?", (entry_id + "%",))]
                if len(ids) > 1:
                    raise ConfigError(f"memory id {entry_id!r} is ambiguous ({', '.join(ids[:4])}); give more of it")
                for i in ids:
                    conn.execute("DELETE FROM entries WHERE id = ?", (i,))
                    conn.execute("DELETE FROM entries_fts WHERE id = ?", (i,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return len(ids)

    # -- reading --------------------------------------------------------------------------------------------
    def get(self, entry_id: str) -> MemoryEntry:
        """The entry whose id is or starts with ``entry_id``.

        Raises:
            ConfigError: No entry, or more than one, has that id.
        """
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM entries WHERE id LIKE ? LIMIT 3", (entry_id + "%",)).fetchall()
        if len(rows) != 1:
            why = "no entry has" if not rows else "more than one entry has"
            raise ConfigError(f"{why} the memory id {entry_id!r}; see 'agent memory list'")
        return _from_row(rows[0])

    def entries(self, *, outcome: str | None = None, limit: int | None = None) -> list[MemoryEntry]:
        """Entries, newest first."""
        sql = "SELECT * FROM entries" + (" WHERE outcome = ?" if outcome else "") + " ORDER BY updated DESC"
        args: tuple[Any, ...] = (outcome,) if outcome else ()
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._connect() as conn:
            return [_from_row(r) for r in conn.execute(sql, args)]

    def __len__(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def search(self, request: str, kinds: Mapping[str, str] | None = None, *, k: int = 4,
               outcome: str | None = "good", pool: int = 40) -> list[MemoryEntry]:
        """The ``k`` entries most like ``request``: BM25 picks ``pool`` candidates, then word overlap (Jaccard of
        the meaning words, plus embedding similarity when enabled) ranks them; an entry over the same input kinds
        ranks first among equals. Each result's ``score`` is that similarity (0-1). ``outcome`` None: good and
        bad entries alike."""
        words = request_words(request)
        if not words:
            return []
        with self._connect() as conn:
            query = _fts_query(self._distinctive(conn, words))
            if not query:
                return []
            # the best of the index first, then their rows: joining before the LIMIT would read every match
            rows = conn.execute(
                "SELECT e.* FROM (SELECT id, rank FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rank LIMIT ?) "
                "AS f JOIN entries e ON e.id = f.id WHERE ? IS NULL OR e.outcome = ? ORDER BY f.rank",
                (query, 2 * pool, outcome, outcome)).fetchall()
        found = [_from_row(r) for r in rows]
        mine = set(words)
        same_kinds = _kinds_key(kinds) if kinds is not None else None
        for e in found:
            theirs = set(e.words)
            e.score = len(mine & theirs) / max(1, len(mine | theirs))
        if self.embeddings and found:
            for e, sim in zip(found, self._embedding_similarity(request, found), strict=True):
                e.score = 0.5 * e.score + 0.5 * sim
        found.sort(key=lambda e: (-e.score, _kinds_key(e.kinds) != same_kinds, -e.uses))
        return found[:k]

    @staticmethod
    def _distinctive(conn: sqlite3.Connection, words: list[str]) -> list[str]:
        """The words to look up: all of them in a small memory, the rarest ones the memory knows in a large one."""
        unique = list(dict.fromkeys(words))
        if int(conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]) < _NARROW_FROM:
            return unique
        marks = ",".join("?" * len(unique))
        df = dict(conn.execute(f"SELECT term, doc FROM entries_vocab WHERE term IN ({marks})", unique).fetchall())
        return sorted((w for w in unique if df.get(w)), key=lambda w: df[w])[:_RARE_WORDS]

    def _embedding_similarity(self, request: str, found: list[MemoryEntry]) -> list[float]:
        from planners._similarity import _embedder

        model = _embedder()
        vecs = model.encode([mask_quotes(request)] + [mask_quotes(e.request) for e in found],
                            normalize_embeddings=True)
        return [max(0.0, float(v @ vecs[0])) for v in vecs[1:]]

    # -- exchange -------------------------------------------------------------------------------------------
    def export(self, out: Any) -> int:
        """Write every entry as one JSON object a line to the text stream ``out``; how many."""
        n = 0
        for e in reversed(self.entries()):
            out.write(json.dumps(e.to_json(), ensure_ascii=False) + "\n")
            n += 1
        return n

    def import_lines(self, lines: Iterable[str], *, where: str = "import") -> int:
        """Add the entries of JSONL ``lines`` (as :meth:`export` writes them) in one transaction; how many lines.

        Raises:
            ConfigError: A line is not JSON or misses a field; the message names ``where`` and the line.
        """
        items = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                request, kinds, plan = row["request"], row.get("kinds") or {}, row["plan"]
                if not isinstance(request, str) or not isinstance(kinds, dict):
                    raise TypeError("'request' must be a string and 'kinds' an object")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ConfigError(f"{where} line {number} is not a memory entry ({exc}); each line needs "
                                  f"'request', 'kinds' and 'plan', as 'agent memory export' writes them") from None
            extra = {"outcome": row.get("outcome", "good"), "source": row.get("source") or "import",
                     "run_id": row.get("run_id"), "note": row.get("note")}
            try:
                self._entry(request, kinds, plan, **extra)
            except ConfigError as exc:
                raise ConfigError(f"{where} line {number}: {exc}") from None
            items.append((request, kinds, plan, extra))
        self.add_many(items)
        return len(items)


def _from_row(row: sqlite3.Row) -> MemoryEntry:
    return MemoryEntry(id=row["id"], request=row["request"], kinds=json.loads(row["kinds"]),
                       plan=json.loads(row["plan"]), outcome=row["outcome"], source=row["source"],
                       run_id=row["run_id"], note=row["note"], created=row["created"], updated=row["updated"],
                       uses=row["uses"], words=row["words"].split())
