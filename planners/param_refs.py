"""Params that take data made during the run: ``{"from": "<step>.<output>"}`` or ``{"from": "input:<name>"}``.

A transcript made by one step becomes another step's captions, a summary a page's title, a list of labels a
classifier's classes. Such a reference is a dependency like an input reference: it orders the steps, it is
downstream for replanning, and the step's journal key holds the value it resolved to, so resume stays exact.

Which kinds can become a param, and as what:

- ``text`` becomes a string (the whole text, trimmed) or a list of strings (its lines when it has several, else
  its sentences: a transcript's sentences are its natural captions).
- ``json`` becomes its JSON value; the tool's param schema checks it when the step starts.

Other kinds (images, audio, ...) are files, not values: they go to inputs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tools.base import Tool

__all__ = ["PARAM_KINDS", "is_param_ref", "param_refs", "param_shapes", "fit_issue", "param_value",
           "text_segments"]

PARAM_KINDS = ("text", "json")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def is_param_ref(value: Any) -> bool:
    """Whether a param value is a reference (``{"from": "..."}``, nothing else in the dict)."""
    return isinstance(value, dict) and set(value) == {"from"} and isinstance(value["from"], str)


def param_refs(params: Mapping[str, Any]) -> dict[str, str]:
    """Param name -> reference text, for the params that take data made during the run."""
    return {name: value["from"] for name, value in params.items() if is_param_ref(value)}


def param_shapes(tool: Tool, name: str) -> set[str] | None:
    """The JSON shapes param ``name`` of ``tool`` accepts (``string``, ``string[]``, ``number``, ``object``,
    ``any``...), or None when the tool has no such param."""
    schema = tool.params_schema()
    prop = (schema.get("properties") or {}).get(name)
    if prop is None:
        return None
    return _shapes(prop, schema.get("$defs") or {})


def _shapes(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> set[str]:
    if "$ref" in prop:
        return _shapes(defs.get(prop["$ref"].rsplit("/", 1)[-1], {}), defs)
    for key in ("anyOf", "oneOf"):
        if key in prop:
            return set().union(*(_shapes(p, defs) for p in prop[key]))
    kind = prop.get("type")
    if kind is None:
        if "enum" in prop or "const" in prop:
            return {"enum"}
        return {"any"}
    kinds = kind if isinstance(kind, list) else [kind]
    shapes = set()
    for k in kinds:
        if k == "array":
            items = _shapes(prop.get("items") or {}, defs)
            shapes.add("string[]" if items & {"string", "any"} else "array")
        else:
            shapes.add(k)
    return shapes


def _describe(shapes: set[str]) -> str:
    words = {"string[]": "a list of strings", "array": "a list", "string": "a string", "number": "a number",
             "integer": "an integer", "boolean": "a boolean", "object": "an object", "enum": "one of fixed values",
             "null": "null", "any": "any value"}
    return " or ".join(words.get(s, s) for s in sorted(shapes - {"null"}) or sorted(shapes))


def fit_issue(kind: str, shapes: set[str]) -> str | None:
    """Why data of ``kind`` cannot become a param of these shapes, or None when it can."""
    if kind == "json":
        return None  # any JSON value; the param schema judges the value itself when the step starts
    if kind == "text":
        if shapes & {"string", "string[]", "any"}:
            return None
        return (f"the param takes {_describe(shapes)}, and a text becomes only a string or a list of strings; "
                "take a json output for other values")
    article = "an" if kind[:1] in "aeiou" else "a"
    return (f"{article} {kind} is a file, not a value: only {' or '.join(PARAM_KINDS)} can become a param "
            f"(text as a string or a list of strings, json as its value); give the {kind} to an input instead")


def text_segments(text: str) -> list[str]:
    """A text as a list: its lines when it has several, else its sentences.

    Example:
        >>> text_segments("Hello there. This is a test!")
        ['Hello there.', 'This is a test!']
        >>> text_segments("a cat\\na dog\\n")
        ['a cat', 'a dog']
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        return lines
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def param_value(kind: str, content: Any, shapes: set[str]) -> Any:
    """The param value a text (``content`` a str) or json (``content`` its value) becomes.

    Example:
        >>> param_value("text", " Hi. Bye. ", {"string[]"}), param_value("text", " Hi. Bye. ", {"string", "null"})
        (['Hi.', 'Bye.'], 'Hi. Bye.')
    """
    if kind == "json":
        return content
    if kind != "text":
        raise ValueError(f"a {kind} cannot become a param value")
    text = str(content)
    # a string keeps the whole text; only a param that takes nothing but a list gets it split
    if shapes & {"string", "any"}:
        return text.strip()
    return text_segments(text)
