"""``agent serve``, ``agent watch``, ``agent cancel`` and what ``agent run --detach`` does: runs in the background.

Registered on the main app by :func:`register`. With ``MMAGENT_SERVER`` set (and ``MMAGENT_TOKEN`` when the server
has one), ``run --detach``, ``watch`` and ``cancel`` talk to that server; without it they use the run directories:
a detached run is a background process of its own. uvicorn and Starlette load only inside ``agent serve``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from agent._cli_common import (
    JsonOpt,
    RunsDirOpt,
    cli_settings,
    err,
    guard,
    print_json,
    progress_printer,
    setting_overrides,
)

__all__ = ["register", "run_detached"]

RunIdArg = Annotated[str, typer.Argument(help="a run id (or a unique prefix)")]


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``watch`` and ``cancel`` to the ``agent`` app."""
    app.command()(serve)
    app.command()(watch)
    app.command()(cancel)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on; anything but loopback needs a token")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8765,
    concurrency: Annotated[int, typer.Option(min=1, help="runs at once; more wait as queued")] = 2,
    token: Annotated[str | None, typer.Option(help="API token checked on every call (default $MMAGENT_TOKEN)")] = None,
    planner: Annotated[list[str] | None, typer.Option(
        "--planner", "-p", help="planner of runs that name none (repeat to allow more; auto, symbolic, local and "
        "llm:... are always allowed)")] = None,
    tools: Annotated[str | None, typer.Option(help="package.module:attribute: the tools of every run")] = None,
    runs_dir: RunsDirOpt = None,
) -> None:
    """Serve runs in the background: an HTTP API, a queue, and a live web console at http://HOST:PORT/.

    Runs the previous server left unfinished resume from their journal when it starts.

    Example: agent serve --concurrency 4, then open http://127.0.0.1:8765/
    """
    def body() -> Any:
        from agent.serve.security import LOOPBACK

        s = cli_settings()  # read once: the token, the input limit and every run's agent take it from here
        key = token or s.token
        if host not in LOOPBACK and not key:
            err(f"--host {host!r} is not loopback: give a token (--token T or MMAGENT_TOKEN) so strangers on the "
                "network cannot run tasks, or listen on 127.0.0.1")
        try:
            import uvicorn

            from agent.serve.app import create_app
            from agent.serve.manager import RunManager
        except ImportError as exc:
            err(f"agent serve needs the 'serve' extra ({exc.name} is missing): pip install 'mmagent[serve]'")
        base = runs_dir or s.home_dir / "runs"
        base.mkdir(parents=True, exist_ok=True)
        manager = RunManager(base, concurrency=concurrency, planners=planner or ["auto"], tools=tools, settings=s)
        app = create_app(manager, token=key, loopback=host in LOOPBACK, max_file_bytes=s.max_input_bytes)
        manager.start()
        typer.echo(f"agent serve: http://{host}:{port}/ ({concurrency} at once; runs in {base})", err=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)

    guard(body)


# -- talking to a server ---------------------------------------------------------------------------------------
def _server() -> tuple[str, dict[str, str]] | None:
    s = cli_settings()
    if not s.server:
        return None
    headers = {"Authorization": f"Bearer {s.token}"} if s.token else {}
    return s.server.rstrip("/"), headers


def _call(method: str, path: str, as_json: bool, **kw: Any) -> Any:
    import httpx

    base, headers = _server() or ("", {})
    try:
        response = httpx.request(method, base + path, headers=headers, timeout=60, **kw)
    except httpx.HTTPError as exc:
        err(f"cannot reach MMAGENT_SERVER={base!r}: {exc}; start it with 'agent serve' or unset it", 2, as_json)
    if response.status_code >= 400:
        try:
            message = response.json().get("error", response.text)
        except ValueError:
            message = response.text
        err(f"the server answered {response.status_code}: {message}", 2, as_json)
    return response.json()


def run_detached(agent: Any, task: str, inputs: list[Path], executor: str | None, as_json: bool) -> None:
    """``agent run --detach``: submit to ``MMAGENT_SERVER``, else prepare the run with ``agent`` and start a
    background process for it; print the run id at once (``{"run_id", "status": "queued"}`` with ``--json``) and
    exit 0."""
    from dataclasses import asdict

    if _server() is not None:
        files = [("files", (p.name, p.read_bytes())) for p in inputs]
        data = {"task": task, "approve": "true" if agent.approve else "false"}
        if agent.planner_spec and agent.planner_spec != "auto":
            data["planner"] = agent.planner_spec
        answer = _call("POST", "/api/runs", as_json, data=data, files=files or None)
        run_id, where = answer["run_id"], f"on {_server()[0]}"  # type: ignore[index]
    else:
        from agent.serve.detached import spawn

        run_id = agent.prepare(task, inputs)
        run_dir = agent.runs_dir / run_id
        # the options' settings travel with it (its own environment is this one's, so the rest agree)
        pid = spawn(run_dir, {**asdict(agent.budgets), "executor": executor, "settings": setting_overrides()})
        where = f"in background process {pid} (log: {run_dir / 'detached.log'})"
    typer.echo(f"started {run_id} {where}; follow it with 'agent watch {run_id}'", err=True)
    if as_json:
        print_json({"run_id": run_id, "status": "queued"})
    else:
        typer.echo(run_id)
    raise typer.Exit(0)


def watch(run_id: RunIdArg, runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """Follow a run's events live until it ends (from MMAGENT_SERVER when set, else from its run directory)."""
    from agent.events import Event

    show = progress_printer()

    def shown(raw: dict[str, Any]) -> None:
        show(Event(kind=raw["kind"], run_id=raw.get("run_id", run_id), data=raw.get("data") or {},
                   t=raw.get("t", 0.0)))

    if _server() is not None:
        last = _follow_server(run_id, shown, as_json)
    else:
        last = guard(lambda: _follow_dir(run_id, runs_dir, shown), as_json)
    status = (last or {}).get("status", "incomplete")
    if as_json:
        print_json(last or {"run_id": run_id, "status": status})
    raise typer.Exit(1 if status in ("failed", "incomplete") else 0)


def _follow_server(run_id: str, shown: Any, as_json: bool) -> dict[str, Any]:
    import httpx

    from agent.serve.rundir import is_end

    base, headers = _server()  # type: ignore[misc]
    last_id = "0"
    while True:  # reconnect from the last event seen: the server sends exactly the ones missed
        try:
            with httpx.stream("GET", f"{base}/api/runs/{run_id}/events", timeout=None,
                              headers={**headers, "Last-Event-ID": last_id}) as response:
                if response.status_code >= 400:
                    response.read()
                    err(f"the server answered {response.status_code}: {response.text}", 2, as_json)
                for event_id, event in _sse(response.iter_lines()):
                    last_id = event_id or last_id
                    shown(event)
                    if is_end(event):
                        return _call("GET", f"/api/runs/{run_id}", as_json)
        except httpx.TransportError:
            time.sleep(1.0)


def _sse(lines: Any) -> Any:
    """(id, event) pairs from the lines of a Server-Sent Events stream."""
    event_id, data = None, []
    for line in lines:
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line and data:
            yield event_id, json.loads("\n".join(data))
            event_id, data = None, []


def _follow_dir(run_id: str, runs_dir: Path | None, shown: Any) -> dict[str, Any]:
    from agent.runs import find_run
    from agent.runs import runs_dir as default_runs
    from agent.serve.rundir import EventLog, is_end, live_summary, run_status

    run_dir = find_run(run_id, runs_dir or default_runs())
    log = EventLog(run_dir / "events.jsonl")
    while True:
        events = log.read_new()
        for _, event in events:
            shown(event)
            if is_end(event):
                return live_summary(run_dir, event["data"]["status"])
        status = run_status(run_dir)
        if not events and status in ("paused", "incomplete"):
            typer.echo(_stopped(run_dir, status), err=True)
            return live_summary(run_dir, status)
        time.sleep(0.2)


def _stopped(run_dir: Path, status: str) -> str:
    """One line: why nothing runs the run now, and the command that goes on with it."""
    from agent._cli_common import resume_hint
    from agent.serve.rundir import detached_gone

    hint = resume_hint(run_dir.name, run_dir)
    if status == "paused":
        return f"run {run_dir.name} is paused for approval and nothing runs it now; '{hint}' goes on"
    gone = detached_gone(run_dir)
    why = (f"its background process (pid {gone}) exited before finishing it (log: {run_dir / 'detached.log'})"
           if gone is not None else "nothing runs it now")
    return f"run {run_dir.name} stopped: {why}; '{hint}' finishes it"


def cancel(run_id: RunIdArg, runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel a queued, running or paused run (on MMAGENT_SERVER when set); its finished steps stay."""
    if _server() is not None:
        answer = _call("POST", f"/api/runs/{run_id}/cancel", as_json)
    else:
        answer = guard(lambda: _cancel_here(run_id, runs_dir), as_json)
    typer.echo(f"cancelled {answer['run_id']} (it was {answer['was']})", err=True)
    if as_json:
        print_json(answer)


def _cancel_here(run_id: str, runs_dir: Path | None) -> dict[str, Any]:
    import os
    import signal

    from agent.runs import find_run
    from agent.runs import runs_dir as default_runs
    from agent.serve.rundir import TERMINAL, lock_holder, mark_ended, run_status
    from modalities.errors import ConfigError

    run_dir = find_run(run_id, runs_dir or default_runs())
    status = run_status(run_dir)
    if status in TERMINAL:
        raise ConfigError(f"run {run_dir.name!r} has already ended: {status}")
    holder = lock_holder(run_dir)
    if holder is None:
        mark_ended(run_dir, "cancelled", "cancelled by request")
    elif holder.get("holder") == "detached" and holder.get("pid"):
        os.kill(int(holder["pid"]), signal.SIGTERM)  # its handler cancels the run, which then ends on its own
        deadline = time.time() + 30
        while run_status(run_dir) not in TERMINAL and time.time() < deadline:
            time.sleep(0.2)
    else:
        raise ConfigError(f"run {run_dir.name!r} runs in 'agent serve' (pid {holder.get('pid')}); set "
                          "MMAGENT_SERVER to that server's URL to cancel it there")
    return {"run_id": run_dir.name, "was": status, "status": run_status(run_dir)}
