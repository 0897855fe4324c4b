"""Typed artifact records: small frozen references into the artifact store.

An :class:`Artifact` never holds bytes. Graph state and checkpoints carry these records (as plain dicts), and the
bytes live once in the content-addressed :class:`~modalities.store.ArtifactStore`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Kind", "KINDS", "Artifact", "EXTENSIONS", "MEDIA_TYPES", "extension_for"]

Kind = Literal["text", "image", "audio", "video", "html", "layout", "json"]
KINDS: tuple[str, ...] = get_args(Kind)

# Default media type per kind, used when a producer does not say.
MEDIA_TYPES: dict[str, str] = {
    "text": "text/plain",
    "image": "image/png",
    "audio": "audio/wav",
    "video": "video/mp4",
    "html": "text/html",
    "layout": "application/vnd.mmagent.layout+json",
    "json": "application/json",
}

EXTENSIONS: dict[str, str] = {
    "text/plain": ".txt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "text/html": ".html",
    "application/vnd.mmagent.layout+json": ".layout.json",
    "application/json": ".json",
}


def extension_for(media_type: str) -> str:
    """File extension (with the dot) for a media type; ``.bin`` when unknown."""
    return EXTENSIONS.get(media_type, ".bin")


class Artifact(BaseModel):
    """A reference to content in the artifact store.

    Attributes:
        kind: What the content is (``image``, ``audio``...); tools declare the kinds they take and make.
        id: sha256 hex digest of the bytes; the key in the store.
        media_type: The precise format, e.g. ``image/jpeg``.
        size: Number of bytes.
        meta: Facts about the content: ``width``/``height`` for images and videos, ``duration_s`` for audio and
            video, ``name`` of the input file, ``step`` that produced it.

    Example:
        >>> a = Artifact(kind="text", id="0" * 64, media_type="text/plain", size=0)
        >>> a.short_id
        '000000000000'
    """

    model_config = ConfigDict(frozen=True)

    kind: Kind
    id: str = Field(pattern=r"^[0-9a-f]{64}$")
    media_type: str
    size: int = Field(ge=0)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def extension(self) -> str:
        return extension_for(self.media_type)

    def with_meta(self, **meta: Any) -> Artifact:
        """A copy with more metadata (the bytes, and so the id, are unchanged)."""
        return self.model_copy(update={"meta": {**self.meta, **meta}})

    def to_state(self) -> dict[str, Any]:
        """The plain-dict form kept in graph state and checkpoints."""
        return self.model_dump(mode="json")

    @classmethod
    def from_state(cls, data: dict[str, Any] | Artifact) -> Artifact:
        return data if isinstance(data, Artifact) else cls.model_validate(data)
