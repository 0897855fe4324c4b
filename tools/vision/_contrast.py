"""Faint ink (pencil, a pale marker, an over-exposed photo) deepened to a pen's contrast before it is thresholded.

Both readers of a sketch (the analyser and the fidelity judge's ink reader) flatten the light first, so that the
paper sits near white and a stroke is darker than it. Their thresholds are set for pen strokes; a faint sketch's
strokes lie above them and break into pieces, or vanish. Stretching the contrast about the paper level, so that
the darkest ink (the 0.5th percentile of the page) reaches a pen's grey, reads them. The gain is capped, so a
blank page's grain stays paper.
"""

from __future__ import annotations

import numpy as np

__all__ = ["deepened"]

_MAX_GAIN = 4.0


def deepened(flat: np.ndarray, darkest_at: float) -> np.ndarray:
    """``flat`` (uint8, light flattened, paper light) with its contrast stretched about the paper (its median) so that
    its darkest 0.5% lies at ``darkest_at``; as it is when its ink is already that dark.

    Example:
        >>> page = np.full((100, 100), 250, np.uint8)
        >>> page[40:42, 10:90] = 220  # a faint line of pencil
        >>> int(deepened(page, 150).min())
        150
    """
    darkest, paper = (float(v) for v in np.percentile(flat, (0.5, 50)))
    if darkest <= darkest_at or paper <= darkest:
        return flat
    gain = min(_MAX_GAIN, (paper - darkest_at) / (paper - darkest))
    return np.clip(paper - (paper - flat.astype(np.float32)) * gain, 0, 255).astype(np.uint8)
