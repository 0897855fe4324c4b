"""Which device a model runs on (cpu, cuda, cuda:N, mps), in which precision, and whose memory it takes.

``MMAGENT_DEVICE`` (default ``auto``) or a tool's own ``device=`` asks; :func:`resolve_device` answers with a
concrete device the backend really has, or a :class:`ConfigError` naming the value and the fix. Nothing here imports
torch at module level: the probes run only when a model-backed tool resolves its device.

Example:
    >>> resolve_device("auto", probe=lambda: (0, False))
    'cpu'
    >>> resolve_device("cuda", probe=lambda: (2, False)), half_precision("cuda:0")
    ('cuda:0', True)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

from modalities.errors import ConfigError
from modalities.settings import settings

__all__ = ["parse_device", "resolve_device", "half_precision", "dtype_name", "memory_pool", "torch_probe",
           "ctranslate2_probe", "gpu_total_bytes"]

Probe = Callable[[], tuple[int, bool]]
"""Returns (number of CUDA devices, whether Apple's MPS is usable)."""

_CHOICES = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
_FORM = re.compile(r"^(auto|cpu|mps|cuda(?::\d+)?)$")


def parse_device(value: str) -> str:
    """``value`` checked and normalised (lower case, no spaces); :class:`ConfigError` for anything else.

    Example:
        >>> parse_device(" CUDA:1 ")
        'cuda:1'
    """
    text = value.strip().lower()
    if not _FORM.match(text):
        raise ConfigError(f"device {value!r} is not one of {_CHOICES}; set MMAGENT_DEVICE or the tool's device "
                          "to one of them")
    return text


def torch_probe() -> tuple[int, bool]:
    """CUDA devices and MPS as torch sees them (0, False when torch is not installed)."""
    try:
        import torch
    except ImportError:
        return 0, False
    mps = getattr(torch.backends, "mps", None)
    return (torch.cuda.device_count() if torch.cuda.is_available() else 0,
            bool(mps is not None and mps.is_available()))


def ctranslate2_probe() -> tuple[int, bool]:
    """CUDA devices as CTranslate2 (faster-whisper) sees them; it has no MPS backend."""
    try:
        import ctranslate2
    except ImportError:
        return 0, False
    return int(ctranslate2.get_cuda_device_count()), False


def resolve_device(requested: str | None = None, *, probe: Probe = torch_probe) -> str:
    """The concrete device to load on: ``requested`` (else ``MMAGENT_DEVICE``), ``auto`` meaning the first CUDA
    GPU, then MPS, then the CPU. ``cuda`` becomes ``cuda:0`` so one GPU has one name in the model cache.

    Raises:
        ConfigError: The value is malformed, or names a device the backend does not see here.

    Example:
        >>> resolve_device("mps", probe=lambda: (0, True))
        'mps'
    """
    value = parse_device(requested or settings().device)
    if value == "cpu":
        return "cpu"
    cuda_count, mps = probe()
    if value == "auto":
        return "cuda:0" if cuda_count else "mps" if mps else "cpu"
    if value == "mps":
        if not mps:
            raise ConfigError("device 'mps' was asked for but no Apple GPU (MPS) is usable here; use 'cpu' or 'auto'")
        return "mps"
    index = int(value.partition(":")[2] or 0)
    if index >= cuda_count:
        seen = f"{cuda_count} CUDA device{'s' if cuda_count != 1 else ''}" if cuda_count else "no CUDA device"
        raise ConfigError(f"device {value!r} was asked for but the backend sees {seen} here; use 'cpu', 'auto'"
                          + (f" or cuda:0..cuda:{cuda_count - 1}" if cuda_count else ""))
    return f"cuda:{index}"


def half_precision(device: str) -> bool:
    """Whether models run in fp16 there: on GPUs, yes (half the memory, tensor cores); on CPUs fp16 is slow or
    unsupported, so they stay fp32."""
    return device.startswith(("cuda", "mps"))


def dtype_name(device: str) -> str:
    """``"float16"`` on a GPU, ``"float32"`` on the CPU (``getattr(torch, dtype_name(d))`` gives the dtype).

    Example:
        >>> dtype_name("cuda:0"), dtype_name("cpu")
        ('float16', 'float32')
    """
    return "float16" if half_precision(device) else "float32"


def memory_pool(device: str) -> str:
    """The memory a model on ``device`` takes: ``"ram"`` for the CPU (and the unresolved ``auto``), else the
    device itself (``cuda:0``, ``mps``), so the model cache budgets each GPU apart from RAM.

    Example:
        >>> memory_pool("cpu"), memory_pool("cuda"), memory_pool("cuda:1")
        ('ram', 'cuda:0', 'cuda:1')
    """
    value = device.strip().lower()
    if value in ("cpu", "auto", ""):
        return "ram"
    return "cuda:0" if value == "cuda" else value


def gpu_total_bytes(pool: str) -> int | None:
    """Total memory of a GPU pool as torch reports it, or None when torch is not loaded or cannot say (torch is
    only asked when a tool already imported it: a model on a GPU means torch is loaded)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if pool.startswith("cuda"):
            return int(torch.cuda.get_device_properties(int(pool.partition(":")[2] or 0)).total_memory)
        if pool == "mps":
            return int(torch.mps.recommended_max_memory())
    except (RuntimeError, AttributeError, AssertionError, ValueError):
        return None
    return None
