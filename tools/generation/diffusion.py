"""``text_to_image``: a picture from a prompt with a diffusers pipeline.

The model is ``MMAGENT_DIFFUSION_MODEL``: a folder saved with ``save_pretrained``, or a Hugging Face model id, by
default ``IDKiro/sdxs-512-0.9`` (SDXS: a distilled Stable Diffusion with a small U-Net and a tiny VAE that draws a
512x512 image in one step; a few seconds on a CPU). A model id is read from the Hugging Face cache and fetched into it
on first use when the network allows (``tools/_hub.py``); otherwise the tool is unavailable with "not downloaded; run
`agent models pull diffusion`". One-step and turbo / LCM / lightning models get few-step, guidance-free defaults.
On a GPU (``MMAGENT_DEVICE`` or the tool's ``device``) the pipeline runs in fp16.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, ToolError
from modalities.settings import settings
from tools._extras import require
from tools._hub import HubModel, NotDownloaded, cached_snapshot, download_blocked, fetch
from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.devices import dtype_name, resolve_device

__all__ = ["TextToImage", "TextToImageParams", "DEFAULT_DIFFUSION", "resolve_model", "load_pipeline",
           "diffusion_hub_model", "pipeline_folder", "sampling_defaults"]

DEFAULT_DIFFUSION = "IDKiro/sdxs-512-0.9"
# (steps, guidance) for distilled models, by a word of their name: one-step SDXS, few-step turbo-style models
_FEW_STEPS = (("sdxs", 1), ("turbo", 4), ("lcm", 4), ("lightning", 4), ("hyper", 4), ("schnell", 4))
# a pipeline folder's own files; other weight formats (.ckpt, .onnx, flax) and pictures are never downloaded, nor
# SDXS's optional full-size VAE
_PATTERNS = ("*.json", "*.txt", "*.safetensors", "*.bin", "*.model")
_IGNORE = ("*.ckpt", "*.onnx", "*.msgpack", "*.h5", "*.png", "*.jpg", "*.gif", "vae_large/*", "*.fp16.*")


class TextToImageParams(BaseModel):
    """Params of ``text_to_image``."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, description="random seed; the same seed and prompt give the same image")
    width: int = Field(512, ge=64, le=2048, multiple_of=8)
    height: int = Field(512, ge=64, le=2048, multiple_of=8)
    steps: int | None = Field(None, ge=1, le=150, description="denoising steps (default: 1 for SDXS, 4 for "
                                                               "turbo-style models, 25 otherwise)")
    guidance: float | None = Field(None, ge=0, le=30, description="classifier-free guidance (default: 0 for "
                                                                   "distilled models, 7.5 otherwise)")
    negative_prompt: str = ""


def sampling_defaults(model: str) -> tuple[int, float]:
    """Steps and guidance a model is made for: distilled ones sample in a few steps without guidance.

    Example:
        >>> sampling_defaults("IDKiro/sdxs-512-0.9"), sampling_defaults("stabilityai/sd-turbo")
        ((1, 0.0), (4, 0.0))
    """
    name = model.lower()
    for word, steps in _FEW_STEPS:
        if word in name:
            return steps, 0.0
    return 25, 7.5


def diffusion_hub_model(model_id: str) -> HubModel:
    """The Hub files of a pipeline: its folder, proven present by ``model_index.json``."""
    return HubModel(model_id, files=("model_index.json",), patterns=_PATTERNS, ignore=_IGNORE)


def _complete(folder: Path) -> bool:
    """Whether every component ``model_index.json`` names has its folder (a download cut short lacks some)."""
    try:
        index = json.loads((folder / "model_index.json").read_text())
    except (OSError, ValueError):
        return False
    parts = [k for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and v[0] is not None]
    return all((folder / k).is_dir() for k in parts)


def _model_setting(setting: str | None = None) -> str:
    return ((setting if setting is not None else settings().diffusion_model) or "").strip() or DEFAULT_DIFFUSION


def resolve_model(setting: str | None = None, *, hub_timeout: float | None = None) -> tuple[str | None, str]:
    """The model ``setting`` names (default ``MMAGENT_DIFFUSION_MODEL``; empty: :data:`DEFAULT_DIFFUSION`), a folder
    or a Hub model id, and, when it cannot be used, why; a model id not yet cached is usable when it can be
    downloaded now (the hub answers within ``hub_timeout`` seconds).

    Example:
        >>> import tempfile
        >>> "folder without model_index.json" in resolve_model(tempfile.mkdtemp())[1]
        True
    """
    spec = _model_setting(setting)
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "model_index.json").is_file():
            return str(path), ""
        return None, f"MMAGENT_DIFFUSION_MODEL={spec!r} is a folder without model_index.json; save the pipeline there"
    if spec.startswith((".", "/", "~")) or spec.count("/") != 1:
        return None, (f"MMAGENT_DIFFUSION_MODEL={spec!r} is neither a pipeline folder nor a Hugging Face model id "
                      "('org/name'); fix it or unset it for the default")
    if pipeline_folder(spec, download=False) is not None:
        return spec, ""
    blocked = download_blocked(hub_timeout)
    if blocked:
        return None, str(NotDownloaded("diffusion", spec, blocked))
    return spec, ""


def pipeline_folder(model: str, *, download: bool = True, hub_timeout: float | None = None) -> Path | None:
    """The local folder of ``model`` (a folder, or a Hub id's cached snapshot, fetched first when ``download``, the
    hub given ``hub_timeout`` seconds to answer)."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    hub = diffusion_hub_model(model)
    found = cached_snapshot(hub)
    if found is not None and _complete(found):
        return found
    if not download:
        return None
    # a snapshot cut short: ask for the rest
    folder = fetch(hub, "diffusion", refresh=found is not None, timeout=hub_timeout)
    if not _complete(folder):
        raise ConfigError(f"the download of {model!r} lacks parts its model_index.json names; run `agent models "
                          "pull diffusion` again")
    return folder


def load_pipeline(model: str, device: str, dtype: Any = None, *, hub_timeout: float | None = None) -> tuple[Any, int]:
    """Load a text-to-image pipeline from its local folder (fetching a Hub model first, see :func:`pipeline_folder`)
    onto ``device``, in fp16 on a GPU; return it and its approximate size in bytes."""
    diffusers = require("diffusers", "generation")
    torch = require("torch", "generation")
    folder = pipeline_folder(model, hub_timeout=hub_timeout)
    kwargs: dict[str, Any] = {"torch_dtype": dtype or getattr(torch, dtype_name(device)), "local_files_only": True}
    try:
        pipe = diffusers.AutoPipelineForText2Image.from_pretrained(str(folder), **kwargs)
    except ValueError:
        # pipelines AutoPipeline does not map (custom or older classes): the generic loader reads model_index.json
        pipe = diffusers.DiffusionPipeline.from_pretrained(str(folder), **kwargs)
    if getattr(pipe, "safety_checker", None) is not None:
        pipe.safety_checker = None  # it needs its own weights and blanks images; the run's checks judge output
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    nbytes = 0
    for component in pipe.components.values():
        params = getattr(component, "parameters", None)
        if callable(params):
            nbytes += sum(t.numel() * t.element_size() for t in params())
    return pipe, nbytes


class TextToImage(Tool):
    """Generate an image from a text prompt with a diffusion model (``MMAGENT_DIFFUSION_MODEL``, default SDXS).

    Example:
        >>> import tempfile
        >>> from modalities.store import ArtifactStore
        >>> store = ArtifactStore(tempfile.mkdtemp())
        >>> prompt = store.put_text("a lighthouse at dawn, watercolor")
        >>> out = TextToImage().run(ToolContext(store), {"prompt": prompt}, {"seed": 1})  # doctest: +SKIP
        >>> out.outputs["image"].meta["width"]  # doctest: +SKIP
        512
    """

    name: ClassVar[str] = "text_to_image"
    stateful: ClassVar[bool] = True  # keeps its model loaded: one reused worker on a cluster
    description: ClassVar[str] = "Generate an image from a text prompt with a local diffusion model"
    family: ClassVar[str] = "generation"
    inputs: ClassVar[dict[str, str]] = {"prompt": "text"}
    outputs: ClassVar[dict[str, str]] = {"image": "image"}
    params_model: ClassVar[type[BaseModel]] = TextToImageParams
    metrics: ClassVar[dict[str, str]] = {"generate_s": "seconds spent denoising and decoding",
                                         "steps": "denoising steps run", "pixel_std": "spread of pixel values "
                                         "(near 0 means a flat, failed image)"}
    default_checks: ClassVar[tuple[str, ...]] = ("pixel_std >= 1",)
    requires: ClassVar[tuple[str, ...]] = ("diffusers", "torch")
    extra: ClassVar[str | None] = "generation"
    timeout_s: ClassVar[float] = 600.0
    retry_params: ClassVar[tuple[dict[str, Any], ...]] = ({"seed": 1}, {"seed": 2})

    def __init__(self, device: str | None = None) -> None:
        super().__init__()
        self.device = device  # overrides the run's device (MMAGENT_DEVICE) for this tool

    def available(self) -> Availability:
        base = super().available()
        if not base:
            return base
        model, reason = resolve_model(self.settings.diffusion_model or "", hub_timeout=self.settings.hub_timeout)
        return Availability(model is not None, reason)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        import numpy as np

        p = TextToImageParams.model_validate(params)
        hub_timeout = ctx.settings.hub_timeout
        model, reason = resolve_model(ctx.settings.diffusion_model or "", hub_timeout=hub_timeout)
        if model is None:
            raise ConfigError(reason)
        prompt = ctx.store.read_text(inputs["prompt"]).strip()
        if not prompt:
            raise ToolError("the prompt is empty; write what the image should show")
        torch = require("torch", "generation")
        device = resolve_device(self.device or ctx.device)
        pipe = ctx.load_model(f"diffusion:{model}", lambda: load_pipeline(model, device, hub_timeout=hub_timeout),
                              device=device)
        default_steps, default_guidance = sampling_defaults(model)
        steps = p.steps or default_steps
        guidance = p.guidance if p.guidance is not None else default_guidance
        generator = torch.Generator(device="cpu").manual_seed(p.seed)  # CPU generator: same image on any device
        start = time.perf_counter()
        kwargs: dict[str, Any] = {"prompt": prompt, "width": p.width, "height": p.height,
                                  "num_inference_steps": steps, "guidance_scale": guidance, "generator": generator}
        if p.negative_prompt and guidance > 1:
            kwargs["negative_prompt"] = p.negative_prompt
        with torch.inference_mode():
            image = pipe(**kwargs).images[0]
        generate_s = time.perf_counter() - start
        if image.size != (p.width, p.height):
            raise ToolError(f"the pipeline made a {image.size[0]}x{image.size[1]} image, not {p.width}x{p.height}")
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        art = ctx.store.put_bytes(buf.getvalue(), "image", "image/png", width=p.width, height=p.height,
                                  seed=p.seed, model=model, step=ctx.step_id, output="image")
        std = float(np.asarray(image.convert("L"), dtype=np.float32).std())
        return ToolResult(outputs={"image": art},
                          metrics={"generate_s": round(generate_s, 3), "steps": steps, "pixel_std": round(std, 2)})
