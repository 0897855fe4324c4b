"""text_to_image: a tiny random StableDiffusionPipeline, saved and loaded through the tool's real loading path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modalities.errors import ConfigError
from tools.base import ToolContext
from tools.generation.diffusion import TextToImage
from tools.model_cache import model_cache

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")


def _byte_chars() -> list[str]:
    """GPT-2/CLIP's printable stand-in for each of the 256 bytes."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in keep else chr(next(extra)) for b in range(256)]


def _tiny_tokenizer(folder: Path):
    """A CLIP tokenizer over single characters: byte-level vocab, no merges (nothing downloaded)."""
    from transformers import CLIPTokenizer

    chars = _byte_chars()
    vocab = {tok: i for i, tok in enumerate(["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)])}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    try:  # transformers 5: vocab and merges as values
        tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    except TypeError:  # transformers 4: file paths
        tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77)
    return tokenizer, len(vocab)


def _tiny_pipeline(folder: Path) -> Path:
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=8)
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        norm_num_groups=8)
    tokenizer, vocab_size = _tiny_tokenizer(folder / "_tok")
    text_encoder = CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32,
                                                intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                                vocab_size=vocab_size, max_position_embeddings=77))
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   scheduler=DDIMScheduler(steps_offset=1, clip_sample=False),
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    target = folder / "tiny-sd"
    pipe.save_pretrained(target)
    return target


def test_unavailable_without_weights(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("MMAGENT_DIFFUSION_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    avail = TextToImage().available()
    assert not avail and avail.reason == ("not downloaded: IDKiro/sdxs-512-0.9 (HF_HUB_OFFLINE is set); run `agent "
                                          "models pull diffusion`")
    monkeypatch.setenv("MMAGENT_DIFFUSION_MODEL", str(tmp_path))
    assert "model_index.json" in TextToImage().available().reason
    monkeypatch.setenv("MMAGENT_DIFFUSION_MODEL", "nobody/not-cached")
    assert "not downloaded: nobody/not-cached" in TextToImage().available().reason
    monkeypatch.setenv("MMAGENT_DIFFUSION_MODEL", "no-slash-here")
    assert "neither a pipeline folder nor a Hugging Face model id" in TextToImage().available().reason


@pytest.mark.slow
def test_tiny_pipeline_generates_requested_size(monkeypatch, tmp_path, store) -> None:
    monkeypatch.setenv("MMAGENT_DIFFUSION_MODEL", str(_tiny_pipeline(tmp_path)))
    tool = TextToImage()
    assert tool.available(), tool.available().reason
    prompt = store.put_text("a red lighthouse")
    params = tool.validate_params({"width": 64, "height": 72, "steps": 2, "seed": 3})
    events: list[str] = []
    ctx = ToolContext(store, emit=lambda kind, data: events.append(kind))
    try:
        first = tool.run(ctx, {"prompt": prompt}, params)
        again = tool.run(ctx, {"prompt": prompt}, params)
    finally:
        model_cache.clear()
    image = first.outputs["image"]
    assert (image.meta["width"], image.meta["height"]) == (64, 72)
    from PIL import Image

    with Image.open(store.path(image)) as im:
        assert im.size == (64, 72)
    assert first.outputs["image"].id == again.outputs["image"].id  # seeded: same bytes
    assert events.count("model_loading") == 1  # loaded once, then from the cache
    assert first.metrics["steps"] == 2 and first.metrics["pixel_std"] > 0
    with pytest.raises(ConfigError, match="multiple of 8"):
        tool.validate_params({"width": 65})
