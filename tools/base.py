"""The :class:`Tool` protocol every node of a plan runs: declared kinds in and out, JSON-schema params,
availability with a reason, lazy set-up, metrics for checks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from modalities.settings import Settings
from modalities.settings import settings as current_settings
from modalities.store import ArtifactStore
from tools._extras import missing_modules
from tools.checks import Check

__all__ = ["Availability", "ToolContext", "ToolResult", "Tool", "NoParams", "is_verifier"]


@dataclass(frozen=True)
class Availability:
    """Whether a tool can run here, and if not, why (and how to fix it)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass
class ToolContext:
    """What a running tool may use besides its inputs: the store, scratch space, events, its deadline, and the
    settings of the run (the agent's, whichever process the step runs in)."""

    store: ArtifactStore
    step_id: str = "step"
    run_dir: Path | None = None
    device: str = ""  # what the run asks for (default: the settings' device); a GPU-capable tool resolves it
    emit: Callable[[str, dict[str, Any]], None] = lambda kind, data: None
    attempt: int = 1
    task: str = ""
    settings: Settings = field(default_factory=current_settings)

    def __post_init__(self) -> None:
        self.device = self.device or self.settings.device

    def scratch(self) -> Path:
        return self.store.scratch_dir()

    def load_model(self, model: str, loader: Callable[[], tuple[Any, int]], device: str | None = None) -> Any:
        """A model from the process-wide cache, loading it (and saying so) the first time.

        ``loader`` returns ``(model, approximate bytes in memory)``; ``device`` is where the tool put it (the
        model cache budgets each device's memory apart). A tool that does not say runs it on the CPU, unless the
        run named a device outright.
        """
        from tools.model_cache import model_cache

        dev = device or (self.device if self.device not in ("auto", "") else "cpu")

        def load() -> tuple[Any, int]:
            # said by the one step that loads it: a parallel step waiting for the same model gets the cached one
            self.emit("model_loading", {"model": model, "device": dev, "step": self.step_id})
            return loader()

        return model_cache.get(model, dev, load)


@dataclass
class ToolResult:
    """What a tool returns: its output artifacts by name and the metrics checks can compare."""

    outputs: dict[str, Artifact]
    metrics: dict[str, Any] = field(default_factory=dict)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tool:
    """Base class of every tool.

    Subclasses set the class attributes and implement :meth:`run`; model-backed tools load their model in
    :meth:`setup` (called once, on first use, never in ``__init__``).

    Attributes:
        name: Unique name used in plans.
        description: One sentence a planner reads to choose the tool.
        family: Tool family (vision, audio, code, browser, generation, text...), matching a pip extra.
        inputs: Input name -> artifact kind, all required unless listed in ``optional_inputs``.
        outputs: Output name -> artifact kind.
        params_model: Pydantic model of the JSON params (its JSON schema is shown to planners).
        metrics: Metric name -> meaning, for checks.
        default_checks: Checks applied when a plan step gives none.
        requires: Importable modules the tool needs; missing ones make it unavailable.
        extra: The pip extra that installs ``requires``.
        timeout_s: Default per-step time limit.
        judges: Inputs whose producers are suspects when this tool's checks fail (a comparison tool).
        retry_params: Param values to try in order when the step is retried after a divergence.
        revised_params: The params :meth:`revise` sets from what a judge reported on one run's output (words a
            voice misheard). They answer that run only: a plan reused from memory starts without them.
        resources: What one call needs from a cluster executor, e.g. ``{"num_gpus": 1, "memory": 2e9}``: the keys
            ``num_cpus``, ``num_gpus`` and ``memory`` (bytes) plus any custom resource name. Empty: the executor's
            defaults. The local executor ignores it.
        stateful: The tool holds a loaded model between calls. A cluster executor runs it in a long-lived worker
            (a Ray actor) reused by every step, so the model loads once per worker, not once per step.
        light: The tool is quick pure Python: no native libraries (models, BLAS), no subprocesses, nothing that
            can block while holding the GIL. The local executor runs light tools on threads of the driver; every
            other tool runs in a worker process that is killed when the step passes its time limit.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    family: ClassVar[str] = "general"
    inputs: ClassVar[Mapping[str, str]] = {}
    optional_inputs: ClassVar[frozenset[str]] = frozenset()
    outputs: ClassVar[Mapping[str, str]] = {}
    params_model: ClassVar[type[BaseModel]] = NoParams
    metrics: ClassVar[Mapping[str, str]] = {}
    default_checks: ClassVar[tuple[Check | str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    timeout_s: ClassVar[float] = 600.0
    judges: ClassVar[tuple[str, ...]] = ()
    retry_params: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    revised_params: ClassVar[tuple[str, ...]] = ()
    resources: ClassVar[Mapping[str, float]] = {}
    stateful: ClassVar[bool] = False
    light: ClassVar[bool] = False

    def __init__(self) -> None:
        self._setup_lock = threading.Lock()
        self._is_setup = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {dict(self.inputs)} -> {dict(self.outputs)}>"

    def __getstate__(self) -> dict[str, Any]:
        # a tool travels to other processes without its lock or loaded models; it sets up again there
        state = dict(self.__dict__)
        state.pop("_setup_lock", None)
        state["_is_setup"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._setup_lock = threading.Lock()

    # -- settings ----------------------------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        """Run with ``settings`` rather than the environment's. An :class:`~agent.Agent` configures its tools
        with its own settings (through :meth:`ToolRegistry.configure`); they travel with the tool into worker
        processes and cluster nodes."""
        self._settings = settings

    @property
    def settings(self) -> Settings:
        """The settings this tool runs with: the ones it was configured with, else the environment's, now.

        Example:
            >>> tool = Tool()
            >>> tool.configure(Settings(max_pixels=1000))
            >>> tool.settings.max_pixels
            1000
        """
        configured = self.__dict__.get("_settings")
        return configured if configured is not None else current_settings()

    # -- availability and set-up -------------------------------------------------------------------------
    def available(self) -> Availability:
        """Whether the tool can run here. Override to also check weights; keep it cheap (no model loads)."""
        missing = missing_modules(*self.requires)
        if missing:
            extra = f"pip install 'mmagent[{self.extra}]'" if self.extra else "install them"
            return Availability(False, f"missing {', '.join(missing)}; {extra}")
        return Availability(True)

    def setup(self) -> None:
        """Load models or other heavy state. Called once per tool object, before the first run."""

    def ensure_setup(self) -> None:
        if self._is_setup:
            return
        with self._setup_lock:
            if not self._is_setup:
                self.setup()
                self._is_setup = True

    # -- running -----------------------------------------------------------------------------------------
    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        raise NotImplementedError(f"tool {self.name!r} does not implement run()")

    def validate_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Params with defaults filled in; :class:`ConfigError` naming the bad field otherwise."""
        try:
            return self.params_model.model_validate(dict(params)).model_dump(mode="json")
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"tool {self.name!r} params are invalid: {problems}") from None

    def retry_variant(self, params: Mapping[str, Any], attempt: int,
                      evidence: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Params for retry number ``attempt`` (1 = first retry), or None when there is nothing else to try.

        ``evidence`` is the metrics of the step whose check failed (a judge's report on this tool's output); the
        variant is adjusted to it by :meth:`revise`.
        """
        if attempt - 1 >= len(self.retry_params):
            return None
        varied = {**params, **self.retry_params[attempt - 1]}
        return {**varied, **self.revise(varied, evidence or {})}

    def revise(self, params: Mapping[str, Any], evidence: Mapping[str, Any]) -> Mapping[str, Any]:
        """Param overrides that answer what a judge found wrong with this tool's last output (``evidence``, the
        judge's metrics), applied over each retry variant: a script whose words a voice did not say back is
        rewritten without them. None by default."""
        return {}

    # -- description -------------------------------------------------------------------------------------
    def checks(self) -> list[Check]:
        return [c if isinstance(c, Check) else Check.model_validate(c) for c in self.default_checks]

    def params_schema(self) -> dict[str, Any]:
        schema = self.params_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (what ``agent tools --json`` prints and planner prompts are built from)."""
        avail = self.available()
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "inputs": dict(self.inputs),
            "optional_inputs": sorted(self.optional_inputs),
            "outputs": dict(self.outputs),
            "params": self.params_schema(),
            "metrics": dict(self.metrics),
            "default_checks": [c.label() for c in self.checks()],
            "available": avail.ok,
            "reason": avail.reason,
        }

    def required_inputs(self) -> list[str]:
        return [n for n in self.inputs if n not in self.optional_inputs]


def is_verifier(tool: Tool) -> bool:
    """A tool whose only product is a judgement of other steps' work: it reports metrics (or names what it
    judges) and outputs nothing but JSON. A maker that also judges its input (a page video that checks the page
    for blank frames) is still a maker."""
    reports_only = all(k == "json" for k in tool.outputs.values())
    return reports_only and (bool(tool.judges) or bool(tool.metrics))


def check_tool_definition(tool: Tool) -> None:
    """Fail early (at registration) on a tool that planners could not use."""
    problems = []
    if not tool.name or not tool.name.replace("_", "a").isalnum():
        problems.append(f"name {tool.name!r} must be a non-empty identifier")
    if not tool.description:
        problems.append("description is empty")
    if not tool.outputs:
        problems.append("declares no outputs")
    if problems:
        raise ConfigError(f"tool {tool.name or type(tool).__name__!r} is incomplete: " + "; ".join(problems))
