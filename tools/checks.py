"""Checks: what a step's result must satisfy, and the registry that evaluates them.

Tools publish metrics (``layout_score``, ``wer``...) and artifact properties (``duration_s``, ``words``...);
a check only compares one of those values with a threshold. The operators and artifact properties belong to a
:class:`CheckRegistry`; tools extend the default one (:data:`default_checks`) with ``register_property`` and
``register_op``, and a caller who wants other rules evaluates with a copy of its own.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from modalities.store import ArtifactStore

__all__ = [
    "Check", "CheckOutcome", "CheckRegistry", "default_checks", "evaluate_check", "register_op", "register_property",
    "is_known_property",
]

_Op = Callable[[Any, Any], bool]


def _num(v: Any) -> float:
    if isinstance(v, bool) or v is None:
        raise TypeError(f"expected a number, got {v!r}")
    return float(v)


def _nonempty(value: Any, _threshold: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value > 0
    return len(value) > 0


_BUILTIN_OPS: dict[str, _Op] = {
    ">=": lambda v, t: _num(v) >= _num(t),
    "<=": lambda v, t: _num(v) <= _num(t),
    ">": lambda v, t: _num(v) > _num(t),
    "<": lambda v, t: _num(v) < _num(t),
    "==": lambda v, t: v == t,
    "!=": lambda v, t: v != t,
    "between": lambda v, t: _num(t[0]) <= _num(v) <= _num(t[1]),
    "in": lambda v, t: v in t,
    "nonempty": _nonempty,
    "true": lambda v, _t: bool(v),
}
_CHECK_TEXT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s+(>=|<=|==|!=|>|<|between|in|nonempty|true)\s*(.*?)\s*$")


class Check(BaseModel):
    """One expectation on a step's result, e.g. ``layout_score >= 0.7`` or ``video.duration_s between [5, 60]``.

    ``on`` names a metric the tool reports, an output (for ``nonempty``), or ``<output>.<property>``.
    A check may be written as that string; it is parsed into this model.

    Example:
        >>> Check.model_validate("wer <= 0.2").threshold
        0.2
    """

    model_config = ConfigDict(frozen=True)

    on: str = Field(pattern=r"^[A-Za-z_][\w.]*$")
    op: str = ">="
    threshold: Any = None
    name: str = ""

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, str):
            m = _CHECK_TEXT.match(data)
            if not m:
                raise ValueError(f"cannot parse check {data!r}; write it like 'layout_score >= 0.7'")
            on, op, rest = m.groups()
            threshold = json.loads(rest) if rest else None
            return {"on": on, "op": op, "threshold": threshold}
        return data

    @model_validator(mode="after")
    def _known_op(self) -> Check:
        if self.op not in default_checks.ops:
            raise ValueError(f"unknown check operator {self.op!r}; choose one of {sorted(default_checks.ops)}")
        if self.op not in default_checks.unary and self.threshold is None:
            raise ValueError(f"check on {self.on!r} with {self.op!r} needs a threshold")
        if self.op == "between" and not (isinstance(self.threshold, (list, tuple)) and len(self.threshold) == 2):
            raise ValueError(f"'between' needs [low, high], got {self.threshold!r}")
        if not self.name:
            object.__setattr__(self, "name", self.label())
        return self

    def label(self) -> str:
        if self.op in default_checks.unary:
            return f"{self.on} {self.op}"
        return f"{self.on} {self.op} {json.dumps(self.threshold)}"


class CheckOutcome(BaseModel):
    """The result of one check: passed or not, with the value observed."""

    name: str
    passed: bool
    value: Any = None
    expected: str = ""
    error: str | None = None


# Metadata keys artifacts commonly carry; validation accepts checks on them before any result exists.
META_KEYS = frozenset({"duration_s", "width", "height", "fps", "sample_rate", "channels", "chars", "frames"})
_Property = Callable[[Artifact, ArtifactStore], Any]


class CheckRegistry:
    """The operators checks may use and the artifact properties they may read.

    Example:
        >>> mine = default_checks.copy()
        >>> mine.register_op("divides", lambda v, t: t % v == 0)
        >>> "divides" in mine.ops, "divides" in default_checks.ops
        (True, False)
    """

    def __init__(self, ops: Mapping[str, _Op], unary: set[str], properties: Mapping[str, _Property]) -> None:
        self.ops = dict(ops)
        self.unary = set(unary)
        self.properties = dict(properties)

    @classmethod
    def builtin(cls) -> CheckRegistry:
        return cls(_BUILTIN_OPS, {"nonempty", "true"}, {
            "size": lambda a, s: a.size,
            "chars": lambda a, s: len(s.read_text(a).strip()),
            "words": lambda a, s: len(s.read_text(a).split()),
        })

    def copy(self) -> CheckRegistry:
        return CheckRegistry(self.ops, self.unary, self.properties)

    def register_op(self, name: str, fn: _Op, *, unary: bool = False) -> None:
        """Add a comparison operator (``fn(value, threshold) -> bool``)."""
        self.ops[name] = fn
        if unary:
            self.unary.add(name)

    def register_property(self, name: str, fn: _Property) -> None:
        """Add an artifact property checks can read as ``<output>.<name>`` (metadata keys are built in)."""
        self.properties[name] = fn

    def is_known_property(self, name: str) -> bool:
        return name in self.properties or name in META_KEYS

    def artifact_value(self, art: Artifact, prop: str | None, store: ArtifactStore) -> Any:
        if prop is None:
            if art.kind in ("text", "html"):
                return store.read_text(art).strip()
            return art.size if art.size else None
        if prop in art.meta:
            return art.meta[prop]
        if prop in self.properties:
            return self.properties[prop](art, store)
        raise ConfigError(f"artifact property {prop!r} is unknown; known: "
                          f"{sorted(set(self.properties) | set(art.meta))}")

    def resolve_value(self, on: str, outputs: Mapping[str, Artifact], metrics: Mapping[str, Any],
                      store: ArtifactStore) -> Any:
        """The value a check on ``on`` looks at."""
        if on in metrics:
            return metrics[on]
        head, _, prop = on.partition(".")
        if head in outputs:
            return self.artifact_value(outputs[head], prop or None, store)
        if not prop and len(outputs) == 1:
            # a bare property (``duration_s``) on a single-output tool means that output's property
            art = next(iter(outputs.values()))
            if on in art.meta or on in self.properties:
                return self.artifact_value(art, on, store)
        raise KeyError(on)

    def evaluate(self, check: Check, outputs: Mapping[str, Artifact], metrics: Mapping[str, Any],
                 store: ArtifactStore) -> CheckOutcome:
        """Evaluate ``check`` on a step's outputs and metrics. Never raises: problems make a failed outcome."""
        expected = check.label()
        try:
            value = self.resolve_value(check.on, outputs, metrics, store)
        except KeyError:
            return CheckOutcome(name=check.name, passed=False, expected=expected,
                                error=f"the step reported no metric or output {check.on!r}; "
                                      f"metrics: {sorted(metrics)}, outputs: {sorted(outputs)}")
        except Exception as exc:  # a property reader failing is a failed check, not a crashed run
            return CheckOutcome(name=check.name, passed=False, expected=expected, error=str(exc))
        op = self.ops.get(check.op)
        if op is None:
            return CheckOutcome(name=check.name, passed=False, value=_jsonable(value), expected=expected,
                                error=f"operator {check.op!r} is not in this check registry")
        try:
            passed = bool(op(value, check.threshold))
        except (TypeError, ValueError, IndexError) as exc:
            return CheckOutcome(name=check.name, passed=False, value=_jsonable(value), expected=expected,
                                error=f"cannot compare {value!r} with {check.threshold!r}: {exc}")
        if isinstance(value, float) and math.isnan(value):
            passed = False
        return CheckOutcome(name=check.name, passed=passed, value=_jsonable(value), expected=expected)


default_checks = CheckRegistry.builtin()
"""The registry plans are validated and steps checked with; tools add their properties to it at import."""
register_op = default_checks.register_op
register_property = default_checks.register_property
is_known_property = default_checks.is_known_property


def evaluate_check(check: Check, outputs: Mapping[str, Artifact], metrics: Mapping[str, Any],
                   store: ArtifactStore, registry: CheckRegistry | None = None) -> CheckOutcome:
    """Evaluate ``check`` with ``registry`` (default: :data:`default_checks`); never raises."""
    return (registry or default_checks).evaluate(check, outputs, metrics, store)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "..."
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)[:80]
