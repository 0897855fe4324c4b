"""The headline demo: a hand-drawn sketch -> HTML/CSS -> rendered page -> narrated scroll-through video.

The planner plans it from the task text and the sketch (no script here fixes the steps). With
``inject_divergence`` the first page is generated with the ``minimal`` strategy, which really drops the sketch's
lower sections: the layout check fails and the agent replans only the page and what depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from planners.base import ReplanRequest
from planners.plan import Plan, Step
from tools.registry import ToolRegistry

__all__ = ["DEMO_TASK", "NEEDED_TOOLS", "default_sketch", "InjectDivergence", "missing_tools", "sketch_to_video"]

DEMO_TASK = "Turn this sketch into a landing page and make a narrated video of it."
NEEDED_TOOLS = ("analyze_sketch", "generate_html", "render_page", "layout_similarity", "write_text", "speak",
                "speech_roundtrip", "record_page_video")


def default_sketch() -> Path:
    """The landing-page sketch shipped in ``examples/sketches`` (present in a source checkout)."""
    path = Path(__file__).resolve().parent.parent / "examples" / "sketches" / "landing.png"
    if not path.exists():
        raise ConfigError(f"demo sketch {str(path)!r} is not there (installed without examples); pass --sketch PATH")
    return path


def missing_tools(registry: ToolRegistry) -> dict[str, str]:
    """Tools the demo needs that cannot run here, with the reason for each."""
    missing = {}
    for name in NEEDED_TOOLS:
        if name not in registry:
            missing[name] = "not registered"
            continue
        try:
            avail = registry.get(name).available()
        except ConfigError as exc:
            missing[name] = str(exc)
            continue
        if not avail:
            missing[name] = avail.reason
    return missing


class InjectDivergence:
    """Wraps a planner so the first page is generated with the ``minimal`` strategy (it drops sections).

    Everything else, the replanning included, is the wrapped planner's own work.
    """

    def __init__(self, planner: Any) -> None:
        self.inner = planner
        self.name = f"{getattr(planner, 'name', 'planner')} (+ injected divergence)"

    def plan(self, task: str, inputs: Mapping[str, Artifact], registry: ToolRegistry) -> Plan:
        plan = self.inner.plan(task, inputs, registry)
        steps: list[Step] = []
        injected = False
        for s in plan.steps:
            if s.tool == "generate_html" and not injected:
                s = s.model_copy(update={"params": {**s.params, "strategy": "minimal"},
                                         "why": "demo: start from the minimal page strategy, which drops sections"})
                injected = True
            steps.append(s)
        if not injected:
            raise ConfigError("the plan has no generate_html step to inject a divergence into")
        return plan.model_copy(update={"steps": steps, "planner": self.name})

    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        return self.inner.replan(request, registry)


def sketch_to_video(agent: Any, sketch: Path | None = None, *, inject_divergence: bool = False,
                    on_event: Callable[[Any], None] | None = None, run_id: str | None = None) -> Any:
    """Run the demo with ``agent``; returns its :class:`~agent.runs.RunResult`.

    Example:
        >>> from agent import Agent
        >>> sorted(missing_tools(Agent(planner="symbolic").registry)) == sorted(
        ...     missing_tools(Agent(planner="symbolic").registry))
        True
    """
    if inject_divergence:
        agent.planner = InjectDivergence(agent.planner)
    return agent.run(DEMO_TASK, {"sketch": sketch or default_sketch()}, run_id=run_id, on_event=on_event)
