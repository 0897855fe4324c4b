"""The CLI contract: JSON on the last stdout line, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from tests.conftest import REPO

runner = CliRunner()
TOOLS = ["--tools", "tests.runtime_tools:registry"]


def _last_json(output: str) -> object:
    return json.loads(output.strip().splitlines()[-1])


def test_tools_json_lists_kinds_and_availability() -> None:
    result = runner.invoke(app, ["tools", "--json"])
    assert result.exit_code == 0, result.output
    rows = _last_json(result.stdout)
    by_name = {r["name"]: r for r in rows}
    assert set(by_name["write_text"]) == {"name", "family", "inputs", "outputs", "available", "reason"}
    assert by_name["write_text"]["outputs"] == {"text": "text"} and by_name["write_text"]["available"] is True


def test_run_json_summary_and_show(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "chain", "--planner", "tests.runtime_tools:chain_planner", *TOOLS,
                                 "--runs-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    summary = _last_json(result.stdout)
    assert summary["status"] == "succeeded" and summary["replans"] == 0
    assert set(summary) >= {"run_id", "status", "outputs", "steps", "replans", "wall_s"}
    assert summary["steps"][0] == {"id": "s0", "tool": "emit", "status": "succeeded", "executions": 1, "checks": []}
    assert Path(summary["outputs"]["s5"]).suffix == ".txt"
    shown = runner.invoke(app, ["show", summary["run_id"], "--runs-dir", str(tmp_path)])
    assert shown.exit_code == 0 and shown.stdout.strip().endswith("report.html")
    assert Path(shown.stdout.strip()).exists()
    listed = runner.invoke(app, ["runs", "--runs-dir", str(tmp_path), "--json"])
    assert _last_json(listed.stdout)[0]["run_id"] == summary["run_id"]


def test_failed_run_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "x", "--planner", "tests.test_cli_planners:exploding", *TOOLS,
                                 "--runs-dir", str(tmp_path), "--max-replans", "0", "--json"])
    assert result.exit_code == 1, result.output
    assert _last_json(result.stdout)["status"] == "failed"


def test_bad_input_file_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "sketch.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    result = runner.invoke(app, ["run", "x", "-i", str(bad), *TOOLS, "--runs-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sketch.png" in lines[0] and "corrupt" in lines[0]


def test_unknown_tool_in_spec_and_unknown_planner_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "x", "--planner", "nonsense"])
    assert result.exit_code == 2 and "unknown planner 'nonsense'" in result.stderr
    result = runner.invoke(app, ["tools", "--tools", "tests.runtime_tools:nope"])
    assert result.exit_code == 2 and "has no attribute 'nope'" in result.stderr


def test_importing_agent_and_help_load_no_heavy_library() -> None:
    heavy = ["torch", "torchvision", "transformers", "diffusers", "open_clip", "whisper", "faster_whisper",
             "ctranslate2", "llama_cpp", "playwright", "cv2", "rapidocr", "onnxruntime", "piper", "ray",
             "uvicorn", "starlette", "httpx",  # the server's stack loads inside 'agent serve' only
             "mcp", "opentelemetry"]  # inside 'agent mcp', and when tracing is set up
    code = ("import sys, agent, agent.cli\n"
            "from typer.testing import CliRunner\n"
            "r = CliRunner().invoke(agent.cli.app, ['--help'])\n"
            "assert r.exit_code == 0, r.output\n"
            "r = CliRunner().invoke(agent.cli.app, ['run', '--help'])\n"
            f"print([m for m in {heavy!r} if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_file_the_task_names_in_the_working_directory_is_an_input(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import wave

    with wave.open(str(tmp_path / "talk.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(b"\x00\x00" * 1600)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plan", "Transcribe talk.wav", "--planner", "symbolic", "--json"])
    assert result.exit_code == 0, result.output
    steps = _last_json(result.stdout)["steps"]
    assert [(s["tool"], s["inputs"]) for s in steps[:1]] == [("transcribe", {"audio": "input:talk"})]
    assert "input: talk.wav (named in the task" in result.stderr
    # a name with no such file (an output name, say) is not an input
    result = runner.invoke(app, ["plan", "Read this aloud and save it as speech.wav", "--planner", "symbolic",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert "input:" not in result.stderr and all(
        not ref.startswith("input:") for s in _last_json(result.stdout)["steps"] for ref in s["inputs"].values())


def test_named_files_here_are_inputs_broken_ones_an_error_and_absent_ones_a_note(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.txt").write_text("Our store opens on Monday.")
    (tmp_path / "speech.wav").write_bytes(b"")  # an old, empty result of the same request
    outside = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    outside.write_text("not for the agent")
    (tmp_path / "secret.txt").symlink_to(outside)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "brief.txt").write_text("A bakery page.")
    monkeypatch.chdir(tmp_path)

    def plan(task: str, *extra: str) -> object:
        return runner.invoke(app, ["plan", task, *extra, "--planner", "symbolic", "--json"])

    # a name the task says to save to is an output, whether or not an old file has it
    result = plan("Read notes.txt aloud and save it as speech.wav")
    assert result.exit_code == 0, result.output
    assert "input: notes.txt" in result.stderr and "speech.wav" not in result.stderr
    # a file given with -i from elsewhere, named in the task by its name, is that input
    result = plan("Read brief.txt aloud", "-i", "rec/brief.txt")
    assert result.exit_code == 0, result.output
    assert "brief.txt" not in result.stderr
    # a broken file here is an error, as a broken -i is: one line, exit 2, and nothing is run
    result = runner.invoke(app, ["run", "Read empty.txt aloud", "--planner", "symbolic", "--runs-dir",
                                 str(tmp_path / "runs"), "--json"])
    assert result.exit_code == 2 and "is empty" in _last_json(result.stdout)["error"]
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()
    # no such file (it may be an output in other words), or a link out of the folder: a note, and not an input
    for task, note in [("Transcribe the talk and put the text in minutes.txt", "has no such file"),
                       ("Read secret.txt aloud", "a link out of")]:
        result = plan(task)
        assert result.exit_code == 0, result.output
        assert note in result.stderr
        assert all(not ref.startswith("input:") for s in _last_json(result.stdout)["steps"]
                   for ref in s["inputs"].values())


def test_json_errors_end_stdout_with_one_json_line(tmp_path: Path) -> None:
    missing = tmp_path / "nothere.wav"
    result = runner.invoke(app, ["run", "transcribe", "-i", str(missing), *TOOLS, "--runs-dir", str(tmp_path),
                                 "--json"])
    assert result.exit_code == 2
    error = _last_json(result.stdout)
    assert error["status"] == "error" and error["exit_code"] == 2 and "nothere.wav" in error["error"]
    assert len(result.stderr.strip().splitlines()) == 1
    shown = runner.invoke(app, ["show", "nope", "--runs-dir", str(tmp_path), "--json"])
    assert shown.exit_code == 2 and _last_json(shown.stdout)["status"] == "error"
    # without --json, stdout stays empty
    plain = runner.invoke(app, ["show", "nope", "--runs-dir", str(tmp_path)])
    assert plain.exit_code == 2 and plain.stdout == ""


def test_a_pause_for_approval_says_how_to_answer_and_resuming_an_ended_run_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "chain", "--planner", "tests.runtime_tools:chain_planner", *TOOLS,
                                 "--runs-dir", str(tmp_path), "--approve", "--json"])
    summary = _last_json(result.stdout)
    assert summary["status"] == "interrupted"
    assert f"agent resume {summary['run_id']} --runs-dir {tmp_path} --decision accept" in result.stderr
    done = runner.invoke(app, ["resume", summary["run_id"], "--runs-dir", str(tmp_path), "--decision", "accept",
                               *TOOLS, "--json"])
    assert _last_json(done.stdout)["status"] == "succeeded", done.output
    again = runner.invoke(app, ["resume", summary["run_id"], "--runs-dir", str(tmp_path), *TOOLS, "--json"])
    assert f"run {summary['run_id']} had already ended: succeeded" in again.stderr


def test_the_cli_works_from_a_thread_and_leaves_ctrl_c_as_it_found_it(tmp_path: Path) -> None:
    import signal
    import threading

    before = signal.getsignal(signal.SIGINT)
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(runner.invoke(
        app, ["run", "chain", "--planner", "tests.runtime_tools:chain_planner", *TOOLS, "--runs-dir",
              str(tmp_path), "--json"])))
    worker.start()
    worker.join()
    assert results[0].exit_code == 0, results[0].output  # no "signal only works in main thread"
    # an unexpected error in the main thread still gives Ctrl-C back
    (tmp_path / "file").write_text("not a folder")
    runner.invoke(app, ["run", "chain", "--planner", "tests.runtime_tools:chain_planner", *TOOLS, "--runs-dir",
                        str(tmp_path / "file"), "--json"])
    assert signal.getsignal(signal.SIGINT) is before


def test_the_cli_module_stays_thin() -> None:
    # parsing and printing only: the logic lives in Agent (discover_inputs, from_run) and command modules
    import agent.cli

    assert len(Path(agent.cli.__file__).read_text().splitlines()) <= 300
