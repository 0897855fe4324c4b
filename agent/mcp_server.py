"""``agent mcp``: the Agent as an MCP server (stdio, or streamable HTTP on loopback), media kept intact.

Tools: ``plan_task(task, files)``, ``run_task(task, files, wait)``, ``get_run(run_id)``, and every available
built-in tool under its own name (its artifact inputs are file paths; its params keep their JSON schema; it runs as
a one-step run, so its result is checked, journaled and reported like any step). A run's image outputs come back as
image content, audio as audio content, and video, HTML and the report as embedded resources up to
``max_embed_bytes`` each (a ``file://`` resource link beyond it). Errors are MCP tool errors carrying the same one
line the CLI prints.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agent._agent import Agent
from agent.runs import RunResult
from modalities.errors import MMAgentError, PlanningError
from planners.plan import Plan, Step
from planners.replan import strategy_replan

__all__ = ["AgentMCP", "MAX_EMBED_BYTES"]

MAX_EMBED_BYTES = 8 * 2**20
_MEDIA = {".html": "text/html", ".mp4": "video/mp4", ".webm": "video/webm", ".json": "application/json",
          ".txt": "text/plain", ".wav": "audio/wav", ".png": "image/png", ".jpg": "image/jpeg"}
_FILES = {"type": "array", "items": {"type": "string"}, "default": [],
          "description": "paths of input files on this machine (images, audio, video, text)"}


class _OneStep:
    """Plans exactly one step of ``tool`` over the given inputs (what a built-in tool called over MCP runs)."""

    def __init__(self, tool: str, inputs: Mapping[str, str], params: Mapping[str, Any]) -> None:
        self.name = f"mcp:{tool}"
        self._step = Step(id=tool, tool=tool, inputs={k: f"input:{k}" for k in inputs}, params=dict(params))

    def plan(self, task: str, inputs: Any, registry: Any) -> Plan:
        return Plan(task=task, steps=[self._step], planner=self.name)

    def replan(self, request: Any, registry: Any) -> list[Step]:
        return strategy_replan(request, registry)


class AgentMCP:
    """The tools ``agent mcp`` serves, over one :class:`Agent` (transport-free, so tests can call it directly).

    Args:
        agent: The agent that plans and runs.
        max_embed_bytes: Largest file embedded in a reply; larger ones are linked.

    Example:
        >>> import tempfile
        >>> server = AgentMCP(Agent(planner="symbolic", tools=[], home=tempfile.mkdtemp()))
        >>> [t["name"] for t in server.list_tools()]
        ['plan_task', 'run_task', 'get_run']
    """

    def __init__(self, agent: Agent, *, max_embed_bytes: int = MAX_EMBED_BYTES) -> None:
        self.agent = agent
        self.max_embed_bytes = max_embed_bytes
        self._background: dict[str, threading.Thread] = {}

    # -- listing ----------------------------------------------------------------------------------------------
    def list_tools(self) -> list[dict[str, Any]]:
        """Every tool as an MCP tool description (``name``, ``description``, ``inputSchema``)."""
        task = {"type": "string", "description": "what to do, in words"}
        tools = [
            {"name": "plan_task", "description": "Plan a task over input files without running it: the validated "
             "plan as JSON and as text.",
             "inputSchema": {"type": "object", "properties": {"task": task, "files": _FILES}, "required": ["task"]}},
            {"name": "run_task", "description": "Plan and run a task over input files; returns the summary, image "
             "and audio outputs as content, video, HTML and the report as resources.",
             "inputSchema": {"type": "object", "properties": {
                 "task": task, "files": _FILES,
                 "wait": {"type": "boolean", "default": True, "description": "wait for the run to end (false: "
                          "return its run id at once; get_run reports it)"}}, "required": ["task"]}},
            {"name": "get_run", "description": "The status and summary of a run, with its outputs.",
             "inputSchema": {"type": "object", "properties": {"run_id": {"type": "string"}},
                             "required": ["run_id"]}},
        ]
        for tool in self.agent.registry.available():
            schema = tool.params_schema()
            props = {name: {"type": "string", "description": f"path of a {kind} file"}
                     for name, kind in tool.inputs.items()}
            props.update(schema.get("properties") or {})
            required = tool.required_inputs() + [r for r in schema.get("required") or [] if r not in tool.inputs]
            input_schema = {"type": "object", "properties": props, **({"required": required} if required else {})}
            if schema.get("$defs"):
                input_schema["$defs"] = schema["$defs"]
            tools.append({"name": tool.name, "description": tool.description, "inputSchema": input_schema})
        return tools

    # -- calling ----------------------------------------------------------------------------------------------
    def call(self, name: str, arguments: Mapping[str, Any]) -> tuple[list[dict[str, Any]], Any, bool]:
        """(content blocks, structured content, is_error) of one tool call; never raises for a user mistake."""
        try:
            if name == "plan_task":
                return self._plan(str(arguments["task"]), list(arguments.get("files") or []))
            if name == "run_task":
                return self._run(str(arguments["task"]), list(arguments.get("files") or []),
                                 bool(arguments.get("wait", True)))
            if name == "get_run":
                return self._get(str(arguments["run_id"]))
            if name in self.agent.registry:
                return self._tool(name, dict(arguments))
            return _error(f"unknown tool {name!r}; list the tools to see what this server offers")
        except KeyError as exc:
            return _error(f"tool {name!r} needs the argument {exc.args[0]!r}")
        except MMAgentError as exc:  # the same one line the CLI prints
            return _error(str(exc))

    def _plan(self, task: str, files: list[str]) -> tuple[list[dict[str, Any]], Any, bool]:
        try:
            plan = self.agent.plan(task, files)
        except PlanningError as exc:
            return _error(str(exc))
        lines = [f"plan by {plan.planner} ({len(plan.steps)} steps):"]
        for s in plan.steps:
            refs = ", ".join(f"{k}={v}" for k, v in s.inputs.items())
            lines.append(f"  {s.id}: {s.tool}({refs}){' ' + json.dumps(s.params) if s.params else ''}")
        lines += [f"  requirement: {r.text}" for r in plan.requirements]
        dumped = plan.model_dump(mode="json")
        return [_text("\n".join(lines)), _text(json.dumps(dumped))], dumped, False

    def _run(self, task: str, files: list[str], wait: bool) -> tuple[list[dict[str, Any]], Any, bool]:
        if wait:
            return self._result(self.agent.run(task, files))
        run_id = self.agent.prepare(task, files)
        thread = threading.Thread(target=self.agent.resume, args=(run_id,), daemon=True, name=f"mcp-run-{run_id}")
        self._background[run_id] = thread
        thread.start()
        return [_text(f"run {run_id} started; call get_run with its id")], {"run_id": run_id, "status": "running"}, \
            False

    def _get(self, run_id: str) -> tuple[list[dict[str, Any]], Any, bool]:
        from agent.runs import find_run

        run_dir = find_run(run_id, self.agent.runs_dir)
        thread = self._background.get(run_dir.name)
        summary_path = run_dir / "summary.json"
        if (thread is not None and thread.is_alive()) or not summary_path.exists():
            status = {"run_id": run_dir.name, "status": "running"}
            return [_text(json.dumps(status))], status, False
        return self._result(self.agent.resume(run_dir.name))  # an ended run reports as it ended

    def _tool(self, name: str, arguments: dict[str, Any]) -> tuple[list[dict[str, Any]], Any, bool]:
        tool = self.agent.registry.get(name)
        files = {k: str(arguments.pop(k)) for k in list(arguments) if k in tool.inputs}
        one = Agent(planner=_OneStep(name, files, arguments), tools=self.agent.registry, runs_dir=self.agent.runs_dir,
                    store=self.agent.store, executor=self.agent.executor, memory=None)
        return self._result(one.run("", files))

    def _result(self, result: RunResult) -> tuple[list[dict[str, Any]], Any, bool]:
        summary = result.summary()
        blocks = [_text(json.dumps(summary))]
        files = list(result.outputs.items())
        if (result.run_dir / "report.html").exists():
            files.append(("report", result.run_dir / "report.html"))
        for name, path in files:
            blocks.append(self._media(name, Path(path)))
        return blocks, summary, result.status == "failed"

    def _media(self, name: str, path: Path) -> dict[str, Any]:
        media = _MEDIA.get(path.suffix.lower(), "application/octet-stream")
        size = path.stat().st_size
        if size > self.max_embed_bytes:
            return {"type": "resource_link", "uri": path.resolve().as_uri(), "name": name, "mimeType": media,
                    "size": size}
        data = path.read_bytes()
        if media.startswith(("image/", "audio/")):
            return {"type": media.split("/")[0], "data": base64.b64encode(data).decode(), "mimeType": media}
        resource: dict[str, Any] = {"uri": path.resolve().as_uri(), "mimeType": media}
        if media.startswith("text/") or media == "application/json":
            resource["text"] = data.decode(errors="replace")
        else:
            resource["blob"] = base64.b64encode(data).decode()
        return {"type": "resource", "resource": resource}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _error(message: str) -> tuple[list[dict[str, Any]], Any, bool]:
    return [_text(f"error: {message}")], None, True


def serve(server: AgentMCP, transport: str = "stdio", *, host: str = "127.0.0.1", port: int = 8765,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve ``server`` over ``transport`` (``stdio`` or ``streamable-http``) until the client leaves."""
    import anyio
    import mcp_types as types
    from mcp.server.lowlevel import Server

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=[types.Tool.model_validate(t) for t in server.list_tools()])

    async def call_tool(ctx: Any, params: Any) -> Any:
        # runs block for minutes: off the event loop, so the transport keeps answering pings
        blocks, structured, is_error = await anyio.to_thread.run_sync(server.call, params.name,
                                                                      params.arguments or {})
        return types.CallToolResult.model_validate({"content": blocks, "structuredContent": structured,
                                                    "isError": is_error})

    low = Server("mmagent", version="0.1.0", instructions="Plan and run multimodal tasks over local files.",
                 on_list_tools=list_tools, on_call_tool=call_tool)
    if transport == "stdio":
        from mcp.server.stdio import stdio_server

        async def main() -> None:
            async with stdio_server() as (read, write):
                await low.run(read, write, low.create_initialization_options())

        anyio.run(main)
        return
    import uvicorn

    app = low.streamable_http_app(host=host)
    if ready is not None:
        ready(f"http://{host}:{port}/mcp")
    uvicorn.run(app, host=host, port=port, log_level="warning")
