"""The HTML run report, opened from its file in real headless Chromium: plan graph and media are there."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest
from PIL import Image

from agent import Agent
from planners.testing import ScriptedPlanner
from tools import AudioFile, ImageFile, Result, ToolRegistry, tool

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
