"""Steps on a Ray cluster: light tools as Ray tasks, model-backed tools in long-lived Ray actors.

The runtime does not change: it hands each ready step to :meth:`RayExecutor.submit` and waits on the
returned future, exactly as with the local executor. Here the step runs in a Ray worker process:

- a tool with ``stateful = True`` (it keeps a model loaded) runs in a Ray actor that holds the tool, one actor per
  (tool, resources) and executor by default, reused by every later step and run of this executor, so the model
  loads once per actor, not once per step;
- any other tool runs as a plain Ray task;
- both ask Ray for the tool's declared ``resources`` (``{"num_gpus": 1, "memory": 2e9}``...).

Artifacts reach workers in one of two ways. With a shared store (the default on a single-node cluster, or with
``MMAGENT_RAY_SHARED_STORE=1`` when every node mounts the store at the same path) workers read and write the store
folder directly. Otherwise the step's input bytes travel with it through Ray's object store, the worker runs it
against a private temporary store, and its output bytes come back; the driver writes them into the real store
(atomically, content-addressed) and verifies every id (:mod:`modalities.remote_store`).

A worker or actor that dies mid-step is retried once by Ray (``max_retries`` for tasks, ``max_restarts`` and
``max_task_retries`` for actors, so the retry runs in a fresh process, on another node if Ray so places it). If the
retry dies too, the step becomes a failed record with the reason (a divergence the planner sees), never a lost run;
a dead actor is replaced for later steps. A step still running ``timeout_s`` (plus a grace period) after it was
submitted has its worker killed, which a hung model call in a thread never allows.

Ray is imported only when a :class:`RayExecutor` starts, so ``import agent`` stays light.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from agent._ray_worker import ToolWorker, failed_record, run_step_in_worker
from agent._threads import ThreadPool
from agent.stepping import StepTask, error_text
from modalities.errors import ConfigError
from modalities.remote_store import ArtifactBundle, pack, unpack
from modalities.settings import Settings
from modalities.settings import settings as current_settings
from modalities.store import ArtifactStore
from tools.base import Tool

__all__ = ["RayExecutor"]

_DEFAULT_OBJECT_STORE_BYTES = 512 * 2**20  # a private local head must not claim a third of RAM, Ray's default
_RAY_RESOURCES = ("num_cpus", "num_gpus", "memory")

Emit = Callable[[str, dict[str, Any]], None]


def _ray_options(resources: Mapping[str, float], *, actor: bool) -> dict[str, Any]:
    """Ray ``.options()`` for a tool's declared resources. A task takes one CPU unless told otherwise; an actor
    keeps Ray's default (one CPU to be placed, none held while idle), so idle model actors never starve tasks."""
    opts: dict[str, Any] = {}
    custom: dict[str, float] = {}
    for name, amount in resources.items():
        if name == "memory":
            opts[name] = int(amount)
        elif name in _RAY_RESOURCES:
            opts[name] = amount
        else:
            custom[name] = float(amount)
    if custom:
        opts["resources"] = custom
    if not actor:
        opts.setdefault("num_cpus", 1)
    return opts


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")


@dataclass(eq=False)
class _Actor:
    handle: Any
    key: tuple[str, tuple[tuple[str, float], ...]]
    busy: int = 0
    dead: bool = False  # died, or retired after a restart: takes no new steps


@dataclass(eq=False)
class _Call:
    task: StepTask
    tool: Tool
    store: ArtifactStore
    emit: Emit
    future: Future[dict[str, Any]]
    submitted: float = field(default_factory=time.time)
    ref: Any = None
    actor: _Actor | None = None
    timer: threading.Timer | None = None
    timed_out: bool = False


class RayExecutor:
    """Runs steps on a Ray cluster (or a private single-node Ray head).

    Args:
        address: ``None``: start a private local head with bounded resources. ``"auto"``: join the cluster
            ``ray start --head`` started on this machine. ``"HOST:6379"``: join that cluster from one of its
            nodes. ``"ray://HOST:10001"``: Ray Client. If this process already called ``ray.init``, that session
            is used whatever the address.
        shared_store: Whether workers see the artifact store folder at the same path. ``None``: the
            ``ray_shared_store`` of ``settings`` if set, else true exactly when the cluster is one node and the
            driver runs on it (decided when Ray starts).
        num_cpus: CPUs of a private local head (default: all of this machine's).
        num_gpus: GPUs of a private local head (default: what Ray detects).
        object_store_memory: Bytes of a private local head's object store (default 512 MiB).
        max_retries: Times Ray reruns a step whose worker or actor died (0 disables).
        actors_per_tool: Actors per model-backed tool: one number for all, or tool name -> number (missing: 1).
            Steps go to an idle actor, else a new one up to this number, else the least busy.
        runtime_env: Ray runtime environment for the workers (e.g. ``{"pip": [...]}``), when joining or starting.
        namespace: Ray namespace to join.
        log_to_driver: Stream worker logs to this process (off: they stay in Ray's log folder; stdout stays clean
            for ``--json``).
        kill_grace_s: Seconds past a tool's ``timeout_s`` before its worker is killed.
        settings: Where ``ray_shared_store`` comes from (default: the environment's, read now).

    Example:
        >>> from agent import Agent
        >>> executor = RayExecutor(num_cpus=2, object_store_memory=100 * 2**20)
        >>> agent = Agent(executor=executor)  # Ray starts with the first step of the first run
        >>> executor.started
        False
        >>> result = agent.run("turn this sketch into a page", ["sketch.png"])  # doctest: +SKIP
    """

    def __init__(self, address: str | None = None, *, shared_store: bool | None = None, num_cpus: int | None = None,
                 num_gpus: int | None = None, object_store_memory: int | None = None, max_retries: int = 1,
                 actors_per_tool: int | Mapping[str, int] = 1, runtime_env: Mapping[str, Any] | None = None,
                 namespace: str | None = None, log_to_driver: bool = False, kill_grace_s: float = 5.0,
                 settings: Settings | None = None) -> None:
        if max_retries < 0:
            raise ConfigError(f"max_retries must be 0 or more, got {max_retries!r}")
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.object_store_memory = object_store_memory
        self.max_retries = max_retries
        self.actors_per_tool = actors_per_tool
        self.runtime_env = dict(runtime_env) if runtime_env else None
        self.namespace = namespace
        self.log_to_driver = log_to_driver
        self.kill_grace_s = kill_grace_s
        if shared_store is None:
            shared_store = (settings or current_settings()).ray_shared_store
        self._shared_store = shared_store
        self._lock = threading.RLock()
        self._started = False
        self._owns_ray = False
        self._step_fn: Any = None
        self._actor_cls: Any = None
        self._actors: dict[tuple[str, tuple[tuple[str, float], ...]], list[_Actor]] = {}
        self._calls: dict[int, _Call] = {}  # running calls by id(future), so the runtime can abandon one
        self._tool_refs: dict[int, tuple[Tool, Any]] = {}
        self._post = ThreadPool(max_workers=2, name="mmagent-ray-post")  # finishing steps off Ray's own callback thread

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, shared_store={self._shared_store!r})"

    # -- connection --------------------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._started

    @property
    def shared_store(self) -> bool | None:
        """Whether workers use the store folder directly (``None`` until decided when Ray starts)."""
        return self._shared_store

    def start(self) -> None:
        """Join or start Ray now (otherwise the first step does). Safe to call again."""
        with self._lock:
            if self._started:
                return
            try:
                import ray
            except ImportError:
                from modalities.errors import MissingExtraError

                raise MissingExtraError("ray", "ray") from None
            if not ray.is_initialized():
                self._init_ray(ray)
            self._step_fn = ray.remote(run_step_in_worker)
            self._actor_cls = ray.remote(ToolWorker)
            if self._shared_store is None:
                self._shared_store = _single_node_with_driver(ray)
            self._started = True

    def _init_ray(self, ray: Any) -> None:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": self.log_to_driver,
                                  "namespace": self.namespace, "runtime_env": self.runtime_env}
        if self.address is None:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a private head has nobody to report to
            kwargs.update(address="local", num_cpus=self.num_cpus or os.cpu_count() or 1, num_gpus=self.num_gpus,
                          object_store_memory=self.object_store_memory or _DEFAULT_OBJECT_STORE_BYTES)
        else:
            _check_reachable(self.address)
            kwargs["address"] = self.address
        try:
            ray.init(**{k: v for k, v in kwargs.items() if v is not None})
        except ConnectionError as exc:
            raise ConfigError(f"cannot join the Ray cluster at {self.address!r}: {exc}; start one with "
                              "'ray start --head' or run with --executor ray to start a private one") from None
        self._owns_ray = True

    # -- running steps -----------------------------------------------------------------------------------------
    def submit(self, task: StepTask, tool: Tool, store: ArtifactStore, emit: Emit) -> Future[dict[str, Any]]:
        """Start ``task`` on the cluster; the future's result is the step's record (it never raises)."""
        self.start()
        future: Future[dict[str, Any]] = Future()
        future.set_running_or_notify_cancel()
        call = _Call(task, tool, store, emit, future)
        try:
            inputs = None if self._shared_store else pack(store, task.inputs.values())
            if tool.stateful:
                call.actor = self._acquire_actor(tool)
                call.ref = call.actor.handle.run.remote(task, inputs)
            else:
                options = _ray_options(tool.resources, actor=False)
                call.ref = self._step_fn.options(max_retries=self.max_retries, retry_exceptions=False,
                                                 **options).remote(task, self._tool_ref(tool), inputs)
        except Exception as exc:  # e.g. an input missing from the store, a resource Ray rejects
            self._release(call)
            future.set_result(failed_record(task, f"could not start the step on Ray: {error_text(exc)}"))
            return future
        with self._lock:
            self._calls[id(future)] = call
        call.timer = threading.Timer(tool.timeout_s + self.kill_grace_s, self._expire, args=(call,))
        call.timer.daemon = True
        call.timer.start()
        call.ref.future().add_done_callback(lambda done: self._post.submit(lambda: self._complete(call, done)))
        return future

    def _tool_ref(self, tool: Tool) -> Any:
        """The tool in Ray's object store, put once per tool object rather than pickled into every task."""
        import ray

        with self._lock:
            held = self._tool_refs.get(id(tool))
            if held is None or held[0] is not tool:
                held = self._tool_refs[id(tool)] = (tool, ray.put(tool))
            return held[1]

    def _actors_for(self, name: str) -> int:
        if isinstance(self.actors_per_tool, Mapping):
            return max(1, int(self.actors_per_tool.get(name, 1)))
        return max(1, int(self.actors_per_tool))

    def _acquire_actor(self, tool: Tool) -> _Actor:
        key = (tool.name, tuple(sorted((k, float(v)) for k, v in tool.resources.items())))
        with self._lock:
            pool = self._actors.setdefault(key, [])
            pool[:] = [a for a in pool if not a.dead]
            idle = [a for a in pool if a.busy == 0]
            if idle:
                actor = idle[0]
            elif len(pool) < self._actors_for(tool.name):
                options = _ray_options(tool.resources, actor=True)
                handle = self._actor_cls.options(max_restarts=self.max_retries, max_task_retries=self.max_retries,
                                                 max_concurrency=1, **options).remote(tool)
                actor = _Actor(handle, key)
                pool.append(actor)
            else:
                actor = min(pool, key=lambda a: a.busy)
            actor.busy += 1
            return actor

    def _release(self, call: _Call) -> None:
        actor = call.actor
        if actor is None:
            return
        with self._lock:
            actor.busy -= 1
            idle_and_retired = actor.dead and actor.busy == 0
        if idle_and_retired:
            import ray

            try:
                ray.kill(actor.handle, no_restart=True)
            except Exception:  # already dead
                pass

    def _check_restart(self, actor: _Actor, worker: Mapping[str, Any] | None) -> None:
        """Ray restarts a crashed actor at most ``max_retries`` times in its life, so an actor that used its
        restart is retired (it finishes what it holds): every step keeps its own retry, on a fresh actor."""
        if worker is not None and worker.get("restarted"):
            self._drop_actor(actor)

    def _drop_actor(self, actor: _Actor) -> None:
        with self._lock:
            actor.dead = True
            pool = self._actors.get(actor.key, [])
            if actor in pool:
                pool.remove(actor)

    def abandon(self, future: Future[dict[str, Any]]) -> None:
        """The runtime gave up on this step (its time limit, which may be shorter than the tool's): kill it now."""
        with self._lock:
            call = self._calls.get(id(future))
        if call is not None:
            self._expire(call)

    def _expire(self, call: _Call) -> None:
        """The step outlived its tool's time limit: kill the process running it (a thread could not be)."""
        if call.future.done():
            return
        import ray

        call.timed_out = True
        try:
            if call.actor is not None:
                self._drop_actor(call.actor)
                ray.kill(call.actor.handle, no_restart=True)
            else:
                ray.cancel(call.ref, force=True)
        except Exception:  # already gone: the completion callback reports it either way
            pass

    def _complete(self, call: _Call, done: Future[Any]) -> None:
        with self._lock:
            self._calls.pop(id(call.future), None)
        try:
            if call.timer is not None:
                call.timer.cancel()
            try:
                reply = done.result()
            except Exception as exc:
                record = self._lost_record(call, exc)
            else:
                record = self._accept(call, reply)
        except Exception as exc:  # never leave the runtime waiting on a future nobody will set
            record = failed_record(call.task, f"the Ray executor failed to collect the step: {error_text(exc)}",
                                    call.submitted)
        finally:
            self._release(call)
        call.future.set_result(record)

    def _accept(self, call: _Call, reply: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = reply["record"]
        if call.actor is not None:
            self._check_restart(call.actor, record.get("worker"))
        for kind, data in reply.get("events", ()):
            call.emit(kind, {**data, "worker": record.get("worker")})
        bundle: ArtifactBundle | None = reply.get("outputs")
        if bundle is not None:
            unpack(bundle, call.store)  # verifies every id against the bytes
        missing = sorted(name for name, art in record.get("outputs", {}).items() if not call.store.exists(art))
        if missing:
            hint = (f"; the workers do not share {call.store.root}: set MMAGENT_RAY_SHARED_STORE=0"
                    if self._shared_store else "")
            return failed_record(call.task, f"outputs {missing} never reached the artifact store{hint}",
                                  record.get("started"))
        return record

    def _lost_record(self, call: _Call, exc: BaseException) -> dict[str, Any]:
        from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

        tool = call.task.tool
        retried = f"after {self.max_retries} retr{'y' if self.max_retries == 1 else 'ies'}" if self.max_retries \
            else "(retries off)"
        if call.timed_out:
            error = (f"timed out: still running {call.tool.timeout_s + self.kill_grace_s:g} s after it started; "
                     "the Ray worker running it was killed")
        elif isinstance(exc, RayActorError):
            if call.actor is not None:
                self._drop_actor(call.actor)  # later steps get a fresh actor
            error = f"the Ray actor running tool {tool!r} died during the step {retried}: {_first_line(exc)}"
        elif isinstance(exc, WorkerCrashedError):
            error = f"the Ray worker running tool {tool!r} died during the step {retried}: {_first_line(exc)}"
        elif isinstance(exc, RayTaskError):
            cause = getattr(exc, "cause", None)
            error = f"the Ray worker failed to run the step: {_first_line(cause) if cause else _first_line(exc)}"
            if "No module named" in error:
                error += ("; a tool's module must be importable on every worker: install its package on each "
                          "node, or pass RayExecutor(runtime_env={'py_modules': [...]})")
        else:
            error = f"Ray lost the step: {_first_line(exc)}"
        return failed_record(call.task, error, call.submitted)

    # -- introspection and shutdown -------------------------------------------------------------------------------
    def actors(self) -> dict[str, int]:
        """Tool name -> live actors this executor holds for it."""
        with self._lock:
            counts: dict[str, int] = {}
            for (name, _), pool in self._actors.items():
                counts[name] = counts.get(name, 0) + sum(1 for a in pool if not a.dead)
            return counts

    def model_loads(self) -> dict[str, int]:
        """Tool name -> models loaded by its live actors, summed (asks each actor)."""
        import ray

        with self._lock:
            pools = [(name, list(pool)) for (name, _), pool in self._actors.items()]
        counts: dict[str, int] = {}
        for name, pool in pools:
            loads = ray.get([a.handle.model_loads.remote() for a in pool if not a.dead])
            counts[name] = counts.get(name, 0) + sum(loads)
        return counts

    def close(self) -> None:
        """Kill this executor's actors; stop Ray too when this executor started it."""
        with self._lock:
            if not self._started:
                return
            actors = [a for pool in self._actors.values() for a in pool]
            self._actors.clear()
            self._tool_refs.clear()
            self._started = False
        import ray

        for actor in actors:
            try:
                ray.kill(actor.handle, no_restart=True)
            except Exception:  # already dead
                pass
        self._post.shutdown()
        self._post = ThreadPool(max_workers=2, name="mmagent-ray-post")
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail at once on a ``HOST:PORT`` nobody answers at (Ray itself keeps retrying for minutes)."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local": Ray resolves those itself and fails fast
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray head at {address!r} ({exc.strerror or exc}); start it with "
                          "'ray start --head' there, or use --executor ray for a private local one") from None


def _single_node_with_driver(ray: Any) -> bool:
    """True when every worker shares this driver's machine (so its file system): one live node, not Ray Client."""
    try:
        from ray.util.client import ray as client

        if client.is_connected():
            return False
    except ImportError:  # pragma: no cover - very old Ray
        pass
    return sum(1 for node in ray.nodes() if node.get("Alive")) == 1
