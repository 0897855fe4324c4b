"""``agent mcp``: serve the Agent to MCP clients (Claude Desktop, Cursor, IDEs); see :mod:`agent.mcp_server`."""

from __future__ import annotations

from typing import Annotated

import typer

from agent._cli_common import BaseUrlOpt, ExecutorOpt, PlannerOpt, RunsDirOpt, ToolsOpt, err, guard, make_agent

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``agent mcp`` to ``app``."""
    app.command("mcp")(mcp)


def mcp(
    transport: Annotated[str, typer.Option("--transport", help="stdio (for a client that starts this command) or "
                                           "streamable-http (on loopback)")] = "stdio",
    port: Annotated[int, typer.Option("--port", help="port of --transport streamable-http")] = 8765,
    planner: PlannerOpt = "auto",
    base_url: BaseUrlOpt = None,
    tools: ToolsOpt = None,
    runs_dir: RunsDirOpt = None,
    executor: ExecutorOpt = None,
    max_embed_mb: Annotated[float, typer.Option(help="largest output file embedded in a reply, in MiB (larger "
                                                "ones are linked)")] = 8.0,
) -> None:
    """Serve plan_task, run_task, get_run and every available built-in tool over MCP."""
    if transport not in ("stdio", "streamable-http"):
        err(f"--transport {transport!r} is not one of stdio, streamable-http")
    from tools._extras import missing_modules

    if missing_modules("mcp"):
        err("agent mcp needs the MCP SDK; pip install 'mmagent[mcp]'")

    def body() -> None:
        from agent.mcp_server import AgentMCP, serve

        agent = make_agent(planner, tools, runs_dir, base_url=base_url, executor=executor)
        server = AgentMCP(agent, max_embed_bytes=int(max_embed_mb * 2**20))
        # loopback only: the server runs tasks over this machine's files and has no authentication
        serve(server, transport, host="127.0.0.1", port=port,
              ready=lambda url: typer.echo(f"MCP server on {url}", err=True))

    guard(body)
