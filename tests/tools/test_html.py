"""generate_html: a deterministic, self-contained, semantic page that keeps the sketch's structure."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modalities.errors import ConfigError, ToolError
from modalities.layout import LEAF_ROLES, Layout, LayoutElement
from tools.base import ToolContext
from tools.code.html import GenerateHtml, compile_layout
from tools.code.samples import SAMPLE_LAYOUTS
from tools.registry import default_registry


def _run(store, layout: Layout, params: dict | None = None, brief: str | None = None):
    inputs = {"layout": store.put_json(layout.model_dump(mode="json"), "layout")}
    if brief is not None:
        inputs["brief"] = store.put_text(brief)
    tool = GenerateHtml()
    # the template's copy unless a test asks for the model: deterministic, and no model load in unit tests
    result = tool.run(ToolContext(store), inputs, tool.validate_params({"copywriter": "template", **(params or {})}))
    return store.read_text(result.outputs["html"]), result


def test_registry_resolves_the_tool_with_its_contract() -> None:
    tool = default_registry().get("generate_html")
    assert isinstance(tool, GenerateHtml)
    assert tool.inputs == {"layout": "layout", "brief": "text"} and tool.required_inputs() == ["layout"]
    assert tool.outputs == {"html": "html"}
    assert tool.retry_variant({"strategy": "minimal"}, 1) == {"strategy": "grid", "copywriter": "template"}
    assert tool.retry_variant({"strategy": "minimal"}, 2) is None  # then the replanner goes back to the analysis


def test_real_controls_semantic_tags_and_no_external_urls(store) -> None:
    page, result = _run(store, SAMPLE_LAYOUTS["signup"])
    assert page.startswith("<!doctype html>")
    assert '<form' in page and "<h1" in page
    assert 'type="email"' in page and 'type="checkbox"' in page and 'type="radio"' in page
    assert "<select" in page and '<button type="button"' in page and '<a href="#"' in page
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", page) and "@import" not in page
    assert "<script" not in page and "@media (max-width" in page
    assert result.metrics["elements"] == sum(1 for _ in SAMPLE_LAYOUTS["signup"].walk())
    assert result.metrics["dropped"] == 0


def test_order_and_nesting_follow_the_layout(store) -> None:
    page, _ = _run(store, SAMPLE_LAYOUTS["landing"])
    texts = ["Acme", "Plan your week in minutes", "Why teams like it", "Fast", "Shared", "Private", "Join the beta",
             "(c) 2025 Acme"]
    body = page[page.index("<body>"):]
    positions = [body.index(t) for t in texts]
    assert positions == sorted(positions)
    assert page.count('<article class="card"') == 3
    form = page[page.index("<form"):page.index("</form>")]
    assert 'placeholder="Email address"' in form and "Send me product news" in form


def test_deterministic_and_themed(store) -> None:
    layout = SAMPLE_LAYOUTS["dashboard"]
    assert compile_layout(layout) == compile_layout(layout)
    dark = compile_layout(layout, theme="dark", title="Numbers")
    assert "<title>Numbers</title>" in dark and "#11151c" in dark


def test_brief_fills_empty_copy_and_description(store) -> None:
    layout = Layout(width=800, height=600, elements=[
        LayoutElement(role="Heading", box=(0.1, 0.1, 0.8, 0.1), text="Garden club"),
        LayoutElement(role="Paragraph", box=(0.1, 0.3, 0.8, 0.2))])
    page, _ = _run(store, layout, brief="Swap seeds every Sunday & meet neighbours.")
    assert "Swap seeds every Sunday &amp; meet neighbours.</p>" in page
    assert '<meta name="description"' in page


def test_minimal_strategy_really_drops_content(store) -> None:
    page, result = _run(store, SAMPLE_LAYOUTS["landing"], {"strategy": "minimal"})
    assert result.metrics["dropped"] > 10
    assert "Join the beta" not in page and "Acme" in page


def test_text_is_escaped(store) -> None:
    layout = Layout(elements=[LayoutElement(role="Button", box=(0.1, 0.1, 0.2, 0.1), text='<img src=x onerror="1">')])
    page, _ = _run(store, layout)
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;1&quot;&gt;" in page


def test_bad_params_and_empty_layout_fail_clearly(store) -> None:
    with pytest.raises(ConfigError, match="strategy"):
        GenerateHtml().validate_params({"strategy": "fancy"})
    with pytest.raises(ToolError, match="no elements"):
        _run(store, Layout(elements=[]))


_boxes = st.tuples(st.floats(0, 0.9), st.floats(0, 0.9), st.floats(0.01, 0.5), st.floats(0.01, 0.3))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LEAF_ROLES), _boxes, st.text(max_size=20)), min_size=1, max_size=12),
       st.sampled_from(["semantic", "grid", "minimal"]))
def test_any_layout_compiles_to_one_element_per_leaf(items, strategy) -> None:
    layout = Layout(width=1000, height=1200, elements=[
        LayoutElement(role=role, box=box, text=text) for role, box, text in items])
    page = compile_layout(layout, strategy=strategy)
    assert page.count("<main") == 1 and page.rstrip().endswith("</html>")
    if strategy != "minimal":
        for role, _box, text in items:
            if text.strip():
                assert f">{__import__('html').escape(text.strip(), quote=True)}<" in page or role in (
                    "TextBox", "Image", "ComboBox")


def test_a_big_drawn_button_is_a_tile_and_a_small_one_a_pill(store) -> None:
    """A wireframe's row of wide boxes with a word in each ('post', 'post', ...) was drawn as giant pills; a box
    that big is a tile. A button the size of a button stays a pill."""
    layout = Layout(width=800, height=1000, elements=[
        LayoutElement(role="Heading", box=(0.1, 0.02, 0.6, 0.05), text="Posts"),
        LayoutElement(role="Button", box=(0.1, 0.1, 0.8, 0.09), text="post"),
        LayoutElement(role="Button", box=(0.1, 0.25, 0.15, 0.04), text="Sign up")])
    page, _ = _run(store, layout)
    assert re.search(r'<button type="button" class="tile"[^>]*>post', page)
    assert re.search(r'<button type="button"(?: class="secondary")?[^>]*>Sign up', page)
    assert "button.tile{" in page


def test_a_word_is_never_broken_to_fit_its_box() -> None:
    """A heading in a narrow box got a size at which 'Search' wrapped as 'Searc' / 'h'."""
    from tools.code._compile import _Page

    page = _Page(aspect=1.0, height_px=1280.0)
    narrow = LayoutElement(role="Heading", box=(0.6, 0.1, 0.05, 0.1), text="Search")
    size = page.font(narrow, 52.0, 11.0)
    assert len("Search") * 0.62 * size <= max(0.05 * 1280, 24.0) or size == 11
