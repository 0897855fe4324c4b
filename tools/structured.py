"""Structured output that works with whatever OpenAI-compatible server answers: negotiated, then remembered.

Servers differ in what ``response_format`` they take. OpenAI, vLLM and LM Studio take ``json_schema``;
llama-cpp-python's server refuses it (HTTP 500: "Input should be 'text' or 'json_object'") but constrains a
``json_object`` to a schema given beside it; Ollama's OpenAI endpoint takes ``json_object``. So a reply is asked
for in the strictest form first and one form looser each time the server refuses the form: ``json_schema``, then
``json_object`` (with the schema, which llama.cpp servers enforce and others ignore), then plain text, which the
callers validate and send back with its errors (see :class:`planners._chat.ChatPlannerBase` and
:func:`tools.chat.ask_json`). The form that worked is remembered per endpoint (base URL and model), in this process
and in ``endpoints.json`` of the cache folder (the caller's settings' ``cache_dir``; default ``$MMAGENT_CACHE``), so
the next ``agent`` process does not pay the refused request again.
A failure that is not a refusal of the form (the server is down, a bad key) is raised at once.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Literal

from modalities.settings import settings

__all__ = ["Mode", "MODES", "endpoint_key", "known_mode", "forget_endpoints", "reply_text", "structured_reply"]

Mode = Literal["json_schema", "json_object", "text"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "text")
_known: dict[str, Mode] = {}
_lock = threading.Lock()
# words of a server's refusal of a response format (llama-cpp-python, vLLM, Ollama, LM Studio phrase it so)
_REFUSAL_WORDS = ("response_format", "json_schema", "json_object", "schema", "grammar", "structured",
                  "not supported", "unsupported")


def _store_path(cache_dir: Path | None = None) -> Path:
    return (cache_dir or settings().cache_dir) / "endpoints.json"


def endpoint_key(model: Any) -> str:
    """Where ``model`` sends its requests and which model it asks for: ``http://host:port/v1|name``."""
    base = getattr(model, "openai_api_base", None) or getattr(model, "base_url", None) or type(model).__name__
    name = getattr(model, "model_name", None) or getattr(model, "model", None) or ""
    return f"{str(base).rstrip('/')}|{name}"


def known_mode(key: str, cache_dir: Path | None = None) -> Mode | None:
    """The form that last worked for endpoint ``key`` (this process first, then the file in ``cache_dir``), or
    None."""
    with _lock:
        if key in _known:
            return _known[key]
    try:
        mode = json.loads(_store_path(cache_dir).read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return mode if mode in MODES else None


def _remember(key: str, mode: Mode, persist: bool, cache_dir: Path | None) -> None:
    with _lock:
        if _known.get(key) == mode:
            return
        _known[key] = mode
        if not persist:  # an in-process model object has no endpoint another process could meet
            return
        path = _store_path(cache_dir)
        try:
            table = json.loads(path.read_text()) if path.exists() else {}
            table = table if isinstance(table, dict) else {}
            table[key] = mode
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".endpoints.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(table, indent=1))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs the refused request again next time


def forget_endpoints(cache_dir: Path | None = None) -> None:
    """Forget every remembered form (in this process and on disk, in ``cache_dir``)."""
    with _lock:
        _known.clear()
        _store_path(cache_dir).unlink(missing_ok=True)


def _refused(exc: BaseException) -> bool:
    """Whether ``exc`` is the server refusing the requested form (rather than being down or refusing the key)."""
    status = getattr(exc, "status_code", None)
    if status in (401, 403, 429):
        return False
    text = str(exc).lower()
    if status in (400, 415, 422, 501):
        return True
    return status is not None and any(w in text for w in _REFUSAL_WORDS)


def _openai_like(model: Any) -> bool:
    return hasattr(model, "openai_api_base")


def reply_text(content: Any) -> str:
    """The text of a chat reply's content (a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


def _ask(model: Any, messages: list[Any], schema: dict[str, Any], mode: Mode, name: str) -> str:
    if mode == "text":
        return reply_text(model.invoke(messages).content)
    if _openai_like(model):
        fmt: dict[str, Any] = ({"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
                               if mode == "json_schema" else {"type": "json_object", "schema": schema})
        return reply_text(model.bind(response_format=fmt).invoke(messages).content)
    # other providers (Anthropic, Ollama's own API...): LangChain's structured output in the same two forms
    method = "json_schema" if mode == "json_schema" else "json_mode"
    out = model.with_structured_output(schema, method=method, include_raw=True).invoke(messages)
    parsed = out.get("parsed") if isinstance(out, dict) else out
    if isinstance(parsed, dict):
        return json.dumps(parsed)
    raw = out.get("raw") if isinstance(out, dict) else None
    return reply_text(getattr(raw, "content", "")) if raw is not None else ""


def structured_reply(model: Any, messages: list[Any], schema: dict[str, Any] | None, *,
                     name: str = "reply", cache_dir: Path | None = None) -> tuple[str, Mode]:
    """The reply text to ``messages`` in the strictest form the endpoint takes, and that form.

    Args:
        model: A LangChain chat model.
        messages: LangChain messages.
        schema: The JSON schema of the reply, or None for plain text.
        name: The schema's name (OpenAI's ``json_schema.name``).
        cache_dir: Where the forms endpoints take are remembered (the caller's settings' ``cache_dir``; default
            ``MMAGENT_CACHE``'s).

    Raises:
        Exception: The model's own error when it is not a refusal of the form (callers make it one line).

    Example:
        >>> from tools.testing import ScriptedChat
        >>> structured_reply(ScriptedChat(replies=['{"a": 1}']), ["hi"], {"type": "object"})
        ('{"a": 1}', 'text')
    """
    if schema is None:
        return _ask(model, messages, {}, "text", name), "text"
    key = endpoint_key(model)
    start = known_mode(key, cache_dir) or MODES[0]
    for mode in MODES[MODES.index(start):]:
        try:
            reply = _ask(model, messages, schema, mode, name)
        except (NotImplementedError, AttributeError, TypeError, ValueError) as exc:
            if mode == "text" or getattr(exc, "status_code", None) is not None:
                raise
            continue  # this model class offers no such form
        except Exception as exc:
            if mode == "text" or not _refused(exc):
                raise
            continue
        _remember(key, mode, _openai_like(model), cache_dir)
        return reply, mode
    raise AssertionError("unreachable: text mode either returns or raises")
