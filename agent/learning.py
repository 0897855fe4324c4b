"""What a finished run teaches the plan memory, and a person's feedback on a run.

A run that succeeded (every check and every requirement passed) adds its final plan as a good entry; a plan a
person approved or edited is marked so. A run that failed adds its plan as a bad one, so the same plan is not
reused for the same request. Writing memory never fails a run: a memory that cannot be written is reported and
skipped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent.events import read_events
from modalities.errors import ConfigError
from planners.memory import MemoryEntry, PlanMemory

__all__ = ["remember_run", "run_plan", "give_feedback"]


def run_plan(run_dir: Path) -> dict[str, Any] | None:
    """The plan a run ended with: the last one its events recorded (made, edited or replanned)."""
    try:
        events = read_events(run_dir / "events.jsonl")
    except OSError:
        return None
    plans = [e.data["plan"] for e in events if e.kind in ("plan_made", "replanned") and e.data.get("plan")]
    return plans[-1] if plans else None


def _kinds(meta: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(art.get("kind")) for name, art in (meta.get("inputs") or {}).items()}


def remember_run(memory: PlanMemory, run_dir: Path, status: str, plan: Mapping[str, Any] | None, *,
                 decision: Any = None, error: str | None = None) -> MemoryEntry | None:
    """Add what run ``run_dir`` ended with to ``memory``: a good entry when it succeeded, a bad one when it
    failed (a plan the user rejected included); nothing for a run that paused or failed before it had a plan."""
    if status not in ("succeeded", "failed") or not plan or not plan.get("steps"):
        return None
    try:
        meta = json.loads((run_dir / "run.json").read_text())
        if status == "succeeded":
            source = "edited" if isinstance(decision, dict) else "approved" if decision == "accept" else "run"
            return memory.add(meta.get("task", ""), _kinds(meta), plan, outcome="good", source=source,
                              run_id=run_dir.name)
        rejected = bool(error and "rejected by the user" in error)
        return memory.add(meta.get("task", ""), _kinds(meta), plan, outcome="bad",
                          source="feedback" if rejected else "run", run_id=run_dir.name, note=(error or "")[:300])
    except Exception as exc:  # noqa: BLE001 - a full disk, a locked or corrupt file: the run's result stands
        print(f"warning: run {run_dir.name} not added to the plan memory {str(memory.path)!r}: {exc}",
              file=sys.stderr)
        return None


def give_feedback(memory: PlanMemory, run_dir: Path, verdict: str, *, edited: Mapping[str, Any] | None = None,
                  note: str | None = None) -> list[MemoryEntry]:
    """A person's verdict on run ``run_dir``: ``good`` adds its plan as a good entry, ``bad`` as a bad one (never
    reused for that request again); an ``edited`` plan is added as a good entry either way.

    Raises:
        ConfigError: ``verdict`` is not good or bad, or the run recorded no plan and none was given.
    """
    if verdict not in ("good", "bad"):
        raise ConfigError(f"feedback {verdict!r} is neither 'good' nor 'bad'")
    meta = json.loads((run_dir / "run.json").read_text())
    task, kinds = meta.get("task", ""), _kinds(meta)
    plan = run_plan(run_dir)
    added: list[MemoryEntry] = []
    if plan is None and edited is None:
        raise ConfigError(f"run {run_dir.name} recorded no plan (it failed before planning); give one with --plan")
    if plan is not None and (verdict == "bad" or edited is None):
        added.append(memory.add(task, kinds, plan, outcome=verdict, source="feedback", run_id=run_dir.name,
                                note=note))
    if edited is not None:
        added.append(memory.add(task, kinds, edited, outcome="good", source="edited", run_id=run_dir.name,
                                note=note))
    return added
