"""Malformed-file generators for tests and the reliability benchmark (seeded, deterministic).

Each generator yields ``(file name, bytes, expected)`` where ``expected`` is ``"ok"`` when the file is valid and
must ingest, or ``"error"`` when ingestion must raise :class:`~modalities.errors.InputFileError`, or ``"any"``
when either is acceptable (random bytes that may happen to parse).
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
import zlib
from collections.abc import Iterator

__all__ = ["valid_files", "malformed_files", "png_bytes", "wav_bytes"]


def png_bytes(w: int = 16, h: int = 12, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (30, 120, 200)).save(buf, format=fmt)
    return buf.getvalue()


def wav_bytes(seconds: float = 0.3, rate: int = 16000, silent: bool = False) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(rate * seconds)
        w.writeframes(b"".join(struct.pack("<h", 0 if silent else int(9000 * math.sin(i / 7))) for i in range(n)))
    return buf.getvalue()


def _mp4_bytes() -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    mvhd = box(b"mvhd", b"\x00\x00\x00\x00" + b"\x00" * 8 + struct.pack(">II", 1000, 2500) + b"\x00" * 80)
    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2") + box(b"moov", mvhd) + box(b"mdat", b"\x00" * 64)


def _bomb_png(w: int, h: int) -> bytes:
    png = bytearray(png_bytes())
    ihdr = b"IHDR" + struct.pack(">II", w, h) + bytes(png[24:29])
    png[12:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(ihdr))
    return bytes(png)


def valid_files() -> list[tuple[str, bytes, str]]:
    """One valid file per kind (they must all ingest)."""
    return [
        ("ok.png", png_bytes(), "ok"), ("ok.jpg", png_bytes(fmt="JPEG"), "ok"),
        ("ok.webp", png_bytes(fmt="WEBP"), "ok"),
        ("ok.wav", wav_bytes(), "ok"), ("silent.wav", wav_bytes(silent=True), "ok"), ("ok.mp4", _mp4_bytes(), "ok"),
        ("ok.txt", b"A landing page for a travel agency.", "ok"),
        ("ok.html", b"<!doctype html><html><body><h1>Hi</h1></body></html>", "ok"),
        ("ok.json", b'{"a": 1}', "ok"),
    ]


def _mutations(rng: random.Random, data: bytes) -> Iterator[tuple[str, bytes]]:
    for _ in range(3):
        cut = rng.randrange(1, max(2, len(data) - 1))
        yield "truncated", data[:cut]
    for _ in range(3):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        yield "flipped", bytes(buf)
    yield "zeroed-tail", data[: len(data) // 2] + b"\x00" * (len(data) - len(data) // 2)


def malformed_files(n: int = 1000, seed: int = 0) -> Iterator[tuple[str, bytes, str]]:
    """``n`` broken (or suspicious) files covering every input kind, reproducibly."""
    rng = random.Random(seed)
    fixed: list[tuple[str, bytes, str]] = [
        ("empty.png", b"", "error"), ("empty.wav", b"", "error"), ("empty.txt", b"", "error"),
        ("bomb.png", _bomb_png(100_000, 100_000), "error"), ("wide.png", _bomb_png(2**31 - 1, 1), "error"),
        ("tall.png", _bomb_png(1, 2**31 - 1), "error"),
        ("png-named.wav", png_bytes(), "ok"), ("wav-named.png", wav_bytes(), "ok"),
        ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "error"),
        ("huge.txt", b"word " * 1_300_000, "error"),
        ("nul.txt", b"text\x00with\x00nuls", "error"),
        ("bad-header.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\xff" * 16, "error"),
        ("no-frames.wav", wav_bytes(0.0), "error"),
        ("id3-only.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00", "error"),
        ("no-moov.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x10mdat" + b"\x00" * 8,
         "error"),
        ("bad-box.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\xff\xff\xff\xffmoov", "error"),
        ("broken.json", b'{"elements": [', "error"),
        ("bad-layout.json", b'{"elements": [{"role": "Blink", "box": [0, 0, 1, 1]}]}', "error"),
    ]
    count = 0
    for item in fixed:
        if count >= n:
            return
        yield item
        count += 1
    sources = [(name.split(".")[-1], data) for name, data, _ in valid_files()]
    while count < n:
        ext, data = sources[rng.randrange(len(sources))]
        for how, mutated in _mutations(rng, data):
            if count >= n:
                return
            # a mutation may keep the file valid (a flipped byte in PNG padding): either outcome is fine, but
            # it must be one of the two, never a crash
            yield f"{how}-{count}.{ext}", mutated, "any"
            count += 1
        if count < n:
            yield f"random-{count}.bin", rng.randbytes(rng.randrange(1, 400)), "any"
            count += 1
