"""TaskBench with plan memory: gold plans as memory entries, and the benchmark's --online, --memory and --cv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planners.plan import Plan
from planners.taskbench import gold_graph, gold_plan, load_records, load_tools, plan_graph

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "benchmarks" / "data" / "taskbench_tools.json"
DEV = REPO.parent / "shared" / "data" / "taskbench" / "multimedia_dev.jsonl"
SCRIPT = REPO / "benchmarks" / "taskbench.py"


@pytest.mark.skipif(not DEV.exists(), reason="the shared TaskBench records are not beside this checkout")
def test_gold_plans_have_the_gold_graphs() -> None:
    reg = load_tools(TOOLS)
    records = load_records(DEV)
    same = [plan_graph(Plan.model_validate(gold_plan(r, reg)), reg) == gold_graph(r) for r in records]
    # the two that differ have gold links a plan cannot hold: a tool fed by itself, a cycle
    assert sum(same) == len(records) - 2


def _records(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


_PANORAMA = {"id": "1", "user_request": "Please create a panorama using two images 'example1.jpg' and 'example2.jpg'.",
             "task_nodes": [{"task": "Image Stitcher", "arguments": ["example1.jpg", "example2.jpg"]}]}
_REWORDED = {"id": "2", "user_request": "Create a panorama using two images, 'a.jpg' and 'b.jpg', please.",
             "task_nodes": [{"task": "Image Stitcher", "arguments": ["a.jpg", "b.jpg"]}]}


def _summary(*args: str) -> dict:
    out = subprocess.run([sys.executable, str(SCRIPT), "--planner", "symbolic", "--json", *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_online_learning_plans_a_reworded_request_from_memory(tmp_path: Path) -> None:
    data = _records(tmp_path, [_PANORAMA, _REWORDED])
    assert _summary("--data", str(data))["from_memory"] == 0
    online = _summary("--data", str(data), "--online")
    assert online["mode"] == "online" and online["from_memory"] == 1  # the second, after the first was scored
    seeded = _summary("--data", str(data), "--memory", str(_records(tmp_path / "..", [_REWORDED])))
    assert seeded["seeded"] == 1 and seeded["from_memory"] == 2


def test_cross_validation_never_shows_a_record_its_own_plan(tmp_path: Path) -> None:
    # two copies of one request in different folds reuse each other; a lone request has nothing to reuse
    data = _records(tmp_path, [_PANORAMA, _REWORDED, {**_PANORAMA, "id": "3", "user_request": "Transcribe a.wav",
                                                      "task_nodes": [{"task": "Audio-to-Text",
                                                                      "arguments": ["a.wav"]}]}])
    cv = _summary("--data", str(data), "--cv", "3")
    assert cv["mode"] == "cv3" and cv["records"] == 3 and cv["from_memory"] == 2
    assert _summary("--data", str(data), "--cv", "3", "--memory", "none")["from_memory"] == 0


def test_bad_benchmark_options_say_what_to_give(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--memory", str(tmp_path / "nope.jsonl")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "nope.jsonl" in out.stderr and "records file" in out.stderr
    out = subprocess.run([sys.executable, str(SCRIPT), "--cv", "1"], capture_output=True, text=True)
    assert out.returncode == 2 and "K >= 2" in out.stderr and out.stderr.count("\n") == 1
