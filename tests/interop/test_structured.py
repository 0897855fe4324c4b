"""What a small model served over an OpenAI-compatible API writes, and what the planner makes of it."""

from __future__ import annotations

import json

from planners.llm import LLMPlanner
from tools.registry import ToolRegistry
from tools.testing import ScriptedChat
from tools.text import write_text

# the reply of the shipped 1.5B model through llama_cpp.server (json_object with the schema), verbatim
SEEN = {"steps": [{"id": "write_greeting", "tool": "write_text",
                   "inputs": {"template": "Hello, {name}! I am a multimodal agent.",
                              "brief": "A greeting that includes the user's name and is spoken."},
                   "params": {}, "why": "The template includes placeholders for the user's name."}]}


def test_a_param_written_among_the_inputs_is_moved_to_the_params() -> None:
    chat = ScriptedChat(replies=[json.dumps(SEEN)], seen=[])
    plan = LLMPlanner(chat, repair=False).plan("write a one-line greeting", {}, ToolRegistry([write_text]))
    (step,) = plan.steps
    assert step.inputs == {}  # the prose 'brief' is dropped: an optional input takes a reference only
    assert step.params == {"template": "Hello, {name}! I am a multimodal agent."}
    assert len(chat.seen) == 1


def test_a_required_input_given_as_prose_still_goes_back_to_the_model() -> None:
    from tools.audio.speak import Speak

    bad = {"steps": [{"id": "say", "tool": "speak", "inputs": {"text": "hello there"}}]}
    good = {"steps": [{"id": "w", "tool": "write_text", "params": {"template": "hello"}},
                      {"id": "say", "tool": "speak", "inputs": {"text": "w.text"}}]}
    chat = ScriptedChat(replies=[json.dumps(bad), json.dumps(good)], seen=[])
    registry = ToolRegistry([write_text, Speak()])
    plan = LLMPlanner(chat, repair=False).plan("say hello", {}, registry)
    assert [s.id for s in plan.steps] == ["w", "say"]
    assert "reference 'hello there' must be" in chat.seen[1][-1].content
