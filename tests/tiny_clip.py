"""A tiny open_clip model built in code (random weights, seeded), for tests that must not fetch real weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NAME = "mmagent-tiny-clip"
CONFIG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def tiny_clip(folder: Path) -> Any:
    """Register the tiny config with open_clip (its config file goes in ``folder``) and build the model, seed 0."""
    import open_clip
    import torch

    (folder / f"{NAME}.json").write_text(json.dumps(CONFIG))
    open_clip.add_model_config(folder / f"{NAME}.json")
    torch.manual_seed(0)
    return open_clip.create_model(NAME, pretrained=None)
