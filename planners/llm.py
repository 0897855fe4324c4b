"""An LLM planner over any LangChain chat model: a model object, or a spec such as ``openai:gpt-4o``.

``anthropic:claude-...``, ``ollama:qwen2.5`` and any OpenAI-compatible server (vLLM, llama.cpp server, LM Studio)
through ``base_url`` work the same way. LangChain is imported only when the model is first needed.
"""

from __future__ import annotations

from typing import Any

from modalities.errors import ConfigError, PlanningError
from planners._chat import ChatPlannerBase, Messages
from tools.chat import chat_model_from_spec

__all__ = ["LLMPlanner", "chat_model_from_spec"]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


class LLMPlanner(ChatPlannerBase):
    """Plans with a chat model; replies are validated, repaired, and sent back with their errors.

    Args:
        model: A LangChain chat model object, or a spec string (``"openai:gpt-4o"``, ``"ollama:qwen2.5"``).
        base_url: An OpenAI-compatible endpoint, for spec strings (e.g. ``http://localhost:8000/v1``).
        retries: How many times a rejected reply goes back to the model with the exact problems.
        repair: Mend invalid plans symbolically before asking again.
        structured: Ask for structured output (JSON schema) when the model supports it; None: try, fall back to
            JSON in text.
        model_kwargs: Passed to ``init_chat_model`` (temperature, api_key...).

    Example:
        >>> from langchain_core.language_models.fake_chat_models import FakeListChatModel
        >>> from tools.text import write_text
        >>> from tools.registry import ToolRegistry
        >>> fake = FakeListChatModel(responses=['{"steps": [{"id": "w", "tool": "write_text", "inputs": {}}]}'])
        >>> LLMPlanner(fake).plan("write a line", {}, ToolRegistry([write_text])).steps[0].tool
        'write_text'
    """

    def __init__(self, model: Any, *, base_url: str | None = None, retries: int = 2, repair: bool = True,
                 structured: bool | None = None, max_steps: int = 20, **model_kwargs: Any) -> None:
        super().__init__(retries=retries, repair=repair, max_steps=max_steps)
        self._spec = model if isinstance(model, str) else None
        self._model = None if isinstance(model, str) else model
        self.base_url = base_url
        self.structured = structured
        self.model_kwargs = model_kwargs
        self.name = f"llm:{self._spec}" if self._spec else f"llm:{type(model).__name__}"

    @property
    def model(self) -> Any:
        if self._model is None:
            assert self._spec is not None
            self._model = chat_model_from_spec(self._spec, base_url=self.base_url, **self.model_kwargs)
        return self._model

    def complete(self, messages: Messages, schema: dict[str, Any] | None) -> str:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        chat = [kinds[m["role"]](content=m["content"]) for m in messages]
        if schema is not None and self.structured is not False:
            reply = self._structured(chat, schema)
            if reply is not None:
                return reply
        try:
            return _text(self.model.invoke(chat).content)
        except Exception as exc:  # network, auth, rate limits: one clear planning failure
            raise PlanningError(f"planner model {self.name!r} failed: {type(exc).__name__}: {exc}") from exc

    def _structured(self, chat: list[Any], schema: dict[str, Any]) -> str | None:
        """The reply through ``with_structured_output``; None when the model does not offer it."""
        import json

        try:
            runnable = self.model.with_structured_output(schema, method="json_schema", include_raw=True)
        except (NotImplementedError, AttributeError, TypeError, ValueError):
            if self.structured:
                raise ConfigError(f"model {self.name!r} offers no structured output; pass structured=None") \
                    from None
            self.structured = False
            return None
        try:
            out = runnable.invoke(chat)
        except Exception as exc:
            raise PlanningError(f"planner model {self.name!r} failed: {type(exc).__name__}: {exc}") from exc
        parsed = out.get("parsed") if isinstance(out, dict) else out
        if isinstance(parsed, dict):
            return json.dumps(parsed)
        raw = out.get("raw") if isinstance(out, dict) else None
        return _text(getattr(raw, "content", "")) if raw is not None else ""
