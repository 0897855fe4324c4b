"""``text_to_image``: a picture from a prompt with a local diffusers pipeline.

The model comes from ``MMAGENT_DIFFUSION_MODEL``: a folder saved with ``save_pretrained`` or a Hugging Face model id
already in the local cache. Nothing is downloaded (``local_files_only=True``); without weights the tool reports
itself unavailable, with the reason. Turbo / LCM / lightning models get few-step, guidance-free defaults.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, ToolError
from tools._extras import require
from tools.base import Availability, Tool, ToolContext, ToolResult

__all__ = ["TextToImage", "TextToImageParams", "MODEL_ENV", "resolve_model", "load_pipeline"]

MODEL_ENV = "MMAGENT_DIFFUSION_MODEL"
_FEW_STEP_HINTS = ("turbo", "lcm", "lightning", "hyper", "schnell")


class TextToImageParams(BaseModel):
    """Params of ``text_to_image``."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, description="random seed; the same seed and prompt give the same image")
    width: int = Field(512, ge=64, le=2048, multiple_of=8)
    height: int = Field(512, ge=64, le=2048, multiple_of=8)
    steps: int | None = Field(None, ge=1, le=150, description="denoising steps (default: 4 for turbo-style "
                                                               "models, 25 otherwise)")
    guidance: float | None = Field(None, ge=0, le=30, description="classifier-free guidance (default: 0 for "
                                                                   "turbo-style models, 7.5 otherwise)")
    negative_prompt: str = ""


def _hf_cache_has(model_id: str) -> bool:
    """Whether the HF cache holds a snapshot of ``model_id`` with a pipeline index (no network, no imports)."""
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface"), "hub")
    folder = Path(hub) / ("models--" + model_id.replace("/", "--")) / "snapshots"
    return any(folder.glob("*/model_index.json"))


def resolve_model() -> tuple[str | None, str]:
    """The configured model (a folder or a cached model id) and, when unusable, why.

    Example:
        >>> os.environ.pop(MODEL_ENV, None) and None
        >>> resolve_model()[0] is None
        True
    """
    spec = os.environ.get(MODEL_ENV, "").strip()
    if not spec:
        return None, f"no diffusion model configured; set {MODEL_ENV} to a saved pipeline folder or a cached model id"
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "model_index.json").is_file():
            return str(path), ""
        return None, f"{MODEL_ENV}={spec!r} is a folder without model_index.json; save the pipeline there"
    if "/" in spec and not spec.startswith((".", "/")) and _hf_cache_has(spec):
        return spec, ""
    return None, f"{MODEL_ENV}={spec!r} is neither a pipeline folder nor a model in the local Hugging Face cache"


def _device_and_dtype() -> tuple[str, Any]:
    torch = require("torch", "generation")
    if torch.cuda.is_available():
        return "cuda", torch.float16
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps", torch.float16
    return "cpu", torch.float32  # half precision is slow or unsupported on CPUs


def load_pipeline(model: str, device: str, dtype: Any) -> tuple[Any, int]:
    """Load a text-to-image pipeline from local files only; return it and its approximate size in bytes."""
    diffusers = require("diffusers", "generation")
    kwargs: dict[str, Any] = {"torch_dtype": dtype, "local_files_only": True}
    try:
        pipe = diffusers.AutoPipelineForText2Image.from_pretrained(model, **kwargs)
    except ValueError:
        # pipelines AutoPipeline does not map (custom or older classes): the generic loader reads model_index.json
        pipe = diffusers.DiffusionPipeline.from_pretrained(model, **kwargs)
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
    """Generate an image from a text prompt with a local diffusion model (``MMAGENT_DIFFUSION_MODEL``).

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

    def available(self) -> Availability:
        base = super().available()
        if not base:
            return base
        model, reason = resolve_model()
        return Availability(model is not None, reason)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        import numpy as np

        p = TextToImageParams.model_validate(params)
        model, reason = resolve_model()
        if model is None:
            raise ConfigError(reason)
        prompt = ctx.store.read_text(inputs["prompt"]).strip()
        if not prompt:
            raise ToolError("the prompt is empty; write what the image should show")
        torch = require("torch", "generation")
        device, dtype = _device_and_dtype()
        pipe = ctx.load_model(f"diffusion:{model}", lambda: load_pipeline(model, device, dtype), device=device)
        few_step = any(h in model.lower() for h in _FEW_STEP_HINTS)
        steps = p.steps or (4 if few_step else 25)
        guidance = p.guidance if p.guidance is not None else (0.0 if few_step else 7.5)
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
