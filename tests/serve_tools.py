"""Tools, planners and a server fixture for the ``agent serve`` tests: the real ``agent serve`` process on a free
loopback port, driven over HTTP (importable as ``tests.serve_tools:...`` by that process)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from planners.testing import FunctionPlanner
from tests.conftest import REPO
from tests.runtime_tools import append, emit
from tools.registry import ToolRegistry, default_registry

# the light test tools, and the real slideshow tool (ffmpeg in a worker process) for a run that makes a video
registry = ToolRegistry([emit, append, default_registry().get("compose_video")])


def _film(task: str, inputs: dict[str, Any], reg: object) -> dict:
    image = next(name for name, art in inputs.items() if art.kind == "image")
    return {"steps": [{"id": "look", "tool": "emit", "params": {"value": "seen", "delay": 0.3}},
                      {"id": "film", "tool": "compose_video", "inputs": {"image": f"input:{image}"},
                       "params": {"seconds_per_image": 1.0}}]}


video_planner = FunctionPlanner(_film)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``agent serve`` in a process of its own (so a test can ``kill -9`` it), on 127.0.0.1 and a free port."""

    def __init__(self, home: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.home, self.args, self.extra_env = home, list(args), env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "MMAGENT_HOME": str(self.home), "MMAGENT_MEMORY": "none", "PYTHONPATH": str(REPO),
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **self.extra_env}

    def start(self) -> Server:
        self.port = free_port()
        log = open(self.home / f"serve-{self.port}.log", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(self.port),
                                      *self.args], cwd=REPO, env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, (self.home / f"serve-{self.port}.log").read_text()
            try:
                if httpx.get(f"{self.url}/api/health", headers=self.auth, timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("agent serve did not answer within 60 s")

    @property
    def auth(self) -> dict[str, str]:
        token = self.extra_env.get("MMAGENT_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()

    # -- the API --------------------------------------------------------------------------------------------
    def submit(self, task: str = "chain", files: list[Path] | None = None, **fields: str) -> str:
        sent = [("files", (p.name, p.read_bytes())) for p in files or []]
        r = httpx.post(f"{self.url}/api/runs", data={"task": task, **fields}, files=sent or None, headers=self.auth)
        assert r.status_code == 201, r.text
        return str(r.json()["run_id"])

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={**self.auth, **kw.pop("headers", {})}, timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", headers={**self.auth, **kw.pop("headers", {})}, timeout=30, **kw)

    def summary(self, run_id: str) -> dict[str, Any]:
        r = self.get(f"/api/runs/{run_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_status(self, run_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            summary = self.summary(run_id)
            if summary["status"] in statuses:
                return summary
            time.sleep(0.1)
        raise AssertionError(f"run {run_id} is {summary['status']}, not {statuses}")

    def events(self, run_id: str, last_id: int = 0, stop_after: int | None = None,
               timeout: float = 60) -> Iterator[tuple[int, dict[str, Any]]]:
        """(id, event) from the run's SSE stream, from after ``last_id``; stops at the stream's end, or after
        ``stop_after`` events (closing the connection, as a client that goes away does)."""
        headers = {**self.auth, "Last-Event-ID": str(last_id)}
        n = 0
        with httpx.stream("GET", f"{self.url}/api/runs/{run_id}/events", headers=headers,
                          timeout=httpx.Timeout(timeout)) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"].startswith("text/event-stream")
            event_id, data = None, []
            for line in r.iter_lines():
                if line.startswith("id:"):
                    event_id = int(line[3:])
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    yield int(event_id or 0), json.loads("\n".join(data))
                    event_id, data = None, []
                    n += 1
                    if stop_after is not None and n >= stop_after:
                        return
