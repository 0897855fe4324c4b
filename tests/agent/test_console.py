"""The web console of ``agent serve`` in real Chromium (Playwright): submit a run with a file, watch its steps go
green, see and play its video, approve a paused plan; a task carrying markup shows as text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.serve_tools import Server

pytestmark = pytest.mark.slow

ARGS = ["--planner", "tests.serve_tools:video_planner", "--planner", "tests.runtime_tools:chain_planner",
        "--tools", "tests.serve_tools:registry"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
HOSTILE = 'film this <script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> object:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no /usr/bin/chromium")
    server = Server(tmp_path_factory.mktemp("console"), *ARGS).start()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 860})
        tab.goto(server.url)
        tab.server = server  # type: ignore[attr-defined]
        yield tab
        browser.close()
    server.stop()


def test_a_run_with_a_file_goes_green_and_shows_its_video(page: object) -> None:
    page.fill("#task", HOSTILE)
    page.set_input_files("#files", str(REPO / "examples" / "sketches" / "landing.png"))
    assert "landing.png" in page.inner_text("#chosen")
    page.click("button[type=submit]")
    page.wait_for_selector('#graph [data-step="film"]', timeout=30_000)
    page.wait_for_selector('#graph [data-step="look"][data-state="succeeded"]', timeout=30_000)
    page.wait_for_selector('#graph [data-step="film"][data-state="succeeded"]', timeout=60_000)
    page.wait_for_selector("#run-status.s-succeeded", timeout=60_000)
    video = page.wait_for_selector("#media video", timeout=30_000)
    duration = page.evaluate("""(v) => new Promise((ok) => {
        const done = () => v.play().then(() => ok(v.duration), () => ok(-v.duration));
        v.readyState >= 1 ? done() : v.addEventListener('loadedmetadata', done); })""", video)
    assert duration and abs(duration) > 0.5  # the browser read the video the run made
    # the task is text on the page, never markup
    assert page.inner_text("#run-task") == HOSTILE
    assert page.evaluate("window.pwned") is None
    assert page.query_selector('img[src="x"]') is None
    assert HOSTILE in page.inner_text("#runs")
    assert page.get_attribute(".deliverable a", "href").endswith("/files/film.mp4")
    if os.environ.get("CONSOLE_SCREENSHOT"):  # how docs/console.png was made
        page.screenshot(path=os.environ["CONSOLE_SCREENSHOT"], full_page=True)


def test_approve_a_paused_plan(page: object) -> None:
    page.fill("#task", "chain these")
    page.fill("#planner", "tests.runtime_tools:chain_planner")
    page.check("#approve")
    page.click("button[type=submit]")
    page.wait_for_selector("#approval:not([hidden])", timeout=30_000)
    page.wait_for_selector("#run-status.s-paused")
    assert page.locator("#graph [data-state=pending]").count() == 6
    page.click("#accept")
    page.wait_for_selector("#run-status.s-succeeded", timeout=60_000)
    assert page.locator("#graph [data-state=succeeded]").count() == 6
    assert page.is_hidden("#approval")
