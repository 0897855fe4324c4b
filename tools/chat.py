"""Chat models for tools that can use one: the page writer and the vision sketch backend.

A model is configured with a ``provider:model`` spec (LangChain's ``init_chat_model`` form) and an optional
OpenAI-compatible ``base_url``: ``MMAGENT_CHAT_MODEL`` / ``MMAGENT_CHAT_BASE_URL`` for text, and
``MMAGENT_VISION_MODEL`` / ``MMAGENT_VISION_BASE_URL`` for a vision-capable model. Library users may set a model
object directly with :func:`set_chat_model`. LangChain is imported only when a model is used.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from modalities.errors import ConfigError, MissingExtraError, ToolError
from modalities.settings import Settings
from modalities.settings import settings as current_settings
from tools.structured import reply_text, structured_reply

__all__ = ["chat_model_from_spec", "configured_chat_model", "set_chat_model", "ask_json", "ask_text",
           "image_message", "reply_text"]

Purpose = Literal["text", "vision"]
T = TypeVar("T")
_models: dict[str, Any] = {}
_built: dict[tuple[str, str | None], Any] = {}  # by (spec, base URL): built once per process


def chat_model_from_spec(spec: str, *, base_url: str | None = None, **kwargs: Any) -> Any:
    """A LangChain chat model from ``provider:model`` (``init_chat_model`` form).

    Raises:
        MissingExtraError: LangChain (or the provider package) is not installed.
        ConfigError: The spec names no model.
    """
    if not spec or spec.endswith(":"):
        raise ConfigError(f"LLM spec {spec!r} names no model; write it like 'openai:gpt-4o' or 'ollama:qwen2.5'")
    provider, _, model = spec.partition(":")
    if base_url is not None:
        kwargs["base_url"] = base_url
        if provider == "openai" and "api_key" not in kwargs and not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "unused"  # local servers (llama.cpp, vLLM, Ollama) want none; the client wants one
    if importlib.util.find_spec("langchain") is not None:
        from langchain.chat_models import init_chat_model

        try:
            return init_chat_model(spec, **kwargs)
        except ImportError as exc:
            raise MissingExtraError(getattr(exc, "name", None) or f"langchain-{provider}", "llm") from None
        except ValueError as exc:
            raise ConfigError(f"cannot make a chat model from {spec!r}: {exc}") from None
    if provider == "openai" and model and importlib.util.find_spec("langchain_openai") is not None:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=model, **kwargs)
    raise MissingExtraError("langchain", "llm")


def set_chat_model(model: Any, purpose: Purpose = "text") -> None:
    """Use ``model`` (a LangChain chat model, or None to clear) for ``purpose`` in this process."""
    if model is None:
        _models.pop(purpose, None)
    else:
        _models[purpose] = model


def configured_chat_model(purpose: Purpose = "text", settings: Settings | None = None) -> Any | None:
    """The model set for ``purpose`` in this process, or built from ``settings`` (default: the environment's), or
    None when none is configured."""
    if purpose in _models:
        return _models[purpose]
    s = settings or current_settings()  # MMAGENT_VISION_MODEL / _BASE_URL, or MMAGENT_CHAT_MODEL / _BASE_URL
    spec, base_url = (s.vision_model, s.vision_base_url) if purpose == "vision" else (s.chat_model, s.chat_base_url)
    if not spec:
        return None
    key = (spec, base_url)
    if key not in _built:
        _built[key] = chat_model_from_spec(spec, base_url=base_url)
    return _built[key]


def image_message(text: str, image: bytes, media_type: str) -> Any:
    """A user message holding ``text`` and an image (as a data URL, which every vision chat model accepts)."""
    from langchain_core.messages import HumanMessage

    url = f"data:{media_type};base64,{base64.b64encode(image).decode()}"
    return HumanMessage(content=[{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}])


def _strip_fences(text: str) -> str:
    m = re.search(r"```(?:json|html)?\s*\n(.*?)```", text, re.S)
    return m.group(1) if m else text


def ask_text(model: Any, messages: list[Any]) -> str:
    """The model's reply as text, with a Markdown code fence around it removed."""
    return _strip_fences(reply_text(model.invoke(messages).content)).strip()


def ask_json(model: Any, messages: list[Any], parse: Callable[[Any], T], *, retries: int = 2,
             schema: dict[str, Any] | None = None, cache_dir: Path | None = None) -> T:
    """Ask until the reply is JSON that ``parse`` accepts; each failure goes back with its error.

    With ``schema``, the reply is asked for as structured output in the strictest form the endpoint takes
    (:func:`tools.structured.structured_reply`: a JSON schema, a JSON object, or text; the form that worked is
    remembered in ``cache_dir``, the caller's settings' ``cache_dir``).

    Raises:
        ToolError: Still invalid after ``retries`` corrections (the message shows the last reply).
    """
    from langchain_core.messages import AIMessage, HumanMessage

    chat = list(messages)
    reply = ""
    for _ in range(retries + 1):
        if schema is None:
            reply = ask_text(model, chat)
        else:
            reply = _strip_fences(structured_reply(model, chat, schema, cache_dir=cache_dir)[0]).strip()
        try:
            return parse(json.loads(reply))
        except (ValueError, TypeError) as exc:  # JSONDecodeError and pydantic's ValidationError are ValueErrors
            problem = _problem(exc)
            chat += [AIMessage(content=reply), HumanMessage(content=f"That reply was not valid: {problem}. "
                                                                     "Answer again with only the corrected JSON.")]
    raise ToolError(f"the chat model gave no valid answer after {retries + 1} tries; last reply: {reply[:300]!r}")


def _problem(exc: Exception) -> str:
    """What was wrong with a reply, precisely enough for the model to fix it."""
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic: every field that failed, with where it is
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors()[:8])[:600]
    return str(exc).splitlines()[0][:300]
