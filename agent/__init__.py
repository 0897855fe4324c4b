"""mmagent: multimodal agents that plan, check every result, and replan only what diverged.

Example:
    >>> from agent import Agent
    >>> callable(Agent.run)
    True
"""

from agent._agent import Agent
from agent.events import Event
from agent.runs import RunResult

__all__ = ["Agent", "Event", "RunResult"]
__version__ = "0.1.0"
