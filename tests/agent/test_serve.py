"""``agent serve`` driven over HTTP: the real server process on a free loopback port, real runs of light tools.

Submit, stream (SSE) and reconnect with Last-Event-ID, approve, reject, edit, cancel, kill -9 the server mid-run and
start it again, the token, path validation, the upload limit and cross-site calls; then the CLI around it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import agent.report
from agent.serve.manager import ConflictError, RunManager
from tests.conftest import REPO
from tests.serve_tools import Server

CHAIN = ["--planner", "tests.runtime_tools:chain_planner", "--tools", "tests.runtime_tools:registry"]
STEPS = [f"s{i}" for i in range(6)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Server:
    srv = Server(tmp_path_factory.mktemp("serve"), *CHAIN, "--concurrency", "2").start()
    yield srv
    srv.stop()


def _executions(run_dir: Path) -> dict[str, int]:
    """Finished executions per step, from the run's journal."""
    conn = sqlite3.connect(run_dir / "journal.sqlite")
    rows = conn.execute("SELECT step_id, COUNT(*) FROM executions WHERE record IS NOT NULL GROUP BY step_id")
    counts = dict(rows.fetchall())
    conn.close()
    return counts


def test_submit_stream_and_reconnect_without_loss(server: Server) -> None:
    run_id = server.submit("chain <b>bold</b>")
    first = list(server.events(run_id, stop_after=4))  # then the client goes away mid-run
    assert [i for i, _ in first] == [1, 2, 3, 4]
    rest = list(server.events(run_id, last_id=first[-1][0]))
    ids = [i for i, _ in first + rest]
    assert ids == list(range(1, len(ids) + 1))  # nothing lost, nothing twice
    logged = (server.home / "runs" / run_id / "events.jsonl").read_text().splitlines()
    assert [e["kind"] for _, e in first + rest] == [json.loads(line)["kind"] for line in logged]
    last = rest[-1][1]
    assert last["kind"] == "run_finished" and last["data"]["status"] == "succeeded"

    summary = server.summary(run_id)
    assert summary["status"] == "succeeded" and summary["task"] == "chain <b>bold</b>"
    assert [(s["id"], s["status"], s["executions"]) for s in summary["steps"]] == [(s, "succeeded", 1) for s in STEPS]
    assert server.get("/api/runs").json()[0]["run_id"] == run_id  # newest first
    out = server.get(f"/api/runs/{run_id}/files/s5.txt")
    assert out.text == "a+++++" and out.headers["content-security-policy"] == "sandbox"
    assert server.get(f"/api/runs/{run_id}/files/report.html").status_code == 200
    step = server.get(f"/api/runs/{run_id}/steps/s2/text")
    assert step.text == "a++"
    # a stream opened after the end replays from the given id and ends
    assert [i for i, _ in server.events(run_id, last_id=ids[-3])] == ids[-2:]


def test_approve_reject_and_edit(server: Server) -> None:
    accepted, rejected, edited = (server.submit("chain", approve="true") for _ in range(3))
    for run_id in (accepted, rejected, edited):
        assert server.wait_status(run_id, "paused")["status"] == "paused"
    plan = server.summary(accepted)["steps"]
    assert [s["status"] for s in plan] == ["pending"] * 6
    assert server.post(f"/api/runs/{accepted}/decision", json={"decision": "accept"}).status_code == 200
    assert server.post(f"/api/runs/{rejected}/decision", json={"decision": "reject"}).status_code == 200
    short = {"steps": [{"id": "only", "tool": "emit", "params": {"value": "edited"}}]}
    assert server.post(f"/api/runs/{edited}/decision", json={"plan": short}).status_code == 200
    assert server.post(f"/api/runs/{edited}/decision", json={"decision": "maybe"}).status_code == 400

    assert server.wait_status(accepted, "succeeded", "failed")["status"] == "succeeded"
    no = server.wait_status(rejected, "succeeded", "failed")
    assert no["status"] == "failed" and "rejected" in no["error"]
    done = server.wait_status(edited, "succeeded", "failed")
    assert done["status"] == "succeeded" and [s["id"] for s in done["steps"]] == ["only"]
    again = server.post(f"/api/runs/{accepted}/decision", json={"decision": "accept"})
    assert again.status_code == 409 and "not paused" in again.json()["error"]


def test_an_answer_given_while_the_pause_is_being_written_is_kept(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # the console shows "paused" on the stream's "interrupted" event, while the run's thread still writes the report
    # and holds the run: an answer given then must be kept, not refused as "running, not paused"
    reporting, answered = threading.Event(), threading.Event()
    write_report = agent.report.write_report

    def slow_report(run_dir: Path, store: object) -> None:
        if (json.loads((run_dir / "summary.json").read_text())).get("status") == "interrupted":
            reporting.set()
            answered.wait(30)
        write_report(run_dir, store)

    monkeypatch.setattr(agent.report, "write_report", slow_report)
    manager = RunManager(tmp_path / "runs", concurrency=1, planners=["tests.runtime_tools:chain_planner"],
                         tools="tests.runtime_tools:registry")
    manager.start()
    run_id = manager.submit("chain", [], approve=True)
    assert reporting.wait(30)
    assert manager.status(run_id) == "running"  # its thread still holds the run
    manager.decide(run_id, "accept")
    answered.set()
    deadline = time.time() + 60
    while manager.status(run_id) != "succeeded" and time.time() < deadline:
        time.sleep(0.05)
    assert manager.status(run_id) == "succeeded"
    with pytest.raises(ConflictError, match="not paused"):
        manager.decide(run_id, "accept")


def test_cancel_a_running_and_a_queued_run(server: Server) -> None:
    running = [server.submit("chain") for _ in range(2)]  # the server runs 2 at once
    queued = server.submit("chain")
    assert server.summary(queued)["status"] == "queued"
    assert server.post(f"/api/runs/{queued}/cancel").json()["was"] == "queued"
    for _, event in server.events(running[0]):
        if event["kind"] == "step_finished":
            break
    assert server.post(f"/api/runs/{running[0]}/cancel").json()["was"] == "running"
    stopped = server.wait_status(running[0], "cancelled", "succeeded", "failed")
    assert stopped["status"] == "cancelled"
    assert sum(s["status"] == "succeeded" for s in stopped["steps"]) < 6
    assert server.wait_status(queued, "cancelled")["steps"] == []
    assert not (server.home / "runs" / queued / "journal.sqlite").exists()  # it never ran
    kinds = [e["kind"] for _, e in server.events(queued)]
    assert kinds == ["run_finished"]
    assert server.wait_status(running[1], "succeeded", "failed")["status"] == "succeeded"
    assert server.post(f"/api/runs/{running[1]}/cancel").status_code == 409


def test_restart_mid_run_resumes_from_the_journal(tmp_path: Path) -> None:
    srv = Server(tmp_path, *CHAIN, "--concurrency", "1").start()
    try:
        first, second = srv.submit("chain"), srv.submit("chain")
        seen = []
        for i, event in srv.events(first):
            seen.append((i, event))
            if sum(e["kind"] == "step_finished" for _, e in seen) == 2:
                break
        srv.kill9()
        finished_before = {e["data"]["step"] for _, e in seen if e["kind"] == "step_finished"}
        srv.start()  # the same home: the server finds the runs it left
        rest = list(srv.events(first, last_id=seen[-1][0]))
        ids = [i for i, _ in seen + rest]
        assert ids == list(range(1, len(ids) + 1))
        assert rest[-1][1]["data"]["status"] == "succeeded"
        restarted = [e["data"]["step"] for _, e in rest if e["kind"] == "step_started"]
        assert not finished_before & set(restarted)  # no finished step ran again
        assert srv.wait_status(second, "succeeded", "failed")["status"] == "succeeded"
        for run_id in (first, second):
            assert _executions(tmp_path / "runs" / run_id) == dict.fromkeys(STEPS, 1)
    finally:
        srv.stop()


def test_token_paths_uploads_and_cross_site_calls(tmp_path: Path) -> None:
    srv = Server(tmp_path, *CHAIN, env={"MMAGENT_TOKEN": "s3cret", "MMAGENT_MAX_INPUT_MB": "0.01"}).start()
    try:
        url = srv.url
        import httpx

        assert httpx.get(f"{url}/api/runs").status_code == 401
        assert httpx.get(f"{url}/api/runs", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert httpx.post(f"{url}/api/runs", data={"task": "chain"}).status_code == 401
        run_id = srv.submit("chain")
        assert httpx.get(f"{url}/api/runs/{run_id}/events").status_code == 401
        # the console's way: the token once in the URL, then a same-site cookie
        with httpx.Client(base_url=url, follow_redirects=True) as browser:
            assert browser.get("/?token=s3cret").status_code == 200
            assert browser.get("/api/runs").status_code == 200
            evil = browser.post(f"/api/runs/{run_id}/cancel", headers={"Origin": "http://evil.example"})
            assert evil.status_code == 403 and "cross-site" in evil.json()["error"]
            sneaky = browser.post(f"/api/runs/{run_id}/cancel", headers={"Sec-Fetch-Site": "cross-site"})
            assert sneaky.status_code == 403
        assert srv.get("/api/runs", headers={"Host": "evil.example:80"}).status_code == 421  # DNS rebinding

        for bad in ("..", "..%2F..%2Fetc", "x" * 81, "20990101-000000-abcdef"):
            assert srv.get(f"/api/runs/{bad}").status_code in (400, 404)
        for bad in ("..%2Frun.json", ".hidden", "run.json", "%2E%2E", "s5.txt%00.png"):
            assert srv.get(f"/api/runs/{run_id}/files/{bad}").status_code in (400, 404), bad
        assert srv.get(f"/api/runs/{run_id}/steps/..%2F..%2Fx/text").status_code in (400, 404)

        big = tmp_path / "big.txt"
        big.write_text("word " * 4000)  # 20 kB, over the 10 kB limit
        r = httpx.post(f"{url}/api/runs", data={"task": "chain"}, headers=srv.auth,
                       files=[("files", ("big.txt", big.read_bytes()))])
        assert r.status_code == 413 and "big.txt" in r.json()["error"]
        small = tmp_path / "small.txt"
        small.write_text("hello there")
        named = httpx.post(f"{url}/api/runs", data={"task": "chain"}, headers=srv.auth,
                           files=[("files", ("../../x y.txt", small.read_bytes()))]).json()["run_id"]
        meta = json.loads((tmp_path / "runs" / named / "run.json").read_text())
        assert list(meta["inputs"]) == ["x_y"]
        assert not (tmp_path.parent / "x y.txt").exists()
        assert httpx.post(f"{url}/api/runs", data={"task": "x", "planner": "os:system"},
                          headers=srv.auth).status_code == 400
    finally:
        srv.stop()
    refused = subprocess.run([sys.executable, "-m", "agent.cli", "serve", "--host", "0.0.0.0"], cwd=REPO,
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "MMAGENT_HOME": str(tmp_path), "MMAGENT_TOKEN": ""})
    assert refused.returncode == 2 and "token" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def _answer(sock: socket.socket) -> tuple[int, dict]:
    """The status and JSON body of the response that comes back on ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection without answering: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = int(next(v for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(body)


def test_uploads_over_the_limit_are_refused_while_they_stream(tmp_path: Path) -> None:
    srv = Server(tmp_path, *CHAIN, env={"MMAGENT_MAX_INPUT_MB": "0.0625"}).start()  # 64 KiB a file
    try:
        boundary = "mmagentboundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"task\"\r\n\r\nchain\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.bin\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as sock:
            # chunked, so no Content-Length tells the size: 80 KiB of a file that would go on for ever
            sock.sendall(f"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nTransfer-Encoding: chunked\r\n"
                         f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode())
            for part in [head, *[b"x" * 16384] * 5]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            # the body never ends: a server that read it all before checking would never answer (recv times out)
            status, body = _answer(sock)
        assert status == 413 and "huge.bin" in body["error"] and "MMAGENT_MAX_INPUT_MB" in body["error"]
        with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as sock:
            # a Content-Length over what MAX_FILES files of the limit can take is refused before any body is sent
            sock.sendall(f"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\nContent-Length: {2**40}\r\n"
                         f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode())
            status, body = _answer(sock)
        assert status == 413 and "over the limit" in body["error"]
        fits = tmp_path / "fits.txt"
        fits.write_text("word " * 12000)  # 60 KiB: under the limit, taken
        assert srv.summary(srv.submit("chain", [fits]))["status"] in ("queued", "running", "succeeded")
        assert srv.get("/api/runs").status_code == 200
    finally:
        srv.stop()


def _agent(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO), "MMAGENT_MEMORY": "none", **env})


def test_cli_detach_watch_and_cancel_through_the_server(server: Server) -> None:
    env = {"MMAGENT_SERVER": server.url, "MMAGENT_HOME": str(server.home)}
    started = _agent("run", "chain", "--detach", "--json", env=env)
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout.splitlines()[-1])["run_id"]
    watched = _agent("watch", run_id, "--json", env=env)
    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout.splitlines()[-1])["status"] == "succeeded"
    assert "s5" in watched.stderr  # the live progress lines
    paused = server.submit("chain", approve="true")
    server.wait_status(paused, "paused")
    assert _agent("cancel", paused, env=env).returncode == 0
    assert server.summary(paused)["status"] == "cancelled"


def test_cli_detach_without_a_server(tmp_path: Path) -> None:
    env = {"MMAGENT_HOME": str(tmp_path), "MMAGENT_SERVER": ""}
    started = _agent("run", "chain", "--detach", "--json", "--planner", "tests.runtime_tools:chain_planner",
                     "--tools", "tests.runtime_tools:registry", env=env)
    assert started.returncode == 0, started.stderr
    run_id = json.loads(started.stdout.splitlines()[-1])["run_id"]
    watched = _agent("watch", run_id, "--json", env=env)
    assert json.loads(watched.stdout.splitlines()[-1])["status"] == "succeeded", watched.stderr
    second = json.loads(_agent("run", "chain", "--detach", "--json", "--planner",
                               "tests.runtime_tools:chain_planner", "--tools", "tests.runtime_tools:registry",
                               env=env).stdout.splitlines()[-1])["run_id"]
    cancelled = _agent("cancel", second, "--json", env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout.splitlines()[-1])["status"] == "cancelled"
    assert _agent("cancel", second, env=env).returncode == 2  # it has ended


def test_watch_ends_when_the_detached_process_died_before_it_took_the_run(tmp_path: Path) -> None:
    from agent import Agent
    from agent.serve.detached import spawn

    env = {"MMAGENT_HOME": str(tmp_path), "MMAGENT_SERVER": ""}
    agent = Agent(planner="tests.runtime_tools:chain_planner", tools="tests.runtime_tools:registry", home=tmp_path,
                  memory=None)
    run_id = agent.prepare("chain", [])
    pid = spawn(agent.runs_dir / run_id, {})
    os.kill(pid, signal.SIGKILL)  # long before it has imported the agent and locked the run
    # without the liveness check this waited forever for a process that was gone
    watched = _agent("watch", run_id, "--json", env=env, timeout=60)
    assert watched.returncode == 1, watched.stderr
    line = watched.stderr.strip().splitlines()[-1]
    assert f"run {run_id} stopped: its background process (pid {pid}) exited" in line
    assert f"'agent resume {run_id}' finishes it" in line
    assert json.loads(watched.stdout.splitlines()[-1])["status"] == "incomplete"
    resumed = _agent("resume", run_id, "--json", env=env)  # the command the line names does finish it
    assert json.loads(resumed.stdout.splitlines()[-1])["status"] == "succeeded", resumed.stderr
    assert _executions(tmp_path / "runs" / run_id) == dict.fromkeys(STEPS, 1)
