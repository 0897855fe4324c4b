"""The plan memory: a real SQLite file, real concurrent writers, a real kill -9, and planning with it."""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from modalities.errors import ConfigError
from planners.memory import EXAMPLE_FLOOR, MemoryPlanner, PlanMemory, pick_examples, request_words, worked_examples
from planners.memory.examples import examples_block
from planners.plan import Plan, Step
from planners.testing import ScriptedPlanner
from tools.registry import ToolRegistry
from tools.text import write_text

REPO = Path(__file__).resolve().parents[2]


def _plan(*tools: str, source: str = "input:talk") -> dict:
    steps, previous = [], source
    for i, tool in enumerate(tools):
        steps.append({"id": f"s{i}", "tool": tool, "inputs": {"audio": previous}})
        previous = f"s{i}.audio"
    return {"steps": steps}


def test_meaning_words_ignore_file_names_quotes_and_politeness() -> None:
    assert request_words("Please transcribe talk.wav") == request_words("transcribe memo.wav")
    assert request_words("Translate 'hola amigo' to English") == request_words("translate 'bonjour' to english")
    assert request_words("transcribe talk.wav") != request_words("speak talk.txt")


def test_add_search_dedupe_forget(tmp_path: Path) -> None:
    memory = PlanMemory(tmp_path / "m.sqlite")
    first = memory.add("transcribe talk.wav", {"talk": "audio"}, _plan("transcribe"))
    again = memory.add("transcribe talk.wav", {"talk": "audio"}, _plan("transcribe"))
    other = memory.add("make the voice in memo.wav deeper", {"memo": "audio"}, _plan("voice_changer"))
    assert first.id == again.id and again.uses == 2 and len(memory) == 2
    found = memory.search("please transcribe lecture.mp3", {"lecture": "audio"})
    assert [e.id for e in found] == [first.id, other.id]  # the voice entry shares only the kind, 'audio'
    assert found[0].score == 1.0 and found[1].score < 0.3
    assert memory.forget(other.id[:6]) == 1 and len(memory) == 1
    assert memory.search("voice deeper", {}) == []
    with pytest.raises(ConfigError, match="no entry has the memory id"):
        memory.get(other.id)


def test_bad_values_are_refused_with_the_fix(tmp_path: Path) -> None:
    memory = PlanMemory(tmp_path / "m.sqlite")
    with pytest.raises(ConfigError, match="outcome 'meh' is not one of good, bad"):
        memory.add("x", {}, _plan("transcribe"), outcome="meh")
    with pytest.raises(ConfigError, match="has no steps"):
        memory.add("x", {}, {"steps": []})
    with pytest.raises(ConfigError, match="line 2 is not a memory entry"):
        memory.import_lines(['{"request": "a", "kinds": {}, "plan": {"steps": [{"id": "a", "tool": "t"}]}}', "{"],
                            where="lib.jsonl")
    assert len(memory) == 0  # one bad line adds nothing: the import is one transaction


def test_reading_an_absent_memory_creates_no_file(tmp_path: Path) -> None:
    memory = PlanMemory(tmp_path / "absent.sqlite")
    assert memory.search("transcribe talk.wav", {}) == [] and len(memory) == 0
    assert not memory.path.exists()


def test_export_then_import_is_the_same_library(tmp_path: Path) -> None:
    a = PlanMemory(tmp_path / "a.sqlite")
    a.add("transcribe talk.wav", {"talk": "audio"}, _plan("transcribe"))
    a.add("deepen memo.wav", {"memo": "audio"}, _plan("voice_changer"), outcome="bad", source="feedback", note="no")
    out = io.StringIO()
    assert a.export(out) == 2
    b = PlanMemory(tmp_path / "b.sqlite")
    assert b.import_lines(out.getvalue().splitlines()) == 2
    assert b.import_lines(out.getvalue().splitlines()) == 2  # twice: counted as uses, not duplicated
    assert len(b) == 2
    assert {(e.id, e.outcome, e.note) for e in a.entries()} == {(e.id, e.outcome, e.note) for e in b.entries()}


_WRITER = """
import sys
from planners.memory import PlanMemory
memory = PlanMemory(sys.argv[1])
tag, n = sys.argv[2], int(sys.argv[3])
for i in range(n):
    memory.add(f"{tag} request number {i} about audio", {"a": "audio"},
               {"steps": [{"id": "s", "tool": "transcribe", "inputs": {"audio": "input:a"}}]})
    print(i, flush=True)
"""


def _writer(path: Path, tag: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _WRITER, str(path), tag, str(n)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _consistent(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        entries = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
        indexed = conn.execute("SELECT COUNT(*) FROM entries_fts").fetchone()[0]
        assert entries == indexed  # an entry and its search row commit together or not at all
        return int(entries)
    finally:
        conn.close()


def test_two_processes_adding_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    writers = [_writer(path, tag, 150) for tag in ("alpha", "beta")]
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    assert _consistent(path) == 300
    assert len(PlanMemory(path).search("beta request number 7 about audio", k=1)) == 1


def test_kill_9_mid_write_keeps_every_committed_entry(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite"
    rng = random.Random(18)
    committed = 0
    for trial in range(3):
        w = _writer(path, f"trial{trial}", 100_000)
        stop_after = rng.randint(5, 60)
        seen = -1
        assert w.stdout is not None
        for line in w.stdout:
            seen = int(line)
            if seen >= stop_after:
                break
        os.kill(w.pid, signal.SIGKILL)  # mid-write: the writer is in its next transaction by now
        w.wait()
        committed += seen + 1
        count = _consistent(path)
        assert count >= committed  # every add it reported is there (it may have committed more before the kill)
        committed = count
    PlanMemory(path).add("after the kills", {}, _plan("transcribe"))  # and the file still takes writes
    assert _consistent(path) == committed + 1


def test_a_repeated_request_reuses_its_plan_without_asking_the_planner(tmp_path: Path) -> None:
    registry = ToolRegistry([write_text])
    memory = PlanMemory(tmp_path / "m.sqlite")
    memory.add("summarize notes.txt in a short text", {"notes": "text"},
               {"steps": [{"id": "w", "tool": "write_text", "inputs": {"brief": "input:notes"}}]})
    planner = MemoryPlanner(ScriptedPlanner([]), memory)  # a scripted planner with no plans raises if asked
    plan = planner.plan("Please summarize minutes.txt in a short text.", {"minutes": "text"}, registry)
    assert plan.planner == f"memory:{planner.last_match.id}"
    assert plan.steps[0].inputs == {"brief": "input:minutes"}  # renamed to this run's input
    assert plan.task == "Please summarize minutes.txt in a short text."


def test_a_reused_plan_keeps_its_variants_but_not_one_runs_revisions(tmp_path: Path) -> None:
    """A run that succeeded after its narration was rewritten without the words its voice misheard ends with
    that list in the plan; the next sketch's page has other words, so the reused plan starts without it (it
    carried one blog's misread labels into the next run's Spanish form). The shorter script it settled on stays."""
    registry = ToolRegistry([write_text])
    memory = PlanMemory(tmp_path / "m.sqlite")
    memory.add("narrate my notes", {"notes": "text"}, {"steps": [
        {"id": "w", "tool": "write_text", "inputs": {"brief": "input:notes"},
         "params": {"max_words": 30, "avoid": ["entrados", "anteriores"]}}]})
    plan = MemoryPlanner(ScriptedPlanner([]), memory).plan("narrate my notes", {"notes": "text"}, registry)
    assert plan.steps[0].params == {"max_words": 30}


def test_other_kinds_or_a_bad_verdict_mean_planning_afresh(tmp_path: Path) -> None:
    registry = ToolRegistry([write_text])
    memory = PlanMemory(tmp_path / "m.sqlite")
    good = {"steps": [{"id": "w", "tool": "write_text", "inputs": {"brief": "input:notes"}}]}
    memory.add("summarize notes.txt", {"notes": "text"}, good)
    asked: list[tuple[str, ...]] = []

    class Recording:  # plans afresh, and records which worked examples it was shown
        name = "recording"

        def plan(self, task, inputs, reg):
            asked.append(tuple(e.request for e in worked_examples.get()))
            return Plan(task=task, steps=[Step(id="fresh", tool="write_text")])

    planner = MemoryPlanner(Recording(), memory)
    assert planner.plan("summarize notes.txt", {}, registry).planner != "memory"  # no input: other kinds
    assert asked == [("summarize notes.txt",)]  # ... but the entry is a worked example
    memory.add("summarize notes.txt", {"notes": "text"}, good, outcome="bad", source="feedback")
    plan = planner.plan("summarize notes.txt", {"notes": "text"}, registry)
    assert plan.steps[0].id == "fresh" and len(asked) == 2  # marked bad since: not reused


def test_worked_examples_reach_the_tool_list_prompt() -> None:
    from planners._prompting import tool_list_messages
    from planners.memory.store import MemoryEntry
    from planners.taskbench import load_tools

    tools = load_tools(REPO / "benchmarks" / "data" / "taskbench_tools.json").available()
    near = MemoryEntry("a1", "Pull the sound out of clip.mp4 and write down what is said", {"clip.mp4": "video"},
                       {"steps": [{"id": "t", "tool": "audio_to_text", "inputs": {"audio": "v.audio"}},
                                  {"id": "v", "tool": "video_to_audio", "inputs": {"video": "input:clip.mp4"}}]})
    unknown = MemoryEntry("b2", "Do magic", {}, {"steps": [{"id": "m", "tool": "magic"}]})
    user = tool_list_messages("Transcribe the speech in talk.mp4", {"talk.mp4": "video"}, tools,
                              remembered=[near, unknown])[1]["content"]
    assert "Pull the sound out of clip.mp4" in user and "magic" not in user
    assert '["video_to_audio", "audio_to_text"]' in user  # dependencies first, whatever the stored order
    assert user.index("Pull the sound") < user.index("Transcribe the speech")
    assert examples_block([unknown], {t.name for t in tools}) == ""


def test_memory_off_and_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from planners.memory import resolve_memory

    assert resolve_memory(None) is None and resolve_memory("none") is None
    assert resolve_memory("default").path == Path(os.environ["MMAGENT_HOME"]) / "memory.sqlite"
    monkeypatch.setenv("MMAGENT_MEMORY", "off")
    assert resolve_memory("default") is None
    monkeypatch.setenv("MMAGENT_MEMORY", str(tmp_path / "team.sqlite"))
    assert resolve_memory("default").path == tmp_path / "team.sqlite"


_PAGE_VIDEO = {"steps": [{"id": "a", "tool": "analyze_sketch", "inputs": {"image": "input:sketch"}},
                         {"id": "g", "tool": "generate_html", "inputs": {"layout": "a.layout"}},
                         {"id": "w", "tool": "write_text", "inputs": {"brief": "g.html"}},
                         {"id": "s", "tool": "speak", "inputs": {"text": "w.text"}},
                         {"id": "v", "tool": "record_page_video", "inputs": {"html": "g.html", "audio": "s.audio"}}]}


def test_a_request_that_only_shares_a_few_words_gets_no_worked_example(tmp_path: Path) -> None:
    # a user's bug: the only remembered run was a sketch's page video, a photo video was then planned with it as
    # its worked example, and the model copied it
    memory = PlanMemory(tmp_path / "m.sqlite")
    memory.add("turn this sketch into a landing page and make a narrated video", {"sketch": "image"}, _PAGE_VIDEO)
    photos = {"beach": "image", "dunes": "image"}
    found = memory.search("make a narrated video from these photos", photos)
    assert [e.request for e in found] == ["turn this sketch into a landing page and make a narrated video"]
    assert pick_examples(found, limit=4, floor=EXAMPLE_FLOOR) == ()
    # the same entry is an example for a request that asks for the same work in other words
    again = memory.search("make a narrated video of a landing page from this sketch", {"wireframe": "image"})
    assert [e.request for e in pick_examples(again, limit=4, floor=EXAMPLE_FLOOR)] == [found[0].request]
    assert pick_examples(again, limit=0, floor=0.0) == ()

    shown: list[tuple[str, ...]] = []

    class Recording:  # records which worked examples the wrapped planner was shown
        name = "recording"

        def plan(self, task, inputs, reg):
            shown.append(tuple(e.request for e in worked_examples.get()))
            return Plan(task=task, steps=[Step(id="fresh", tool="write_text")])

    planner = MemoryPlanner(Recording(), memory)
    planner.plan("make a narrated video from these photos", photos, ToolRegistry([write_text]))
    assert shown == [()] and planner.last_examples == ()
    planner.plan("make a narrated video of a landing page from this sketch", {"wireframe": "image"},
                 ToolRegistry([write_text]))
    assert shown[-1] == (found[0].request,) and [e.request for e in planner.last_examples] == list(shown[-1])
