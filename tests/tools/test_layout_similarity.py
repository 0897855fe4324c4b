"""layout_similarity: per-part scores react to the change they measure, and the tool's contract."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modalities.layout import LEAF_ROLES, Layout, LayoutElement
from tools.base import ToolContext
from tools.checks import evaluate_check
from tools.vision.layout_similarity import WEIGHTS, compare_layouts, layout_similarity


def E(role: str, box: tuple[float, float, float, float], text: str = "") -> LayoutElement:  # noqa: N802
    return LayoutElement(role=role, box=box, text=text)


PAGE = Layout(elements=[
    E("Heading", (0.1, 0.05, 0.5, 0.08), "Product Catalog"),
    E("Image", (0.1, 0.2, 0.3, 0.3)),
    E("Label", (0.5, 0.2, 0.3, 0.05), "Product one"),
    E("Paragraph", (0.5, 0.28, 0.4, 0.15), "A short text about the product"),
    E("Button", (0.5, 0.5, 0.2, 0.06), "Add to cart"),
])


def _with(elements: list[LayoutElement]) -> Layout:
    return Layout(elements=elements)


def test_identical_layouts_score_one() -> None:
    report = compare_layouts(PAGE, PAGE)
    assert report["layout_score"] == 1.0
    assert all(report[k] == 1.0 for k in WEIGHTS)
    assert report["matched"] == 5 and not report["missing"] and not report["extra"]


def test_shift_lowers_position_only() -> None:
    moved = _with([e.model_copy(update={"box": (e.box[0] + 0.05, *e.box[1:])}) for e in PAGE.elements])
    report = compare_layouts(PAGE, moved)
    assert report["position_score"] == 0.95
    assert report["text_score"] == report["role_score"] == report["order_score"] == 1.0
    assert 0.9 < report["layout_score"] < 1.0


def test_missing_block_lowers_block_score_and_is_listed() -> None:
    report = compare_layouts(PAGE, _with(PAGE.elements[:1] + PAGE.elements[2:]))
    assert report["block_score"] < 0.8
    assert report["missing"] == [{"role": "Image", "text": ""}]


def test_changed_text_and_role_lower_their_scores() -> None:
    edited = [e.model_copy() for e in PAGE.elements]
    edited[4] = E("Link", edited[4].box, "Buy now")
    report = compare_layouts(PAGE, _with(edited))
    assert report["text_score"] < 0.95 and report["role_score"] == 0.8


def test_swapped_order_lowers_order_score() -> None:
    a, b = PAGE.elements[2], PAGE.elements[3]
    swapped = [PAGE.elements[0], PAGE.elements[1], b.model_copy(update={"box": a.box}),
               a.model_copy(update={"box": b.box}), PAGE.elements[4]]
    report = compare_layouts(PAGE, _with(swapped))
    # the texts still pair the elements, so their positions disagree with the reading order
    assert report["order_score"] < 1.0


def test_unrelated_page_fails_default_check(store) -> None:
    other = _with([E("TextBox", (0.0, 0.9, 0.2, 0.05)), E("CheckBox", (0.8, 0.8, 0.1, 0.05), "Yes")])
    ref = store.put_json(PAGE.model_dump(mode="json"), "layout")
    cand = store.put_json(other.model_dump(mode="json"), "layout")
    result = layout_similarity.run(ToolContext(store=store), {"reference": ref, "candidate": cand},
                                   layout_similarity.validate_params({}))
    assert result.metrics["layout_score"] < 0.5
    assert set(WEIGHTS) <= set(result.metrics)
    (check,) = layout_similarity.checks()
    outcome = evaluate_check(check, result.outputs, result.metrics, store)
    assert not outcome.passed and outcome.expected == "layout_score >= 0.5"
    assert layout_similarity.judges == ("candidate",)
    assert store.read_json(result.outputs["report"])["reference_elements"] == 5


def test_empty_layouts() -> None:
    assert compare_layouts(Layout(), Layout())["layout_score"] == 1.0
    assert compare_layouts(PAGE, Layout())["layout_score"] == 0.0


_boxes = st.tuples(st.floats(0, 0.8), st.floats(0, 0.8), st.floats(0.01, 0.2), st.floats(0.01, 0.2))
_elements = st.lists(st.builds(E, st.sampled_from(LEAF_ROLES), _boxes, st.text(max_size=12)), max_size=6)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(_elements, _elements)
def test_scores_stay_in_unit_range(ref: list[LayoutElement], cand: list[LayoutElement]) -> None:
    report = compare_layouts(_with(ref), _with(cand))
    for key in (*WEIGHTS, "layout_score"):
        assert 0.0 <= report[key] <= 1.0
