"""Inline SVG icons for generated pages: Lucide (ISC licence, shipped by the ``lucide`` package on PyPI, the
``code`` extra) when installed, else a few built-in shapes drawn in the same 24-unit, stroke-only style.

Icons are picked by meaning (:func:`icon_for` reads a label such as "Search" or "Fast delivery"), so a page gets a
cart beside "Cart" and a shield beside "Secure checkout", and every icon is inline: the page stays self-contained.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from typing import Final

__all__ = ["icon", "icon_for", "icons_source"]

# built-in fallbacks: the shapes a landing page cannot do without, drawn on Lucide's 24x24 grid
_BUILTIN: Final[dict[str, str]] = {
    "menu": '<path d="M4 6h16"/><path d="M4 12h16"/><path d="M4 18h16"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-4-4"/>',
    "arrow-right": '<path d="M5 12h14"/><path d="m12 5 7 7-7 7"/>',
    "chevron-right": '<path d="m9 18 6-6-6-6"/>',
    "image": '<rect x="3" y="3" width="18" height="18" rx="2"/><circle cx="9" cy="9" r="2"/>'
             '<path d="m21 15-5-5L5 21"/>',
    "check": '<path d="M20 6 9 17l-5-5"/>',
    "star": '<path d="m12 3 2.8 5.7 6.2.9-4.5 4.4 1 6.2L12 17.3 6.5 20.2l1-6.2L3 9.6l6.2-.9z"/>',
    "sparkles": '<path d="M12 3v4M12 17v4M3 12h4M17 12h4"/><path d="m6 6 2 2M16 16l2 2M6 18l2-2M16 8l2-2"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
    "shopping-cart": '<circle cx="9" cy="20" r="1.5"/><circle cx="18" cy="20" r="1.5"/>'
                     '<path d="M2 3h3l2.7 12.4a2 2 0 0 0 2 1.6h8.6a2 2 0 0 0 2-1.6L22 7H6"/>',
    "heart": '<path d="M19 14c1.5-1.5 3-3.2 3-5.5A5.5 5.5 0 0 0 12 5.5 5.5 5.5 0 0 0 2 8.5c0 2.3 1.5 4 3 5.5l7 7z"/>',
}

# words of a label -> the icon that says the same thing (first match wins; names exist in Lucide and above)
_MEANINGS: Final[tuple[tuple[str, str], ...]] = (
    (r"search|find|look", "search"),
    (r"cart|basket|shop|store|buy|order", "shopping-cart"),
    (r"account|profile|user|login|log in|sign in|member", "user"),
    (r"love|like|favou?rite|wish|heart", "heart"),
    (r"mail|newsletter|contact|message|subscribe", "mail"),
    (r"fast|speed|quick|instant|perform", "zap"),
    (r"secur|safe|privac|protect|trust", "shield-check"),
    (r"price|pricing|plan|cost|save|deal", "tag"),
    (r"team|people|community|together|social", "users"),
    (r"time|hour|schedul|calendar|event", "calendar"),
    (r"global|world|everywhere|travel|international", "globe"),
    (r"support|help|care|service", "life-buoy"),
    (r"blog|read|article|story|news|post", "book-open"),
    (r"photo|image|picture|gallery|design", "image"),
    (r"chart|analytic|insight|report|data|grow", "chart-column"),
    (r"phone|call|mobile|app", "smartphone"),
    (r"location|map|visit|near|address", "map-pin"),
    (r"start|launch|begin|go|get", "rocket"),
    (r"simple|easy|clean|ready", "sparkles"),
)
_ROTATION: Final[tuple[str, ...]] = ("sparkles", "zap", "shield-check", "star", "heart", "globe")


def icons_source() -> str:
    """``"lucide"`` when the Lucide package is installed, else ``"builtin"``."""
    return "lucide" if _lucide_found() else "builtin"


@cache
def _lucide_found() -> bool:
    return importlib.util.find_spec("lucide") is not None


@cache
def _lucide_inner(name: str) -> str | None:
    """The drawing (the children of ``<svg>``) of a Lucide icon, or None when it has no such icon."""
    import lucide

    try:
        svg = lucide._render_icon(name, None)  # the package's renderer; it reads the icon from its zip
    except lucide.IconDoesNotExist:
        return None
    inner = re.sub(r"^<svg[^>]*>|</svg>\s*$", "", svg.strip())
    return re.sub(r"\s*\n\s*", "", inner)


def icon(name: str, *, size: str = "1em", label: str = "") -> str:
    """One icon as inline SVG, drawn with ``currentColor`` so it takes the text colour around it.

    Falls back to a built-in shape (and, for a name neither knows, to the sparkle) when Lucide is absent.

    Args:
        name: A Lucide icon name such as ``"search"`` or ``"arrow-right"``.
        size: CSS width and height.
        label: Accessible name; an icon without one is decoration, hidden from screen readers.

    Example:
        >>> svg = icon("search")
        >>> svg.startswith("<svg") and 'stroke="currentColor"' in svg and svg.endswith("</svg>")
        True
    """
    inner = _lucide_inner(name) if _lucide_found() else None
    if inner is None:
        inner = _BUILTIN.get(name) or _BUILTIN["sparkles"]
    a11y = f'role="img" aria-label="{label}"' if label else 'aria-hidden="true"'
    return (f'<svg class="icon" width="{size}" height="{size}" viewBox="0 0 24 24" fill="none" '
            f'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" {a11y}>'
            f"{inner}</svg>")


def icon_for(text: str, index: int = 0) -> str:
    """The icon name that fits a label's meaning, else one of a fixed rotation by ``index`` (deterministic).

    Example:
        >>> icon_for("Secure checkout"), icon_for("Your cart"), icon_for("Lorem", 1)
        ('shield-check', 'shopping-cart', 'zap')
    """
    low = text.lower()
    for pattern, name in _MEANINGS:
        if re.search(rf"\b(?:{pattern})", low):
            return name
    return _ROTATION[index % len(_ROTATION)]
