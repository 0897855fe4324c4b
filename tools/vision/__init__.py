"""Vision tools: sketch analysis, layout comparison and CLIP scoring. Submodules import OpenCV, OCR and torch
only inside their functions, so importing this package is cheap."""

__all__ = ["sketch", "layout_similarity", "clip"]
