"""The HTTP API and the web console of ``agent serve`` (Starlette).

Routes: ``POST /api/runs`` (multipart: ``task``, ``files``, ``planner``, ``approve``), ``GET /api/runs``,
``GET /api/runs/{id}``, ``GET /api/runs/{id}/events`` (Server-Sent Events, resumable with ``Last-Event-ID``),
``POST /api/runs/{id}/decision``, ``POST /api/runs/{id}/cancel``, ``GET /api/runs/{id}/files/{name}`` (an output or
``report.html``), ``GET /api/runs/{id}/steps/{step}/{output}`` (what a finished step made, while the run goes on),
``GET /api/health``, and ``GET /`` the console.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.serve._uploads import FileTooLarge, read_form
from agent.serve.manager import ConflictError, RunManager, UnknownRunError
from agent.serve.rundir import EventLog, is_end, live_summary, read_json
from agent.serve.security import COOKIE, BodyTooLarge, Guard, safe_name
from modalities.errors import UserError

__all__ = ["create_app", "MAX_FILES"]

MAX_FILES = 16
_CONSOLE = Path(__file__).parent / "console"
_ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# the console runs only its own script and loads nothing from elsewhere
_CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'")
# outputs and reports are shown as documents of no origin: a page a tool made cannot call the API
_FILE_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}
_POLL_S = 0.05


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(manager: RunManager, *, token: str | None = None, loopback: bool = True,
               max_file_bytes: int = 200 * 2**20) -> Any:
    """The ASGI application over ``manager``, behind :class:`~agent.serve.security.Guard`.

    Example:
        >>> import tempfile
        >>> app = create_app(RunManager(Path(tempfile.mkdtemp())), token="t0ken")
        >>> type(app).__name__
        'Guard'
    """

    async def index(request: Request) -> Response:
        given = request.query_params.get("token")
        if given is not None and token is not None:
            # the token travels once in the URL, then in a cookie no other site's request carries
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, given, httponly=True, samesite="strict")
            return response
        return FileResponse(_CONSOLE / "index.html", media_type="text/html",
                            headers={"Content-Security-Policy": _CONSOLE_CSP, "X-Frame-Options": "DENY",
                                     "Cache-Control": "no-store"})

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            return _error(404, f"no console file {name!r}")
        return FileResponse(_CONSOLE / name, media_type=_ASSETS[name], headers={"Cache-Control": "no-store"})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "concurrency": manager.concurrency, "planners": manager.planners})

    async def list_runs(request: Request) -> Response:
        def rows() -> list[dict[str, Any]]:
            out = []
            base = manager.runs_dir
            for run_dir in sorted(base.iterdir(), reverse=True) if base.exists() else []:
                meta = read_json(run_dir / "run.json")
                if meta is None:
                    continue
                try:
                    status = manager.status(run_dir.name)
                except UnknownRunError:
                    continue  # a folder that is no run of ours
                out.append({"run_id": run_dir.name, "task": meta.get("task", ""), "created": meta.get("created"),
                            "status": status})
            return sorted(out, key=lambda r: r["created"] or 0, reverse=True)

        return JSONResponse(await run_in_threadpool(rows))

    async def submit(request: Request) -> Response:
        try:
            # each file's size is checked as it streams in: one over the limit is refused at that byte
            form = await read_form(request, max_file_bytes=max_file_bytes, max_files=MAX_FILES, max_fields=8)
        except (BodyTooLarge, FileTooLarge) as exc:
            return _error(413, str(exc))
        except Exception as exc:  # noqa: BLE001 - a malformed multipart body is the client's mistake
            return _error(400, f"could not read the form: {exc}; send multipart/form-data with 'task' and 'files'")
        try:
            return await _submit_form(form)
        finally:
            await form.close()

    async def _submit_form(form: FormData) -> Response:
        task = form.get("task")
        if not isinstance(task, str):
            return _error(400, "the form has no 'task' text; e.g. task='make a page from this sketch'")
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        planner = form.get("planner")
        approve = str(form.get("approve") or "").lower() in ("1", "true", "on", "yes")
        with tempfile.TemporaryDirectory(prefix="mmagent-upload-") as tmp:
            taken: set[str] = set()
            paths = []
            for f in uploads:
                path = Path(tmp) / safe_name(f.filename or "upload", taken)
                await run_in_threadpool(_save, f, path)
                paths.append(path)
            try:
                run_id = await run_in_threadpool(manager.submit, task, paths,
                                                 planner=planner if isinstance(planner, str) and planner else None,
                                                 approve=approve)
            except UserError as exc:
                return _error(400, str(exc))
        return JSONResponse({"run_id": run_id, "status": "queued"}, status_code=201)

    async def get_run(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        run_dir = manager.run_dir(run_id)
        return JSONResponse(await run_in_threadpool(live_summary, run_dir, manager.status(run_id)))

    async def events(request: Request) -> Response:
        run_dir = manager.run_dir(request.path_params["run_id"])
        raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or "0"
        if not raw.isdigit():
            return _error(400, f"Last-Event-ID {raw!r} is not an event number; send the id of the last event seen")
        after = int(raw)

        async def stream() -> AsyncIterator[str]:
            log = EventLog(run_dir / "events.jsonl")
            yield "retry: 1000\n\n"
            idle = 0.0
            while True:
                for seq, event in log.read_new():
                    if seq > after:
                        data = json.dumps(event, ensure_ascii=False)
                        yield f"id: {seq}\nevent: {event.get('kind', 'message')}\ndata: {data}\n\n"
                        idle = 0.0
                    if is_end(event):
                        return
                await asyncio.sleep(_POLL_S)
                idle += _POLL_S
                if idle >= 15:  # a comment keeps proxies and idle timeouts from closing a quiet stream
                    yield ": keep-alive\n\n"
                    idle = 0.0

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def decision(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON; send {\"decision\": \"accept\"} or {\"plan\": {...}}")
        if isinstance(body, dict) and isinstance(body.get("plan"), dict):
            answer: Any = {"plan": body["plan"]}
        elif isinstance(body, dict) and body.get("decision") in ("accept", "reject"):
            answer = body["decision"]
        else:
            return _error(400, f"decision {body!r} is not understood; send {{\"decision\": \"accept\"}}, "
                               "{\"decision\": \"reject\"} or {\"plan\": {...}}")
        await run_in_threadpool(manager.decide, run_id, answer)
        return JSONResponse({"run_id": run_id, "status": "queued"})

    async def cancel(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        before = await run_in_threadpool(manager.cancel, run_id)
        return JSONResponse({"run_id": run_id, "was": before, "status": "cancelled"})

    async def file(request: Request) -> Response:
        run_dir = manager.run_dir(request.path_params["run_id"])
        name = request.path_params["name"]
        if not _NAME.match(name):
            return _error(400, f"file name {name!r} is not allowed; use a name from the run's outputs")
        folder = run_dir if name == "report.html" else run_dir / "outputs"
        path = (folder / name).resolve()
        if path.parent != folder.resolve() or not path.is_file():
            return _error(404, f"run {run_dir.name!r} has no file {name!r}")
        return FileResponse(path, headers=_FILE_HEADERS)

    async def step_output(request: Request) -> Response:
        run_dir = manager.run_dir(request.path_params["run_id"])
        step, output = request.path_params["step"], request.path_params["output"]
        if not _ID.match(step) or not _ID.match(output):
            return _error(400, f"step {step!r} or output {output!r} is malformed")
        artifact = await run_in_threadpool(_step_artifact, run_dir, step, output)
        if artifact is None:
            return _error(404, f"run {run_dir.name!r} has no finished step {step!r} with an output {output!r}")
        from modalities.store import ArtifactStore

        store = ArtifactStore((read_json(run_dir / "run.json") or {})["store"])
        return FileResponse(store.path(artifact), media_type=artifact.get("media_type"), headers=_FILE_HEADERS)

    routes = [
        Route("/", index), Route("/console/{name}", asset), Route("/api/health", health),
        Route("/api/runs", list_runs, methods=["GET"]), Route("/api/runs", submit, methods=["POST"]),
        Route("/api/runs/{run_id}", get_run), Route("/api/runs/{run_id}/events", events),
        Route("/api/runs/{run_id}/decision", decision, methods=["POST"]),
        Route("/api/runs/{run_id}/cancel", cancel, methods=["POST"]),
        Route("/api/runs/{run_id}/files/{name}", file),
        Route("/api/runs/{run_id}/steps/{step}/{output}", step_output),
    ]

    async def unknown(request: Request, exc: Exception) -> Response:
        return _error(404, str(exc))

    async def conflict(request: Request, exc: Exception) -> Response:
        return _error(409, str(exc))

    async def too_large(request: Request, exc: Exception) -> Response:
        return _error(413, str(exc))

    app = Starlette(routes=routes, exception_handlers={UnknownRunError: unknown, ConflictError: conflict,
                                                      BodyTooLarge: too_large})
    return Guard(app, token=token, loopback=loopback, max_body=max_file_bytes * MAX_FILES + 2**20)


def _save(upload: UploadFile, path: Path) -> None:
    """Copy an upload (spooled to disk past 1 MiB) to ``path`` a chunk at a time, not whole into memory."""
    upload.file.seek(0)
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, 2**20)


def _step_artifact(run_dir: Path, step: str, output: str) -> dict[str, Any] | None:
    """The artifact a step's latest successful execution made, from the run's journal (read-only)."""
    path = run_dir / "journal.sqlite"
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute("SELECT record FROM executions WHERE step_id = ? AND status = 'succeeded' "
                           "ORDER BY id DESC LIMIT 1", (step,)).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    artifact = (json.loads(row[0]).get("outputs") or {}).get(output)
    return artifact if isinstance(artifact, dict) and "id" in artifact else None
