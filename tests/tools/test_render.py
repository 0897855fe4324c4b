"""render_page: a real Chromium renders generated pages faithfully, and the sandbox holds."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from modalities.errors import ConfigError, ToolError
from modalities.layout import Layout
from tools.base import ToolContext
from tools.browser.render import RenderPage
from tools.code.html import compile_layout
from tools.code.samples import SAMPLE_LAYOUTS

pytestmark = pytest.mark.slow


def _render(store, html: str, **params):
    tool = RenderPage()
    result = tool.run(ToolContext(store), {"html": store.put_text(html, "html")}, tool.validate_params(params))
    return Layout.model_validate(store.read_json(result.outputs["layout"])), result


@pytest.mark.parametrize("strategy", ["semantic", "grid"])
def test_rendered_dom_matches_the_layout_it_was_generated_from(browser, store, layout_score, strategy) -> None:
    for name in ("landing", "signup"):
        source = SAMPLE_LAYOUTS[name]
        rendered, result = _render(store, compile_layout(source, strategy=strategy))
        assert [e.role for e in rendered.leaves()] and {e.role for e in rendered.leaves()} == {
            e.role for e in source.leaves()}
        assert layout_score(source, rendered) >= 0.85, name
        # the page keeps the sketch's proportions; a grid track grows when its copy wraps one line more than the
        # drawn box holds (seen: 1829 px for 1800)
        assert result.metrics["page_height"] == pytest.approx(1280 * source.height / source.width, rel=0.03)
        shot = result.outputs["screenshot"]
        assert (shot.meta["width"], shot.meta["height"]) == (1280, result.metrics["page_height"])


def test_minimal_page_scores_low_against_its_sketch(browser, store, layout_score) -> None:
    source = SAMPLE_LAYOUTS["landing"]
    rendered, _ = _render(store, compile_layout(source, strategy="minimal"))
    assert layout_score(source, rendered) < 0.4


def test_roles_from_tags_and_mobile_viewport(browser, store) -> None:
    html = ("<nav><a href='#'>Home</a></nav><h2>Title</h2><p>Copy</p><label>Name <input></label>"
            "<input type=submit value=Send><select><option>One</option></select><label><input type=radio> A</label>"
            "<svg width=40 height=40></svg><span>note</span><textarea></textarea>")
    layout, result = _render(store, html, viewport="mobile")
    assert [e.role for e in layout.walk()] == ["nav", "Link", "Heading", "Paragraph", "TextBox", "Button",
                                               "ComboBox", "RadioButton", "Image", "Label", "TextBox"]
    assert result.metrics["page_width"] == 390
    assert all(0 <= v <= 1 for e in layout.walk() for v in e.box)


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b"LEAKED")

    def log_message(self, *args: object) -> None:
        pass


def test_the_layout_says_which_language_the_page_declares(browser, store) -> None:
    """The narration of a page follows the language the page declares, so the layout carries it."""
    layout, _ = _render(store, "<!doctype html><html lang='es-ES'><body><h1>Entradas</h1></body></html>")
    assert layout.language == "es"
    layout, _ = _render(store, "<h1>No lang here</h1>")
    assert layout.language is None


def test_sandbox_blocks_network_files_and_websockets(browser, store) -> None:
    _Recorder.hits = []
    connections: list[object] = []

    class Server(ThreadingHTTPServer):
        def verify_request(self, request, client_address) -> bool:  # noqa: ANN001 - socketserver API
            connections.append(client_address)  # counts raw TCP connections too (a preconnect would show here)
            return True

    server = Server(("127.0.0.1", 0), _Recorder)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{port}"
        html = f"""<!doctype html><html><head>
<link rel="dns-prefetch" href="{base}"><link rel="preconnect" href="{base}">
<link rel="stylesheet" href="{base}/style.css"><link rel="prefetch" href="{base}/prefetch">
</head><body><h1>Attack page</h1>
<img src="{base}/img"><iframe src="file:///etc/passwd"></iframe><iframe src="{base}/frame"></iframe>
<p id="out">waiting</p>
<script>
const out = document.getElementById('out'); const log = [];
function note(s) {{ log.push(s); out.textContent = log.join(' '); }}
fetch('{base}/x').then(r => r.text()).then(t => note('LEAK-fetch:' + t)).catch(() => note('fetch-blocked'));
fetch('file:///etc/passwd').then(r => r.text()).then(t => note('LEAK-file:' + t)).catch(() => note('file-blocked'));
try {{ const ws = new WebSocket('ws://127.0.0.1:{port}/ws');
  ws.onopen = () => note('LEAK-ws'); ws.onerror = () => note('ws-blocked'); }} catch (e) {{ note('ws-blocked'); }}
try {{ navigator.sendBeacon('{base}/beacon', 'x'); }} catch (e) {{}}
</script></body></html>"""
        layout, result = _render(store, html)
        time.sleep(0.3)  # anything in flight would reach the server by now
        text = " ".join(e.text for e in layout.walk())
        assert "fetch-blocked" in text and "file-blocked" in text  # the attempts ran and failed
        assert "LEAK" not in text
        assert _Recorder.hits == [] and connections == []
        assert result.metrics["blocked_requests"] >= 1
    finally:
        server.shutdown()
        server.server_close()


def test_infinite_loop_is_stopped_at_the_limit(browser, store) -> None:
    start = time.perf_counter()
    with pytest.raises(ToolError, match="did not finish loading within the 1 s script limit"):
        _render(store, "<h1>Busy</h1><script>while (true) {}</script>", script_limit_s=1)
    assert time.perf_counter() - start < 10
    # the browser is still usable afterwards, and a loop started after load is cut off, not waited for
    layout, _ = _render(store, "<h1>Later</h1><script>onload = () => setTimeout(() => { while (true) {} }, 0)</script>",
                        script_limit_s=1)
    assert [e.text for e in layout.leaves()] == ["Later"]


def test_oversized_invalid_and_empty_pages(browser, store) -> None:
    with pytest.raises(ToolError, match="over the 1.0 MiB render limit"):
        _render(store, "<p>" + "x" * (1 << 20) + "</p>", max_mb=1)
    layout, _ = _render(store, "<div><p>unclosed <b>tags<h1>Still a heading</div></span></table>")
    assert "Heading" in [e.role for e in layout.leaves()]
    with pytest.raises(ToolError, match="empty"):
        _render(store, "   ")
    with pytest.raises(ConfigError, match="viewport"):
        RenderPage().validate_params({"viewport": "huge"})
