"""The tool registry: name -> tool, with lazy loading of built-in tools and helpful errors."""

from __future__ import annotations

import difflib
import pkgutil
from collections.abc import Iterable, Iterator
from typing import Any

from modalities.errors import ConfigError, UnknownToolError
from modalities.settings import Settings
from tools.base import Tool, check_tool_definition

__all__ = ["ToolRegistry", "BUILTIN_TOOLS", "default_registry", "load_object", "load_tools"]

# Built-in tools, imported only when used (or listed). Tool modules import heavy libraries inside functions.
BUILTIN_TOOLS: dict[str, str] = {
    "write_text": "tools.text:write_text",
    "analyze_sketch": "tools.vision.sketch:AnalyzeSketch",
    "layout_similarity": "tools.vision.layout_similarity:layout_similarity",
    "sketch_fidelity": "tools.vision.sketch_fidelity:SketchFidelity",
    "image_text_score": "tools.vision.clip:ImageTextScore",
    "zero_shot_classify": "tools.vision.clip:ZeroShotClassify",
    "image_similarity": "tools.vision.clip:ImageSimilarity",
    "transcribe": "tools.audio.transcribe:Transcribe",
    "speak": "tools.audio.speak:Speak",
    "speech_roundtrip": "tools.audio.roundtrip:SpeechRoundtrip",
    "generate_html": "tools.code.html:GenerateHtml",
    "render_page": "tools.browser.render:RenderPage",
    "record_page_video": "tools.browser.video:RecordPageVideo",
    "text_to_image": "tools.generation.diffusion:TextToImage",
    "compose_video": "tools.generation.slideshow:ComposeVideo",
}


def load_object(spec: str) -> Any:
    """Import ``package.module:attribute``."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"{spec!r} is not an import spec; write it as 'package.module:attribute'")
    try:
        return pkgutil.resolve_name(spec)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name!r} from spec {spec!r}: {exc}") from None
    except (AttributeError, ValueError):
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r} (spec {spec!r})") from None


class ToolRegistry:
    """Tools by name.

    Args:
        tools: Tool objects (or ``"module:attr"`` specs loaded on first use) to register.

    Example:
        >>> from tools.text import write_text
        >>> reg = ToolRegistry([write_text])
        >>> reg.get("write_txt")
        Traceback (most recent call last):
        ...
        modalities.errors.UnknownToolError: Unknown tool 'write_txt'; available: write_text. Did you mean 'write_text'?
    """

    def __init__(self, tools: Iterable[Tool | str] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self._lazy: dict[str, str] = {}
        self._settings: Settings | None = None
        for t in tools:
            self.register(t)

    def configure(self, settings: Settings) -> None:
        """Give every tool, registered now or later, ``settings`` (see :meth:`Tool.configure`); an
        :class:`~agent.Agent` passes its own down this way."""
        self._settings = settings
        for t in self._tools.values():
            t.configure(settings)

    def register(self, tool: Tool | str, name: str | None = None) -> None:
        if isinstance(tool, str):
            if name is None:
                tool = _instantiate(load_object(tool))
            else:
                self._lazy[name] = tool
                return
        check_tool_definition(tool)
        if self._settings is not None:
            tool.configure(self._settings)
        self._tools[tool.name] = tool
        self._lazy.pop(tool.name, None)

    def names(self) -> list[str]:
        return sorted(set(self._tools) | set(self._lazy))

    def __contains__(self, name: object) -> bool:
        return name in self._tools or name in self._lazy

    def __iter__(self) -> Iterator[Tool]:
        for name in self.names():
            yield self.get(name)

    def __len__(self) -> int:
        return len(self.names())

    def get(self, name: str) -> Tool:
        if name in self._tools:
            return self._tools[name]
        if name in self._lazy:
            obj = _instantiate(load_object(self._lazy[name]))  # a failed import keeps the name listed
            check_tool_definition(obj)
            if self._settings is not None:
                obj.configure(self._settings)
            self._tools[name] = obj
            del self._lazy[name]
            return obj
        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnknownToolError(f"Unknown tool {name!r}; available: {', '.join(self.names())}.{hint}")

    def _loadable(self) -> tuple[list[Tool], dict[str, str]]:
        """Tools that import, and the import error of each built-in that does not."""
        loaded, broken = [], {}
        for name in self.names():
            try:
                loaded.append(self.get(name))
            except ConfigError as exc:
                broken[name] = str(exc)
        return loaded, broken

    def available(self) -> list[Tool]:
        """Tools that can run here (what planners may use)."""
        return [t for t in self._loadable()[0] if t.available().ok]

    def describe(self) -> list[dict[str, Any]]:
        """Every tool's description; one whose module fails to import is listed as unavailable with the error."""
        loaded, broken = self._loadable()
        rows = [t.describe() for t in loaded]
        rows += [{"name": n, "family": "?", "description": "", "inputs": {}, "optional_inputs": [], "outputs": {},
                  "params": {}, "metrics": {}, "default_checks": [], "available": False, "reason": err}
                 for n, err in broken.items()]
        return sorted(rows, key=lambda r: r["name"])


def _instantiate(obj: Any) -> Tool:
    if isinstance(obj, Tool):
        return obj
    if isinstance(obj, type) and issubclass(obj, Tool):
        return obj()
    raise ConfigError(f"{obj!r} is not a Tool")


def default_registry() -> ToolRegistry:
    """A registry of every built-in tool (each module imported on first use)."""
    reg = ToolRegistry()
    for name, spec in BUILTIN_TOOLS.items():
        reg.register(spec, name=name)
    return reg


def load_tools(spec: str | None) -> ToolRegistry:
    """A registry from a CLI ``--tools`` value: None for the built-ins; ``mcp:SERVERS.json`` for the built-ins plus
    every tool of the MCP servers an ``mcpServers`` file names (see :mod:`tools.mcp_client`); or ``module:attr``
    naming a registry, a tool, a list of tools, or a function returning one of those."""
    if not spec:
        return default_registry()
    if spec.startswith("mcp:"):
        from tools.mcp_client import mcp_tools

        registry = default_registry()
        for t in mcp_tools(spec.removeprefix("mcp:")):
            registry.register(t)
        return registry
    obj = load_object(spec)
    if callable(obj) and not isinstance(obj, (Tool, type)):
        obj = obj()
    if isinstance(obj, ToolRegistry):
        return obj
    if isinstance(obj, (Tool, type)):
        return ToolRegistry([_instantiate(obj)])
    if isinstance(obj, (list, tuple)):
        return ToolRegistry([_instantiate(o) for o in obj])
    raise ConfigError(f"--tools {spec!r} must name a ToolRegistry, a Tool, or a list of tools")
