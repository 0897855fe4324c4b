"""Plans, the planner protocol, validation, replanning, and the built-in planners."""

from __future__ import annotations

from typing import Any

from modalities.errors import ConfigError
from modalities.settings import Settings
from planners.base import Divergence, Planner, ReplanRequest
from planners.plan import Plan, Step, downstream_of, parse_plan, plan_issues, validate
from planners.replan import strategy_replan

__all__ = [
    "Divergence",
    "Plan",
    "Planner",
    "ReplanRequest",
    "Step",
    "downstream_of",
    "parse_plan",
    "plan_issues",
    "resolve_planner",
    "strategy_replan",
    "validate",
]


def resolve_planner(spec: str | Any | None, *, settings: Settings | None = None) -> Any:
    """A planner from a ``--planner`` value.

    ``symbolic``; ``local`` (the embedded GGUF model, or ``local:/path/model.gguf``); ``llm:<provider:model>``;
    ``auto`` (local LLM with symbolic repair, symbolic when no local model is installed); or
    ``package.module:attribute`` naming a planner object, class or factory. Planner objects pass through.
    The planner model, the ``llm:`` server's URL, the matcher, the cache folder and the hub timeout come from
    ``settings`` (default: the environment's).

    Example:
        >>> resolve_planner("llm:openai:gpt-4o", settings=Settings(planner_base_url="http://127.0.0.1:8080/v1")).base_url
        'http://127.0.0.1:8080/v1'
    """
    if spec is None or spec == "":
        spec = "auto"
    if not isinstance(spec, str):
        return spec
    settings = settings or Settings()
    name, _, arg = spec.partition(":")
    if name == "symbolic" and not arg:
        from planners.symbolic import SymbolicPlanner

        return SymbolicPlanner(matcher=settings.matcher)
    if name == "local":
        from planners.local import LocalLLMPlanner

        return LocalLLMPlanner(model_path=arg or None, settings=settings)
    if name == "llm":
        if not arg:
            raise ConfigError("--planner llm needs a model, e.g. 'llm:openai:gpt-4o'")
        from planners.llm import LLMPlanner

        return LLMPlanner(model=arg, settings=settings)
    if name == "auto" and not arg:
        from planners.local import auto_planner

        return auto_planner(settings=settings)
    if ":" in spec and "." in name or (":" in spec and name not in ("symbolic", "auto")):
        from tools.registry import load_object

        obj = load_object(spec)
        if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "plan")):
            obj = obj()
        if not hasattr(obj, "plan") or not hasattr(obj, "replan"):
            raise ConfigError(f"--planner {spec!r} is not a planner (needs plan() and replan())")
        return obj
    raise ConfigError(f"unknown planner {spec!r}; choose symbolic, local, local:/path.gguf, llm:<provider:model>, "
                      "auto, or package.module:attribute")
