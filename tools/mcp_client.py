"""Tools of MCP servers as typed mmagent tools: planned, run, stored, checked and journaled like any step.

A servers file uses the common ``mcpServers`` format (Claude Desktop, Cursor)::

    {"mcpServers": {"paint": {"command": "python", "args": ["paint_server.py"], "env": {"KEY": "..."},
                              "timeout_s": 60,
                              "tools": {"draw": {"outputs": {"image": "image"}}}},
                    "remote": {"url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer ..."}}}}

A server is a command to start (stdio) or the ``url`` of a running one (streamable HTTP, on loopback or wherever
the file says; ``"type": "http"`` or ``"streamable-http"`` may name the transport, SSE is not supported).

``agent run --tools mcp:servers.json`` and ``Agent(tools="mcp:servers.json")`` add every tool of every server to
the built-in tools; :func:`mcp_tools` gives the tool objects. Kinds: a tool says what it makes in its
``_meta["mmagent/outputs"]`` (``{"image": "image"}``), or the servers file says it under ``tools``; otherwise its
text reply is a ``text`` output (and ``structuredContent`` a ``json`` one when the tool has an output schema).
An argument whose schema has ``contentMediaType`` (``image/*``, ``audio/*``...), or ``_meta["mmagent/inputs"]``
names, is an artifact input, passed as a file path; every other argument is a param.

Each call starts the server afresh (stdio), or opens a fresh session to its URL, inside the step's worker process,
so the tool object holds only the server's configuration (it travels to workers and Ray) and a server that hangs
is given up on at its ``timeout_s`` (and stopped with its worker at the step's time limit); a server that dies,
or answers with an error, is a failed step the replanner sees.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, MissingExtraError, ToolError
from tools._extras import missing_modules
from tools.base import Tool, ToolContext, ToolResult

__all__ = ["MCPTool", "mcp_tools", "read_servers"]

KINDS = ("text", "image", "audio", "video", "html", "layout", "json")
_MEDIA_KIND = {"image": "image", "audio": "audio", "video": "video", "text/html": "html", "text": "text",
               "application/json": "json"}
LIST_TIMEOUT_S = 60.0


def read_servers(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The ``mcpServers`` of a servers file.

    Raises:
        ConfigError: The file is missing, not JSON, or not in the ``mcpServers`` format.
    """
    p = Path(path).expanduser()
    try:
        raw = json.loads(p.read_text())
    except OSError as exc:
        raise ConfigError(f"MCP servers file {str(p)!r} cannot be read ({exc.strerror}); pass an mcpServers "
                          "JSON file") from None
    except ValueError as exc:
        raise ConfigError(f"MCP servers file {str(p)!r} is not JSON ({exc}); fix the file") from None
    servers = raw.get("mcpServers") if isinstance(raw, dict) else None
    if not isinstance(servers, dict) or not servers:
        raise ConfigError(f"MCP servers file {str(p)!r} has no 'mcpServers' object; write it as "
                          '{"mcpServers": {"name": {"command": "...", "args": [...]}}}')
    for name, conf in servers.items():
        if not isinstance(conf, dict) or not (isinstance(conf.get("command"), str) or isinstance(conf.get("url"), str)):
            raise ConfigError(f"MCP server {name!r} in {str(p)!r} needs a 'command' (a stdio server to start) or "
                              "a 'url' (a streamable HTTP server, e.g. http://127.0.0.1:8000/mcp)")
        if "url" in conf:
            _check_url(name, conf, p)
    return servers


def _check_url(name: str, conf: Mapping[str, Any], path: Path) -> None:
    from urllib.parse import urlsplit

    transport = str(conf.get("type") or conf.get("transport") or "streamable-http").lower()
    if transport not in ("http", "streamable-http", "streamable_http", "streamablehttp"):
        raise ConfigError(f"MCP server {name!r} in {str(path)!r} has transport {transport!r}; a 'url' server must "
                          "speak streamable HTTP ('type': 'http'), SSE is not supported")
    url = urlsplit(str(conf["url"]))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"MCP server {name!r} in {str(path)!r} has url {conf['url']!r}; give an http:// or "
                          "https:// address, e.g. http://127.0.0.1:8000/mcp")
    headers = conf.get("headers")
    if headers is not None and not isinstance(headers, dict):
        raise ConfigError(f"MCP server {name!r} in {str(path)!r}: 'headers' must be an object of header: value")


def _where(config: Mapping[str, Any]) -> str:
    """What a server is, for messages: its URL or its command."""
    return str(config.get("url") or config.get("command"))


def _kind_of_media(media_type: str) -> str | None:
    if media_type in _MEDIA_KIND:
        return _MEDIA_KIND[media_type]
    return _MEDIA_KIND.get(media_type.split("/", 1)[0])


def _artifact_inputs(schema: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, str]:
    declared = meta.get("mmagent/inputs")
    if isinstance(declared, dict):
        return {str(k): str(v) for k, v in declared.items() if v in KINDS}
    found = {}
    for name, prop in (schema.get("properties") or {}).items():
        kind = _kind_of_media(str(prop.get("contentMediaType", ""))) if isinstance(prop, dict) else None
        if kind is not None:
            found[name] = kind
    return found


class _ServerParams(BaseModel):
    """Any params: the server's own schema (:meth:`MCPTool.params_schema`) is what they are checked against."""

    model_config = ConfigDict(extra="allow")


class MCPTool(Tool):
    """One tool of an MCP server (stdio or streamable HTTP), as a typed mmagent tool. Built by :func:`mcp_tools`.

    Args:
        server: The server's name in the servers file.
        config: The server's entry (``command``, ``args``, ``env``, ``cwd``; or ``url``, ``headers``; and
            ``timeout_s``).
        spec: The tool as the server listed it (``name``, ``description``, ``inputSchema``, ``outputSchema``,
            ``_meta``), plus ``outputs`` from the servers file when it gives them.
    """

    family = "mcp"
    params_model = _ServerParams
    requires = ("mcp",)
    extra = "mcp"

    def __init__(self, server: str, config: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
        super().__init__()
        self.server = server
        self.config = dict(config)
        self.remote_name = str(spec["name"])
        # instance attributes shadow the class-level declarations every Tool reads
        # plans name tools by identifiers; MCP names may hold '-' or '.'
        self.name = re.sub(r"\W", "_", self.remote_name)
        meta = spec.get("_meta") or {}
        self.description = (spec.get("description") or f"{self.remote_name} (MCP server {server})").strip()
        self.schema = dict(spec.get("inputSchema") or {"type": "object"})
        self.inputs = _artifact_inputs(self.schema, meta)
        required = set(self.schema.get("required") or [])
        self.optional_inputs = frozenset(n for n in self.inputs if n not in required)
        outputs = spec.get("outputs") or meta.get("mmagent/outputs")
        if not isinstance(outputs, dict) or not outputs:
            outputs = {"text": "text", **({"json": "json"} if spec.get("outputSchema") else {})}
        bad = [k for k in outputs.values() if k not in KINDS]
        if bad:
            raise ConfigError(f"MCP tool {self.remote_name!r} of {server!r} declares outputs of kinds {bad}; "
                              f"use {', '.join(KINDS)}")
        self.outputs = dict(outputs)
        # the call's own limit (the server's timeout_s) says what went wrong; the step's limit, a little later,
        # kills the worker should the client itself be stuck
        self.call_timeout_s = float(self.config.get("timeout_s", 120.0))
        self.timeout_s = self.call_timeout_s + 10.0

    # -- params: the server's own JSON schema, less the artifact inputs ---------------------------------------
    def params_schema(self) -> dict[str, Any]:
        props = {k: v for k, v in (self.schema.get("properties") or {}).items() if k not in self.inputs}
        required = [r for r in self.schema.get("required") or [] if r in props]
        return {"type": "object", "properties": props, **({"required": required} if required else {})}

    def validate_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        schema = self.params_schema()
        unknown = sorted(set(params) - set(schema["properties"]))
        missing = sorted(set(schema.get("required", [])) - set(params))
        if unknown or missing:
            problems = [f"unknown {', '.join(map(repr, unknown))}" if unknown else "",
                        f"missing {', '.join(map(repr, missing))}" if missing else ""]
            raise ConfigError(f"tool {self.name!r} params are invalid: {'; '.join(p for p in problems if p)}; "
                              f"it takes {', '.join(schema['properties']) or 'none'}")
        return dict(params)

    def available(self) -> Any:
        from tools.base import Availability

        missing = missing_modules("mcp")
        return Availability(False, "missing mcp; pip install 'mmagent[mcp]'") if missing else Availability(True)

    # -- running ----------------------------------------------------------------------------------------------
    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        arguments = {**params, **{k: str(ctx.store.path(a)) for k, a in inputs.items()}}
        result = call_tool(self.server, self.config, self.remote_name, arguments, self.call_timeout_s)
        if result.get("isError"):
            text = " ".join(c.get("text", "") for c in result.get("content", []) if c.get("type") == "text")
            raise ToolError(f"MCP tool {self.remote_name!r} of {self.server!r} answered with an error: "
                            f"{text.strip()[:300] or 'no message'}")
        return ToolResult(outputs=_outputs(self, ctx, result))


def _outputs(tool: MCPTool, ctx: ToolContext, result: dict[str, Any]) -> dict[str, Artifact]:
    """The declared outputs, each from the first content block of its kind."""
    from modalities.errors import InputFileError
    from modalities.ingest import ingest_bytes

    blocks: dict[str, list[tuple[bytes, str]]] = {}
    for c in result.get("content", []):
        if c.get("type") in ("image", "audio"):
            blocks.setdefault(c["type"], []).append((base64.b64decode(c["data"]), c.get("mimeType", "")))
        elif c.get("type") == "text":
            blocks.setdefault("text", []).append((c["text"].encode(), "text/plain"))
        elif c.get("type") == "resource":
            res = c.get("resource") or {}
            data = base64.b64decode(res["blob"]) if "blob" in res else str(res.get("text", "")).encode()
            kind = _kind_of_media(str(res.get("mimeType") or "")) or "text"
            blocks.setdefault(kind, []).append((data, str(res.get("mimeType") or "")))
    if result.get("structuredContent") is not None:
        blocks.setdefault("json", []).append((json.dumps(result["structuredContent"]).encode(), "application/json"))
    outputs: dict[str, Artifact] = {}
    for name, kind in tool.outputs.items():
        found = blocks.get(kind) or []
        if not found:
            got = ", ".join(sorted(blocks)) or "nothing"
            raise ToolError(f"MCP tool {tool.remote_name!r} returned no {kind} for output {name!r} (it returned "
                            f"{got})")
        data, _media = found.pop(0)
        if kind in ("text", "html", "json", "layout"):
            art = (ctx.store.put_json(json.loads(data), kind=kind) if kind in ("json", "layout")
                   else ctx.store.put_text(data.decode(errors="replace"), kind=kind))
        else:
            try:  # a server's bytes are checked like a user's file: decodable, within the limits
                art = ingest_bytes(data, ctx.store, name=name, label=f"{tool.remote_name}.{name}")
            except InputFileError as exc:
                raise ToolError(f"MCP tool {tool.remote_name!r} output {name!r}: {exc}") from None
            if art.kind != kind:
                raise ToolError(f"MCP tool {tool.remote_name!r} output {name!r} is {art.kind}, declared {kind}")
        outputs[name] = art
    return outputs


def _params(config: Mapping[str, Any]) -> Any:
    from mcp.client.stdio import StdioServerParameters

    env = {**os.environ, **{str(k): str(v) for k, v in (config.get("env") or {}).items()}}
    return StdioServerParameters(command=config["command"], args=[str(a) for a in config.get("args") or []],
                                 env=env, cwd=config.get("cwd"))


def _run_session(config: Mapping[str, Any], work: Any, timeout_s: float) -> Any:
    """Start the server (or connect to its URL), open a session, ``await work(session)``, stop the server (or end
    the session); all within ``timeout_s``."""
    if missing_modules("mcp"):
        raise MissingExtraError("mcp", "mcp")
    import anyio
    from mcp import ClientSession

    async def session_over(read: Any, write: Any) -> Any:
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)

    async def over_stdio() -> Any:
        from mcp.client.stdio import stdio_client

        with open(os.devnull, "w") as quiet:  # the server's log would interleave with the run's progress
            async with stdio_client(_params(config), errlog=quiet) as (read, write):
                return await session_over(read, write)

    async def over_http() -> Any:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        # the whole call is bounded by fail_after below; the client's own limits only need to be no shorter
        limit = httpx2.Timeout(timeout_s, read=timeout_s)
        async with httpx2.AsyncClient(headers=headers, timeout=limit) as client:
            async with streamable_http_client(str(config["url"]), http_client=client) as (read, write):
                return await session_over(read, write)

    async def main() -> Any:
        with anyio.fail_after(timeout_s):
            return await (over_http() if config.get("url") else over_stdio())

    return anyio.run(main)


def call_tool(server: str, config: Mapping[str, Any], name: str, arguments: dict[str, Any],
              timeout_s: float) -> dict[str, Any]:
    """One call of tool ``name`` on a freshly started server, as the protocol's JSON (camelCase keys).

    Raises:
        ToolError: The server could not start, died, or did not answer within ``timeout_s``.
    """
    async def work(session: Any) -> dict[str, Any]:
        result = await session.call_tool(name, arguments)
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    try:
        return _run_session(config, work, timeout_s)
    except MissingExtraError:
        raise
    except TimeoutError:
        raise ToolError(f"MCP server {server!r} did not answer {name!r} within {timeout_s:g} s") from None
    except BaseException as exc:  # noqa: BLE001 - a dead server surfaces as many kinds of error (groups too)
        raise ToolError(f"MCP server {server!r} failed during {name!r}: {_first_error(exc)}") from None


def _first_error(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".strip()


def mcp_tools(path: str | os.PathLike[str]) -> list[MCPTool]:
    """Every tool of every server in an ``mcpServers`` file (each server is started once to list them).

    Raises:
        ConfigError: A bad file, or a server that cannot be started or listed (the message names it).

    Example:
        >>> mcp_tools("no-such-servers.json")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        modalities.errors.ConfigError: MCP servers file 'no-such-servers.json' cannot be read (...); pass an ...
    """
    servers = read_servers(path)
    tools: list[MCPTool] = []
    for server, config in servers.items():
        async def work(session: Any) -> list[dict[str, Any]]:
            listed = await session.list_tools()
            return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]

        try:
            specs = _run_session(config, work, float(config.get("timeout_s", LIST_TIMEOUT_S)))
        except MissingExtraError:
            raise
        except BaseException as exc:  # noqa: BLE001 - see call_tool
            if isinstance(exc, KeyboardInterrupt):
                raise
            what = "url" if config.get("url") else "command"
            raise ConfigError(f"MCP server {server!r} ({_where(config)}) could not list its tools: "
                              f"{_first_error(exc)}; check its {what} in {str(path)!r}") from None
        overrides = config.get("tools") or {}
        for spec in specs:
            extra = overrides.get(spec["name"]) or {}
            tools.append(MCPTool(server, config, {**spec, **({"outputs": extra["outputs"]}
                                                              if "outputs" in extra else {})}))
    return tools
