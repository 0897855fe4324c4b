"""The HTML run report, opened from its file in real headless Chromium: plan graph and media are there; and every
text a run carries (task, params, tool messages) reaches the page as text, never as markup."""

from __future__ import annotations

import io
import re
import shutil
import wave
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from agent import Agent
from planners.testing import ScriptedPlanner
from tests.runtime_tools import emit
from tools import AudioFile, ImageFile, Result, TextFile, ToolRegistry, tool

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@tool(family="test", metrics={"width": "image width"})
def draw(size: int = 64) -> ImageFile:
    """Draw a red square.

    Args:
        size: Side in pixels.
    """
    return Result(Image.new("RGB", (size, size), (220, 30, 30)), {"width": size})


@tool(family="test")
def beep(image: ImageFile, seconds: float = 0.5) -> AudioFile:
    """Make a tone as long as asked (the image only orders the steps).

    Args:
        image: Any image.
        seconds: Length of the tone.
    """
    import math

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        n = int(16000 * seconds)
        w.writeframes(b"".join(int(8000 * math.sin(i / 8)).to_bytes(2, "little", signed=True) for i in range(n)))
    return buf.getvalue()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_report_renders_offline_with_plan_graph_and_media(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    plan = {"steps": [{"id": "picture", "tool": "draw", "expect": ["width >= 32"]},
                      {"id": "sound", "tool": "beep", "inputs": {"image": "picture.image"}}]}
    agent = Agent(planner=ScriptedPlanner([plan]), tools=ToolRegistry([draw, beep]), home=tmp_path)
    result = agent.run("picture and sound")
    assert result.status == "succeeded"
    report = result.run_dir / "report.html"
    html = report.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained: nothing to fetch
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                    "--disable-background-networking"])
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        assert page.locator("svg.plan-graph g.node").count() == 2
        assert page.locator("svg.plan-graph .edge").count() == 1  # picture -> sound
        img = page.locator("#step-picture img")
        assert img.count() == 1
        assert img.evaluate("el => el.complete && el.naturalWidth") == 64
        audio = page.locator("#step-sound audio")
        assert audio.count() == 1
        page.wait_for_function("document.querySelector('#step-sound audio').readyState >= 1")
        assert abs(audio.evaluate("el => el.duration") - 0.5) < 0.05
        assert page.locator("text=width >= 32").count() >= 1
        browser.close()
    assert all(u.startswith("file://") for u in requests), requests


SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@tool(family="test", light=True)
def refuse(text: TextFile, reason: str = "no") -> TextFile:
    """Fail with the reason given, as a tool whose message quotes its input would.

    Args:
        text: Any text.
        reason: The message of the error.
    """
    raise RuntimeError(f"refused: {reason}")


class _Tags(HTMLParser):
    """The elements and attribute names a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs |= {name for name, _ in attrs}


def test_markup_in_the_task_params_and_a_tool_error_is_escaped_everywhere(tmp_path: Path) -> None:
    evil = SCRIPT + IMG
    plan = {"steps": [{"id": "say", "tool": "emit", "params": {"value": evil}},
                      {"id": "refuse", "tool": "refuse", "inputs": {"text": "say.text"}, "params": {"reason": evil}}]}
    agent = Agent(planner=ScriptedPlanner([plan]), tools=ToolRegistry([emit, refuse]), home=tmp_path)
    result = agent.run(f"shout {evil}")
    assert result.status == "failed" and SCRIPT in (result.error or "")  # the tool's message did reach the run
    html = (result.run_dir / "report.html").read_text()
    assert SCRIPT not in html and IMG not in html
    assert "<script" not in html.lower() and "<img src=x" not in html
    parser = _Tags()
    parser.feed(html)
    assert "script" not in parser.tags and not any(a.startswith("on") for a in parser.attrs)
    # the words themselves are kept, as text: in the task, the step's error and output, and the plan graph's label
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f"<b>Task:</b> shout {escaped}" in html
    assert re.search(r'<div class="fail">error: [^<]*refused: ' + re.escape(escaped), html)
    svg = html[html.index('<svg class="plan-graph"'):html.index("</svg>")]
    assert "value=&lt;script&gt;" in svg and "<script" not in svg


def test_the_plan_graph_escapes_step_ids_tools_and_params() -> None:
    from agent.report import plan_svg

    plan = {"steps": [{"id": SCRIPT, "tool": IMG, "params": {"caption": '"><script>x</script>'}}]}
    svg = plan_svg(plan, {SCRIPT: "succeeded"})
    assert "<script" not in svg and "<img" not in svg
    assert f'data-step="{SCRIPT}"' not in svg and 'data-step="&lt;script&gt;alert(1)&lt;/script&gt;"' in svg
    assert ">&lt;img src=x onerror=alert(1)&gt;</text>" in svg
    assert svg.startswith('<svg class="plan-graph"') and svg.count("<text ") == 3
