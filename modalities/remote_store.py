"""Carrying artifacts to and from workers that cannot see the artifact store's folder.

When steps run on other machines and the store is not on a shared file system, a step's input bytes travel with
it and its output bytes travel back: :func:`pack` gathers records and bytes into an :class:`ArtifactBundle`
(plain data, cheap to pickle), the worker :func:`unpack`\\ s it into a private :class:`TemporaryStore`, runs the
step there, and packs its outputs; the driver unpacks those into the real store. Content addressing holds across
the trip: :func:`unpack` writes through :meth:`~modalities.store.ArtifactStore.put_bytes` (atomic, fsync'ed) and
refuses bytes whose sha256 is not the record's id.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modalities.artifacts import Artifact
from modalities.errors import StoreError
from modalities.store import ArtifactStore

__all__ = ["ArtifactBundle", "TemporaryStore", "pack", "unpack"]


@dataclass(frozen=True)
class ArtifactBundle:
    """Artifact records with their bytes, keyed by artifact id.

    Attributes:
        records: Artifact id -> the record in its plain-dict form (kind, media type, meta).
        blobs: Artifact id -> the bytes.
    """

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.blobs.values())

    def __len__(self) -> int:
        return len(self.records)


def pack(store: ArtifactStore, artifacts: Iterable[Artifact | dict[str, Any]]) -> ArtifactBundle:
    """The records and bytes of ``artifacts`` (each id once), read from ``store``.

    Example:
        >>> import tempfile
        >>> store = ArtifactStore(tempfile.mkdtemp())
        >>> bundle = pack(store, [store.put_text("hi"), store.put_text("hi")])
        >>> len(bundle), bundle.nbytes
        (1, 2)
    """
    records: dict[str, dict[str, Any]] = {}
    blobs: dict[str, bytes] = {}
    for item in artifacts:
        art = Artifact.from_state(item)
        if art.id not in records:
            records[art.id] = art.to_state()
            blobs[art.id] = store.read_bytes(art)
    return ArtifactBundle(records, blobs)


def unpack(bundle: ArtifactBundle, store: ArtifactStore) -> list[Artifact]:
    """Write a bundle's bytes into ``store``; the stored artifacts, in the bundle's order.

    Raises:
        StoreError: Bytes whose sha256 is not their record's id (corrupted or tampered in transit), or a record
            without its bytes. Nothing of a bad artifact is left in the store.

    Example:
        >>> import tempfile
        >>> src, dst = ArtifactStore(tempfile.mkdtemp()), ArtifactStore(tempfile.mkdtemp())
        >>> art = src.put_text("moved")
        >>> [a.id == art.id for a in unpack(pack(src, [art]), dst)], dst.read_text(art)
        ([True], 'moved')
    """
    stored = []
    for art_id, raw in bundle.records.items():
        record = Artifact.from_state(raw)
        data = bundle.blobs.get(art_id)
        if data is None:
            raise StoreError(f"artifact {record.short_id} ({record.kind}) arrived without its bytes")
        if record.id != art_id:
            raise StoreError(f"artifact bundle entry {art_id[:12]!r} holds the record of {record.short_id}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != record.id:  # checked before writing, so a bad transfer never reaches the store
            raise StoreError(f"artifact {record.short_id} ({record.kind}) arrived with different bytes "
                             f"(sha256 {digest[:12]}); refusing to store it")
        stored.append(store.put_bytes(data, record.kind, record.media_type, **record.meta))
    return stored


class TemporaryStore(ArtifactStore):
    """A private artifact store in a fresh temporary folder, removed on :meth:`cleanup` or at the end of a
    ``with`` block (a worker's scratch store for one step).

    Args:
        parent: Folder to create it under (default: the system's temporary folder).

    Example:
        >>> with TemporaryStore() as store:
        ...     root = store.root
        ...     _ = store.put_text("scratch")
        >>> root.exists()
        False
    """

    def __init__(self, parent: str | Path | None = None) -> None:
        super().__init__(tempfile.mkdtemp(prefix="mmagent-store-", dir=parent))

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TemporaryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
