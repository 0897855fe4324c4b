"""``agent mcp`` through the MCP SDK's own stdio client: list, plan the demo sketch, run to an image."""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")

import anyio  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).parents[2]
SKETCH = REPO / "examples" / "sketches" / "landing.png"


def _session(home: Path, work: object, *options: str) -> object:
    params = StdioServerParameters(
        command=sys.executable, args=["-c", "from agent.cli import main; main()", "mcp",
                                      *(options or ("--planner", "symbolic"))],
        env={**os.environ, "PYTHONPATH": str(REPO), "MMAGENT_HOME": str(home), "MMAGENT_MEMORY": "none",
             "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}, cwd=str(REPO))

    async def main() -> object:
        with anyio.fail_after(600):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return anyio.run(main)


@pytest.mark.slow
def test_the_sdk_client_lists_plans_and_runs_to_an_image(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Hello MCP</h1><p>A small page.</p></body></html>")

    async def work(session: ClientSession) -> dict:
        listed = await session.list_tools()
        planned = await session.call_tool("plan_task", {"task": "make a web page from this sketch",
                                                        "files": [str(SKETCH)]})
        rendered = await session.call_tool("render_page", {"html": str(page)})
        ran = await session.call_tool("run_task", {"task": "make a web page from this sketch and give me a "
                                                   "screenshot of it", "files": [str(SKETCH)]})
        bad = await session.call_tool("plan_task", {"task": "make a page", "files": [str(tmp_path / "nope.png")]})
        return {"tools": listed.tools, "planned": planned, "rendered": rendered, "ran": ran, "bad": bad}

    out = _session(tmp_path / "home", work)
    names = {t.name: t for t in out["tools"]}
    assert {"plan_task", "run_task", "get_run", "analyze_sketch", "render_page"} <= set(names)
    assert names["render_page"].input_schema["properties"]["html"]["type"] == "string"  # a file path
    planned = out["planned"]
    assert not planned.is_error, planned.content
    plan = planned.structured_content
    assert [s["tool"] for s in plan["steps"]][:2] == ["analyze_sketch", "generate_html"]
    assert "analyze_sketch" in planned.content[0].text
    rendered = out["rendered"]
    assert not rendered.is_error, rendered.content[0].text
    assert rendered.structured_content["status"] == "succeeded"
    images = [c for c in rendered.content if c.type == "image"]
    assert images and images[0].mime_type == "image/png"
    with Image.open(io.BytesIO(base64.b64decode(images[0].data))) as im:
        assert im.width >= 200 and im.height >= 100
    report = [c for c in rendered.content if c.type == "resource" and c.resource.uri.endswith("report.html")]
    assert report and "<html" in report[0].resource.text.lower()
    ran = out["ran"]
    assert not ran.is_error, ran.content[0].text
    assert all(r["passed"] for r in ran.structured_content["requirements"])
    assert any(c.type == "resource" and c.resource.mime_type == "text/html" and "<form" in c.resource.text
               for c in ran.content)  # the page itself, embedded
    shots = [c for c in ran.content if c.type == "image"]
    assert shots
    with Image.open(io.BytesIO(base64.b64decode(shots[0].data))) as im:
        assert im.width >= 200
    assert out["bad"].is_error
    assert out["bad"].content[0].text.startswith("error: ") and "nope.png" in out["bad"].content[0].text
    assert len(out["bad"].content[0].text.splitlines()) == 1
    assert json.loads(rendered.content[0].text)["run_id"]


def test_run_task_without_waiting_then_get_run_until_it_ends(tmp_path: Path) -> None:
    async def work(session: ClientSession) -> dict:
        started = await session.call_tool("run_task", {"task": "chain", "wait": False})
        assert not started.is_error, started.content
        run_id = started.structured_content["run_id"]
        seen = []
        with anyio.fail_after(120):
            while True:
                got = await session.call_tool("get_run", {"run_id": run_id})
                assert not got.is_error, got.content
                seen.append(got.structured_content["status"])
                if seen[-1] != "running":
                    return {"started": started, "ended": got, "seen": seen, "run_id": run_id}
                await anyio.sleep(0.2)

    # six steps of 0.4 s each: run_task answers long before the run ends
    out = _session(tmp_path / "home", work, "--planner", "tests.runtime_tools:chain_planner",
                   "--tools", "tests.runtime_tools:registry")
    assert out["started"].structured_content["status"] == "running"
    assert out["run_id"] in out["started"].content[0].text
    assert out["seen"][0] == "running" and out["seen"][-1] == "succeeded"
    ended = out["ended"].structured_content
    assert ended["run_id"] == out["run_id"]
    assert [s["status"] for s in ended["steps"]] == ["succeeded"] * 6
    texts = [c.resource.text for c in out["ended"].content if c.type == "resource" and c.resource.text]
    assert "a+++++" in texts  # the last step's output, embedded
