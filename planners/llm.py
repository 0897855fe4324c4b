"""An LLM planner over any LangChain chat model: a model object, or a spec such as ``openai:gpt-4o``.

``anthropic:claude-...``, ``ollama:qwen2.5`` and any OpenAI-compatible server (vLLM, llama.cpp server, LM Studio)
through ``base_url`` work the same way. LangChain is imported only when the model is first needed.
"""

from __future__ import annotations

from typing import Any

from modalities.errors import ConfigError, PlanningError
from modalities.settings import Settings
from modalities.settings import settings as current_settings
from planners._chat import ChatPlannerBase, Messages
from tools.chat import chat_model_from_spec
from tools.tracing import span

__all__ = ["LLMPlanner", "chat_model_from_spec"]


class LLMPlanner(ChatPlannerBase):
    """Plans with a chat model; replies are validated, repaired, and sent back with their errors.

    Args:
        model: A LangChain chat model object, or a spec string (``"openai:gpt-4o"``, ``"ollama:qwen2.5"``).
        base_url: An OpenAI-compatible endpoint, for spec strings (e.g. ``http://localhost:8000/v1``).
        retries: How many times a rejected reply goes back to the model with the exact problems.
        repair: Mend invalid plans symbolically before asking again.
        structured: None (default): ask for a JSON schema, else a JSON object, else text, whichever the endpoint
            takes (remembered per endpoint); True: fail unless some structured form is taken; False: text only.
        settings: Where the default ``base_url`` (``planner_base_url``) and the folder remembering what each
            endpoint takes (``cache_dir``) come from (default: the environment's, read now).
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
                 structured: bool | None = None, max_steps: int = 20, settings: Settings | None = None,
                 **model_kwargs: Any) -> None:
        super().__init__(retries=retries, repair=repair, max_steps=max_steps)
        self._spec = model if isinstance(model, str) else None
        self._model = None if isinstance(model, str) else model
        s = settings or current_settings()
        # MMAGENT_PLANNER_BASE_URL, like --base-url, points a spec at any OpenAI-compatible server
        self.base_url = base_url or s.planner_base_url
        self.cache_dir = s.cache_dir
        self.matcher = s.matcher
        self.last_mode: str | None = None  # the structured-output form the endpoint last took
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

        from tools.structured import structured_reply

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        chat = [kinds[m["role"]](content=m["content"]) for m in messages]
        wanted = schema if self.structured is not False else None
        model = self.model  # a missing extra or a bad spec is a config error, not the model failing
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": (self._spec or "").split(":")[0]
                      or type(model).__name__, "gen_ai.request.model": (self._spec or "").partition(":")[2]
                      or type(model).__name__}
        try:
            # json_schema, else json_object, else text, as the endpoint takes it (tools/structured.py); a text
            # reply is validated and sent back with its errors by the loop in planners/_chat.py
            with span(f"chat {attributes['gen_ai.request.model']}", attributes, kind="CLIENT") as traced:
                reply, mode = structured_reply(model, chat, wanted, name="plan", cache_dir=self.cache_dir)
                if traced is not None:
                    traced.set_attribute("mmagent.structured_output", mode)
        except Exception as exc:  # network, auth, rate limits: one clear planning failure
            raise PlanningError(f"planner model {self.name!r} failed: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0][:300] if str(exc) else ''}") from exc
        if self.structured and wanted is not None and mode == "text":
            raise ConfigError(f"model {self.name!r} offers no structured output; pass structured=None")
        self.last_mode = mode
        return reply
