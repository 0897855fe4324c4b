"""One headless Chromium per process, owned by one thread.

Playwright's sync API is bound to the thread that started it, while plan steps run on worker threads. So a
dedicated daemon thread starts Playwright, launches the browser on first use and runs submitted jobs one at a
time; callers wait on a future. A job that does not answer in time marks the thread as wedged and the next call
starts a fresh one (a hung Playwright call cannot be interrupted from outside its thread).
"""

from __future__ import annotations

import atexit
import glob
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, TypeVar

from modalities.errors import ToolError
from modalities.settings import settings
from tools._extras import missing_modules, require
from tools.base import Availability, Tool

__all__ = ["CHROMIUM_ARGS", "find_chromium", "browser_available", "run_in_browser", "shutdown"]

T = TypeVar("T")

# Flags for a browser that renders untrusted pages and must never reach the network on its own. The proxy
# flags are defence in depth behind request routing: anything that escaped the route handler (a preconnect, a
# prefetch) goes to a dead local proxy port instead of the real host, loopback included.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",  # containers here lack user namespaces; the page is sandboxed by routing and CSP instead
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--headless",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--disable-features=NetworkPrediction,Prefetch,PreloadMediaEngagementData",
)

_SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _managed_chromium() -> str | None:
    """The browser ``playwright install chromium`` put on disk, found without starting Playwright."""
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    for pattern in ("chromium_headless_shell-*/chrome-*/headless_shell", "chromium-*/chrome-linux*/chrome"):
        hits = sorted(glob.glob(os.path.join(root, pattern)), reverse=True)
        if hits:
            return hits[0]
    return None


def find_chromium(configured: str | None = None) -> tuple[str | None, str]:
    """The executable to launch (None: Playwright's own) and where it was found.

    Order: ``configured`` (default ``MMAGENT_CHROMIUM``; ``""``: none), a Playwright-managed browser, then a
    system Chromium on PATH.

    Example:
        >>> exe, origin = find_chromium()
        >>> origin in ("MMAGENT_CHROMIUM", "playwright", "system", "missing")
        True
    """
    chosen = configured if configured is not None else settings().chromium
    if chosen:
        return chosen, "MMAGENT_CHROMIUM"
    if _managed_chromium():
        return None, "playwright"
    for name in _SYSTEM_CANDIDATES:
        path = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
        if path:
            return path, "system"
    return None, "missing"


def browser_available(chromium: str | None = None) -> tuple[bool, str]:
    """Whether a browser tool can run here with the Chromium :func:`find_chromium` finds from ``chromium``, and why
    not. Cheap: nothing is launched."""
    if missing_modules("playwright"):
        return False, "missing playwright; pip install 'mmagent[browser]'"
    _, origin = find_chromium(chromium)
    if origin == "missing":
        return False, ("no Chromium found; install one (apt-get install chromium) or set MMAGENT_CHROMIUM "
                       "to its path")
    return True, ""


class _BrowserThread:
    """A daemon thread that owns Playwright and one browser, running jobs from a queue."""

    def __init__(self, chromium: str | None = None) -> None:
        self.chromium = chromium
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self.launch_s: float | None = None
        self._thread = threading.Thread(target=self._loop, name="mmagent-chromium", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[Any], T]) -> Future[T]:
        fut: Future[T] = Future()
        self._jobs.put((job, fut))
        return fut

    def stop(self) -> None:
        self._jobs.put(None)

    def _launch(self, pw: Any) -> Any:
        exe, origin = find_chromium(self.chromium)
        if origin == "missing":
            raise ToolError("no Chromium found; install one (apt-get install chromium) or set MMAGENT_CHROMIUM")
        start = time.perf_counter()
        kwargs: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
        if exe:
            kwargs["executable_path"] = exe
        browser = pw.chromium.launch(**kwargs)
        self.launch_s = time.perf_counter() - start
        return browser

    def _loop(self) -> None:
        pw = browser = None
        try:
            while True:
                item = self._jobs.get()
                if item is None:
                    return
                job, fut = item
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    if pw is None:
                        sync_api = require("playwright.sync_api", "browser")
                        pw = sync_api.sync_playwright().start()
                    if browser is None or not browser.is_connected():
                        browser = self._launch(pw)
                    fut.set_result(job(browser))
                except BaseException as exc:  # handed to the caller, who decides what it means
                    fut.set_exception(exc)
        finally:
            for closer in (getattr(browser, "close", None), getattr(pw, "stop", None)):
                try:
                    if closer:
                        closer()
                except Exception:  # the process is going away; nothing useful to do with it
                    pass


_lock = threading.Lock()
_worker: _BrowserThread | None = None


def _get_worker(chromium: str | None = None) -> _BrowserThread:
    global _worker
    with _lock:
        if _worker is None:
            _worker = _BrowserThread(chromium)
        return _worker


def run_in_browser(job: Callable[[Any], T], *, timeout_s: float, chromium: str | None = None) -> T:
    """Run ``job(browser)`` on the browser thread and return its result.

    Args:
        job: Called with a Playwright ``Browser`` on the thread that owns it; it must enforce its own
            Playwright timeouts and close what it opens.
        timeout_s: How long to wait before declaring the browser wedged (a :class:`ToolError`); the next call then
            starts a new browser thread.
        chromium: The executable, as :func:`find_chromium` takes it, when this call launches the browser (one
            browser serves the process: a later call with another one uses it too).

    Example:
        >>> run_in_browser(lambda browser: browser.version, timeout_s=60)  # doctest: +SKIP
        '156.0.8078.108'
    """
    global _worker
    worker = _get_worker(chromium)
    # the first call also pays for Playwright's start and the browser launch
    fut = worker.submit(job)
    try:
        return fut.result(timeout=timeout_s + (30.0 if worker.launch_s is None else 0.0))
    except FutureTimeout:
        fut.cancel()
        with _lock:
            if _worker is worker:
                _worker = None  # abandon the wedged thread (a daemon); the next call launches a new browser
        worker.stop()
        raise ToolError(f"the browser did not answer within {timeout_s:.0f} s; the page was abandoned") from None


def launch_seconds() -> float | None:
    """Seconds the current browser took to launch (None before the first launch)."""
    return _worker.launch_s if _worker else None


def shutdown() -> None:
    """Close the browser and stop its thread (also run at exit)."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop()
        worker._thread.join(timeout=10)


atexit.register(shutdown)


class BrowserTool(Tool):
    """A tool that needs Chromium besides its Python modules: available only when both are there."""

    def available(self) -> Availability:
        base = super().available()
        if not base:
            return base
        ok, reason = browser_available(self.settings.chromium or "")
        return Availability(ok, reason)
