"""The :class:`Planner` protocol and the records that flow between planner and runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from modalities.artifacts import Artifact
from planners.plan import Plan, Step
from tools.registry import ToolRegistry

__all__ = ["Divergence", "ReplanRequest", "Planner", "input_kinds", "announce", "announcing"]

_LISTENER: ContextVar[Callable[[str, dict[str, Any]], None] | None] = ContextVar("planning_listener", default=None)


@contextmanager
def announcing(listener: Callable[[str, dict[str, Any]], None]) -> Iterator[None]:
    """While planning in this context, what a planner :func:`announce` goes to ``listener`` (the run's events).

    A first plan can take a while before any step starts (a model assembled and loaded, its long prompt read
    for the first time); the run says so instead of falling silent.
    """
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def announce(kind: str, **data: Any) -> None:
    """Tell whoever runs this planner about slow work under way (``model_loading``); nothing outside a run.

    Example:
        >>> heard = []
        >>> with announcing(lambda kind, data: heard.append((kind, data["model"]))):
        ...     announce("model_loading", model="planner")
        >>> announce("model_loading", model="nobody listens")
        >>> heard
        [('model_loading', 'planner')]
    """
    listener = _LISTENER.get()
    if listener is not None:
        listener(kind, data)


class Divergence(BaseModel):
    """How a step's result differed from what the plan expected; what the replanner sees.

    Attributes:
        step_id: The step whose check failed or whose tool raised.
        tool: Its tool.
        check: The failed check's name, when a check failed.
        error: The error message, when the tool failed.
        observed: The value the check saw.
        expected: What the check wanted, e.g. ``layout_score >= 0.7``.
        attempt: Which attempt of the step this was (1 = first run).
        suspects: Steps whose outputs the diverged step judged; they may be redone too.
        upstream: The steps that made what the suspects worked from (the layout a page was built from, the script
            a voice read): one step further back, for when the suspects have nothing left to try, or when the
            judge read their product too (a script is what its voice is compared with).
        missing: What the judged output lacks, in words, when the judge says (a page judged against its sketch
            names the drawn parts it does not show); it ends the summary a failed run reports.
        metrics: The diverged step's metrics: a judge's findings (the words a voice did not say back) that a tool's
            next variant can answer (:meth:`tools.base.Tool.revise`).
    """

    step_id: str
    tool: str
    check: str | None = None
    error: str | None = None
    observed: Any = None
    expected: str | None = None
    attempt: int = 1
    suspects: list[str] = Field(default_factory=list)
    upstream: list[str] = Field(default_factory=list)
    missing: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)

    def summary(self) -> str:
        if self.error:
            return f"step {self.step_id!r} ({self.tool}) failed: {self.error}"
        said = f"step {self.step_id!r} ({self.tool}): check {self.expected} failed, observed {self.observed!r}"
        return f"{said}; missing: {self.missing}" if self.missing else said


class ReplanRequest(BaseModel):
    """Everything a planner needs to replace the diverged part of a plan.

    Attributes:
        plan: The current plan.
        divergence: What went wrong.
        affected: Ids of the steps to replace: the diverged step, its suspects and everything downstream.
        attempts: Attempt number each step has reached so far (every run counts, a re-run downstream of another
            step's change included).
        variants: Variants of each step a replan has tried so far (its params or its tool changed). A step's next
            variant is the one after these: re-running it unchanged, downstream of another step, spends none.
        done: Outputs (artifact records) of the finished steps that will be kept, by step id and output name.
    """

    plan: Plan
    divergence: Divergence
    affected: list[str]
    attempts: dict[str, int] = Field(default_factory=dict)
    variants: dict[str, int] = Field(default_factory=dict)
    done: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


@runtime_checkable
class Planner(Protocol):
    """Makes plans, and replacements for the parts of plans that diverged."""

    name: str

    def plan(self, task: str, inputs: Mapping[str, Artifact], registry: ToolRegistry) -> Plan:
        """A validated plan for ``task`` over the run's ``inputs`` (name -> artifact)."""
        ...

    def replan(self, request: ReplanRequest, registry: ToolRegistry) -> list[Step]:
        """Steps replacing exactly ``request.affected`` (the same ids, or new ones wired the same way)."""
        ...


def input_kinds(inputs: Mapping[str, Artifact | str]) -> dict[str, str]:
    """Run input name -> kind, from artifacts or (for planning-only runs such as benchmarks) kinds themselves.

    Example:
        >>> input_kinds({"page": "url"})
        {'page': 'url'}
    """
    return {name: value if isinstance(value, str) else value.kind for name, value in inputs.items()}
