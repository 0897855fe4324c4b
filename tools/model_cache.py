"""A process-wide cache of loaded models, keyed by (model, device), with an LRU memory budget per memory pool.

A model loads once per process however many steps use it. When loading a new model would go over the budget of
the memory it lives in, the least recently used models of that same memory are dropped first, so several big models
take turns instead of exhausting it. RAM (models on the CPU) has ``MMAGENT_MODEL_MEMORY`` (e.g. ``6GB``; default:
half of physical memory); each GPU (``cuda:0``, ``mps``) has its own, ``MMAGENT_GPU_MEMORY`` (default: 80% of what
torch reports for it), so a model on the GPU never pushes a CPU model out, nor the other way round.

The process-wide :data:`model_cache` starts with the environment's budgets; each step configures it with the settings
of the agent whose step it is (:meth:`ModelCache.configure`), so a worker process keeps to
``Agent(settings=Settings(model_memory=...))`` whatever its environment says.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modalities.errors import BudgetExceeded, ConfigError
from modalities.settings import Settings, settings
from tools.devices import gpu_total_bytes, memory_pool

__all__ = ["ModelCache", "model_cache", "parse_bytes", "ram_budget"]


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


def ram_budget(settings: Settings) -> int:
    """The RAM budget ``settings`` give: ``model_memory``, else half of physical memory.

    Example:
        >>> ram_budget(Settings(model_memory="6GB"))
        6000000000
    """
    if settings.model_memory is not None:
        return int(settings.model_memory)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 10**9


def _gpu_budget(settings: Settings) -> int | None:
    """``gpu_memory``, or None: 80% of each GPU's own memory (:func:`_gpu_share`)."""
    return int(settings.gpu_memory) if settings.gpu_memory is not None else None


def _gpu_share(pool: str) -> int | None:
    total = gpu_total_bytes(pool)
    # the rest is the CUDA context, activations and the allocator's slack, which weights must leave room for
    return int(total * 0.8) if total else None


@dataclass
class _Entry:
    model: Any
    nbytes: int
    load_s: float
    pool: str


class ModelCache:
    """LRU cache of models under a byte budget per memory pool (RAM, each GPU). Thread-safe; a model being loaded
    is loaded only once.

    Args:
        budget_bytes: The RAM budget (default ``MMAGENT_MODEL_MEMORY`` or half the machine's memory).
        gpu_budget_bytes: The budget of each GPU (default ``MMAGENT_GPU_MEMORY`` or 80% of the GPU's memory;
            unbounded when neither is known).

    Example:
        >>> cache = ModelCache(budget_bytes=100, gpu_budget_bytes=50)
        >>> cache.get("m", "cpu", lambda: ("weights", 60)), cache.get("m", "cuda:0", lambda: ("half", 30))
        ('weights', 'half')
        >>> cache.used_bytes_in("ram"), cache.used_bytes_in("cuda:0"), cache.loads
        (60, 30, 2)
    """

    def __init__(self, budget_bytes: int | None = None, gpu_budget_bytes: int | None = None) -> None:
        env = settings()  # until a step configures the cache with its agent's settings
        self.budget_bytes = budget_bytes if budget_bytes is not None else ram_budget(env)
        self.gpu_budget_bytes = gpu_budget_bytes if gpu_budget_bytes is not None else _gpu_budget(env)
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
            pool = memory_pool(device)
            budget = self.budget_for(pool)
            if budget is not None and nbytes > budget:
                del obj
                _release(pool)
                where, knob = ("the model memory", "MMAGENT_MODEL_MEMORY") if pool == "ram" else (
                    f"the {pool} memory", "MMAGENT_GPU_MEMORY")
                raise BudgetExceeded(f"model {model!r} takes about {nbytes / 1e9:.2f} GB, over {where} budget of "
                                     f"{budget / 1e9:.2f} GB; raise {knob}")
            with self._lock:
                self._make_room(pool, nbytes)
                self._entries[key] = _Entry(obj, nbytes, load_s, pool)
                self.loads += 1
            if self.on_load:
                self.on_load(model, device, load_s, nbytes)
            return obj

    def configure(self, settings: Settings) -> None:
        """Keep to the budgets of ``settings`` from now on (``model_memory``, ``gpu_memory``; unset: half the
        machine's memory, 80% of each GPU's), dropping the least recently used models of a pool now over its
        budget. Each step does this with its agent's settings, in whichever process it runs.

        Example:
            >>> cache = ModelCache(budget_bytes=100)
            >>> cache.get("a", "cpu", lambda: ("a", 60)), cache.get("b", "cpu", lambda: ("b", 30))
            ('a', 'b')
            >>> cache.configure(Settings(model_memory=50))
            >>> cache.budget_bytes, cache.keys(), cache.evictions
            (50, [('b', 'cpu')], [('a', 'cpu')])
        """
        with self._lock:
            self.budget_bytes = ram_budget(settings)
            self.gpu_budget_bytes = _gpu_budget(settings)
            for pool in {e.pool for e in self._entries.values()}:
                budget = self.budget_for(pool)
                if budget is not None and self.used_bytes_in(pool) > budget:
                    self._make_room(pool, 0)

    def budget_for(self, pool: str) -> int | None:
        """The byte budget of a memory pool (``"ram"``, ``"cuda:0"``...); None: unbounded (a GPU of unknown size)."""
        if pool == "ram":
            return self.budget_bytes
        return self.gpu_budget_bytes if self.gpu_budget_bytes is not None else _gpu_share(pool)

    def _make_room(self, pool: str, nbytes: int) -> None:
        budget = self.budget_for(pool)
        if budget is None:
            return
        while self.used_bytes_in(pool) + nbytes > budget:
            # the least recently used model of this pool only: a GPU model never evicts a CPU one
            key = next(k for k, e in self._entries.items() if e.pool == pool)
            del self._entries[key]
            self.evictions.append(key)
        _release(pool)

    @property
    def used_bytes(self) -> int:
        """Bytes held in every pool together."""
        return sum(e.nbytes for e in self._entries.values())

    def used_bytes_in(self, pool: str) -> int:
        """Bytes held in one memory pool (``"ram"``, ``"cuda:0"``, ``"mps"``)."""
        return sum(e.nbytes for e in self._entries.values() if e.pool == pool)

    def usage(self) -> dict[str, dict[str, int | None]]:
        """Per pool: bytes used and the budget, e.g. ``{"ram": {"used": 60, "budget": 100}}``."""
        with self._lock:
            pools = {"ram"} | {e.pool for e in self._entries.values()}
            return {p: {"used": self.used_bytes_in(p), "budget": self.budget_for(p)} for p in sorted(pools)}

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._entries

    def keys(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            pools = {e.pool for e in self._entries.values()}
            self._entries.clear()
        for pool in pools or {"ram"}:
            _release(pool)


def _release(pool: str) -> None:
    """Free what dropped models held: Python objects, and the GPU allocator's cached blocks (torch keeps freed GPU
    memory reserved for itself until asked to give it back)."""
    gc.collect()
    torch = sys.modules.get("torch") if pool != "ram" else None
    if torch is not None:
        try:
            if pool.startswith("cuda") and torch.cuda.is_available():
                torch.cuda.empty_cache()
            elif pool == "mps":
                torch.mps.empty_cache()
        except (RuntimeError, AttributeError):  # pragma: no cover - a backend without the call
            pass


model_cache = ModelCache()
"""The process-wide cache that built-in tools use."""
