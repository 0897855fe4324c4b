"""The chat-model variants: the vision backend of analyze_sketch and the LLM page writer, driven by scripted
chat models (never a network model)."""

from __future__ import annotations

import json

import pytest

from modalities.errors import ToolError
from modalities.layout import Layout, LayoutElement
from modalities.testing import png_bytes
from tools.base import ToolContext
from tools.chat import set_chat_model
from tools.testing import ScriptedChat


@pytest.fixture(autouse=True)
def _no_model_left_behind():
    yield
    set_chat_model(None, "vision")
    set_chat_model(None, "text")


def test_sketch_through_a_vision_model_with_one_correction(store) -> None:
    from tools.vision.sketch import AnalyzeSketch

    bad = json.dumps({"elements": [{"role": "Blink", "box": [0, 0, 1, 1]}]})
    good = "```json\n" + json.dumps({"elements": [
        {"role": "nav", "box": [0, 0, 1, 0.1], "children": [{"role": "Link", "box": [0.7, 0.02, 0.1, 0.05],
                                                             "text": "Home"}]},
        {"role": "Heading", "box": [0.1, 0.2, 0.8, 0.1], "text": "Plan your trips"},
        {"role": "Button", "box": [0.1, 0.4, 0.2, 0.06], "text": "Go"}]}) + "\n```"
    model = ScriptedChat(replies=[bad, good], seen=[])
    set_chat_model(model, "vision")
    image = store.put_bytes(png_bytes(40, 30), "image", "image/png", width=40, height=30)
    tool = AnalyzeSketch()
    result = tool.run(ToolContext(store), {"image": image}, tool.validate_params({}))
    layout = Layout.model_validate(store.read_json(result.outputs["layout"]))
    assert [e.role for e in layout.walk()] == ["nav", "Link", "Heading", "Button"]
    assert result.metrics["backend"] == "llm" and result.metrics["elements"] == 3
    first = model.seen[0][0].content
    assert first[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "elements.0.role: Input should be" in model.seen[1][-1].content  # the exact error went back


def test_llm_backend_without_a_model_says_how_to_configure_one(store, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.vision.sketch import AnalyzeSketch

    monkeypatch.delenv("MMAGENT_VISION_MODEL", raising=False)
    image = store.put_bytes(png_bytes(), "image", "image/png")
    tool = AnalyzeSketch()
    with pytest.raises(ToolError, match="set MMAGENT_VISION_MODEL"):
        tool.run(ToolContext(store), {"image": image}, tool.validate_params({"backend": "llm"}))


def test_llm_page_is_made_self_contained(store) -> None:
    from tools.code.html import GenerateHtml

    reply = ("<!doctype html><html><head><link rel=stylesheet href='https://cdn.example/x.css'>"
             "<style>@import url('https://fonts.example/f.css'); body{background:url(http://x/y.png)}</style>"
             "<script src='https://evil.example/a.js'></script><script>fetch('http://x')</script></head>"
             "<body><h1 onclick=\"steal()\">Plan your trips</h1><img src='http://x/pic.png' alt=pic>"
             "<button>Go</button></body></html>")
    model = ScriptedChat(replies=[reply], seen=[])
    set_chat_model(model, "text")
    layout = Layout(width=800, height=600, elements=[LayoutElement(role="Heading", box=(0.1, 0.1, 0.8, 0.1),
                                                                   text="Plan your trips")])
    art = store.put_json(layout.model_dump(mode="json"), "layout")
    tool = GenerateHtml()
    result = tool.run(ToolContext(store), {"layout": art}, tool.validate_params({"strategy": "llm"}))
    page = store.read_text(result.outputs["html"])
    assert "<h1" in page and "<button>Go</button>" in page
    for bad in ("http:", "https:", "<script", "onclick", "@import"):
        assert bad not in page, bad
    assert "Plan your trips" in model.seen[0][0].content  # the layout went into the prompt


def test_llm_page_without_a_model(store, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.code.html import GenerateHtml

    monkeypatch.delenv("MMAGENT_CHAT_MODEL", raising=False)
    art = store.put_json(Layout(elements=[LayoutElement(role="Button", box=(0, 0, 0.2, 0.1))]).model_dump(), "layout")
    tool = GenerateHtml()
    with pytest.raises(ToolError, match="set MMAGENT_CHAT_MODEL"):
        tool.run(ToolContext(store), {"layout": art}, tool.validate_params({"strategy": "llm"}))
