from __future__ import annotations

import threading

import pytest

from modalities import Artifact
from modalities.errors import StoreError


def test_content_addressed_and_deduplicated(store) -> None:
    a = store.put_text("same")
    b = store.put_text("same")
    assert a.id == b.id and store.path(a).name == f"{a.id}.txt"
    assert len(store.iter_objects()) == 1 and store.verify(a)


def test_concurrent_writers_of_the_same_content_leave_one_intact_file(store) -> None:
    data = bytes(range(256)) * 4096
    threads = [threading.Thread(target=store.put_bytes, args=(data, "json")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.fsck() == [] and len(store.iter_objects()) == 1
    assert not list((store.root / "objects").glob("*/.tmp-*"))


def test_tampered_object_is_detected(store) -> None:
    art = store.put_text("original")
    store.path(art).write_text("changed")
    assert not store.verify(art)
    assert store.fsck() == [store.path(art)]


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "a" * 63, "A" * 64, "/" + "a" * 63])
def test_ids_cannot_name_paths_outside_the_store(store, bad_id: str) -> None:
    forged = Artifact.model_construct(kind="text", id=bad_id, media_type="text/plain", size=1, meta={})
    with pytest.raises(StoreError, match="invalid artifact id"):
        store.path(forged)


def test_missing_object_names_the_store(store) -> None:
    art = store.put_text("gone")
    store.path(art).unlink()
    with pytest.raises(StoreError, match="missing from the store"):
        store.read_text(art)
