"""Tools and planners for the runtime benchmark (importable by spec for the kill/resume trial)."""

from __future__ import annotations

import time

from planners.testing import FunctionPlanner
from tools import TextFile, ToolRegistry, tool


@tool(family="bench", light=True)
def noop(text: TextFile | None = None, seconds: float = 0.0, size: int = 1, tag: str = "") -> TextFile:
    """Sleep, then write a text of the given size.

    Args:
        text: An upstream result (only to make a dependency).
        seconds: Time to sleep.
        size: Bytes to write.
        tag: Makes the content unique per step.
    """
    if seconds:
        time.sleep(seconds)
    return (tag + "x" * size)[: max(size, len(tag))]


@tool(family="bench")
def noop_in_worker(text: TextFile | None = None, seconds: float = 0.0, size: int = 1, tag: str = "") -> TextFile:
    """The same no-op, not declared light: it runs in a worker process.

    Args:
        text: An upstream result (only to make a dependency).
        seconds: Time to sleep.
        size: Bytes to write.
        tag: Makes the content unique per step.
    """
    return noop.fn(text, seconds, size, tag)


registry = ToolRegistry([noop, noop_in_worker])


def chain(n: int, seconds: float = 0.0, size: int = 1, tool: str = "noop") -> dict:
    steps = [{"id": "s0", "tool": tool, "params": {"seconds": seconds, "size": size, "tag": "s0"}}]
    steps += [{"id": f"s{i}", "tool": tool, "inputs": {"text": f"s{i - 1}.text"},
               "params": {"seconds": seconds, "size": size, "tag": f"s{i}"}} for i in range(1, n)]
    return {"steps": steps}


def _resume_chain(task: str, inputs: object, reg: object) -> dict:
    return chain(12, seconds=0.25)


resume_chain_planner = FunctionPlanner(_resume_chain)
