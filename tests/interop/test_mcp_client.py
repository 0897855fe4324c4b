"""MCP client: a small stdio server's tools join the registry, are planned, run in a real run, and fail cleanly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from PIL import Image  # noqa: E402

from agent import Agent  # noqa: E402
from modalities.errors import ConfigError  # noqa: E402
from planners.llm import LLMPlanner  # noqa: E402
from tests.interop_tools import image_width  # noqa: E402
from tools.mcp_client import mcp_tools  # noqa: E402
from tools.registry import ToolRegistry  # noqa: E402
from tools.testing import ScriptedChat  # noqa: E402

SERVER = Path(__file__).with_name("paint_server.py")


@pytest.fixture()
def servers(tmp_path: Path) -> Path:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {"paint": {"command": sys.executable, "args": [str(SERVER)],
                                                         "timeout_s": 30}}}))
    return path


def test_server_tools_become_typed_tools(servers: Path) -> None:
    tools = {t.name: t for t in mcp_tools(servers)}
    assert sorted(tools) == ["die", "draw_square", "hang"]
    square = tools["draw_square"]
    assert square.outputs == {"image": "image"} and square.inputs == {}
    assert square.params_schema()["required"] == ["color"]
    assert tools["hang"].outputs == {"text": "text"}  # undeclared: its text reply


def _draw_and_measure(server_tools: list, color: str, tmp_path: Path) -> tuple[Agent, object]:
    """A real run, planned by a model that was shown the MCP tools: draw a square, then measure it."""
    reply = json.dumps({"steps": [{"id": "draw", "tool": "draw_square", "params": {"color": color}},
                                  {"id": "measure", "tool": "image_width", "inputs": {"image": "draw.image"}}]})
    chat = ScriptedChat(replies=[reply], seen=[])
    agent = Agent(planner=LLMPlanner(chat), tools=ToolRegistry([*server_tools, image_width]),
                  home=tmp_path / "home", memory=None, step_timeout_s=120)
    result = agent.run(f"draw a {color} square and measure it")
    assert "draw_square() -> image: image" in chat.seen[0][0].content  # the planner was shown the MCP tool
    assert result.status == "succeeded", result.error
    return agent, result


def test_an_mcp_image_feeds_an_image_step_in_a_real_run(servers: Path, tmp_path: Path) -> None:
    agent, result = _draw_and_measure(mcp_tools(servers), "red", tmp_path)
    assert [s["status"] for s in result.steps] == ["succeeded", "succeeded"]
    assert result.steps[1]["checks"] == [{"name": "width >= 8", "passed": True, "value": 48}]
    drawn = result.artifacts["measure"] if "measure" in result.artifacts else None
    assert drawn is not None and agent.store.read_json(drawn) == {"width": 48, "height": 48}
    journal = (result.run_dir / "events.jsonl").read_text()
    assert '"tool": "draw_square"' in journal


# a dead server is seen as a closed pipe or, when the pipe outlives it a moment, as no answer: either names it
@pytest.mark.parametrize(("tool", "error"), [("hang", "MCP server 'paint' did not answer 'hang' within 3 s"),
                                             ("die", "MCP server 'paint' ")])
def test_a_server_that_hangs_or_dies_is_a_failed_step(tool: str, error: str, tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {"paint": {"command": sys.executable, "args": [str(SERVER)],
                                                         "timeout_s": 3}}}))
    registry = ToolRegistry(mcp_tools(path))
    chat = ScriptedChat(replies=[json.dumps({"steps": [{"id": "call", "tool": tool}]})], seen=[])
    agent = Agent(planner=LLMPlanner(chat), tools=registry, home=tmp_path / "home", memory=None, max_replans=0)
    result = agent.run(f"call {tool}")
    assert result.status == "failed"
    assert error in result.error


def test_the_step_limit_stops_a_hung_server_when_its_own_limit_is_longer(servers: Path, tmp_path: Path) -> None:
    registry = ToolRegistry(mcp_tools(servers))  # the server's own limit is 30 s; the step's is 4 s
    chat = ScriptedChat(replies=[json.dumps({"steps": [{"id": "call", "tool": "hang"}]})], seen=[])
    agent = Agent(planner=LLMPlanner(chat), tools=registry, home=tmp_path / "home", memory=None, max_replans=0,
                  step_timeout_s=4)
    result = agent.run("call hang")
    assert result.status == "failed"
    assert "timed out after 4 s" in result.error


def test_a_bad_servers_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "servers.json"
    bad.write_text('{"servers": {}}')
    with pytest.raises(ConfigError, match="has no 'mcpServers' object"):
        mcp_tools(bad)
    bad.write_text(json.dumps({"mcpServers": {"gone": {"command": "/no/such/server"}}}))
    with pytest.raises(ConfigError, match="MCP server 'gone' .* could not list its tools"):
        mcp_tools(bad)


@pytest.fixture(scope="module")
def http_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test server over streamable HTTP, in a process of its own on a free loopback port: its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("mcp-http") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)], stdout=out, stderr=out)
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "the MCP server did not listen within 60 s"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_url_server_is_planned_and_run_through_the_registry(http_url: str, tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {"paint": {"url": http_url, "timeout_s": 30}}}))
    tools = {t.name: t for t in mcp_tools(path)}
    assert sorted(tools) == ["die", "draw_square", "hang"]
    assert tools["draw_square"].outputs == {"image": "image"}
    agent, result = _draw_and_measure(list(tools.values()), "blue", tmp_path)
    assert agent.store.read_json(result.artifacts["measure"]) == {"width": 48, "height": 48}
    drawn = result.state["results"]["draw"]["outputs"]["image"]
    with Image.open(agent.store.path(drawn)) as im:  # the server's own pixels, decoded and stored
        assert im.getpixel((10, 10)) == (0, 0, 255)


def test_a_url_server_that_hangs_is_a_failed_step_within_its_limit(http_url: str, tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    path.write_text(json.dumps({"mcpServers": {"paint": {"url": http_url, "timeout_s": 3}}}))
    chat = ScriptedChat(replies=[json.dumps({"steps": [{"id": "call", "tool": "hang"}]})], seen=[])
    agent = Agent(planner=LLMPlanner(chat), tools=ToolRegistry(mcp_tools(path)), home=tmp_path / "home",
                  memory=None, max_replans=0)
    began = time.monotonic()
    result = agent.run("call hang")
    assert result.status == "failed"
    assert "MCP server 'paint' did not answer 'hang' within 3 s" in result.error
    assert time.monotonic() - began < 60


def test_a_servers_file_names_a_command_or_an_http_url(tmp_path: Path) -> None:
    path = tmp_path / "servers.json"
    for conf, message in [({"url": "ftp://example.org/mcp"}, "give an http:// or https:// address"),
                          ({"url": "http://127.0.0.1:9/mcp", "type": "sse"}, "SSE is not supported"),
                          ({"args": ["x"]}, "needs a 'command'")]:
        path.write_text(json.dumps({"mcpServers": {"paint": conf}}))
        with pytest.raises(ConfigError, match=message):
            mcp_tools(path)
    path.write_text(json.dumps({"mcpServers": {"paint": {"url": "http://127.0.0.1:9/mcp", "timeout_s": 5}}}))
    with pytest.raises(ConfigError, match=r"MCP server 'paint' \(http://127.0.0.1:9/mcp\) could not list its tools"):
        mcp_tools(path)
