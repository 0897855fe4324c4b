"""The TaskBench adapter, its metrics, and the benchmark script's summary line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modalities.errors import ConfigError
from planners.plan import Plan, Step, plan_issues
from planners.symbolic import SymbolicPlanner
from planners.taskbench import (
    gold_graph,
    load_records,
    load_tools,
    plan_graph,
    record_inputs,
    request_of,
    score,
    tool_name,
)

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "benchmarks" / "data" / "taskbench_tools.json"


def test_tools_load_as_typed_planning_only_tools() -> None:
    reg = load_tools(TOOLS)
    assert len(reg) == 40
    assert reg.get("image_search").outputs == {"image": "image"}  # "Image" in the file, normalised
    assert reg.get("audio_downloader").inputs == {"url": "url"}
    assert tool_name("Image Search (by Image)") == "image_search_by_image"
    assert (REPO / "benchmarks" / "data" / "TASKBENCH_LICENSE").is_file()


def test_url_kind_validates() -> None:
    reg = load_tools(TOOLS)
    plan = Plan(steps=[Step(id="get", tool="text_downloader", inputs={"url": "input:url"}),
                       Step(id="sum", tool="text_summarizer", inputs={"text": "get.text"})])
    assert plan_issues(plan, reg, {"url": "url"}) == []
    bad = Plan(steps=[Step(id="get", tool="text_downloader", inputs={"url": "input:text"})])
    assert plan_issues(bad, reg, {"text": "text"}) == [
        "step 'get': input 'url' needs url, but run input 'text' is text"]


def test_record_inputs_come_from_file_names_and_urls() -> None:
    assert record_inputs("Combine 'example1.wav' and example2.wav, then visit https://x.org/a") == {
        "text": "text", "example1.wav": "audio", "example2.wav": "audio", "url": "url"}


def test_gold_edges_from_node_references_else_links() -> None:
    record = {"task_nodes": [{"task": "B", "arguments": ["<node-1>"]}, {"task": "A", "arguments": ["x.wav"]}],
              "task_links": [{"source": "Z", "target": "B"}]}
    assert gold_graph(record) == ({"A", "B"}, {("A", "B")})
    no_refs = {"task_nodes": [{"task": "A", "arguments": ["<output-of-node-1>"]}],
               "task_links": [{"source": "A", "target": "B"}]}
    assert gold_graph(no_refs)[1] == {("A", "B")}


def test_records_in_taskbenchs_raw_form_read_like_the_released_ones(tmp_path: Path) -> None:
    # the raw data.json says "instruction", may name nodes "tool_nodes" as a JSON string and give one argument bare
    raw = {"id": "7", "instruction": "Colorize photo.jpg, then describe it.",
           "tool_nodes": json.dumps([{"task": "Image Colorizer", "arguments": "photo.jpg"},
                                     {"task": "Image-to-Text", "arguments": "<node-0>"}]),
           "tool_links": json.dumps([{"source": "Image Colorizer", "target": "Image-to-Text"}])}
    (tmp_path / "raw.json").write_text(json.dumps([raw]))
    (records,) = load_records(tmp_path / "raw.json")
    assert request_of(records) == "Colorize photo.jpg, then describe it."
    assert gold_graph(records) == ({"Image Colorizer", "Image-to-Text"}, {("Image Colorizer", "Image-to-Text")})


@pytest.mark.parametrize(("text", "message"), [
    ('{"id": "1", "user_request": "ok"}\n{broken\n', "line 2 is not JSON"),
    ('{"id": "1", "task_nodes": []}\n', "record 1: TaskBench record '1' has no request"),
    ('["not a record"]', "record 1 is not a JSON object"),
])
def test_bad_record_files_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_records(path)
    assert str(path) in str(caught.value)


def test_benchmark_script_reports_a_missing_records_file_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "taskbench.py"), "--data", str(missing)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().count("\n") == 0 and str(missing) in out.stderr and "--data" in out.stderr


def test_micro_f1_pools_records() -> None:
    n_f1, e_f1 = score([(({"A"}, set()), ({"A", "B"}, {("A", "B")})), (({"C"}, set()), ({"C"}, set()))])
    assert round(n_f1, 4) == round(2 * 2 / (2 * 2 + 0 + 1), 4)
    assert e_f1 == 0.0


def test_symbolic_chain_over_taskbench_tools() -> None:
    reg = load_tools(TOOLS)
    request = ("I have a video file example.mp4, and I want to extract its audio track, reduce background noise, "
               "and then add a reverb effect.")
    plan = SymbolicPlanner().plan(request, record_inputs(request), reg)
    assert plan_graph(plan, reg) == ({"Video-to-Audio", "Audio Noise Reduction", "Audio Effects"},
                                     {("Video-to-Audio", "Audio Noise Reduction"),
                                      ("Audio Noise Reduction", "Audio Effects")})


def test_benchmark_script_prints_summary_last(tmp_path: Path) -> None:
    data = tmp_path / "two.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in [
        {"id": "1", "user_request": "Please create a panorama using two images 'example1.jpg' and 'example2.jpg'.",
         "task_nodes": [{"task": "Image Stitcher", "arguments": ["example1.jpg", "example2.jpg"]}], "task_links": []},
        {"id": "2", "user_request": "Find me a video about cooking using the keyword 'cooking tutorial'",
         "task_nodes": [{"task": "Video Search", "arguments": ["cooking tutorial"]}], "task_links": []},
    ]))
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "taskbench.py"), "--planner", "symbolic",
                          "--data", str(data), "--json"], capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(summary) == {"n_f1", "e_f1", "valid_rate", "mean_latency_s", "p50_latency_s", "p90_latency_s",
                            "max_latency_s", "records", "from_memory", "with_examples", "examples", "mode", "seeded"}
    assert summary["mode"] == "no memory" and summary["from_memory"] == 0 and summary["examples"] == 0
    assert summary["records"] == 2 and summary["valid_rate"] == 1.0
    assert len(out.stderr.strip().splitlines()) == 2


def test_a_purpose_clause_is_a_step_of_its_own() -> None:
    # "so I can extract the URLs" asks for one more tool after the transcription
    reg = load_tools(TOOLS)
    request = "Transcribe the speech in talk.mp4 so I can extract any URLs mentioned in it."
    plan = SymbolicPlanner().plan(request, record_inputs(request), reg)
    assert plan_graph(plan, reg) == ({"Video-to-Text", "URL Extractor"}, {("Video-to-Text", "URL Extractor")})


def test_malformed_gold_records_score_what_they_hold() -> None:
    # a node without a task is skipped, and "<node-1>" still means the record's node 1
    record = {"task_nodes": [{"arguments": []}, {"task": "A"}, {"task": "B", "arguments": ["<node-1>"]}]}
    assert gold_graph(record) == ({"A", "B"}, {("A", "B")})
    assert gold_graph({"tool_nodes": "5", "task_links": 3}) == (set(), set())
    assert gold_graph({"task_nodes": 5}) == (set(), set())
