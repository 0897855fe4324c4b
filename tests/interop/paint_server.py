"""A small MCP server for the client tests: draws a square, hangs, or dies. Over stdio, or with ``--http PORT``
over streamable HTTP on 127.0.0.1:PORT/mcp (uvicorn)."""

from __future__ import annotations

import base64
import io
import os
import sys
import time

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from PIL import Image

TOOLS = [
    types.Tool(name="draw_square", description="Draw a square picture filled with one color.",
               input_schema={"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]},
               _meta={"mmagent/outputs": {"image": "image"}}),
    types.Tool(name="hang", description="Never answer.", input_schema={"type": "object", "properties": {}}),
    types.Tool(name="die", description="Exit mid-call.", input_schema={"type": "object", "properties": {}}),
]


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx, params):
    if params.name == "hang":
        await anyio.sleep(3600)
    if params.name == "die":
        sys.stdout.flush()
        os._exit(3)
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), params.arguments["color"]).save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    return types.CallToolResult(content=[types.TextContent(text="a square"),
                                         types.ImageContent(data=data, mime_type="image/png")])


def make_server() -> Server:
    return Server("paint", on_list_tools=list_tools, on_call_tool=call_tool)


async def main() -> None:
    server = make_server()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def serve_http(port: int) -> None:
    import uvicorn

    uvicorn.run(make_server().streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=port,
                log_level="warning")


if __name__ == "__main__":
    time.sleep(0)
    if sys.argv[1:2] == ["--http"]:
        serve_http(int(sys.argv[2]))
    else:
        anyio.run(main)
