"""A fake chat model for tests of the tools and planners that can use one (tests never reach a network model).

Importing this module needs ``langchain-core`` (the ``llm`` extra); nothing in the product imports it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

__all__ = ["ScriptedChat"]


class ScriptedChat(BaseChatModel):
    """Replies from a script, in order, and remembers every conversation it was sent.

    Example:
        >>> chat = ScriptedChat(replies=["hello"], seen=[])
        >>> chat.invoke("hi").content, len(chat.seen)
        ('hello', 1)
    """

    replies: list[str]
    seen: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        if not self.replies:
            raise RuntimeError("script exhausted")
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.replies.pop(0)))])
