"""The run's graph state: references and small records only, never artifact bytes."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

__all__ = ["RunState", "merge_records"]


def merge_records(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Merge per-key updates; a ``None`` value removes the key (a replaced step's old result)."""
    merged = dict(left or {})
    for key, value in (right or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class RunState(TypedDict, total=False):
    """State of one run.

    Attributes:
        run_id: The run's id (also the checkpoint thread id).
        task: The user's request.
        inputs: Run input name -> artifact record.
        plan: The current plan (a ``Plan`` dumped to JSON).
        initial_plan: The plan as first made, before any replan.
        results: Step id -> result record of the current attempt (status, outputs, metrics, checks, timing).
        attempts: Step id -> attempt number of its current version.
        divergence: The divergence waiting for the replanner, if any.
        replans: Each replan: reason, affected steps, plan before and after.
        history: Result records of attempts that were replaced.
        status: running, succeeded, failed or interrupted.
        error: Why the run failed.
        outputs: Final output name -> artifact record.
        requirements: The request's requirements as last checked on the deliverables (text, passed, evidence).
    """

    run_id: str
    task: str
    inputs: dict[str, dict[str, Any]]
    plan: dict[str, Any] | None
    initial_plan: dict[str, Any] | None
    results: Annotated[dict[str, dict[str, Any]], merge_records]
    attempts: Annotated[dict[str, int], merge_records]
    divergence: dict[str, Any] | None
    replans: Annotated[list[dict[str, Any]], operator.add]
    history: Annotated[list[dict[str, Any]], operator.add]
    status: str
    error: str | None
    outputs: dict[str, dict[str, Any]]
    requirements: list[dict[str, Any]]
