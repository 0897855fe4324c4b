"""Attack pages for the sandbox: each tries one way out of ``render_page`` towards a server on loopback.

An attack escapes when the server sees any connection, or when the page manages to show leaked content
("LEAK" or a line of /etc/passwd) in its rendered text.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["ATTACKS", "run_attacks", "run_unsandboxed"]

# {base} is http://127.0.0.1:PORT, {port} the port. Each page writes what it learned into #out.
def _script(body: str) -> str:
    return ("<p id=out>start</p><script>const out=document.getElementById('out');"
            "function note(s){out.textContent+=' '+s;}" + body + "</script>")
ATTACKS: dict[str, str] = {
    "fetch": _script("fetch('{base}/f').then(r=>r.text()).then(t=>note('LEAK'+t)).catch(()=>note('no'));"),
    "xhr": _script("const x=new XMLHttpRequest();x.open('GET','{base}/x',false);"
                               "try{x.send();note('LEAK'+x.responseText);}catch(e){note('no');}"),
    "img": "<img src='{base}/img'>",
    "script-src": "<script src='{base}/s.js'></script>",
    "stylesheet": "<link rel=stylesheet href='{base}/c.css'>",
    "css-import": "<style>@import url('{base}/i.css');</style>",
    "css-background": "<div style=\"width:50px;height:50px;background:url('{base}/bg.png')\"></div>",
    "font-face": "<style>@font-face{font-family:x;src:url('{base}/f.woff')}p{font-family:x}</style><p>t</p>",
    "iframe": "<iframe src='{base}/frame'></iframe>",
    "object": "<object data='{base}/obj'></object>",
    "svg-image": "<svg><image href='{base}/svg.png' width=10 height=10 /></svg>",
    "video-poster": "<video poster='{base}/poster.png'></video><audio src='{base}/a.mp3' autoplay></audio>",
    "websocket": _script("try{const w=new WebSocket('ws://127.0.0.1:{port}/ws');"
                                     "w.onopen=()=>note('LEAK');}catch(e){note('no');}"),
    "eventsource": _script("try{new EventSource('{base}/es');}catch(e){note('no');}"),
    "beacon": _script("try{navigator.sendBeacon('{base}/b','x');}catch(e){}"),
    "dns-prefetch": "<link rel=dns-prefetch href='{base}'><link rel=preconnect href='{base}'>"
                    "<link rel=prefetch href='{base}/p'><link rel=preload as=image href='{base}/pl.png'>",
    "meta-refresh": "<meta http-equiv=refresh content='0;url={base}/refresh'><h1>stay</h1>",
    "navigate": _script("location.href='{base}/nav';"),
    "window-open": _script("window.open('{base}/popup');"),
    "form-submit": "<form id=f action='{base}/form' method=post><input name=a value=b></form>"
                   "<script>document.getElementById('f').submit()</script>",
    "base-href": "<base href='{base}/'><img src='relative.png'>",
    "worker": _script("try{new Worker('{base}/w.js');}catch(e){note('no');}"),
    "service-worker": _script("try{navigator.serviceWorker.register('{base}/sw.js')"
                                          ".catch(()=>note('no'));}catch(e){note('no');}"),
    "file-fetch": _script("fetch('file:///etc/passwd').then(r=>r.text()).then(t=>note('LEAK'+t))"
                                      ".catch(()=>note('no'));"),
    "file-iframe": "<iframe src='file:///etc/passwd'></iframe>",
    "file-img": "<img src='file:///etc/hostname'>",
    "data-then-net": "<iframe src=\"data:text/html,<img src='{base}/nested'>\"></iframe>",
    "blob-worker": _script("const b=new Blob([\"fetch('{base}/blob')\"]);"
                                       "try{new Worker(URL.createObjectURL(b));}catch(e){note('no');}"),
}


class _Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b"LEAKED")

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.hits: list[str] = []
        self.connections = 0

    def verify_request(self, request: object, client_address: object) -> bool:
        self.connections += 1  # a bare TCP connect (preconnect) counts too
        return True


def run_attacks(base: Path) -> tuple[int, int]:
    """Render every attack page with ``render_page``; (attacks, escapes). Prints each escape to stderr."""
    import sys

    from modalities.errors import ToolError
    from modalities.layout import Layout
    from modalities.store import ArtifactStore
    from tools.base import ToolContext
    from tools.browser.render import RenderPage

    tool = RenderPage()
    if not tool.available():
        print(f"sandbox attacks skipped: {tool.available().reason}", file=sys.stderr)
        return 0, 0
    store = ArtifactStore(base / "store")
    server = _Server()
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    escapes = 0
    try:
        for name, template in ATTACKS.items():
            html = template.replace("{base}", f"http://127.0.0.1:{port}").replace("{port}", str(port))
            before = server.connections
            text = ""
            try:
                result = tool.run(ToolContext(store), {"html": store.put_text(html, "html")},
                                  tool.validate_params({"script_limit_s": 3}))
                layout = Layout.model_validate(store.read_json(result.outputs["layout"]))
                text = " ".join(e.text for e in layout.walk())
            except ToolError:
                pass  # refusing to render is not an escape
            time.sleep(0.2)
            leaked = "LEAK" in text or "root:" in text
            if server.connections > before or leaked:
                escapes += 1
                print(f"ESCAPE {name}: connections {server.connections - before}, text {text[:80]!r}",
                      file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()
    return len(ATTACKS), escapes


def run_unsandboxed(chromium: str = "/usr/bin/chromium") -> tuple[int, int]:
    """The control: the same pages in a plain headless Chromium (served from loopback, no routing, no CSP).
    Returns (attacks, attacks that reached the server), which shows the attack pages really attack."""
    from playwright.sync_api import sync_playwright

    server = _Server()
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    reached = 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            for template in ATTACKS.values():
                html = template.replace("{base}", f"http://127.0.0.1:{port}").replace("{port}", str(port))
                before = server.connections
                page = browser.new_page()
                try:
                    page.set_content(html, timeout=5000)
                    page.wait_for_timeout(300)
                except Exception:  # a page that navigates away mid-load is fine for the control
                    pass
                page.close()
                reached += server.connections > before
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return len(ATTACKS), reached
