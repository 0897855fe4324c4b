"""A spoken request becomes the task: transcribe the recording with the ``transcribe`` tool."""

from __future__ import annotations

from pathlib import Path

from modalities.errors import InputFileError
from modalities.ingest import ingest_file
from modalities.store import ArtifactStore
from tools.base import ToolContext
from tools.registry import default_registry

__all__ = ["transcribe_request"]


def transcribe_request(audio: Path, store: ArtifactStore) -> str:
    """The transcript of ``audio``; InputFileError when it is not audio or holds no speech."""
    art = ingest_file(audio, store, name="request")
    if art.kind not in ("audio", "video"):
        raise InputFileError(audio, f"is {art.kind}, not audio; --audio takes a recording (WAV, MP3, ...)")
    transcriber = default_registry().get("transcribe")
    avail = transcriber.available()
    if not avail:
        raise InputFileError(audio, f"cannot be transcribed here: {avail.reason}")
    transcriber.ensure_setup()
    result = transcriber.run(ToolContext(store=store, step_id="request"), {"audio": art}, {})
    text = store.read_text(result.outputs["text"]).strip()
    if not text:
        raise InputFileError(audio, "holds no recognisable speech; record the request again")
    return text
