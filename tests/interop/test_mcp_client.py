"""MCP client: a small stdio server's tools join the registry, are planned, run in a real run, and fail cleanly."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")

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


def test_an_mcp_image_feeds_an_image_step_in_a_real_run(servers: Path, tmp_path: Path) -> None:
    registry = ToolRegistry([*mcp_tools(servers), image_width])
    reply = json.dumps({"steps": [{"id": "draw", "tool": "draw_square", "params": {"color": "red"}},
                                  {"id": "measure", "tool": "image_width", "inputs": {"image": "draw.image"}}]})
    chat = ScriptedChat(replies=[reply], seen=[])
    agent = Agent(planner=LLMPlanner(chat), tools=registry, home=tmp_path / "home", memory=None,
                  step_timeout_s=120)
    result = agent.run("draw a red square and measure it")
    assert "draw_square() -> image: image" in chat.seen[0][0].content  # the planner was shown the MCP tool
    assert result.status == "succeeded", result.error
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
