"""mmagent: multimodal agents that plan, check every result, and replan only what diverged.

Names are loaded on first use (PEP 562), so a Ray worker or a tool module that only needs ``agent.stepping`` does
not pay for importing LangGraph.

Example:
    >>> from agent import Agent
    >>> callable(Agent.run)
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent._agent import Agent
    from agent.events import Event
    from agent.runs import RunResult

__all__ = ["Agent", "Event", "RunResult"]
__version__ = "0.1.0"

_WHERE = {"Agent": "agent._agent", "Event": "agent.events", "RunResult": "agent.runs"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
