"""Model files from the Hugging Face Hub: what the local cache holds, and downloads that never hang.

The cache is the standard one (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``), read
from the environment at each call (``huggingface_hub`` reads it once, at import), and looked up on disk without
importing anything. A download happens only when the user has not forbidden it (``HF_HUB_OFFLINE``) and the hub
(``HF_ENDPOINT``, or the proxy in ``HTTPS_PROXY``) accepts a TCP connection within the caller's ``timeout`` (a tool
passes its settings' ``hub_timeout``; default ``MMAGENT_HUB_TIMEOUT``) seconds: a dead network costs that long once
per process, then one line, never the hub client's own retries (about 46 s here).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from modalities.errors import ConfigError
from modalities.settings import settings

__all__ = ["HubModel", "NotDownloaded", "hub_cache_dir", "hub_endpoint", "hub_offline", "download_blocked",
           "cached_snapshot", "fetch", "folder_bytes"]

_TRUE = ("1", "true", "yes", "on")


class NotDownloaded(ConfigError):
    """A model is not on this machine and cannot be downloaded now; the message names the pull command."""

    def __init__(self, name: str, model: str, why: str) -> None:
        self.name = name
        super().__init__(f"not downloaded: {model} ({why}); run `agent models pull {name}`")


@dataclass(frozen=True)
class HubModel:
    """A model repository on the Hub and the files that make it usable.

    Attributes:
        repo: ``org/name``.
        files: Files that must all be present; ``"a|b"`` accepts either (the first that exists is downloaded).
        patterns: For whole-folder models (diffusers pipelines): the files to download; ``files`` then lists only
            the ones that prove the folder complete.
        ignore: Files never to download (other formats of the same weights).
    """

    repo: str
    files: tuple[str, ...] = ()
    patterns: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = field(default_factory=tuple)


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder as the environment says now."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    return Path(home).expanduser() / "hub"


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def _snapshots(repo: str) -> list[Path]:
    """Snapshot folders of ``repo``, the one ``refs/main`` names first."""
    base = hub_cache_dir() / ("models--" + repo.replace("/", "--"))
    folders = sorted((base / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime, reverse=True)
    ref = base / "refs" / "main"
    if ref.is_file():
        main = base / "snapshots" / ref.read_text().strip()
        folders = [main, *[f for f in folders if f != main]] if main.is_dir() else folders
    return [f for f in folders if f.is_dir()]


def _has(folder: Path, needed: str) -> bool:
    return any((folder / alt).is_file() for alt in needed.split("|"))


def cached_snapshot(model: HubModel) -> Path | None:
    """The cached snapshot folder holding every file ``model`` needs, or None (disk only, no import)."""
    for folder in _snapshots(model.repo):
        if all(_has(folder, needed) for needed in model.files):
            return folder
    return None


def folder_bytes(path: Path) -> int:
    """Bytes of a file or of the files under a folder (the targets of the hub cache's symlinks)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


_probes: dict[str, tuple[float, str | None]] = {}
_probe_lock = threading.Lock()
_PROBE_TTL_S = 60.0


def _target(url: str) -> tuple[str, int]:
    """Where a connection to ``url`` goes: the proxy when one is set (and the host is not loopback)."""
    parts = urlsplit(url)
    scheme = "HTTPS" if parts.scheme == "https" else "HTTP"
    proxy = os.environ.get(f"{scheme}_PROXY") or os.environ.get(f"{scheme.lower()}_proxy")
    if proxy and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        parts = urlsplit(proxy)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _unreachable(url: str, timeout: float) -> str | None:
    """Why ``url`` cannot be reached (a TCP connection within ``timeout``), or None when it can. Name lookup runs
    in a thread too: getaddrinfo has no timeout of its own and may wait on a dead resolver for long."""
    host, port = _target(url)
    if not host:
        return f"HF_ENDPOINT {url!r} has no host"
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(None)
        except socket.gaierror:
            outcome.append(f"cannot resolve {host}")
        except ConnectionRefusedError:
            outcome.append(f"connection to {host}:{port} refused")
        except OSError as exc:
            outcome.append(f"cannot connect to {host}:{port}: {exc.strerror or type(exc).__name__}")

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if not outcome:
        return f"no answer from {host}:{port} within {timeout:g} s"
    return outcome[0]


def download_blocked(timeout: float | None = None) -> str | None:
    """Why nothing can be downloaded now (``HF_HUB_OFFLINE`` set, or the hub not accepting a connection within
    ``timeout`` seconds, default ``MMAGENT_HUB_TIMEOUT``), or None.

    The reachability answer is kept for a minute per endpoint, so a process asks a dead network once.
    """
    if hub_offline():
        return "HF_HUB_OFFLINE is set"
    url = hub_endpoint()
    with _probe_lock:
        seen = _probes.get(url)
        if seen is not None and time.monotonic() - seen[0] < _PROBE_TTL_S:
            return seen[1]
        why = _unreachable(url, timeout or settings().hub_timeout)
        reason = f"cannot reach {url}: {why}" if why else None
        _probes[url] = (time.monotonic(), reason)
        return reason


def fetch(model: HubModel, name: str, *, label: str = "", refresh: bool = False,
          timeout: float | None = None) -> Path:
    """The cached snapshot of ``model``, downloading what is missing first (``refresh``: ask the hub even when the
    cache looks complete); :class:`NotDownloaded` (one line naming ``label`` or the repository, and the pull
    command) when it cannot be downloaded now. ``timeout``: seconds the hub has to answer (default
    ``MMAGENT_HUB_TIMEOUT``)."""
    found = None if refresh else cached_snapshot(model)
    if found is not None:
        return found
    label = label or model.repo
    timeout = timeout or settings().hub_timeout
    blocked = download_blocked(timeout)
    if blocked:
        raise NotDownloaded(name, label, blocked)
    import huggingface_hub

    common = {"cache_dir": str(hub_cache_dir()), "endpoint": hub_endpoint(), "etag_timeout": timeout}
    try:
        if model.patterns is not None:
            return Path(huggingface_hub.snapshot_download(model.repo, allow_patterns=list(model.patterns),
                                                          ignore_patterns=list(model.ignore) or None, **common))
        folder: Path | None = None
        for needed in model.files:
            folder = _download_one(huggingface_hub, model.repo, needed.split("|"), common)
    except Exception as exc:  # noqa: BLE001 - httpx, hub and file errors have no common base; each is one line
        line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise NotDownloaded(name, label, f"downloading from {hub_endpoint()} failed: {line}") from None
    if folder is None:
        raise ConfigError(f"model {model.repo!r} names no files to download")
    return folder


def _download_one(hub: object, repo: str, alternatives: list[str], common: dict[str, object]) -> Path:
    last: Exception | None = None
    for filename in alternatives:
        try:
            return Path(hub.hf_hub_download(repo, filename, **common)).parent  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a missing alternative (404) is expected; the last error is raised
            if type(exc).__name__ not in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
                raise
            last = exc
    raise OSError(f"{repo} has none of {', '.join(alternatives)}") from last
