"""CLIP tools through the real open_clip loading path, with a tiny model config and random weights saved to disk.

Random weights give meaningless scores, so these tests check the plumbing and the maths (ranges, softmax,
symmetry, identity), not what CLIP would say about the pictures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modalities.errors import ConfigError
from tests.tiny_clip import tiny_clip
from tools.base import ToolContext
from tools.vision.clip import ImageSimilarity, ImageTextScore, ZeroShotClassify, clip_spec


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 'mmagent-tiny-clip' config registered with open_clip and its random state dict saved as a .pt file."""
    pytest.importorskip("open_clip")
    torch = pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("clip")
    torch.save(tiny_clip(folder).state_dict(), folder / "tiny.pt")
    return f"mmagent-tiny-clip:{folder / 'tiny.pt'}"


@pytest.fixture
def clip_env(tiny_weights: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MMAGENT_CLIP_MODEL", tiny_weights)
    return tiny_weights


def _image(store, colour: tuple[int, int, int], name: str):
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 64), colour)
    ImageDraw.Draw(img).ellipse((16, 16, 48, 48), fill=(255 - colour[0], 255 - colour[1], 255 - colour[2]))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return store.put_bytes(buf.getvalue(), "image", "image/png", name=name, width=64, height=64)


def test_image_text_score(store, clip_env: str) -> None:
    tool = ImageTextScore()
    assert tool.available().ok
    result = tool.run(ToolContext(store=store), {"image": _image(store, (200, 30, 30), "red"),
                                                 "text": store.put_text("a red circle")}, {})
    sim = result.metrics["similarity"]
    assert -1.0 <= sim <= 1.0 and result.metrics["clip_score"] == pytest.approx(100 * max(sim, 0.0), abs=1e-3)
    assert [c.label() for c in tool.checks()] == ["clip_score >= 20"]


def test_zero_shot_probabilities(store, clip_env: str) -> None:
    tool = ZeroShotClassify()
    params = tool.validate_params({"labels": ["a cat", "a dog", "a house"]})
    result = tool.run(ToolContext(store=store), {"image": _image(store, (30, 200, 30), "green")}, params)
    report = store.read_json(result.outputs["report"])
    assert sum(report["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert result.metrics["label"] == report["label"] in params["labels"]
    assert result.metrics["confidence"] == max(report["probabilities"].values())


def test_image_similarity_identity_and_symmetry(store, clip_env: str) -> None:
    tool = ImageSimilarity()
    ctx = ToolContext(store=store)
    a, b = _image(store, (20, 20, 200), "blue"), _image(store, (240, 240, 20), "yellow")
    assert tool.run(ctx, {"image": a, "reference": a}, {}).metrics["similarity"] == pytest.approx(1.0, abs=1e-4)
    ab = tool.run(ctx, {"image": a, "reference": b}, {}).metrics["similarity"]
    ba = tool.run(ctx, {"image": b, "reference": a}, {}).metrics["similarity"]
    assert ab == pytest.approx(ba, abs=1e-5) and ab < 1.0


def test_the_default_not_downloaded_and_offline_is_unavailable_with_the_pull_hint(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("open_clip")
    monkeypatch.delenv("MMAGENT_CLIP_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    avail = ImageTextScore().available()
    assert not avail.ok
    assert avail.reason == ("not downloaded: ViT-B-32/laion2b_s34b_b79k (HF_HUB_OFFLINE is set); run `agent models "
                            "pull clip`")


def test_bad_specs_say_how_to_fix(tmp_path: Path) -> None:
    assert clip_spec("").label == "ViT-B-32/laion2b_s34b_b79k"  # empty: the default
    with pytest.raises(ConfigError, match="is not 'hf-hub:<org>/<name>'"):
        clip_spec("hf-hub:no-org")
    with pytest.raises(ConfigError, match="weights file '.*missing.pt' does not exist"):
        clip_spec(f"ViT-B-32:{tmp_path / 'missing.pt'}")
    with pytest.raises(ConfigError, match="names no weights"):
        clip_spec("ViT-B-32")
    assert clip_spec("ViT-B-32/laion2b_s34b_b79k").pretrained == "laion2b_s34b_b79k"


def test_zero_shot_needs_two_labels() -> None:
    with pytest.raises(ConfigError, match="labels"):
        ZeroShotClassify().validate_params({"labels": ["only one"]})
    with pytest.raises(ConfigError, match="template"):
        ZeroShotClassify().validate_params({"labels": ["a", "b"], "template": "no slot"})


def test_a_half_precision_model_takes_half_precision_images(store, clip_env: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU the model loads in fp16, yet open_clip keeps its embeddings and logit_scale in fp32: the images must
    be cast to the precision the model was loaded in, not to its first parameter's (found on an H200, where every
    CLIP tool failed with "Input type (torch.cuda.FloatTensor) and weight type (torch.cuda.HalfTensor)"). fp16 is
    forced here on the CPU, which raises the same error."""
    import tools.vision.clip as clip
    from tools.model_cache import model_cache

    monkeypatch.setattr(clip, "half_precision", lambda device: True)
    model_cache.clear()  # the module's other tests cached the fp32 model under the same key
    try:
        ctx = ToolContext(store=store, device="cpu")
        image = _image(store, (200, 30, 30), "red")
        score = ImageTextScore().run(ctx, {"image": image, "text": store.put_text("a red circle")}, {})
        bundle = ImageTextScore().bundle(ctx)
        assert bundle.dtype == "float16" and bundle.model.visual.conv1.weight.dtype == bundle._dtype()
        assert -1.0 <= score.metrics["similarity"] <= 1.0
        labels = ZeroShotClassify().validate_params({"labels": ["a cat", "a dog"]})
        assert ZeroShotClassify().run(ctx, {"image": image}, labels).metrics["label"] in labels["labels"]
        same = ImageSimilarity().run(ctx, {"image": image, "reference": image}, {}).metrics["similarity"]
        assert same == pytest.approx(1.0, abs=1e-3)
    finally:
        model_cache.clear()
