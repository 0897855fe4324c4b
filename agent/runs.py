"""Run directories: where a run's checkpoint, journal, event log, outputs, summary and report live."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from modalities.settings import settings
from modalities.store import ArtifactStore

__all__ = ["home_dir", "runs_dir", "new_run_id", "RunResult", "find_run", "list_runs", "export_outputs"]

_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def home_dir() -> Path:
    return settings().home_dir


def runs_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return Path(override).expanduser() if override else home_dir() / "runs"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def find_run(run_id: str, base: Path) -> Path:
    """The run directory of ``run_id`` (a unique prefix is enough)."""
    if not _RUN_ID.match(run_id):
        raise ConfigError(f"run id {run_id!r} is malformed; list runs with 'agent runs'")
    exact = base / run_id
    if (exact / "run.json").exists():
        return exact
    matches = sorted(p for p in base.glob(f"{run_id}*") if (p / "run.json").exists()) if base.exists() else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"no run {run_id!r} under {str(base)!r}; list runs with 'agent runs'")
    raise ConfigError(f"run id {run_id!r} is ambiguous: {', '.join(p.name for p in matches[:5])}")


def list_runs(base: Path) -> list[dict[str, Any]]:
    rows = []
    if not base.exists():
        return rows
    for p in sorted(base.iterdir(), reverse=True):
        meta_path = p / "run.json"
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        summary_path = p / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        rows.append({"run_id": p.name, "task": meta.get("task", ""), "status": summary.get("status", "incomplete"),
                     "created": meta.get("created"), "wall_s": summary.get("wall_s")})
    return rows


def export_outputs(outputs: dict[str, Artifact], store: ArtifactStore, run_dir: Path) -> dict[str, Path]:
    """Copy final outputs into ``<run_dir>/outputs/<name><ext>`` (real files with proper extensions)."""
    out_dir = run_dir / "outputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, art in outputs.items():
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip(".") or "output"
        target = out_dir / f"{safe}{art.extension}"
        if not target.exists() or target.stat().st_size != art.size:
            tmp = target.with_name(f".{target.name}.tmp")
            shutil.copyfile(store.path(art), tmp)
            os.replace(tmp, target)
        paths[name] = target
    return paths


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        run_id: The run's id.
        status: ``succeeded``, ``failed`` or ``interrupted``.
        outputs: Final output name -> file in the run directory.
        steps: Per step: id, tool, status, executions, checks.
        replans: How many times the plan was repaired.
        wall_s: Wall time of this invocation.
        run_dir: The run directory (report, events, outputs).
        error: Why the run failed, if it did.
        artifacts: Final output name -> artifact record.
        requirements: The request's requirements as checked on the deliverables: text, passed, evidence.
    """

    run_id: str
    status: str
    outputs: dict[str, Path]
    steps: list[dict[str, Any]]
    replans: int
    wall_s: float
    run_dir: Path
    error: str | None = None
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    requirements: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def summary(self) -> dict[str, Any]:
        """The JSON contract printed by ``agent run --json``."""
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "status": self.status,
            "outputs": {k: str(v) for k, v in self.outputs.items()},
            "steps": self.steps,
            "replans": self.replans,
            "requirements": [{"text": r["text"], "passed": r["passed"], "evidence": r["evidence"]}
                             for r in self.requirements],
            "wall_s": round(self.wall_s, 3),
            "run_dir": str(self.run_dir),
            "report": str(self.run_dir / "report.html"),
        }
        if self.error:
            out["error"] = self.error
        return out
