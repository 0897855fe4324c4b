"""TaskBench with plan memory: gold plans as memory entries, and the benchmark's --online, --memory and --cv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planners.plan import Plan
from planners.taskbench import gold_graph, gold_plan, load_records, load_tools, plan_graph, request_of

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
    assert len(cv["floors"]) == 3  # one example floor per fold (see the next test)
    assert cv["with_examples"] <= cv["examples"] <= 4 * cv["records"]
    off = _summary("--data", str(data), "--cv", "3", "--memory", "none")
    assert off["from_memory"] == 0 and off["floors"] == [None, None, None]


def test_bad_benchmark_options_say_what_to_give(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(SCRIPT), "--memory", str(tmp_path / "nope.jsonl")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "nope.jsonl" in out.stderr and "records file" in out.stderr
    out = subprocess.run([sys.executable, str(SCRIPT), "--cv", "1"], capture_output=True, text=True)
    assert out.returncode == 2 and "K >= 2" in out.stderr and out.stderr.count("\n") == 1
    out = subprocess.run([sys.executable, str(SCRIPT), "--floor", "1.5"], capture_output=True, text=True)
    assert out.returncode == 2 and "--floor 1.5" in out.stderr and "from 0 to 1" in out.stderr


def test_the_example_floor_is_the_least_that_stops_copying_a_plan_that_only_shares_words(tmp_path: Path) -> None:
    from benchmarks.taskbench import _pick_floor
    from planners.memory import PlanMemory

    reg = load_tools(TOOLS)
    photo = {"id": "p", "user_request": "Make a narrated video from photo.jpg",
             "task_nodes": [{"task": "Image-to-Text", "arguments": ["photo.jpg"]},
                            {"task": "Text-to-Video", "arguments": ["<node-0>"]}]}
    clip = {"id": "c", "user_request": "Write down what is said in clip.mp4",
            "task_nodes": [{"task": "Video-to-Audio", "arguments": ["clip.mp4"]},
                           {"task": "Audio-to-Text", "arguments": ["<node-0>"]}]}
    shares_words = PlanMemory(tmp_path / "a.sqlite")  # the photo record's memory: another task, three words alike
    shares_words.add("Turn this sketch into a landing page and make a narrated video", {},
                     {"steps": [{"id": "v", "tool": "text_to_video", "inputs": {"text": "input:text"}}]})
    same_task = PlanMemory(tmp_path / "b.sqlite")  # the clip record's: the same task in other words
    same_task.add("Please write down all that is said in talk.mp4", {"talk.mp4": "video"}, gold_plan(clip, reg))
    # planning without examples gets the photo video right and the transcript wrong
    own = {id(photo): gold_graph(photo), id(clip): (set(), set())}
    floor = _pick_floor([(photo, shares_words), (clip, same_task)], reg, own)
    assert [m.search(request_of(r), {})[0].score for r, m in ((photo, shares_words), (clip, same_task))] == [
        pytest.approx(2 / 7), 0.8]
    assert floor == 0.3  # above the photo's 0.29 (copying loses a tool), not above the clip's 0.8 (copying wins)
