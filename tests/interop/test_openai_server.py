"""The llm: planner against llama-cpp-python's own OpenAI-compatible server, on loopback, with the shipped GGUF.

That server refuses ``response_format`` json_schema (HTTP 500); the planner must fall back to json_object with the
schema, plan, and remember the form for the endpoint.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp.server.app")
pytest.importorskip("langchain_openai")

from planners.local import assemble_model, model_parts  # noqa: E402

REPO = Path(__file__).parents[2]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(model_parts() is None, reason="the shipped planner model is not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(assemble_model()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}")
            try:
                urllib.request.urlopen(f"{url}/models", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _agent(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "MMAGENT_HOME": str(tmp_path / "home"),
           "MMAGENT_CACHE": str(tmp_path / "cache"), "MMAGENT_MEMORY": "none", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    env.pop("OPENAI_API_KEY", None)  # a local server needs none
    return subprocess.run([sys.executable, "-c", "from agent.cli import main; main()", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=3000)


def test_plan_and_run_against_a_real_llama_cpp_server(server: str, tmp_path: Path) -> None:
    common = ["--planner", "llm:openai:qwen", "--base-url", server, "--tools", "tests.interop_tools:writer",
              "--json"]
    planned = _agent(["plan", "write a one-line greeting", *common], tmp_path)
    assert planned.returncode == 0, planned.stderr[-3000:]
    plan = json.loads(planned.stdout.splitlines()[-1])
    assert [s["tool"] for s in plan["steps"]] == ["write_text"]
    remembered = json.loads((tmp_path / "cache" / "endpoints.json").read_text())
    assert remembered == {f"{server}|qwen": "json_object"}  # json_schema was refused and is not asked again
    ran = _agent(["run", "write a one-line greeting", *common], tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    summary = json.loads(ran.stdout.splitlines()[-1])
    assert summary["status"] == "succeeded"
    assert Path(next(iter(summary["outputs"].values()))).read_text().strip()
