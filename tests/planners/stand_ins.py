"""Stand-ins for the built-in tools, for planner tests: each carries the real tool's metadata (name, description,
kinds, params, metrics, checks, judges, retry variants), read from the shipped registry, so planner tests plan
with the text the product ships; none of them runs a model. Availability is fixed, the same on every machine: the
tools that need weights no package ships (CLIP, diffusion) are unavailable."""

from __future__ import annotations

from typing import Any

from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.registry import ToolRegistry, default_registry

NEEDS_WEIGHTS = frozenset({"image_text_score", "zero_shot_classify", "image_similarity", "text_to_image"})
_COPIED = ("name", "description", "family", "inputs", "optional_inputs", "outputs", "params_model", "metrics",
           "default_checks", "requires", "extra", "timeout_s", "judges", "retry_params", "light")


def stand_in(tool: Tool, *, available: bool = True) -> Tool:
    """A planning-only copy of ``tool``: the same metadata, a ``run`` that refuses."""

    def run(self: Tool, ctx: ToolContext, inputs: dict[str, Any], params: dict[str, Any]) -> ToolResult:
        raise AssertionError("stand-in tools are for planning only")

    def avail(self: Tool) -> Availability:
        return Availability(available, "" if available else "needs weights")

    attrs: dict[str, Any] = {a: getattr(tool, a) for a in _COPIED}
    if type(tool).retry_variant is not Tool.retry_variant:
        attrs["retry_variant"] = lambda self, params, attempt: tool.retry_variant(params, attempt)
    cls = type(f"StandIn_{tool.name}", (Tool,), {**attrs, "run": run, "available": avail})
    return cls()


def builtin_stand_ins() -> ToolRegistry:
    real = default_registry()
    return ToolRegistry([stand_in(real.get(name), available=name not in NEEDS_WEIGHTS) for name in real.names()])
