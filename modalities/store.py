"""A content-addressed artifact store on disk.

Files live at ``<root>/objects/<id[:2]>/<id><ext>``: the id is the sha256 of the bytes, the extension comes from
the media type so external programs (ffmpeg, Chromium) see proper file names. Writes go to a temporary file in
the same folder, are fsync'ed, then renamed into place, so a crash never leaves a half-written object and two
processes writing the same content at once both end with the same complete file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from modalities.artifacts import MEDIA_TYPES, Artifact, Kind, extension_for
from modalities.errors import StoreError

__all__ = ["ArtifactStore"]

_ID = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class ArtifactStore:
    """Content-addressed storage for artifact bytes.

    Args:
        root: Folder of the store; created if missing. Several runs (and processes) may share one.

    Example:
        >>> import tempfile
        >>> store = ArtifactStore(tempfile.mkdtemp())
        >>> art = store.put_text("hello")
        >>> store.read_text(art)
        'hello'
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    # -- writing -----------------------------------------------------------------------------------------
    def put_bytes(self, data: bytes, kind: Kind, media_type: str | None = None, **meta: Any) -> Artifact:
        """Store ``data`` and return its artifact record."""
        media_type = media_type or MEDIA_TYPES[kind]
        digest = hashlib.sha256(data).hexdigest()
        target = self._object_path(digest, media_type)
        if not self._intact(target, len(data)):
            self._atomic_write(target, lambda f: f.write(data))
        return Artifact(kind=kind, id=digest, media_type=media_type, size=len(data), meta=meta)

    def put_file(self, path: str | os.PathLike[str], kind: Kind, media_type: str | None = None,
                 **meta: Any) -> Artifact:
        """Copy a file into the store (streamed, so big videos are not read into memory)."""
        media_type = media_type or MEDIA_TYPES[kind]
        src = Path(path)
        digest = _sha256_file(src)
        size = src.stat().st_size
        target = self._object_path(digest, media_type)
        if not self._intact(target, size):
            def copy(f: Any) -> None:
                with open(src, "rb") as s:
                    shutil.copyfileobj(s, f, _CHUNK)
            self._atomic_write(target, copy)
        return Artifact(kind=kind, id=digest, media_type=media_type, size=size, meta=meta)

    def put_text(self, text: str, kind: Kind = "text", media_type: str | None = None, **meta: Any) -> Artifact:
        return self.put_bytes(text.encode("utf-8"), kind, media_type, **meta)

    def put_json(self, value: Any, kind: Kind = "json", media_type: str | None = None, **meta: Any) -> Artifact:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        return self.put_bytes(data, kind, media_type, **meta)

    def scratch_dir(self) -> Path:
        """A fresh private folder on the store's file system for a tool's temporary files."""
        return Path(tempfile.mkdtemp(prefix="work-", dir=self.root / "tmp"))

    # -- reading -----------------------------------------------------------------------------------------
    def path(self, artifact: Artifact | dict[str, Any]) -> Path:
        """Path of the artifact's bytes; raises :class:`StoreError` if missing."""
        art = Artifact.from_state(artifact)
        p = self._object_path(art.id, art.media_type)
        if not p.exists():
            raise StoreError(f"artifact {art.short_id} ({art.kind}) is missing from the store at {self.root}")
        return p

    def read_bytes(self, artifact: Artifact | dict[str, Any]) -> bytes:
        return self.path(artifact).read_bytes()

    def read_text(self, artifact: Artifact | dict[str, Any]) -> str:
        return self.read_bytes(artifact).decode("utf-8")

    def read_json(self, artifact: Artifact | dict[str, Any]) -> Any:
        return json.loads(self.read_bytes(artifact))

    def exists(self, artifact: Artifact | dict[str, Any]) -> bool:
        art = Artifact.from_state(artifact)
        return self._object_path(art.id, art.media_type).exists()

    def verify(self, artifact: Artifact | dict[str, Any]) -> bool:
        """True when the stored bytes still hash to the artifact's id."""
        art = Artifact.from_state(artifact)
        p = self._object_path(art.id, art.media_type)
        return p.exists() and _sha256_file(p) == art.id

    def iter_objects(self) -> list[Path]:
        return sorted(p for p in (self.root / "objects").glob("*/*") if p.is_file())

    def fsck(self) -> list[Path]:
        """Objects whose bytes do not match their name (should always be empty)."""
        bad = []
        for p in self.iter_objects():
            digest = p.name.split(".", 1)[0]
            if _sha256_file(p) != digest:
                bad.append(p)
        return bad

    # -- internals ---------------------------------------------------------------------------------------
    def _object_path(self, digest: str, media_type: str) -> Path:
        if not _ID.match(digest):  # ids come from checkpoints and plans: never let one name a path outside
            raise StoreError(f"invalid artifact id {digest!r}: expected 64 hex digits")
        return self.root / "objects" / digest[:2] / f"{digest}{extension_for(media_type)}"

    @staticmethod
    def _intact(path: Path, size: int) -> bool:
        try:
            return path.stat().st_size == size
        except FileNotFoundError:
            return False

    def _atomic_write(self, target: Path, write: Any) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
