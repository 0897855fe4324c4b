from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from modalities import InputFileError, ingest_file
from modalities.ingest import Limits, ingest_bytes


def _png(w: int = 8, h: int = 6) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def _wav(frames: int = 1600) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x01" * frames)
    return buf.getvalue()


def test_kinds_come_from_content_not_extension(tmp_path: Path, store) -> None:
    (tmp_path / "photo.txt").write_bytes(_png())
    (tmp_path / "voice.png").write_bytes(_wav())
    (tmp_path / "page.dat").write_text("<!doctype html><html><body>hi</body></html>")
    (tmp_path / "layout.txt").write_text('{"elements": [{"role": "Button", "box": [0, 0, 0.2, 0.1]}]}')
    image = ingest_file(tmp_path / "photo.txt", store)
    assert (image.kind, image.media_type, image.meta["width"]) == ("image", "image/png", 8)
    audio = ingest_file(tmp_path / "voice.png", store)
    assert audio.kind == "audio" and audio.meta["duration_s"] == 0.1
    assert ingest_file(tmp_path / "page.dat", store).kind == "html"
    assert ingest_file(tmp_path / "layout.txt", store).kind == "layout"


@pytest.mark.parametrize("name, data, message", [
    ("empty.png", b"", "is empty"),
    ("cut.png", _png()[:40], "corrupt or truncated"),
    ("cut.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 30, "corrupt or truncated"),
    ("bad.wav", b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x01" * 8, "WAV header is invalid"),
    ("silent_header.wav", _wav(0), "holds no audio frames"),
    ("latin1.txt", "café".encode("latin-1"), "not valid UTF-8"),
    ("blob.bin", b"\x00\x01\x02" * 100, "unsupported binary format"),
    ("broken.json", b'{"a": ', "JSON is invalid"),
    ("broken.mp4", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 12 + b"\x00\x00\x10\x00mdat", "MP4 is broken"),
])
def test_bad_files_get_one_clear_line(tmp_path: Path, store, name: str, data: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(data)
    with pytest.raises(InputFileError, match=message) as info:
        ingest_file(tmp_path / name, store)
    assert name in str(info.value) and "\n" not in str(info.value)
    assert store.iter_objects() == []  # nothing partial left behind


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, store) -> None:
    png = bytearray(_png())
    # rewrite the IHDR size to 100000 x 100000 (and its CRC) without the pixels: a classic bomb header
    import zlib

    ihdr = b"IHDR" + struct.pack(">II", 100_000, 100_000) + bytes(png[24:29])
    png[12:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    (tmp_path / "bomb.png").write_bytes(bytes(png))
    with pytest.raises(InputFileError, match="over the 80 MP limit .a decompression bomb"):
        ingest_file(tmp_path / "bomb.png", store)


def test_oversized_file_is_refused(tmp_path: Path, store) -> None:
    (tmp_path / "big.txt").write_text("x" * 2048)
    with pytest.raises(InputFileError, match="over the 0 MiB input limit"):
        ingest_file(tmp_path / "big.txt", store, limits=Limits(max_bytes=1024))


def test_missing_file_and_folder(tmp_path: Path, store) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        ingest_file(tmp_path / "nope.png", store)
    with pytest.raises(InputFileError, match="not a regular file"):
        ingest_file(tmp_path, store)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WAVE", b"GIF89a",
                               b"\x00\x00\x00\x18ftyp", b"{", b""]),
       body=st.binary(max_size=300))
def test_random_bytes_either_ingest_or_raise_input_file_error(store, prefix: bytes, body: bytes) -> None:
    try:
        art = ingest_bytes(prefix + body, store, name="fuzz")
    except InputFileError as exc:
        assert "\n" not in str(exc)
    else:
        assert store.verify(art)
