"""Moving artifacts to workers that do not share the store: content addressing survives the trip."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from modalities.errors import StoreError
from modalities.remote_store import TemporaryStore, pack, unpack
from modalities.store import ArtifactStore


def test_bundle_round_trip_keeps_ids_kinds_and_meta(store: ArtifactStore) -> None:
    text = store.put_text("hello", meta_key="kept")
    image = store.put_bytes(b"\x89PNG fake", "image", "image/png", width=3, height=2)
    bundle = pickle.loads(pickle.dumps(pack(store, [text, image.to_state(), text])))  # as Ray would carry it
    assert len(bundle) == 2
    with TemporaryStore() as scratch:
        moved = unpack(bundle, scratch)
        assert moved == [text, image]
        assert all(scratch.verify(a) for a in moved)
        assert scratch.path(image).suffix == ".png"
        root = scratch.root
    assert not root.exists()


def test_tampered_or_missing_bytes_are_refused(store: ArtifactStore) -> None:
    art = store.put_text("original")
    bundle = pack(store, [art])
    tampered = replace(bundle, blobs={art.id: b"forged"})
    with TemporaryStore() as scratch:
        with pytest.raises(StoreError, match=f"artifact {art.short_id} \\(text\\) arrived with different bytes"):
            unpack(tampered, scratch)
        assert scratch.iter_objects() == []  # nothing of it was written
        with pytest.raises(StoreError, match="arrived without its bytes"):
            unpack(replace(bundle, blobs={}), scratch)
