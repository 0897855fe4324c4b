"""The ``layout`` kind: a tree of UI elements, the format that joins vision, code and browser tools.

Boxes are ``[x, y, w, h]`` as fractions of the page (or sketch) size, so a sketch photographed at 3000 px and a
page rendered at 1280 px compare directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field, field_validator

__all__ = ["LEAF_ROLES", "CONTAINER_ROLES", "Role", "LayoutElement", "Layout"]

LEAF_ROLES = ("Label", "Heading", "CheckBox", "Button", "TextBox", "Image", "Paragraph", "RadioButton",
              "ComboBox", "Link")
CONTAINER_ROLES = ("nav", "header", "section", "card", "form", "footer")

Role = Literal["Label", "Heading", "CheckBox", "Button", "TextBox", "Image", "Paragraph", "RadioButton",
               "ComboBox", "Link", "nav", "header", "section", "card", "form", "footer"]


class LayoutElement(BaseModel):
    """One element: its role, where it is, what it says, and what it contains."""

    role: Role
    box: tuple[float, float, float, float] = Field(description="[x, y, w, h] as fractions of the page")
    text: str = ""
    confidence: float | None = None
    kind: str = Field(default="", description="a finer kind within the role, when the sketch says it: 'icon:menu', "
                                              "'icon:search', 'toggle', 'table', 'separator', 'carousel', 'list', "
                                              "'placeholder' (text drawn as a squiggle or a bar), 'hero', 'features'")
    children: list[LayoutElement] = Field(default_factory=list)

    @field_validator("box")
    @classmethod
    def _clamp(cls, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x, y, w, h = (float(v) for v in box)
        if w < 0 or h < 0:
            raise ValueError(f"box {box!r} has a negative size")
        x, y = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
        return (x, y, min(w, 1.0 - x), min(h, 1.0 - y))

    def walk(self) -> Iterator[LayoutElement]:
        yield self
        for child in self.children:
            yield from child.walk()


class Layout(BaseModel):
    """A page or sketch as a tree of elements.

    Example:
        >>> page = Layout(elements=[LayoutElement(role="Heading", box=(0.1, 0.05, 0.8, 0.1), text="Hi")])
        >>> [e.role for e in page.walk()]
        ['Heading']
    """

    width: int | None = Field(default=None, description="source width in pixels, when known")
    height: int | None = None
    source: str = Field(default="", description="what produced it: sketch, dom, llm...")
    viewport: Literal["desktop", "mobile"] | None = Field(
        default=None, description="the screen the page was drawn for, when a drawn frame (a phone outline, a "
                                  "browser's chrome) says so")
    language: str | None = Field(default=None, description="the language the page says it is in (its <html "
                                                           "lang>, primary subtag), when the layout is of a page")
    elements: list[LayoutElement] = Field(default_factory=list)

    def walk(self) -> Iterator[LayoutElement]:
        for element in self.elements:
            yield from element.walk()

    def leaves(self) -> list[LayoutElement]:
        """Elements of the leaf roles (the ones a sketch annotator draws), in document order."""
        return [e for e in self.walk() if e.role in LEAF_ROLES]
