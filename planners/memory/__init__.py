"""Plan memory: verified and approved plans, searched by request, reused and shown to planners as examples."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modalities.settings import Settings
from planners.memory.planning import (
    EXAMPLE_FLOOR,
    MemoryPlanner,
    pick_examples,
    rename_inputs,
    with_memory,
    worked_examples,
)
from planners.memory.store import MemoryEntry, PlanMemory, default_memory_path, request_words

__all__ = ["EXAMPLE_FLOOR", "MemoryEntry", "PlanMemory", "MemoryPlanner", "default_memory_path", "pick_examples",
           "rename_inputs", "request_words", "resolve_memory", "with_memory", "worked_examples"]

_OFF = ("none", "off", "no", "false", "0")


def resolve_memory(spec: Any = "default", *, home: str | os.PathLike[str] | None = None,
                   settings: Settings | None = None) -> PlanMemory | None:
    """A plan memory from an ``Agent(memory=...)`` value: ``"default"`` (the ``memory`` of ``settings``, default
    the environment's ``MMAGENT_MEMORY``; its own default is ``memory.sqlite`` in ``home``, else in the settings'
    home), a path, a :class:`PlanMemory`, or None / ``"none"`` for no memory.

    Example:
        >>> resolve_memory("none") is None
        True
    """
    if spec is None or isinstance(spec, PlanMemory):
        return spec
    if spec == "default":
        settings = settings or Settings()
        spec = settings.memory or "default"
        home = home or settings.home_dir
    if str(spec).lower() in _OFF:
        return None
    if spec == "default":
        return PlanMemory(Path(home) / "memory.sqlite" if home else None)
    return PlanMemory(Path(str(spec)))
