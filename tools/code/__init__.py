"""Code tools: ``generate_html`` compiles a page layout into a self-contained HTML page."""

from tools.code.html import GenerateHtml, compile_layout

__all__ = ["GenerateHtml", "compile_layout"]
