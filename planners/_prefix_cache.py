"""llama.cpp's evaluated prompt, kept on disk between processes.

The local planner's system prompt (tool catalogue and worked examples, ~600-1,300 tokens) is the same for every
request to a registry. Within a process llama.cpp reuses its evaluation; a new process (each `agent run`) would
read it again, which costs 10-40 s on two cores. After a plan the model's state (its KV cache, ~18 MB) is written
next to the assembled model; a fresh model loads it before its first plan. llama.cpp still compares the tokens of
each prompt with the restored ones and re-evaluates from the first difference, so a stale or foreign state can
only cost time, never change a reply.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PrefixCache"]

_MAGIC = b"mmagent-llama-state-1\n"


class PrefixCache:
    """Saved llama.cpp states in ``folder``, one per (model, runtime, context size, system prompt); the ``keep``
    most recently used are kept."""

    def __init__(self, folder: Path, keep: int = 4) -> None:
        self.folder = folder
        self.keep = keep

    @staticmethod
    def key(model_path: Path, n_ctx: int, system_prompt: str) -> str:
        import llama_cpp

        stat = model_path.stat()
        ident = f"{model_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{llama_cpp.__version__}|{n_ctx}"
        return hashlib.sha256(f"{ident}\n{system_prompt}".encode()).hexdigest()[:24]

    def _path(self, key: str) -> Path:
        return self.folder / f"prefix-{key}.state"

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def restore(self, llm: Any, key: str) -> bool:
        """Load the saved state for ``key`` into a model that has evaluated nothing yet; whether it did."""
        import numpy as np
        from llama_cpp.llama import LlamaState

        path = self._path(key)
        if llm.n_tokens or not path.is_file():
            return False
        try:
            blob = path.read_bytes()
            if not blob.startswith(_MAGIC):
                return False
            header, _, rest = blob[len(_MAGIC):].partition(b"\n")
            n_tokens, n_ids, seed = (int(v) for v in header.split())
            ids = np.frombuffer(rest[: n_ids * 4], dtype=np.intc).copy()
            if len(ids) != len(llm.input_ids) or n_tokens > len(ids):
                return False
            state = rest[n_ids * 4:]
            llm.load_state(LlamaState(input_ids=ids, scores=llm.scores[:0], n_tokens=0, llama_state=state,
                                      llama_state_size=len(state), seed=seed))
            llm.n_tokens = n_tokens
        except (OSError, ValueError, RuntimeError):
            llm.reset()
            return False
        os.utime(path)
        return True

    def save(self, llm: Any, key: str) -> None:
        """Write the model's current state for ``key`` (atomically), then drop the least recently used extras."""
        import llama_cpp
        import numpy as np

        size = llama_cpp.llama_state_get_size(llm.ctx)
        buffer = (llama_cpp.ctypes.c_uint8 * int(size))()
        written = int(llama_cpp.llama_state_get_data(llm.ctx, buffer, size))
        ids = np.asarray(llm.input_ids, dtype=np.intc)
        header = f"{llm.n_tokens} {len(ids)} {getattr(llm, '_seed', 0)}\n".encode()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".prefix-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + header + ids.tobytes() + bytes(buffer)[:written])
            os.replace(tmp, self._path(key))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        saved = sorted(self.folder.glob("prefix-*.state"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in saved[self.keep:]:
            old.unlink(missing_ok=True)
