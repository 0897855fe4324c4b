"""Small real tools and scripted planners for runtime tests (importable as ``tests.runtime_tools:...`` so a real
``agent run`` subprocess can use them)."""

from __future__ import annotations

import time

from planners.testing import FunctionPlanner
from tools import Result, TextFile, ToolRegistry, tool


@tool(family="test", metrics={"chars": "length of the text"}, light=True)
def emit(value: str = "x", delay: float = 0.0, times: int = 1) -> TextFile:
    """Write a fixed text, after an optional delay.

    Args:
        value: The text to write.
        delay: Seconds to sleep first.
        times: How many times to repeat the text.
    """
    time.sleep(delay)
    return Result(value * times, {"chars": len(value) * times})


@tool(family="test", light=True)
def append(text: TextFile, suffix: str = "+", delay: float = 0.0) -> TextFile:
    """Append a suffix to a text.

    Args:
        text: The text to extend.
        suffix: What to append.
        delay: Seconds to sleep first.
    """
    time.sleep(delay)
    return text.read_text() + suffix


@tool(family="test", retry_params=({"variant": "good"},), light=True)
def draft(text: TextFile, variant: str = "bad") -> TextFile:
    """Draft a text from a source, in a variant.

    Args:
        text: The source.
        variant: 'bad' drops the source, 'good' keeps it.
    """
    return f"{variant}:{text.read_text() if variant == 'good' else ''}"


@tool(family="test", outputs={"report": "json"}, metrics={"score": "1 when the candidate keeps the reference"},
      checks=("score >= 0.5",), judges=("candidate",), light=True)
def judge(reference: TextFile, candidate: TextFile) -> dict:
    """Score whether a candidate keeps the reference text.

    Args:
        reference: The text that must be kept.
        candidate: The text to judge.
    """
    score = 1.0 if reference.read_text() in candidate.read_text() else 0.0
    return Result({"report": {"score": score}}, {"score": score})


@tool(family="test", light=True)
def explode(text: TextFile) -> TextFile:
    """Always fail (to test error divergences).

    Args:
        text: Ignored.
    """
    raise RuntimeError("boom")


@tool(family="test", light=True)
def titled(text: TextFile | None = None, title: str = "Notes") -> TextFile:
    """A title, over a text when one is given.

    Args:
        text: The text to put under the title (optional).
        title: The title.
    """
    return title + ("\n" + text.read_text() if text is not None else "")


registry = ToolRegistry([emit, append, draft, judge, explode, titled])


def _chain(task: str, inputs: object, reg: object) -> dict:
    n = 6
    steps = [{"id": "s0", "tool": "emit", "params": {"value": "a", "delay": 0.4}}]
    steps += [{"id": f"s{i}", "tool": "append", "inputs": {"text": f"s{i - 1}.text"}, "params": {"delay": 0.4}}
              for i in range(1, n)]
    return {"steps": steps}


chain_planner = FunctionPlanner(_chain)


def _param_chain(task: str, inputs: object, reg: object) -> dict:
    # each step doubles the text the step before made, taken as a param (no input reference orders them)
    steps = [{"id": "d0", "tool": "emit", "params": {"value": "a", "delay": 0.4}}]
    steps += [{"id": f"d{i}", "tool": "emit", "params": {"value": {"from": f"d{i - 1}.text"}, "times": 2,
                                                         "delay": 0.4}} for i in range(1, 5)]
    return {"steps": steps}


param_chain_planner = FunctionPlanner(_param_chain)
