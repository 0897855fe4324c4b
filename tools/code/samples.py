"""Built-in page layouts, shaped like what ``analyze_sketch`` reads from a wireframe.

Tests, benchmarks and examples compile and render them; they cover every leaf role and container.

Example:
    >>> sorted(SAMPLE_LAYOUTS)
    ['dashboard', 'landing', 'signup']
    >>> {e.role for layout in SAMPLE_LAYOUTS.values() for e in layout.walk()} >= {"ComboBox", "card", "form"}
    True
"""

from __future__ import annotations

from modalities.layout import Layout, LayoutElement

__all__ = ["SAMPLE_LAYOUTS"]


def _el(role: str, x: float, y: float, w: float, h: float, text: str = "",
        children: list[LayoutElement] | None = None) -> LayoutElement:
    return LayoutElement(role=role, box=(x, y, w, h), text=text, children=children or [])  # type: ignore[arg-type]


_LANDING = Layout(width=1280, height=1800, source="sample", elements=[
    _el("nav", 0.0, 0.0, 1.0, 0.05, children=[
        _el("Label", 0.04, 0.012, 0.15, 0.025, "Acme"),
        _el("Link", 0.62, 0.014, 0.08, 0.02, "Features"),
        _el("Link", 0.72, 0.014, 0.08, 0.02, "Pricing"),
        _el("Button", 0.84, 0.01, 0.12, 0.03, "Sign in"),
    ]),
    _el("header", 0.0, 0.07, 1.0, 0.3, children=[
        _el("Heading", 0.08, 0.1, 0.42, 0.07, "Plan your week in minutes"),
        _el("Paragraph", 0.08, 0.19, 0.4, 0.06, "Acme turns your notes into a calendar, so nothing slips."),
        _el("Button", 0.08, 0.28, 0.16, 0.035, "Get started"),
        _el("Image", 0.56, 0.09, 0.38, 0.26, "Calendar preview"),
    ]),
    _el("section", 0.0, 0.4, 1.0, 0.3, children=[
        _el("Heading", 0.08, 0.42, 0.5, 0.04, "Why teams like it"),
        _el("card", 0.08, 0.49, 0.26, 0.18, children=[
            _el("Image", 0.1, 0.5, 0.22, 0.08, "Fast"),
            _el("Heading", 0.1, 0.6, 0.2, 0.025, "Fast"),
            _el("Paragraph", 0.1, 0.63, 0.22, 0.03, "Plans build themselves as you type."),
        ]),
        _el("card", 0.37, 0.49, 0.26, 0.18, children=[
            _el("Image", 0.39, 0.5, 0.22, 0.08, "Shared"),
            _el("Heading", 0.39, 0.6, 0.2, 0.025, "Shared"),
            _el("Paragraph", 0.39, 0.63, 0.22, 0.03, "Everyone sees the same week."),
        ]),
        _el("card", 0.66, 0.49, 0.26, 0.18, children=[
            _el("Image", 0.68, 0.5, 0.22, 0.08, "Private"),
            _el("Heading", 0.68, 0.6, 0.2, 0.025, "Private"),
            _el("Paragraph", 0.68, 0.63, 0.22, 0.03, "Your notes stay yours."),
        ]),
    ]),
    _el("form", 0.2, 0.73, 0.6, 0.18, children=[
        _el("Heading", 0.24, 0.745, 0.5, 0.03, "Join the beta"),
        _el("TextBox", 0.24, 0.8, 0.34, 0.028, "Email address"),
        _el("Button", 0.6, 0.8, 0.16, 0.028, "Join"),
        _el("CheckBox", 0.24, 0.85, 0.4, 0.02, "Send me product news"),
    ]),
    _el("footer", 0.0, 0.94, 1.0, 0.06, children=[
        _el("Label", 0.04, 0.96, 0.3, 0.02, "(c) 2025 Acme"),
        _el("Link", 0.84, 0.96, 0.12, 0.02, "Contact"),
    ]),
])

_SIGNUP = Layout(width=1000, height=800, source="sample", elements=[
    _el("Heading", 0.3, 0.06, 0.4, 0.08, "Create your account"),
    _el("form", 0.3, 0.18, 0.4, 0.72, children=[
        _el("Label", 0.33, 0.21, 0.34, 0.03, "Full name"),
        _el("TextBox", 0.33, 0.25, 0.34, 0.05, "Jane Doe"),
        _el("Label", 0.33, 0.33, 0.34, 0.03, "Email"),
        _el("TextBox", 0.33, 0.37, 0.34, 0.05, "Email"),
        _el("Label", 0.33, 0.45, 0.34, 0.03, "Plan"),
        _el("ComboBox", 0.33, 0.49, 0.34, 0.05, "Free"),
        _el("RadioButton", 0.33, 0.57, 0.15, 0.04, "Monthly"),
        _el("RadioButton", 0.52, 0.57, 0.15, 0.04, "Yearly"),
        _el("CheckBox", 0.33, 0.64, 0.34, 0.04, "I accept the terms"),
        _el("Button", 0.33, 0.72, 0.34, 0.07, "Create account"),
        _el("Link", 0.33, 0.83, 0.34, 0.03, "I already have an account"),
    ]),
])

_DASHBOARD = Layout(width=1280, height=900, source="sample", elements=[
    _el("header", 0.0, 0.0, 1.0, 0.1, children=[
        _el("Heading", 0.03, 0.025, 0.3, 0.05, "Sales overview"),
        _el("ComboBox", 0.7, 0.03, 0.12, 0.045, "This week"),
        _el("Button", 0.85, 0.03, 0.12, 0.045, "Export"),
    ]),
    _el("card", 0.03, 0.14, 0.3, 0.22, children=[
        _el("Label", 0.05, 0.16, 0.2, 0.03, "Revenue"),
        _el("Heading", 0.05, 0.21, 0.2, 0.06, "$48,200"),
        _el("Paragraph", 0.05, 0.29, 0.26, 0.04, "Up 12% on last week"),
    ]),
    _el("card", 0.35, 0.14, 0.3, 0.22, children=[
        _el("Label", 0.37, 0.16, 0.2, 0.03, "Orders"),
        _el("Heading", 0.37, 0.21, 0.2, 0.06, "1,204"),
        _el("Paragraph", 0.37, 0.29, 0.26, 0.04, "Down 3% on last week"),
    ]),
    _el("card", 0.67, 0.14, 0.3, 0.22, children=[
        _el("Label", 0.69, 0.16, 0.2, 0.03, "Customers"),
        _el("Heading", 0.69, 0.21, 0.2, 0.06, "312"),
        _el("Paragraph", 0.69, 0.29, 0.26, 0.04, "Up 8% on last week"),
    ]),
    _el("section", 0.03, 0.4, 0.62, 0.55, children=[
        _el("Heading", 0.05, 0.42, 0.3, 0.04, "Revenue by day"),
        _el("Image", 0.05, 0.48, 0.58, 0.44, "Bar chart"),
    ]),
    _el("section", 0.67, 0.4, 0.3, 0.55, children=[
        _el("Heading", 0.69, 0.42, 0.26, 0.04, "Filters"),
        _el("CheckBox", 0.69, 0.49, 0.26, 0.04, "Online"),
        _el("CheckBox", 0.69, 0.55, 0.26, 0.04, "In store"),
        _el("TextBox", 0.69, 0.62, 0.26, 0.05, "Search products"),
        _el("Button", 0.69, 0.7, 0.26, 0.05, "Apply"),
    ]),
])

SAMPLE_LAYOUTS: dict[str, Layout] = {"landing": _LANDING, "signup": _SIGNUP, "dashboard": _DASHBOARD}
