"""Render untrusted HTML in a sandbox and take a snapshot: screenshot, DOM layout, page size.

The sandbox, layer by layer:

- the page is served by a route handler at a fixed fake origin (``http://mmagent.invalid/``); every other request
  (other hosts, loopback, ``file://``) is aborted and counted, and WebSockets are routed and closed unanswered;
- a Content-Security-Policy (header and injected ``<meta>``) allows only inline styles, inline scripts and
  ``data:`` images, so most attempts never even reach the router;
- the browser itself has a dead proxy for anything that escaped both (see ``_chromium.CHROMIUM_ARGS``);
- scripts get ``script_limit_s`` to load the page; then running JavaScript is terminated and disabled, so a
  ``while(true){}`` either fails the load (a :class:`ToolError`) or is cut off before the snapshot;
- pages over ``max_bytes`` are refused before the browser sees them.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import Any

from modalities.errors import ToolError
from modalities.layout import Layout
from tools.browser._chromium import run_in_browser
from tools.browser._dom import DOM_LAYOUT_JS, layout_from_dom

__all__ = ["ORIGIN", "CSP", "VIEWPORTS", "Snapshot", "parse_viewport", "inject_csp", "snapshot_html"]

ORIGIN = "http://mmagent.invalid/"
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "font-src data:; media-src data:; connect-src 'none'; frame-src 'none'; child-src 'none'; "
       "worker-src 'none'; object-src 'none'; form-action 'none'; base-uri 'none'")
VIEWPORTS: dict[str, tuple[int, int]] = {"desktop": (1280, 720), "mobile": (390, 844)}
_SETTLE_S = 0.05  # lets load-time layout (fonts, late styles) land before scripts are frozen


@dataclass
class Snapshot:
    """What one sandboxed render produced."""

    png: bytes
    layout: Layout
    width: int
    height: int
    blocked_requests: int
    render_s: float


def parse_viewport(value: str) -> tuple[int, int]:
    """``"desktop"``, ``"mobile"`` or ``"WxH"`` -> (width, height).

    Example:
        >>> parse_viewport("mobile"), parse_viewport("800x600")
        ((390, 844), (800, 600))
    """
    if value in VIEWPORTS:
        return VIEWPORTS[value]
    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*", value)
    if not m:
        raise ValueError(f"viewport {value!r} is not 'desktop', 'mobile' or 'WIDTHxHEIGHT' (e.g. '1280x720')")
    w, h = int(m.group(1)), int(m.group(2))
    if not (64 <= w <= 4096 and 64 <= h <= 4096):
        raise ValueError(f"viewport {value!r} must be between 64 and 4096 pixels a side")
    return w, h


def inject_csp(html: str) -> str:
    """``html`` with the sandbox CSP ``<meta>`` as the first thing in ``<head>`` (added when missing).

    Example:
        >>> inject_csp("<p>hi</p>").startswith('<meta http-equiv="Content-Security-Policy"')
        True
    """
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    m = re.search(r"<head\b[^>]*>", html, re.I)
    if m:
        return html[: m.end()] + meta + html[m.end():]
    m = re.search(r"<html\b[^>]*>", html, re.I)
    if m:
        return html[: m.end()] + "<head>" + meta + "</head>" + html[m.end():]
    return meta + html  # the parser hoists a leading <meta> into an implied <head>


def snapshot_html(html: str, *, viewport: tuple[int, int] = (1280, 720), full_page: bool = True,
                  script_limit_s: float = 5.0, max_bytes: int = 5 << 20, javascript: bool = True,
                  chromium: str | None = None) -> Snapshot:
    """Render ``html`` in the sandbox and return a :class:`Snapshot` (``chromium``: the browser to launch, as
    :func:`~tools.browser._chromium.find_chromium` takes it).

    Raises:
        ToolError: The page is over ``max_bytes``, did not load within ``script_limit_s`` (e.g. a script that
            never ends), or the browser failed.

    Example:
        >>> snapshot_html("<h1>Hello</h1>").layout.leaves()[0].role  # doctest: +SKIP
        'Heading'
    """
    body = html.encode("utf-8")
    if len(body) > max_bytes:
        raise ToolError(f"the page is {len(body) / 2**20:.1f} MiB, over the {max_bytes / 2**20:.1f} MiB render "
                        "limit; generate a smaller page or raise max_mb")
    page_bytes = inject_csp(html).encode("utf-8")

    def job(browser: Any) -> Snapshot:
        return _render(browser, page_bytes, viewport, full_page, script_limit_s, javascript)

    # the browser-side limits are the real ones; this outer wait only catches a wedged browser
    return run_in_browser(job, timeout_s=script_limit_s + 30.0, chromium=chromium)


def _render(browser: Any, page_bytes: bytes, viewport: tuple[int, int], full_page: bool, script_limit_s: float,
            javascript: bool) -> Snapshot:
    start = time.perf_counter()
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=javascript,
                                  service_workers="block", accept_downloads=False, device_scale_factor=1)
    blocked = 0

    def route(r: Any) -> None:
        nonlocal blocked
        if r.request.url == ORIGIN and r.request.is_navigation_request() and r.request.frame.parent_frame is None:
            r.fulfill(status=200, body=page_bytes, headers={"Content-Type": "text/html; charset=utf-8",
                                                            "Content-Security-Policy": CSP})
        else:
            blocked += 1
            r.abort("blockedbyclient")

    def websocket(ws: Any) -> None:
        nonlocal blocked
        blocked += 1
        ws.close(code=1008, reason="blocked by the mmagent sandbox")  # never connected to the server

    def console(msg: Any) -> None:
        nonlocal blocked
        if "Content Security Policy" in msg.text or "Not allowed to load local resource" in msg.text:
            blocked += 1

    try:
        context.route("**/*", route)
        context.route_web_socket(re.compile(".*"), websocket)
        context.set_default_timeout(script_limit_s * 1000)
        page = context.new_page()
        page.on("console", console)
        cdp = context.new_cdp_session(page)
        try:
            page.goto(ORIGIN, wait_until="load", timeout=script_limit_s * 1000)
        except Exception as exc:
            if type(exc).__name__ != "TimeoutError":
                raise ToolError(f"the page failed to load: {str(exc).splitlines()[0]}") from None
            with contextlib.suppress(Exception):  # the page may have closed itself meanwhile
                cdp.send("Runtime.terminateExecution")
            raise ToolError(f"the page did not finish loading within the {script_limit_s:g} s script limit "
                            "(a script that never ends?); remove the blocking script or raise "
                            "script_limit_s") from None
        try:
            page.wait_for_timeout(_SETTLE_S * 1000)
            # freeze the page: stop any script still running (a loop started by a timer) and allow no new ones,
            # so the snapshot cannot hang and what we measure is what we screenshot
            cdp.send("Runtime.terminateExecution")
            cdp.send("Emulation.setScriptExecutionDisabled", {"value": True})
            raw = page.evaluate(DOM_LAYOUT_JS)
            png = page.screenshot(full_page=full_page, type="png", animations="disabled",
                                  timeout=script_limit_s * 1000)
        except Exception as exc:
            if not type(exc).__module__.startswith("playwright"):
                raise
            # seen on an attack page: "Inspected target navigated or closed" while it was being frozen
            raise ToolError(f"the page could not be captured: {str(exc).splitlines()[0]}; a page that navigates "
                            "away or closes itself is not rendered") from None
        layout = layout_from_dom(raw)
        return Snapshot(png=png, layout=layout, width=int(raw["width"]), height=int(raw["height"]),
                        blocked_requests=blocked, render_s=time.perf_counter() - start)
    finally:
        context.close()
