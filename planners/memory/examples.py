"""Remembered plans as worked examples in a model's prompt.

Planners read only the entries :class:`~planners.memory.MemoryPlanner` found for the request at hand
(:data:`~planners.memory.worked_examples`), so a planner without memory behaves exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from planners.memory.store import MemoryEntry
from planners.plan import Plan as _Plan
from planners.plan import topological_order

__all__ = ["tool_order", "examples_block", "plan_examples_block"]


def tool_order(entry: MemoryEntry) -> list[str]:
    """The entry's tools in an order they can run (dependencies first), as a model is asked to list them."""
    try:
        steps = topological_order(_Plan.model_validate({"steps": entry.plan.get("steps", [])}).steps)
    except Exception:  # noqa: BLE001 - a malformed remembered plan still shows its tools in stored order
        return entry.tools
    return [s.tool for s in steps]


def _inputs_line(kinds: Mapping[str, str]) -> str:
    return "Run inputs: " + (", ".join(f"{n} ({k})" for n, k in kinds.items()) or "none")


def examples_block(entries: Sequence[MemoryEntry], known: set[str]) -> str:
    """Worked examples for the tool-list prompt: request, its inputs, the JSON array of its tools; the most
    similar last, nearest the request (small models copy what they read last); entries naming a tool that is not
    in ``known`` are left out."""
    shown = [e for e in entries if e.tools and set(e.tools) <= known]
    if not shown:
        return ""
    parts = [f"Request: {e.request}\n{_inputs_line(e.kinds)}\n{json.dumps(tool_order(e))}" for e in reversed(shown)]
    return "Similar requests planned before:\n\n" + "\n\n".join(parts) + "\n\n"


def plan_examples_block(entries: Sequence[MemoryEntry], known: set[str]) -> str:
    """Worked examples for the full-plan prompt of chat planners: request, inputs and the plan's steps (id, tool,
    inputs) as JSON."""
    shown = [e for e in entries if e.tools and set(e.tools) <= known]
    if not shown:
        return ""
    parts = []
    for e in reversed(shown):
        steps = [{"id": s.get("id"), "tool": s.get("tool"), "inputs": s.get("inputs") or {}}
                 for s in e.plan.get("steps", [])]
        parts.append(f"Request: {e.request}\n{_inputs_line(e.kinds)}\n{json.dumps({'steps': steps})}")
    return "Plans that worked for similar requests:\n\n" + "\n\n".join(parts) + "\n\n"
