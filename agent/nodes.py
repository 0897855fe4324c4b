"""The runtime's node functions: plan, approve, schedule (execute + check), replan, finish.

``schedule`` is the eager scheduler. LangGraph moves in supersteps, so dispatching steps as graph nodes would make
a short branch wait for a long one. Instead steps run on the executor's own pool; each ``schedule`` call launches
every ready step, waits for the first completion, and returns the completed results as one state update (one
checkpoint). Quick steps that end within a short window, and the dependents they unblock, join that update, so a
chain of quick steps does not pay a checkpoint each. Steps still running stay in flight across calls. Results are
keyed by step id and content (the journal), never by call order, so resume after a crash gives every step its own
result.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.types import interrupt

from agent.events import EventSink
from agent.executor import LocalExecutor, StepExecutor
from agent.journal import StepJournal, step_key
from agent.state import RunState
from agent.stepping import StepRecord, StepTask, error_text
from modalities.artifacts import Artifact
from modalities.errors import ConfigError, PlanningError, PlanValidationError, StoreError, UserError
from modalities.settings import Settings
from modalities.store import ArtifactStore
from planners.base import Divergence, Planner, ReplanRequest, announcing
from planners.feasibility import check_deliverables, complete_deliverables, plan_or_explain
from planners.param_refs import param_shapes, param_value
from planners.plan import Plan, Step, downstream_of, parse_plan, parse_ref, validate
from planners.requirements import fit_params, with_requirements
from tools.base import Tool, is_verifier
from tools.registry import ToolRegistry

__all__ = ["Budgets", "RunContext", "Nodes"]


@dataclass
class Budgets:
    """Limits of one run. ``None`` means no limit."""

    max_replans: int = 3
    max_steps: int = 64
    step_timeout_s: float | None = None
    run_timeout_s: float | None = None


_JOURNAL_ONLY = frozenset({"inputs", "params", "traceback"})
_DRAIN_S = 30.0  # how long a failing run waits for independent steps still running
_BATCH_S = 0.1  # quick steps finishing within this window share one checkpoint


@dataclass
class _Inflight:
    task: StepTask
    row: int
    future: Future[dict[str, Any]]
    deadline: float
    limit_s: float
    started: float = field(default_factory=time.time)

    @property
    def step_id(self) -> str:
        return self.task.step_id

    @property
    def key(self) -> str:
        return self.task.key


@dataclass
class RunContext:
    """What the nodes of one run share outside the graph state: the store, tools, planner, pool and journal."""

    run_id: str
    run_dir: Path
    store: ArtifactStore
    registry: ToolRegistry
    planner: Planner
    journal: StepJournal
    sink: EventSink
    executor: StepExecutor = field(default_factory=LocalExecutor)
    budgets: Budgets = field(default_factory=Budgets)
    device: str = "cpu"
    task: str = ""
    settings: Settings | None = None  # the agent's, carried by each step (None: each tool's own)
    started: float = field(default_factory=time.time)
    inflight: dict[str, _Inflight] = field(default_factory=dict)
    # set by Agent.cancel from another thread; a future, so the scheduler's wait on its steps wakes for it too
    cancel: Future[None] = field(default_factory=Future)

    def executor_abandon(self, future: Future[dict[str, Any]]) -> None:
        """A step's call ran past its limit: the executor stops it (a worker process or a Ray worker is killed;
        a thread, which cannot be killed, is written off and replaced)."""
        self.executor.abandon(future)


_PART_KINDS: dict[str, set[str]] = {"audio_track": {"audio"}, "about": {"audio", "text"}, "speed": {"audio"}}
"""Requirement kind -> kinds of artifact that make the part of a deliverable it is about (a video's voice)."""


class Nodes:
    """Node functions bound to one :class:`RunContext`."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self._plan_source: dict[str, Any] | None = None
        self._plan: Plan | None = None
        self._deps: dict[str, set[str]] = {}

    def current_plan(self, state: RunState) -> tuple[Plan, dict[str, set[str]]]:
        """The state's plan, parsed once per version (re-parsing a long plan every superstep dominated)."""
        source = state["plan"]
        if source is not self._plan_source or self._plan is None:
            self._plan = Plan.model_validate(source)
            self._deps = {s.id: s.dependencies() for s in self._plan.steps}
            self._plan_source = source  # keeps the object alive, so its identity cannot be reused
        return self._plan, self._deps

    def route_after_schedule(self, state: RunState) -> str:
        if state.get("status") == "failed":
            return "finish"
        if state.get("divergence"):
            return "replan"
        plan, _ = self.current_plan(state)
        results = state.get("results") or {}
        if all(results.get(s.id, {}).get("status") == "succeeded" for s in plan.steps):
            return "accept"
        return "schedule"

    def route_after_accept(self, state: RunState) -> str:
        return "replan" if state.get("divergence") and state.get("status") != "failed" else "finish"

    # -- plan --------------------------------------------------------------------------------------------
    def plan(self, state: RunState) -> dict[str, Any]:
        if state.get("plan"):
            return {}  # resumed after planning
        ctx = self.ctx
        inputs = {k: Artifact.from_state(v) for k, v in (state.get("inputs") or {}).items()}
        t0 = time.perf_counter()
        kinds = {k: v.kind for k, v in inputs.items()}
        try:
            with announcing(self._announce):
                plan = plan_or_explain(ctx.planner, state["task"], inputs, ctx.registry)
            plan = complete_deliverables(with_requirements(plan, state["task"], inputs, ctx.registry), ctx.registry,
                                         kinds)
            validate(plan, ctx.registry, kinds, max_steps=ctx.budgets.max_steps)
            check_deliverables(plan, ctx.registry, kinds)  # before any slow step runs
        except (PlanningError, PlanValidationError, UserError) as exc:
            return {"status": "failed", "error": f"planning failed: {exc}"}
        plan_s = time.perf_counter() - t0
        dumped = plan.model_dump(mode="json")
        ctx.sink.emit("plan_made", plan=dumped, planner=plan.planner or getattr(ctx.planner, "name", "?"),
                      seconds=round(plan_s, 3))
        return {"plan": dumped, "initial_plan": dumped, "status": "running"}

    def _announce(self, kind: str, data: dict[str, Any]) -> None:
        """A planner's word on slow work (its model loading): an event of the run, as a tool's would be."""
        self.ctx.sink.emit(kind, **{"step": "plan", **data})  # type: ignore[arg-type]

    # -- approve (human in the loop) ---------------------------------------------------------------------
    def approve(self, state: RunState) -> dict[str, Any]:
        if state.get("status") == "failed":
            return {}
        decision = interrupt({"plan": state["plan"], "question": "accept, edit or reject this plan?"})
        if decision in (True, "accept", "yes", "y"):
            return {}
        if isinstance(decision, dict) and "plan" in decision:
            try:
                plan = parse_plan(decision["plan"])
                inputs = {k: v["kind"] for k, v in (state.get("inputs") or {}).items()}
                validate(plan, self.ctx.registry, inputs, max_steps=self.ctx.budgets.max_steps)
            except PlanValidationError as exc:
                return {"status": "failed", "error": f"edited plan rejected: {exc}"}
            if not plan.requirements:  # an edited plan changes the how, not what the request asked for
                plan = plan.model_copy(update={"requirements": Plan.model_validate(state["plan"]).requirements})
            dumped = plan.model_dump(mode="json")
            self.ctx.sink.emit("plan_made", plan=dumped, planner="user edit", seconds=0.0)
            return {"plan": dumped}
        return {"status": "failed", "error": "plan rejected by the user"}

    # -- schedule: execute and check -----------------------------------------------------------------------
    def schedule(self, state: RunState) -> dict[str, Any]:
        ctx = self.ctx
        plan, deps = self.current_plan(state)
        results = state.get("results") or {}
        attempts = state.get("attempts") or {}
        for s in plan.steps:  # a failure recorded earlier (e.g. before a crash) still needs replanning
            rec = results.get(s.id)
            if rec and rec["status"] == "failed":
                return {"divergence": self._divergence(plan, s, rec).model_dump(mode="json")}
        if ctx.cancel.done():
            return {"status": "failed", "error": "cancelled by request"}
        if ctx.budgets.run_timeout_s is not None and time.time() - ctx.started > ctx.budgets.run_timeout_s:
            return {"status": "failed", "error": f"run time limit of {ctx.budgets.run_timeout_s:g} s reached; "
                                                 "resume it or raise --run-timeout"}
        # Steps that finish within the batch window share one checkpoint: a chain of quick steps would otherwise
        # pay a full superstep each. Nothing is lost by it, since the journal records every step as it ends.
        batch_until = time.time() + _BATCH_S
        updates: dict[str, dict[str, Any]] = {}
        while True:
            known = {**results, **updates}
            current, cached = self._launch_ready(plan, deps, state, known, attempts)
            updates.update(cached)
            if cached and not any(r["status"] == "failed" for r in cached.values()):
                continue  # their dependents may be ready now
            live = {k: f for k, f in ctx.inflight.items() if current.get(f.step_id) == k}
            if not updates and not live:
                if all(s.id in results for s in plan.steps):
                    return {}
                missing = [s.id for s in plan.steps if s.id not in results]
                return {"status": "failed", "error": f"steps {missing} can never run (their inputs failed)"}
            if not live or any(r["status"] == "failed" for r in updates.values()):
                break
            deadline = min(f.deadline for f in live.values())
            if ctx.budgets.run_timeout_s is not None:
                deadline = min(deadline, ctx.started + ctx.budgets.run_timeout_s)
            if updates:
                if time.time() >= batch_until:
                    break
                deadline = min(deadline, batch_until)
            wait([*(f.future for f in live.values()), ctx.cancel], timeout=max(0.0, deadline - time.time()),
                 return_when=FIRST_COMPLETED)
            finished = self._collect(current)
            if not finished:
                break  # the batch window closed, or the run's time ran out (the next call reports it)
            updates.update(finished)
        return {"results": updates} if updates else {}

    def _launch_ready(self, plan: Plan, deps: dict[str, set[str]], state: RunState, known: dict[str, Any],
                      attempts: dict[str, int]) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        """Launch every step whose inputs exist; (step id -> key of its current execution, records of steps the
        journal already finished)."""
        ctx = self.ctx
        succeeded = {sid for sid, r in known.items() if r["status"] == "succeeded"}
        current: dict[str, str] = {}
        cached: dict[str, dict[str, Any]] = {}
        for s in plan.steps:
            if s.id in known or not deps[s.id] <= succeeded:
                continue
            inputs = self._resolve_inputs(s, state, known)
            tool = ctx.registry.get(s.tool)
            attempt = attempts.get(s.id, 1)
            try:
                # params that take data made during the run get their values now; the key holds those values,
                # so a changed transcript is new work and resume never reuses captions made from an old one
                params = tool.validate_params(self._resolve_params(s, tool, state, known))
            except (ConfigError, StoreError, ValueError) as exc:
                cached[s.id] = self._unstartable(s, attempt, f"its params could not be filled: {exc}")
                continue
            key = step_key(s.id, s.tool, params, {k: a.id for k, a in inputs.items()}, attempt)
            current[s.id] = key
            if key in ctx.inflight:
                continue
            done = ctx.journal.completed(key)
            if done is not None:
                cached[s.id] = self._lean({**done, "cached": True})
                self._report(s.id, cached[s.id])
                continue
            self._launch(s, tool, inputs, params, key, attempt)
        return current, cached

    def _collect(self, current: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Records of the steps that ended or ran past their limit (those replaced meanwhile are dropped)."""
        ctx = self.ctx
        now = time.time()
        records: dict[str, dict[str, Any]] = {}
        for key, inf in list(ctx.inflight.items()):
            if inf.future.done():
                del ctx.inflight[key]
                rec = inf.future.result() if inf.future.exception() is None else self._crash_record(inf)
            elif inf.deadline <= now:
                del ctx.inflight[key]
                ctx.executor_abandon(inf.future)
                rec = self._timeout_record(inf)
            else:
                continue
            if current.get(inf.step_id) == key:
                records[inf.step_id] = self._lean(rec)
                self._report(inf.step_id, records[inf.step_id])
        return records

    @staticmethod
    def _lean(rec: dict[str, Any]) -> dict[str, Any]:
        # state keeps what routing, replanning and the summary need; inputs, params and tracebacks stay in the journal
        return {k: v for k, v in rec.items() if k not in _JOURNAL_ONLY}

    def _resolve_inputs(self, step: Step, state: RunState, results: dict[str, Any]) -> dict[str, Artifact]:
        resolved = {}
        for name, ref_text in step.inputs.items():
            ref = parse_ref(ref_text)
            if ref.input is not None:
                resolved[name] = Artifact.from_state(state["inputs"][ref.input])
            else:
                resolved[name] = Artifact.from_state(results[ref.step]["outputs"][ref.output])
        return resolved

    def _resolve_params(self, step: Step, tool: Tool, state: RunState, results: dict[str, Any]) -> dict[str, Any]:
        """The step's params with each reference (``{"from": ref}``) replaced by the value its data becomes."""
        refs = step.param_refs()
        if not refs:
            return step.params
        params = dict(step.params)
        for name, ref_text in refs.items():
            ref = parse_ref(ref_text)
            art = Artifact.from_state(state["inputs"][ref.input] if ref.input is not None
                                      else results[ref.step]["outputs"][ref.output])
            content = self.ctx.store.read_json(art) if art.kind == "json" else self.ctx.store.read_text(art)
            params[name] = param_value(art.kind, content, param_shapes(tool, name) or {"any"})
        return params

    def _unstartable(self, step: Step, attempt: int, error: str) -> dict[str, Any]:
        """The record of a step that could not start (a divergence like any failure, so replanning answers it)."""
        rec = StepRecord(step=step.id, tool=step.tool, status="failed", attempt=attempt, error=error).to_dict()
        self._report(step.id, rec)
        return rec

    def _launch(self, step: Step, tool: Tool, inputs: dict[str, Artifact], params: dict[str, Any], key: str,
                attempt: int) -> None:
        ctx = self.ctx
        timeout = tool.timeout_s
        if ctx.budgets.step_timeout_s is not None:
            timeout = min(timeout, ctx.budgets.step_timeout_s)
        row = ctx.journal.started(step.id, key)
        ctx.sink.emit("step_started", step=step.id, tool=step.tool, attempt=attempt,
                      inputs={k: a.short_id for k, a in inputs.items()})
        checks = list(step.expect) or tool.checks()
        task = StepTask(run_id=ctx.run_id, step_id=step.id, tool=step.tool,
                        inputs={k: a.to_state() for k, a in inputs.items()}, params=params,
                        checks=[c.model_dump(mode="json") for c in checks], attempt=attempt, key=key, task=ctx.task,
                        device=ctx.device, run_dir=str(ctx.run_dir), store_root=str(ctx.store.root),
                        settings=ctx.settings or tool.settings)
        future = ctx.executor.submit(task, tool, ctx.store, lambda kind, data: ctx.sink.emit(kind, **data))

        def journal_it(done: Future[dict[str, Any]]) -> None:
            # recorded the moment the step ends, from the worker's side: a crash before the next checkpoint
            # loses nothing
            if done.exception() is None:
                ctx.journal.finished(row, done.result())

        future.add_done_callback(journal_it)
        ctx.inflight[key] = _Inflight(task, row, future, time.time() + timeout, timeout)

    def _timeout_record(self, inf: _Inflight) -> dict[str, Any]:
        rec = StepRecord.timed_out(inf.task, inf.limit_s, started=inf.started).to_dict()
        self.ctx.journal.finished(inf.row, rec)
        return rec

    def _crash_record(self, inf: _Inflight) -> dict[str, Any]:
        exc = inf.future.exception()
        error = error_text(exc) if exc else "unknown error"
        rec = StepRecord.failed(inf.task, error, started=inf.started).to_dict()
        self.ctx.journal.finished(inf.row, rec)
        return rec

    def _report(self, step_id: str, rec: dict[str, Any]) -> None:
        sink = self.ctx.sink
        for outcome in rec.get("checks", []):
            sink.emit("check_passed" if outcome["passed"] else "check_failed", step=step_id, check=outcome["name"],
                      value=outcome.get("value"), expected=outcome.get("expected"), error=outcome.get("error"))
        sink.emit("step_finished", step=step_id, tool=rec.get("tool"), status=rec["status"],
                  seconds=rec.get("duration_s"), error=rec.get("error"), cached=rec.get("cached", False),
                  outputs={k: v["id"][:12] for k, v in rec.get("outputs", {}).items()})

    def _divergence(self, plan: Plan, step: Step, rec: dict[str, Any]) -> Divergence:
        failed = [c for c in rec.get("checks", []) if not c["passed"]]
        tool = self.ctx.registry.get(step.tool) if step.tool in self.ctx.registry else None
        suspects = self._judged_steps(step) if tool is not None and not rec.get("error") else []
        first = failed[0] if failed else {}
        # one step further back: what the suspects were made from, for the replanner to redo when they cannot
        upstream = [d for s in suspects for d in sorted(plan.step(s).dependencies()) if d not in suspects]
        return Divergence(step_id=step.id, tool=step.tool, check=first.get("name"),
                          error=rec.get("error") or first.get("error"), observed=first.get("value"),
                          expected=first.get("expected"), attempt=rec.get("attempt", 1), suspects=suspects,
                          upstream=list(dict.fromkeys(upstream)),
                          missing=str((rec.get("metrics") or {}).get("missing") or "") or None,
                          metrics=dict(rec.get("metrics") or {}))

    # -- replan -------------------------------------------------------------------------------------------
    def replan(self, state: RunState) -> dict[str, Any]:
        ctx = self.ctx
        div = Divergence.model_validate(state["divergence"])
        done_replans = len(state.get("replans") or [])
        plan = Plan.model_validate(state["plan"])
        if self._budget_spent(state, div.step_id):
            return self._without_failed_branch(state, plan, div) or {
                "divergence": None, "status": "failed",
                "error": f"replan budget of {ctx.budgets.max_replans} spent; last divergence: {div.summary()}"}
        results = state.get("results") or {}
        attempts = {s.id: (state.get("attempts") or {}).get(s.id, 1) for s in plan.steps}
        affected = downstream_of(plan, [div.step_id, *div.suspects])
        done = {sid: r["outputs"] for sid, r in results.items() if sid not in affected and r["status"] == "succeeded"}
        request = ReplanRequest(plan=plan, divergence=div, affected=sorted(affected), attempts=attempts,
                                variants=self._variants(state, plan), done=done)
        # a model-backed replan can take a while: say it has started
        ctx.sink.emit("replanning", reason=div.summary(), affected=sorted(affected),
                      planner=getattr(ctx.planner, "name", type(ctx.planner).__name__), number=done_replans + 1)
        try:
            with announcing(self._announce):
                replacement = ctx.planner.replan(request, ctx.registry)
            # a replacement may reach one step further back (div.upstream): then all that follows it is redone too
            back = [s.id for s in replacement if s.id in div.upstream and s.id not in affected]
            if back:
                affected = downstream_of(plan, [*affected, *back])
            kept_ids = {s.id for s in plan.steps if s.id not in affected}
            clash = [s.id for s in replacement if s.id in kept_ids]
            if clash:
                raise PlanValidationError([f"replacement step {c!r} would overwrite a finished step" for c in clash])
            by_id = {s.id: s for s in replacement}
            steps = [by_id.pop(s.id, s) for s in plan.steps if s.id not in affected or s.id in by_id]
            # what the request fixed (a pace, a length) holds in a replacement too, whatever variant it tries
            new_plan = fit_params(plan.model_copy(update={"steps": steps + list(by_id.values())}), ctx.registry)
            inputs = {k: v["kind"] for k, v in (state.get("inputs") or {}).items()}
            validate(new_plan, ctx.registry, inputs, max_steps=ctx.budgets.max_steps)
        except (PlanningError, PlanValidationError, UserError) as exc:
            return self._without_failed_branch(state, plan, div) or {
                "divergence": None, "status": "failed", "error": f"replanning failed: {exc}"}
        after = new_plan.model_dump(mode="json")
        new_ids = {s.id for s in new_plan.steps}
        entry = {"reason": div.model_dump(mode="json"), "summary": div.summary(), "affected": sorted(affected),
                 "before": state["plan"], "after": after, "t": time.time()}
        ctx.sink.emit("replanned", reason=div.summary(), affected=sorted(affected), plan=after,
                      number=done_replans + 1)
        history = [{**results[sid], "step": sid} for sid in sorted(affected) if sid in results]
        return {
            "plan": after,
            "divergence": None,
            "results": {sid: None for sid in affected if sid in results},
            "attempts": {sid: attempts.get(sid, 0) + 1 for sid in affected if sid in new_ids},
            "replans": [entry],
            "history": history,
        }

    @staticmethod
    def _variants(state: RunState, plan: Plan) -> dict[str, int]:
        """How many variants of each step the replans so far have tried: those that changed its params or its
        tool. A step re-run as it was, because something before it changed, has tried none: its next variant is
        still its first (a narration rewritten after each new page had spent its variants without trying one)."""
        counts = {s.id: 0 for s in plan.steps}
        for entry in state.get("replans") or []:
            before = {s["id"]: s for s in (entry.get("before") or {}).get("steps", [])}
            for step in (entry.get("after") or {}).get("steps", []):
                old = before.get(step["id"])
                if old is not None and step["id"] in counts and (old.get("tool"), old.get("params")) != (
                        step.get("tool"), step.get("params")):
                    counts[step["id"]] += 1
        return counts

    def _budget_spent(self, state: RunState, step_id: str) -> bool:
        """Whether a divergence at ``step_id`` may not be replanned: ``max_replans`` replans were made for this
        step's divergences already, or twice that for the whole run. Two judges of independent branches (the page's
        fidelity, the narration's round trip) each get their tries; a page that used up its tries does not leave
        the narration none. The run's cap keeps every run finite."""
        replans = state.get("replans") or []
        mine = sum(1 for r in replans if (r.get("reason") or {}).get("step_id") == step_id)
        limit = self.ctx.budgets.max_replans
        return mine >= limit or len(replans) >= 2 * limit

    def _without_failed_branch(self, state: RunState, plan: Plan, div: Divergence) -> dict[str, Any] | None:
        """A step that failed for good, on a branch the request does not need (a page nobody asked for, added
        beside the slideshow that was), is dropped with all that cannot run without it or what it judged (steps
        that only took an optional input from it go on without that input), instead of failing the run. The rest
        runs on and the request's requirements decide the outcome on the deliverables, as always. None when the
        request states no requirements, or the branch holds the plan's only final output of a kind it asks for."""
        if not plan.requirements:
            return None
        registry = self.ctx.registry
        failed = plan.step(div.step_id)
        doubt, kept = self._cut_off(plan, {failed.id, *self._judged_steps(failed)})
        if not kept:
            return None
        # what the plan meant to hand over, by kind: the failed branch may take none that is left without another
        finals: dict[str, set[str]] = {}
        for ref_text in plan.final_outputs(registry).values():
            ref = parse_ref(ref_text)
            if ref.step is not None:
                kind = registry.get(plan.step(ref.step).tool).outputs.get(ref.output, "")
                finals.setdefault(kind, set()).add(ref.step)
        left = {kind for s in kept for kind in registry.get(s.tool).outputs.values()}
        for req in plan.requirements:
            # a requirement on what a deliverable holds (its speech, what its narration says) needs the branch
            # that makes that part, when nothing left makes one: a narrated video without its voice is not
            # what was asked
            needs = _PART_KINDS.get(req.kind, set())
            if any(registry.get(plan.step(d).tool).outputs.get(o) in needs - left
                   for d in doubt for o in registry.get(plan.step(d).tool).outputs):
                return None
            if req.kind != "deliverable":
                continue
            steps = set().union(*(finals.get(k, set()) for k in (req.params.get("kinds") or [req.target])))
            if steps & doubt and not steps - doubt:
                return None  # the branch makes what was asked for: its failure is the run's
        dropped = sorted(doubt)
        outputs = {name: ref for name, ref in plan.outputs.items() if parse_ref(ref).step not in doubt}
        after = plan.model_copy(update={"steps": kept, "outputs": outputs}).model_dump(mode="json")
        summary = f"dropped {', '.join(dropped)}: {div.summary()}"
        self.ctx.sink.emit("replanned", reason=summary, affected=dropped, plan=after,
                           number=len(state.get("replans") or []) + 1)
        results = state.get("results") or {}
        entry = {"reason": div.model_dump(mode="json"), "summary": summary, "affected": dropped, "dropped": dropped,
                 "before": state["plan"], "after": after, "t": time.time()}
        return {"plan": after, "divergence": None, "replans": [entry],
                "results": {sid: None for sid in dropped if sid in results},
                "history": [{**results[sid], "step": sid} for sid in dropped if sid in results]}

    def _cut_off(self, plan: Plan, roots: set[str]) -> tuple[set[str], list[Step]]:
        """The steps that cannot run without ``roots`` (a required input or a param taken from one of them, at any
        remove), and the other steps, each without the optional inputs it took from those (a slideshow goes on
        without the narration whose branch failed)."""
        registry = self.ctx.registry
        doubt = set(roots)
        grew = True
        while grew:
            grew = False
            for step in plan.steps:
                if step.id in doubt:
                    continue
                optional = registry.get(step.tool).optional_inputs if step.tool in registry else frozenset()
                needed = [ref for name, ref in step.refs().items() if name not in optional]
                if any(parse_ref(ref).step in doubt for ref in needed):
                    doubt.add(step.id)
                    grew = True
        kept = []
        for step in plan.steps:
            if step.id in doubt:
                continue
            inputs = {n: r for n, r in step.inputs.items() if parse_ref(r).step not in doubt}
            kept.append(step if inputs == step.inputs else step.model_copy(update={"inputs": inputs}))
        return doubt, kept

    # -- accept: the request's requirements, on the deliverables ----------------------------------------------
    def accept(self, state: RunState) -> dict[str, Any]:
        """Check each requirement on the files the run delivers. A failed one is a divergence of the step that
        made the judged output (the replanner tries again), until the replan budget is spent: then the run fails,
        keeps its files, and names the requirement."""
        ctx = self.ctx
        plan = Plan.model_validate(state["plan"])
        if not plan.requirements:
            return {"requirements": []}
        results = state.get("results") or {}
        refs = self._delivered(plan, state)
        outputs = {name: self._artifact(state, results, ref) for name, ref in refs.items()}
        texts = {f"{sid}.{out}": Artifact.from_state(rec) for sid, r in results.items()
                 for out, rec in (r or {}).get("outputs", {}).items() if rec.get("kind") == "text"}
        inputs = {k: Artifact.from_state(v) for k, v in (state.get("inputs") or {}).items()}
        from agent.acceptance import check_requirements, spoken_scripts

        def resolve(ref: str) -> Artifact | None:
            parsed = parse_ref(ref)
            if parsed.step is not None and not (results.get(parsed.step) or {}).get("outputs", {}).get(parsed.output):
                return None
            return self._artifact(state, results, ref)

        spoken = spoken_scripts(plan, refs, resolve, ctx.registry)
        outcomes = check_requirements(plan.requirements, outputs, ctx.store, inputs=inputs, texts=texts,
                                      spoken=spoken, ocr_side=ctx.settings.sketch_det_side if ctx.settings else None)
        if inputs:
            outcomes = [self._made_from_inputs(plan, refs, o) for o in outcomes]
        for o in outcomes:
            ctx.sink.emit("requirement_checked", requirement=o.id, text=o.text, passed=o.passed,
                          evidence=o.evidence, output=o.output)
        update: dict[str, Any] = {"requirements": [o.to_json() for o in outcomes]}
        failed = [o for o in outcomes if not o.passed]
        if not failed:
            return update
        first = failed[0]
        ref = parse_ref(refs[first.output]) if first.output in refs else None
        if ref is None or ref.step is None or self._budget_spent(state, ref.step):
            names = "; ".join(f"{o.text} ({o.evidence})" for o in failed)
            return {**update, "status": "failed", "error": f"the request was not met: {names}"}
        step = plan.step(ref.step)
        # what a video's narration says is its script's doing: the step that wrote it is the one to redo (the
        # video itself has nothing else to try)
        kind = next((r.kind for r in plan.requirements if r.id == first.id), None)
        script = spoken.get(first.output) if kind == "about" else None
        author = next((sid for sid, r in results.items() if script is not None and any(
            rec.get("id") == script.id for rec in (r or {}).get("outputs", {}).values())), None)
        div = Divergence(step_id=step.id, tool=step.tool, check=f"requirement {first.id}", observed=first.evidence,
                         expected=f"requirement: {first.text}", attempt=(state.get("attempts") or {}).get(step.id, 1),
                         suspects=[author] if author else [])
        return {**update, "divergence": div.model_dump(mode="json")}

    @staticmethod
    def _made_from_inputs(plan: Plan, refs: dict[str, str], outcome: Any) -> Any:
        """A deliverable of a request that came with files must be made from at least one of them: a text the
        writer made from the request's words alone is not the transcript of "this recording"."""
        if not outcome.passed or outcome.output not in refs or not outcome.id.startswith(("deliver_", "answer")):
            return outcome
        by_id = {s.id: s for s in plan.steps}
        seen: set[str] = set()
        todo = [refs[outcome.output]]
        while todo:
            ref = parse_ref(todo.pop())
            if ref.input is not None:
                return outcome
            if ref.step in seen or ref.step not in by_id:
                continue
            seen.add(ref.step)
            todo += list(by_id[ref.step].refs().values())
        outcome.passed = False
        outcome.evidence = f"{outcome.evidence}, but made without reading any of the files given with the request"
        return outcome

    def _delivered(self, plan: Plan, state: RunState) -> dict[str, str]:
        """What the run hands over, name -> reference: the plan's final outputs, plus, for a kind of deliverable
        the request asks for that only a middle step made ("transcribe it, then read it aloud": the transcript),
        the last such product."""
        registry = self.ctx.registry
        refs = dict(plan.final_outputs(registry))
        wanted = {k for r in plan.requirements if r.kind == "deliverable"
                  for k in (r.params.get("kinds") or [r.target])}

        def kind(ref_text: str) -> str:
            ref = parse_ref(ref_text)
            if ref.input is not None:
                return (state.get("inputs") or {}).get(ref.input, {}).get("kind", "")
            return registry.get(plan.step(ref.step).tool).outputs.get(ref.output, "")

        missing = wanted - {kind(r) for r in refs.values()}
        extra: dict[str, tuple[str, str]] = {}
        for step in plan.steps:
            tool = registry.get(step.tool)
            if is_verifier(tool):
                continue
            for out, made in tool.outputs.items():
                if made in missing:
                    extra[made] = (step.id if len(tool.outputs) == 1 else f"{step.id}.{out}", f"{step.id}.{out}")
        return {**refs, **dict(extra.values())}

    @staticmethod
    def _artifact(state: RunState, results: dict[str, Any], ref_text: str) -> Artifact:
        ref = parse_ref(ref_text)
        if ref.input is not None:
            return Artifact.from_state(state["inputs"][ref.input])
        return Artifact.from_state(results[ref.step]["outputs"][ref.output])

    # -- finish -------------------------------------------------------------------------------------------
    def _drain(self, state: RunState) -> dict[str, dict[str, Any]]:
        """A failing run still lets independent steps already running finish (within their limits), so the
        report shows all the work that was done and kept."""
        ctx = self.ctx
        if not state.get("plan"):
            return {}
        plan, _ = self.current_plan(state)
        results = state.get("results") or {}
        pending = {k: f for k, f in ctx.inflight.items() if f.step_id in plan.ids() and f.step_id not in results}
        if pending and ctx.cancel.done():  # a cancelled run waits for nothing: its steps are stopped
            for inf in pending.values():
                ctx.executor_abandon(inf.future)
            return {}
        if pending:
            until = min(max(f.deadline for f in pending.values()), time.time() + _DRAIN_S)
            if ctx.budgets.run_timeout_s is not None:
                until = min(until, ctx.started + ctx.budgets.run_timeout_s)  # a run out of time waits no more
            wait([f.future for f in pending.values()], timeout=max(0.0, until - time.time()))
        updates = {}
        for key, inf in pending.items():
            if inf.future.done() and inf.future.exception() is None:
                del ctx.inflight[key]
                updates[inf.step_id] = {k: v for k, v in inf.future.result().items() if k not in _JOURNAL_ONLY}
                self._report(inf.step_id, updates[inf.step_id])
        return updates

    def finish(self, state: RunState) -> dict[str, Any]:
        if not state.get("plan"):
            return {"status": "failed", "results": self._drain(state)}
        failed = state.get("status") == "failed"
        drained = self._drain(state) if failed else {}
        plan = Plan.model_validate(state["plan"])
        # checkpointed results are the current attempts (work drained after a failure may be an old attempt's)
        results = state.get("results") or {}
        rejected = self._rejected(plan, results) if failed else set()
        outputs = {}
        for name, ref_text in self._delivered(plan, state).items():
            ref = parse_ref(ref_text)
            if ref.input is not None:
                if not failed:
                    outputs[name] = state["inputs"][ref.input]
            elif (results.get(ref.step) or {}).get("status") == "succeeded" and ref.step not in rejected:
                # a failed run keeps what its finished, unquestioned steps made (a video whose checks passed, say)
                outputs[name] = results[ref.step]["outputs"][ref.output]
        if failed:
            return {"status": "failed", "results": drained, "outputs": outputs}
        return {"status": "succeeded", "outputs": outputs}

    def _judged_steps(self, step: Step) -> list[str]:
        """The steps whose products ``step`` judges (through the inputs its tool declares it judges)."""
        if step.tool not in self.ctx.registry:
            return []
        refs = [parse_ref(step.inputs[n]) for n in self.ctx.registry.get(step.tool).judges if n in step.inputs]
        return [r.step for r in refs if r.step]

    def _rejected(self, plan: Plan, results: dict[str, Any]) -> set[str]:
        """Steps a failure puts in doubt: each failed step, what a failed check judged, and all that follows."""
        failed = {sid for sid, r in results.items() if r and r.get("status") == "failed"}
        judged = {j for s in plan.steps if s.id in failed for j in self._judged_steps(s)}
        return downstream_of(plan, failed | judged)

