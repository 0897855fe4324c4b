"""The worker side of the Ray executor: what runs inside a Ray task or actor for one step.

Kept apart from :mod:`agent.ray_executor` (the driver side) so the two halves read separately; both are plain
Python, and Ray is imported only inside the functions that run on a worker.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from agent.stepping import StepTask, execute_step, failed_record
from modalities.remote_store import ArtifactBundle, TemporaryStore, pack, unpack
from modalities.store import ArtifactStore
from tools.base import Tool

__all__ = ["ToolWorker", "failed_record", "run_step_in_worker"]

_worker_stores: dict[str, ArtifactStore] = {}


def _store_at(root: str) -> ArtifactStore:
    store = _worker_stores.get(root)
    if store is None:
        store = _worker_stores[root] = ArtifactStore(root)
    return store


def _where() -> dict[str, Any]:
    import ray

    return {"node": ray.util.get_node_ip_address(), "node_id": ray.get_runtime_context().get_node_id()[:12],
            "pid": os.getpid()}


def run_step_in_worker(task: StepTask, tool: Tool, inputs: ArtifactBundle | None) -> dict[str, Any]:
    """Run one step inside a Ray worker; what the driver needs back.

    Args:
        task: The step, as plain data.
        tool: The tool (a fresh copy in a task; the actor's own copy, set up once, in an actor).
        inputs: ``None`` when the store at ``task.store_root`` is shared with this worker; otherwise the input
            artifacts with their bytes, and the step runs against a private temporary store.

    Returns:
        ``{"record": execute_step's record (plus "worker": node and pid), "events": [(kind, data)...],
        "outputs": an ArtifactBundle of the output bytes, or None with a shared store}``.
    """
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(kind: str, data: dict[str, Any]) -> None:
        events.append((kind, dict(data)))

    where = _where()
    if inputs is None:
        store = _store_at(task.store_root)
        missing = sorted(name for name, rec in task.inputs.items() if not store.exists(rec))
        if missing:  # a worker on another machine made itself an empty store at that path
            record = failed_record(task, f"inputs {missing} are not in the artifact store at {task.store_root!r} "
                                          f"on node {where['node']}: the store is not shared with this worker; "
                                          "mount it at the same path or set MMAGENT_RAY_SHARED_STORE=0")
        else:
            record = execute_step(task, tool, store, emit)
        return {"record": {**record, "worker": where}, "events": events, "outputs": None}
    with TemporaryStore() as scratch:
        unpack(inputs, scratch)
        # the driver's run directory is not here either; tools get no run_dir rather than a wrong one
        record = execute_step(replace(task, store_root=str(scratch.root), run_dir=None), tool, scratch, emit)
        outputs = pack(scratch, record.get("outputs", {}).values())
    return {"record": {**record, "worker": where}, "events": events, "outputs": outputs}


class ToolWorker:
    """The body of a Ray actor that holds one tool (and, through the process-wide model cache, its models)."""

    def __init__(self, tool: Tool) -> None:
        import ray

        self.tool = tool
        # Ray restarts a crashed actor in a new process and runs this again; the driver retires an actor that
        # has used its restart, so the next crash of a step still gets a retry (on a fresh actor)
        self.restarted = bool(ray.get_runtime_context().was_current_actor_reconstructed)

    def run(self, task: StepTask, inputs: ArtifactBundle | None) -> dict[str, Any]:
        reply = run_step_in_worker(task, self.tool, inputs)
        reply["record"]["worker"]["restarted"] = self.restarted
        return reply

    def model_loads(self) -> int:
        """Models this worker process has loaded so far."""
        from tools.model_cache import model_cache

        return model_cache.loads
