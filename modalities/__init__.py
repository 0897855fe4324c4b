"""Typed artifacts, the content-addressed store, and input ingestion (the bottom layer)."""

from modalities.artifacts import KINDS, Artifact, Kind
from modalities.errors import InputFileError, MMAgentError, StoreError, UserError
from modalities.ingest import Limits, ingest_bytes, ingest_file
from modalities.layout import Layout, LayoutElement
from modalities.store import ArtifactStore

__all__ = [
    "KINDS",
    "Artifact",
    "ArtifactStore",
    "InputFileError",
    "Kind",
    "Layout",
    "LayoutElement",
    "Limits",
    "MMAgentError",
    "StoreError",
    "UserError",
    "ingest_bytes",
    "ingest_file",
]
