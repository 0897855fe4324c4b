"""A process-wide cache of loaded models, keyed by (model, device), with an LRU memory budget.

A model loads once per process however many steps use it. When loading a new model would go over the budget
(``MMAGENT_MODEL_MEMORY``, e.g. ``6GB``; default: half of physical memory), the least recently used models are
dropped first, so several big models take turns instead of exhausting memory.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modalities.errors import BudgetExceeded, ConfigError
from modalities.settings import settings

__all__ = ["ModelCache", "model_cache", "parse_bytes"]

def parse_bytes(text: str) -> int:
    """``"6GB"`` -> 6_000_000_000; ``"512MiB"`` -> 536_870_912 (pydantic's ``ByteSize``).

    Example:
        >>> parse_bytes("6GB"), parse_bytes("512MiB"), parse_bytes("1.5 kb")
        (6000000000, 536870912, 1500)
    """
    from pydantic import ByteSize, TypeAdapter, ValidationError

    try:
        return int(TypeAdapter(ByteSize).validate_python(text))
    except ValidationError:
        raise ConfigError(f"cannot read {text!r} as a memory size; write it like '6GB' or '512MiB'") from None


def _default_budget() -> int:
    budget = settings().model_memory
    if budget is not None:
        return int(budget)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 10**9


@dataclass
class _Entry:
    model: Any
    nbytes: int
    load_s: float


class ModelCache:
    """LRU cache of models under a byte budget. Thread-safe; a model being loaded is loaded only once.

    Example:
        >>> cache = ModelCache(budget_bytes=100)
        >>> cache.get("m", "cpu", lambda: ("weights", 60))
        'weights'
        >>> cache.loads
        1
    """

    def __init__(self, budget_bytes: int | None = None) -> None:
        self.budget_bytes = budget_bytes if budget_bytes is not None else _default_budget()
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[tuple[str, str], threading.Lock] = {}
        self.loads = 0
        self.evictions: list[tuple[str, str]] = []
        self.on_load: Callable[[str, str, float, int], None] | None = None

    def get(self, model: str, device: str, loader: Callable[[], tuple[Any, int]]) -> Any:
        """The cached model, or ``loader()``'s (model, nbytes) after making room for it."""
        key = (model, device)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key].model
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key].model
            start = time.perf_counter()
            obj, nbytes = loader()
            load_s = time.perf_counter() - start
            if nbytes > self.budget_bytes:
                del obj
                gc.collect()
                raise BudgetExceeded(f"model {model!r} takes about {nbytes / 1e9:.2f} GB, over the model memory "
                                     f"budget of {self.budget_bytes / 1e9:.2f} GB; raise MMAGENT_MODEL_MEMORY")
            with self._lock:
                self._make_room(nbytes)
                self._entries[key] = _Entry(obj, nbytes, load_s)
                self.loads += 1
            if self.on_load:
                self.on_load(model, device, load_s, nbytes)
            return obj

    def _make_room(self, nbytes: int) -> None:
        while self._entries and self.used_bytes + nbytes > self.budget_bytes:
            key, _ = self._entries.popitem(last=False)
            self.evictions.append(key)
        gc.collect()

    @property
    def used_bytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values())

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._entries

    def keys(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
        gc.collect()


model_cache = ModelCache()
"""The process-wide cache that built-in tools use."""
