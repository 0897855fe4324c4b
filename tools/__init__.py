"""Tools: the protocol, the ``@tool`` decorator, checks, the model cache and the registry."""

from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.checks import Check, CheckOutcome, evaluate_check, register_op, register_property
from tools.function_tool import (
    AudioFile,
    HtmlFile,
    ImageFile,
    JsonFile,
    LayoutFile,
    Result,
    TextFile,
    ToolDefinitionError,
    VideoFile,
    tool,
)
from tools.model_cache import ModelCache, model_cache
from tools.registry import ToolRegistry, default_registry, load_tools

__all__ = [
    "AudioFile",
    "Availability",
    "Check",
    "CheckOutcome",
    "HtmlFile",
    "ImageFile",
    "JsonFile",
    "LayoutFile",
    "ModelCache",
    "Result",
    "TextFile",
    "Tool",
    "ToolContext",
    "ToolDefinitionError",
    "ToolRegistry",
    "ToolResult",
    "VideoFile",
    "default_registry",
    "evaluate_check",
    "load_tools",
    "model_cache",
    "register_op",
    "register_property",
    "tool",
]
