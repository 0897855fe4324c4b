"""CLIP tools (open-clip-torch): ``image_text_score``, ``zero_shot_classify`` and ``image_similarity``.

Weights come from ``MMAGENT_CLIP_MODEL``, or by default ``ViT-B-32/laion2b_s34b_b79k`` (open_clip's LAION-2B
ViT-B/32, MIT licence, 151 M parameters, ~0.6 GB), in one of three forms:

- ``"<arch>/<open_clip pretrained tag>"`` (``ViT-B-32/laion2b_s34b_b79k``): the tag's Hub repository;
- ``"hf-hub:<org>/<name>"``: a Hub repository holding ``open_clip_config.json`` and the weights;
- ``"<arch>:<path to a .pt/.bin/.safetensors state dict>"`` (``ViT-B-32:/models/clip.pt``): a local file.

Hub weights are read from the Hugging Face cache, and fetched into it on first use when the network allows (see
``tools/_hub.py``); otherwise the tools are unavailable with "not downloaded; run `agent models pull clip`". On a GPU
(``MMAGENT_DEVICE`` or the tool's ``device``) the model runs in fp16.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, InputFileError, ToolError
from modalities.settings import settings
from tools._extras import require
from tools._hub import HubModel, NotDownloaded, cached_snapshot, download_blocked, fetch
from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.devices import half_precision, resolve_device

__all__ = ["ClipSpec", "clip_spec", "ImageTextScore", "ZeroShotClassify", "ImageSimilarity", "ClipBundle",
           "DEFAULT_CLIP", "clip_weights", "load_clip"]

DEFAULT_CLIP = "ViT-B-32/laion2b_s34b_b79k"
_HOW = ("set MMAGENT_CLIP_MODEL to '<arch>/<pretrained tag>' (e.g. 'ViT-B-32/laion2b_s34b_b79k'), "
        "'hf-hub:<org>/<name>' or '<arch>:<weights file>' (e.g. 'ViT-B-32:/models/clip.pt')")
_WEIGHTS = "open_clip_model.safetensors|open_clip_pytorch_model.bin"
# the default's repository, known here so that `agent tools` says whether it is cached without importing torch
_KNOWN_HUB = {("ViT-B-32", "laion2b_s34b_b79k"): "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"}


@dataclass(frozen=True)
class ClipSpec:
    """Which open_clip architecture to build and where its weights come from (``hub``: the Hub repository of
    an ``hf-hub:`` spec, or of a known pretrained tag)."""

    arch: str
    pretrained: str
    is_file: bool
    hub: str = ""

    @property
    def label(self) -> str:
        return self.arch if self.arch.startswith("hf-hub:") else (
            f"{self.arch}:{self.pretrained}" if self.is_file else f"{self.arch}/{self.pretrained}")

    def hub_model(self) -> HubModel:
        """The Hub files this spec needs (a pretrained tag not known here is looked up in open_clip's table)."""
        if self.arch.startswith("hf-hub:"):
            return HubModel(self.hub, files=("open_clip_config.json", _WEIGHTS))
        if self.hub:
            return HubModel(self.hub, files=(_WEIGHTS,))
        open_clip = require("open_clip", "vision")
        cfg = open_clip.get_pretrained_cfg(self.arch, self.pretrained)
        where = (cfg or {}).get("hf_hub", "")
        if not where:
            raise ConfigError(f"open_clip has no Hugging Face Hub weights for {self.label!r}; pick a tag from "
                              f"open_clip.list_pretrained() or give a weights file; {_HOW}")
        repo, filename = where.rstrip("/"), ""
        if not where.endswith("/"):
            repo, _, filename = where.rpartition("/")
        if not filename or filename == "open_clip_pytorch_model.bin":
            return HubModel(repo, files=(_WEIGHTS,))
        stem = filename.rsplit(".", 1)[0]
        return HubModel(repo, files=(f"{stem}.safetensors|{filename}",))


def clip_spec(value: str | None = None) -> ClipSpec:
    """Parse ``value`` (default: ``MMAGENT_CLIP_MODEL``, else :data:`DEFAULT_CLIP`); :class:`ConfigError` saying
    how to write it.

    Example:
        >>> spec = clip_spec("ViT-B-32/laion2b_s34b_b79k")
        >>> spec.arch, spec.pretrained, spec.hub
        ('ViT-B-32', 'laion2b_s34b_b79k', 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K')
        >>> clip_spec("hf-hub:org/tiny").hub
        'org/tiny'
    """
    value = ((value if value is not None else settings().clip_model) or "").strip() or DEFAULT_CLIP
    if value.startswith("hf-hub:"):
        repo = value.removeprefix("hf-hub:").strip("/")
        if repo.count("/") != 1:
            raise ConfigError(f"MMAGENT_CLIP_MODEL={value!r} is not 'hf-hub:<org>/<name>'; {_HOW}")
        return ClipSpec(value, "", False, repo)
    arch, sep, weights = value.partition(":")
    if sep:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ConfigError(f"MMAGENT_CLIP_MODEL weights file {str(path)!r} does not exist; {_HOW}")
        return ClipSpec(arch, str(path), True)
    arch, sep, tag = value.partition("/")
    if not sep or not arch or not tag:
        raise ConfigError(f"MMAGENT_CLIP_MODEL={value!r} names no weights; {_HOW}")
    return ClipSpec(arch, tag, False, _KNOWN_HUB.get((arch, tag), ""))


def clip_weights(spec: ClipSpec, *, download: bool = True, hub_timeout: float | None = None) -> Path | None:
    """The local weights of ``spec``: its file, or its Hub snapshot folder (fetched first when ``download``, the hub
    given ``hub_timeout`` seconds to answer); None when not downloaded and ``download`` is False."""
    if spec.is_file:
        return Path(spec.pretrained)
    model = spec.hub_model()
    return fetch(model, "clip", label=spec.label, timeout=hub_timeout) if download else cached_snapshot(model)


@dataclass
class ClipBundle:
    """A loaded CLIP model with its image transform and tokenizer, and unit-length embedding helpers. ``dtype`` is
    the precision it was loaded in (``"float16"`` on a GPU), which images are cast to: open_clip's fp16 models keep
    some parameters (embeddings, norms, ``logit_scale``) in fp32, so no parameter tells what the image tower takes."""

    model: Any
    preprocess: Any
    tokenizer: Any
    device: str = "cpu"
    dtype: str = "float32"

    def _dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    def embed_images(self, paths: list[Path]) -> Any:
        import torch
        from PIL import Image, UnidentifiedImageError

        batch = []
        for p in paths:
            try:
                with Image.open(p) as im:
                    batch.append(self.preprocess(im.convert("RGB")))
            except (UnidentifiedImageError, OSError) as exc:
                raise InputFileError(p, f"is not a readable image ({exc}); give a PNG or JPEG") from None
        with torch.no_grad():
            feats = self.model.encode_image(torch.stack(batch).to(self.device, self._dtype())).float()
        return feats / feats.norm(dim=-1, keepdim=True)

    def embed_texts(self, texts: list[str]) -> Any:
        import torch

        with torch.no_grad():
            feats = self.model.encode_text(self.tokenizer(texts).to(self.device)).float()
        return feats / feats.norm(dim=-1, keepdim=True)

    def logit_scale(self) -> float:
        scale = getattr(self.model, "logit_scale", None)
        return float(scale.float().exp().item()) if scale is not None else 100.0


def load_clip(spec: ClipSpec, device: str = "cpu", *, hub_timeout: float | None = None) -> tuple[ClipBundle, int]:
    """Build ``spec``'s model on ``device`` (fp16 on a GPU) from local weights, fetching Hub weights first (see
    :func:`clip_weights`).

    Returns the bundle and its bytes in memory (on the device's memory).

    Example:
        >>> bundle, nbytes = load_clip(clip_spec())  # doctest: +SKIP
    """
    open_clip = require("open_clip", "vision")
    weights = clip_weights(spec, hub_timeout=hub_timeout)
    name, pretrained = spec.arch, str(weights)
    if spec.arch.startswith("hf-hub:"):
        name, pretrained = f"local-dir:{weights}", ""  # the snapshot holds open_clip_config.json and the weights
    elif not spec.is_file and weights is not None:
        found = next((weights / f for f in _WEIGHTS.split("|") if (weights / f).is_file()), None)
        pretrained = str(found or weights)
    precision = "fp16" if half_precision(device) else "fp32"
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained or None,
                                                                     device=device, precision=precision)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:  # unknown models, tags and unreadable files
        raise ConfigError(f"cannot load CLIP {spec.label!r}: {str(exc).splitlines()[0][:160]}; {_HOW}") from None
    model.eval()
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    dtype = "float16" if precision == "fp16" else "float32"
    return ClipBundle(model, preprocess, open_clip.get_tokenizer(name), device, dtype), size


class _ClipTool(Tool):
    """Shared by the CLIP tools. ``device`` overrides the run's device (``MMAGENT_DEVICE``) for this tool."""

    family = "vision"
    requires = ("open_clip", "torch")
    extra = "vision"
    stateful = True  # keeps its model loaded between calls
    timeout_s = 300.0

    def __init__(self, device: str | None = None) -> None:
        super().__init__()
        self.device = device

    def available(self) -> Availability:
        base = super().available()
        if not base:
            return base
        try:
            spec = self.spec()
            if spec.is_file or clip_weights(spec, download=False) is not None:
                return Availability(True)
        except ConfigError as exc:
            return Availability(False, str(exc))
        blocked = download_blocked(self.settings.hub_timeout)
        if blocked:
            return Availability(False, str(NotDownloaded("clip", spec.label, blocked)))
        return Availability(True, f"{spec.label} is downloaded on first use")

    def spec(self) -> ClipSpec:
        """The weights this tool loads (its settings' ``clip_model``)."""
        return clip_spec(self.settings.clip_model or "")

    def bundle(self, ctx: ToolContext) -> ClipBundle:
        spec = clip_spec(ctx.settings.clip_model or "")
        device = resolve_device(self.device or ctx.device)
        return ctx.load_model(f"clip:{spec.label}",
                              lambda: load_clip(spec, device, hub_timeout=ctx.settings.hub_timeout), device=device)


class ImageTextScore(_ClipTool):
    """How well an image matches a text: CLIP cosine similarity and CLIPScore (100 x max(cosine, 0)).

    Example:
        >>> ImageTextScore().default_checks
        ('clip_score >= 20',)
    """

    name = "image_text_score"
    description = "Score how well an image matches a text description with CLIP (CLIPScore)."
    inputs = {"image": "image", "text": "text"}
    outputs = {"report": "json"}
    metrics = {"clip_score": "100 x max(cosine, 0) of the CLIP embeddings; matching pairs score ~25-35",
               "similarity": "cosine similarity of the image and text embeddings, -1..1"}
    default_checks = ("clip_score >= 20",)
    judges = ("image",)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        text = ctx.store.read_text(inputs["text"]).strip()
        if not text:
            raise ToolError("the text to score the image against is empty")
        clip = self.bundle(ctx)
        image = clip.embed_images([ctx.store.path(inputs["image"])])
        sim = float((image @ clip.embed_texts([text]).T).item())
        score = round(100.0 * max(sim, 0.0), 3)
        report = {"text": text, "similarity": round(sim, 5), "clip_score": score}
        out = ctx.store.put_json(report, "json", step=ctx.step_id, output="report")
        return ToolResult({"report": out}, {"clip_score": score, "similarity": round(sim, 5)})


class ZeroShotParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[str] = Field(min_length=2, description="the candidate classes, e.g. ['a cat', 'a dog']")
    template: str = Field("a photo of {}", description="prompt around each label; must contain {}")

    @field_validator("template")
    @classmethod
    def _has_slot(cls, v: str) -> str:
        if "{}" not in v:
            raise ValueError(f"template {v!r} has no '{{}}' where the label goes")
        return v


class ZeroShotClassify(_ClipTool):
    """Pick the label that best describes an image, with CLIP zero-shot probabilities.

    Example:
        >>> ZeroShotClassify().validate_params({"labels": ["cat", "dog"]})["template"]
        'a photo of {}'
    """

    name = "zero_shot_classify"
    description = "Classify an image among given text labels with CLIP (zero-shot), with a probability each."
    inputs = {"image": "image"}
    outputs = {"report": "json"}
    params_model = ZeroShotParams
    metrics = {"label": "the most probable label", "confidence": "its probability, 0-1",
               "margin": "probability gap between the best and the second label"}
    default_checks = ("confidence >= 0.2",)
    judges = ("image",)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        import torch

        labels, template = params["labels"], params.get("template", "a photo of {}")
        clip = self.bundle(ctx)
        image = clip.embed_images([ctx.store.path(inputs["image"])])
        texts = clip.embed_texts([template.format(label) for label in labels])
        probs = torch.softmax(clip.logit_scale() * image @ texts.T, dim=-1)[0].tolist()
        ranked = sorted(zip(labels, probs, strict=True), key=lambda it: -it[1])
        report = {"label": ranked[0][0], "probabilities": {lab: round(p, 5) for lab, p in ranked}}
        out = ctx.store.put_json(report, "json", step=ctx.step_id, output="report")
        metrics = {"label": ranked[0][0], "confidence": round(ranked[0][1], 5),
                   "margin": round(ranked[0][1] - ranked[1][1], 5)}
        return ToolResult({"report": out}, metrics)


class ImageSimilarity(_ClipTool):
    """How alike two images look to CLIP: cosine similarity of their embeddings.

    Example:
        >>> ImageSimilarity().inputs
        {'image': 'image', 'reference': 'image'}
    """

    name = "image_similarity"
    description = "Measure how similar an image is to a reference image with CLIP embeddings (cosine, -1..1)."
    inputs = {"image": "image", "reference": "image"}
    outputs = {"report": "json"}
    metrics = {"similarity": "cosine similarity of the two CLIP image embeddings, -1..1"}
    default_checks = ("similarity >= 0.7",)
    judges = ("image",)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        clip = self.bundle(ctx)
        feats = clip.embed_images([ctx.store.path(inputs["image"]), ctx.store.path(inputs["reference"])])
        sim = round(float((feats[0] @ feats[1]).item()), 5)
        out = ctx.store.put_json({"similarity": sim}, "json", step=ctx.step_id, output="report")
        return ToolResult({"report": out}, {"similarity": sim})
