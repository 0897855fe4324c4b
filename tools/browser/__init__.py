"""Browser tools: render HTML in a sandboxed headless Chromium and record page videos.

Playwright is imported inside functions only; importing this package is cheap.
"""

__all__ = ["RenderPage", "RecordPageVideo"]


def __getattr__(name: str) -> object:
    # lazy re-exports, so ``import tools.browser`` never pulls in playwright or numpy
    if name == "RenderPage":
        from tools.browser.render import RenderPage

        return RenderPage
    if name == "RecordPageVideo":
        from tools.browser.video import RecordPageVideo

        return RecordPageVideo
    raise AttributeError(name)
