"""CLIP tools (open-clip-torch): ``image_text_score``, ``zero_shot_classify`` and ``image_similarity``.

Weights come from ``MMAGENT_CLIP_MODEL``, either ``"<arch>:<path to a .pt/.bin/.safetensors state dict>"`` (e.g.
``ViT-B-32:/models/clip.pt``) or ``"<arch>/<open_clip pretrained tag>"`` (e.g. ``ViT-B-32/laion2b_s34b_b79k``),
resolved from the local Hugging Face cache (no download: run with ``HF_HUB_OFFLINE=1``). Without it the tools are
unavailable and say so. No PyPI package ships CLIP weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, InputFileError, ToolError
from tools._extras import require
from tools.base import Availability, Tool, ToolContext, ToolResult

__all__ = ["ClipSpec", "clip_spec", "ImageTextScore", "ZeroShotClassify", "ImageSimilarity", "ClipBundle"]

_ENV = "MMAGENT_CLIP_MODEL"
_HOW = (f"set {_ENV} to '<arch>:<weights file>' (e.g. 'ViT-B-32:/models/clip.pt') or '<arch>/<pretrained tag>' "
        "(e.g. 'ViT-B-32/laion2b_s34b_b79k', from the local Hugging Face cache)")


@dataclass(frozen=True)
class ClipSpec:
    """Which open_clip architecture to build and where its weights come from."""

    arch: str
    pretrained: str
    is_file: bool


def clip_spec(value: str | None = None) -> ClipSpec:
    """Parse ``MMAGENT_CLIP_MODEL`` (or ``value``); :class:`ConfigError` saying how to write it.

    Example:
        >>> clip_spec("ViT-B-32/laion2b_s34b_b79k")
        ClipSpec(arch='ViT-B-32', pretrained='laion2b_s34b_b79k', is_file=False)
    """
    value = (value if value is not None else os.environ.get(_ENV, "")).strip()
    if not value:
        raise ConfigError(f"no CLIP weights configured; {_HOW}")
    arch, sep, weights = value.partition(":")
    if sep:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ConfigError(f"{_ENV} weights file {str(path)!r} does not exist; {_HOW}")
        return ClipSpec(arch, str(path), True)
    arch, sep, tag = value.partition("/")
    if not sep or not arch or not tag:
        raise ConfigError(f"{_ENV}={value!r} names no weights; {_HOW}")
    return ClipSpec(arch, tag, False)


@dataclass
class ClipBundle:
    """A loaded CLIP model with its image transform and tokenizer, and unit-length embedding helpers."""

    model: Any
    preprocess: Any
    tokenizer: Any

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
            feats = self.model.encode_image(torch.stack(batch))
        return feats / feats.norm(dim=-1, keepdim=True)

    def embed_texts(self, texts: list[str]) -> Any:
        import torch

        with torch.no_grad():
            feats = self.model.encode_text(self.tokenizer(texts))
        return feats / feats.norm(dim=-1, keepdim=True)

    def logit_scale(self) -> float:
        scale = getattr(self.model, "logit_scale", None)
        return float(scale.exp().item()) if scale is not None else 100.0


def _load(spec: ClipSpec) -> tuple[ClipBundle, int]:
    open_clip = require("open_clip", "vision")
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(spec.arch, pretrained=spec.pretrained)
    except RuntimeError as exc:  # open_clip raises RuntimeError for unknown models, tags and missing files
        raise ConfigError(f"cannot load CLIP {spec.arch!r} with weights {spec.pretrained!r}: "
                          f"{str(exc).splitlines()[0][:160]}; {_HOW}") from None
    model.eval()
    size = sum(p.numel() * p.element_size() for p in model.parameters())
    return ClipBundle(model, preprocess, open_clip.get_tokenizer(spec.arch)), size


class _ClipTool(Tool):
    family = "vision"
    requires = ("open_clip", "torch")
    extra = "vision"
    stateful = True  # keeps its model loaded between calls
    timeout_s = 300.0

    def available(self) -> Availability:
        base = super().available()
        if not base:
            return base
        try:
            clip_spec()
        except ConfigError as exc:
            return Availability(False, str(exc))
        return Availability(True)

    def bundle(self, ctx: ToolContext) -> ClipBundle:
        spec = clip_spec()
        return ctx.load_model(f"clip:{spec.arch}:{spec.pretrained}", lambda: _load(spec))


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
