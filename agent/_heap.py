"""Giving freed heap back to the system, for the long-lived processes (the driver between runs, each worker between
steps). Runs read images, audio and models' outputs of every size; glibc keeps freed pages in its arenas, so a
process's resident memory creeps up with the variety of its inputs although nothing leaks."""

from __future__ import annotations

import ctypes
import gc

__all__ = ["release_free_memory"]


def release_free_memory() -> None:
    """Collect garbage, then hand freed heap pages back (glibc's ``malloc_trim``; a no-op elsewhere)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim this way
        pass
