"""``@tool``: build a :class:`~tools.base.Tool` from a plain function's type hints and Google docstring.

Parameters annotated with an artifact handle (``ImageFile``, ``TextFile``...) are the tool's inputs; other
parameters are its JSON params; a ``ToolContext`` parameter receives the context. The return annotation names the
output kind. Definitions are checked at decoration time: a missing hint or an undocumented parameter fails there,
not in the middle of a run.
"""

from __future__ import annotations

import inspect
import json
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ConfigDict, create_model

from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from modalities.layout import Layout
from modalities.store import ArtifactStore
from tools.base import Tool, ToolContext, ToolResult
from tools.checks import Check

__all__ = [
    "tool",
    "Result",
    "ArtifactFile",
    "TextFile",
    "ImageFile",
    "AudioFile",
    "VideoFile",
    "HtmlFile",
    "LayoutFile",
    "JsonFile",
    "ToolDefinitionError",
]


class ToolDefinitionError(TypeError):
    """A function given to ``@tool`` cannot become a tool (missing hint, undocumented parameter...)."""


class ArtifactFile:
    """A stored artifact handed to a tool function: its record, its path, and readers."""

    kind: ClassVar[str] = ""

    def __init__(self, artifact: Artifact, store: ArtifactStore) -> None:
        self.artifact = artifact
        self.store = store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.artifact.short_id}, {self.artifact.media_type})"

    @property
    def path(self) -> Path:
        return self.store.path(self.artifact)

    def read_bytes(self) -> bytes:
        return self.store.read_bytes(self.artifact)

    def read_text(self) -> str:
        return self.store.read_text(self.artifact)

    def read_json(self) -> Any:
        return self.store.read_json(self.artifact)


class TextFile(ArtifactFile):
    kind = "text"


class ImageFile(ArtifactFile):
    kind = "image"

    def open(self) -> Any:
        """The image as a PIL image (RGB)."""
        from PIL import Image

        with Image.open(self.path) as im:
            return im.convert("RGB")


class AudioFile(ArtifactFile):
    kind = "audio"


class VideoFile(ArtifactFile):
    kind = "video"


class HtmlFile(ArtifactFile):
    kind = "html"


class LayoutFile(ArtifactFile):
    kind = "layout"

    def load(self) -> Layout:
        return Layout.model_validate(self.read_json())


class JsonFile(ArtifactFile):
    kind = "json"


_HANDLES: dict[str, type[ArtifactFile]] = {
    cls.kind: cls for cls in (TextFile, ImageFile, AudioFile, VideoFile, HtmlFile, LayoutFile, JsonFile)
}


@dataclass
class Result:
    """Return this from a tool function to report metrics beside the output value (or a dict of outputs)."""

    value: Any
    metrics: dict[str, Any]


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Summary and ``Args:`` descriptions of a Google-style docstring (``docstring_parser``).

    Example:
        >>> _parse_docstring("Shout.\\n\\n    Args:\\n        text: What to shout,\\n            loudly.\\n")
        ('Shout.', {'text': 'What to shout, loudly.'})
    """
    from docstring_parser import DocstringStyle, parse

    parsed = parse(doc or "", style=DocstringStyle.GOOGLE)
    summary = parsed.short_description or ""
    if parsed.long_description and not parsed.blank_after_short_description:
        summary += " " + parsed.long_description.split("\n\n", 1)[0]  # the first paragraph, wrapped
    args = {p.arg_name: " ".join((p.description or "").split()) for p in parsed.params}
    return " ".join(summary.split()), args


def _store_value(value: Any, kind: str, ctx: ToolContext, name: str) -> Artifact:
    """Turn what a tool function returned into a stored artifact of ``kind``."""
    store = ctx.store
    meta = {"step": ctx.step_id, "output": name}
    if isinstance(value, Artifact):
        return value.with_meta(**meta)
    if isinstance(value, ArtifactFile):
        return value.artifact.with_meta(**meta)
    if kind in ("text", "html") and isinstance(value, str):
        return store.put_text(value, kind, **meta)
    if kind == "layout":
        if isinstance(value, Layout):
            value = value.model_dump(mode="json")
        Layout.model_validate(value)
        return store.put_json(value, "layout", **meta)
    if kind == "json":
        return store.put_json(value, "json", **meta)
    if isinstance(value, (str, Path)) and Path(value).is_file():
        from modalities.ingest import ingest_file

        art = ingest_file(value, store, name=name)
        if art.kind != kind:
            raise ConfigError(f"step {ctx.step_id!r} output {name!r}: file {str(value)!r} is {art.kind}, not {kind}")
        return art.with_meta(**meta)
    if isinstance(value, bytes):
        from modalities.ingest import ingest_bytes

        art = ingest_bytes(value, store, name=name, label=f"output {name!r} of step {ctx.step_id!r}")
        if art.kind != kind:
            raise ConfigError(f"step {ctx.step_id!r} output {name!r} is {art.kind}, not {kind}")
        return art.with_meta(**meta)
    if kind == "image" and hasattr(value, "save"):  # a PIL image
        import io

        buf = io.BytesIO()
        value.save(buf, format="PNG")
        im = value
        return store.put_bytes(buf.getvalue(), "image", "image/png", width=im.width, height=im.height, **meta)
    raise ConfigError(f"step {ctx.step_id!r} output {name!r}: cannot store a {type(value).__name__} as {kind}")


class FunctionTool(Tool):
    """A tool built by :func:`tool` around a function."""

    def __init__(self, fn: Callable[..., Any], spec: dict[str, Any]) -> None:
        super().__init__()
        self.fn = fn
        for key, value in spec.items():
            setattr(self, key, value)
        self._input_params: dict[str, type[ArtifactFile]] = spec.pop("_input_params")
        self._ctx_param: str | None = spec.pop("_ctx_param")
        self._revise = spec.pop("_revise", None)

    def revise(self, params: Mapping[str, Any], evidence: Mapping[str, Any]) -> Mapping[str, Any]:
        return self._revise(params, evidence) if self._revise is not None else {}

    def __reduce_ex__(self, protocol: Any) -> Any:
        # A tool made at module level travels by name, as a plain function would: the module attribute is this
        # tool, not the function, so pickle cannot find the function by name and cloudpickle would copy it by
        # value, globals included (e.g. the process-wide model cache, locks and all). Others travel by value.
        module = sys.modules.get(getattr(self.fn, "__module__", "") or "")
        qualname = getattr(self.fn, "__qualname__", "")
        if module is not None and module.__name__ != "__main__" and _attribute(module, qualname) is self:
            return _tool_by_name, (module.__name__, qualname)
        return super().__reduce_ex__(protocol)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        kwargs: dict[str, Any] = dict(params)
        for pname, handle in self._input_params.items():
            if pname in inputs:
                kwargs[pname] = handle(inputs[pname], ctx.store)
            else:
                kwargs[pname] = None
        if self._ctx_param:
            kwargs[self._ctx_param] = ctx
        value = self.fn(**kwargs)
        metrics: dict[str, Any] = {}
        if isinstance(value, ToolResult):
            return value
        if isinstance(value, Result):
            value, metrics = value.value, dict(value.metrics)
        if len(self.outputs) == 1:
            (oname, kind), = self.outputs.items()
            return ToolResult({oname: _store_value(value, kind, ctx, oname)}, metrics)
        if not isinstance(value, Mapping) or set(value) != set(self.outputs):
            raise ConfigError(f"tool {self.name!r} must return a dict with keys {sorted(self.outputs)}")
        return ToolResult({k: _store_value(value[k], kind, ctx, k) for k, kind in self.outputs.items()}, metrics)


def tool(fn: Callable[..., Any] | None = None, *, name: str | None = None, family: str = "custom",
         outputs: Mapping[str, str] | None = None, metrics: Mapping[str, str] | None = None,
         checks: tuple[Check | str, ...] = (), requires: tuple[str, ...] = (), extra: str | None = None,
         timeout_s: float = 600.0, judges: tuple[str, ...] = (),
         retry_params: tuple[Mapping[str, Any], ...] = (),
         revise: Callable[[Mapping[str, Any], Mapping[str, Any]], Mapping[str, Any]] | None = None,
         revised_params: tuple[str, ...] = (),
         resources: Mapping[str, float] | None = None, stateful: bool = False, light: bool = False) -> Any:
    """Make a tool from a function.

    Args:
        fn: The function. Every parameter needs a type hint and an ``Args:`` entry in its docstring.
        name: Tool name; defaults to the function name.
        family: Tool family shown by ``agent tools``.
        outputs: Output name -> kind, for functions that return a dict of several outputs.
        metrics: Metric name -> meaning, for functions that return :class:`Result` with metrics.
        checks: Default checks on the result.
        requires: Importable modules needed; the tool is unavailable without them.
        extra: The pip extra that installs ``requires``.
        timeout_s: Default per-step time limit.
        judges: Inputs whose producers are suspects when a check on this tool fails.
        retry_params: Param overrides to try, in order, when the step is retried.
        revise: ``(params, evidence) -> overrides``: adjusts each retry variant to what the judge reported
            (``evidence`` is its metrics); see :meth:`tools.base.Tool.revise`.
        revised_params: The params ``revise`` sets: they answer one run, and a plan reused from memory drops them.
        resources: What one call needs from a cluster executor (``num_cpus``, ``num_gpus``, ``memory``, custom).
        stateful: The function keeps a model loaded between calls (through ``ToolContext.load_model``); a cluster
            executor runs it in a reused worker.
        light: The function is quick pure Python (no models, native libraries or subprocesses), so the local
            executor may run it on a thread instead of a worker process. Leave it off when unsure: a step in a
            worker process can always be stopped at its time limit.

    Example:
        >>> @tool
        ... def shout(text: TextFile, times: int = 1) -> TextFile:
        ...     '''Upper-case a text.
        ...
        ...     Args:
        ...         text: The text to shout.
        ...         times: How many times to repeat it.
        ...     '''
        ...     return " ".join([text.read_text().upper()] * times)
        >>> shout.inputs, shout.outputs
        ({'text': 'text'}, {'text': 'text'})
    """

    def build(f: Callable[..., Any]) -> FunctionTool:
        tool_name = name or f.__name__
        summary, arg_docs = _parse_docstring(f.__doc__ or "")
        if not summary:
            raise ToolDefinitionError(f"tool {tool_name!r}: add a docstring; its first line is the description")
        try:
            hints = typing.get_type_hints(f)
        except NameError as exc:
            raise ToolDefinitionError(f"tool {tool_name!r}: cannot resolve a type hint ({exc})") from None
        sig = inspect.signature(f)
        inputs: dict[str, str] = {}
        optional: set[str] = set()
        input_params: dict[str, type[ArtifactFile]] = {}
        ctx_param = None
        fields: dict[str, Any] = {}
        for pname, param in sig.parameters.items():
            if pname not in hints:
                raise ToolDefinitionError(f"tool {tool_name!r}: parameter {pname!r} has no type hint")
            hint = hints[pname]
            if hint is ToolContext:
                ctx_param = pname
                continue
            if pname not in arg_docs:
                raise ToolDefinitionError(f"tool {tool_name!r}: parameter {pname!r} is not described in the "
                                          "docstring's 'Args:' section")
            handle, is_optional = _handle_of(hint)
            if handle is not None:
                inputs[pname] = handle.kind
                input_params[pname] = handle
                if is_optional or param.default is None:
                    optional.add(pname)
                continue
            from pydantic import Field

            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (hint, Field(default, description=arg_docs[pname]))
        if outputs is not None:
            out = dict(outputs)
        else:
            ret = hints.get("return")
            handle, _ = _handle_of(ret) if ret is not None else (None, False)
            if handle is None:
                raise ToolDefinitionError(f"tool {tool_name!r}: annotate the return type with an artifact handle "
                                          "(TextFile, ImageFile...) or pass outputs={name: kind}")
            out = {handle.kind: handle.kind}
        params_model = create_model(f"{tool_name}_params", __config__=ConfigDict(extra="forbid"), **fields)
        spec = {
            "name": tool_name,
            "description": summary,
            "family": family,
            "inputs": inputs,
            "optional_inputs": frozenset(optional),
            "outputs": out,
            "params_model": params_model,
            "metrics": dict(metrics or {}),
            "default_checks": tuple(checks),
            "requires": tuple(requires),
            "extra": extra,
            "timeout_s": timeout_s,
            "judges": tuple(judges),
            "retry_params": tuple(retry_params),
            "_revise": revise,
            "revised_params": tuple(revised_params),
            "resources": dict(resources or {}),
            "stateful": stateful,
            "light": light,
            "_input_params": input_params,
            "_ctx_param": ctx_param,
        }
        built = FunctionTool(f, spec)
        for check in built.checks():  # parse now so a bad check fails at definition time
            json.dumps(check.model_dump(mode="json"))
        built.__doc__ = f.__doc__
        return built

    if fn is not None:
        return build(fn)
    return build


def _attribute(obj: Any, qualname: str) -> Any:
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _tool_by_name(module: str, qualname: str) -> FunctionTool:
    """The module-level tool named ``module:qualname`` (how :class:`FunctionTool` unpickles)."""
    import importlib

    found = _attribute(importlib.import_module(module), qualname)
    if not isinstance(found, FunctionTool):
        raise ConfigError(f"{module}:{qualname} is no longer a tool here ({type(found).__name__})")
    return found


def _handle_of(hint: Any) -> tuple[type[ArtifactFile] | None, bool]:
    """The artifact handle class in a hint (``ImageFile`` or ``ImageFile | None``) and whether it is optional."""
    if isinstance(hint, type) and issubclass(hint, ArtifactFile) and hint.kind:
        return hint, False
    args = typing.get_args(hint)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and isinstance(rest[0], type) and issubclass(rest[0], ArtifactFile):
            return rest[0], True
    return None, False


def handle_for_kind(kind: str) -> type[ArtifactFile]:
    return _HANDLES[kind]
