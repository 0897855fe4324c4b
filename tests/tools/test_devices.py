"""Device choice and GPU memory accounting, tested on the CPU with stated device counts (no GPU figures here)."""

from __future__ import annotations

import pytest

from modalities.errors import BudgetExceeded, ConfigError
from tools.devices import dtype_name, memory_pool, parse_device, resolve_device
from tools.model_cache import ModelCache


def two_gpus() -> tuple[int, bool]:
    return 2, False


def no_gpu() -> tuple[int, bool]:
    return 0, False


def apple() -> tuple[int, bool]:
    return 0, True


@pytest.mark.parametrize("asked, probe, got", [
    ("auto", two_gpus, "cuda:0"), ("auto", apple, "mps"), ("auto", no_gpu, "cpu"), ("cpu", two_gpus, "cpu"),
    ("cuda", two_gpus, "cuda:0"), ("CUDA:1", two_gpus, "cuda:1"), ("mps", apple, "mps")])
def test_a_device_resolves_to_one_the_backend_has(asked: str, probe, got: str) -> None:
    assert resolve_device(asked, probe=probe) == got


@pytest.mark.parametrize("asked, probe, message", [
    ("cuda", no_gpu, "device 'cuda' was asked for but the backend sees no CUDA device here; use 'cpu', 'auto'"),
    ("cuda:2", two_gpus, "sees 2 CUDA devices here; use 'cpu', 'auto' or cuda:0..cuda:1"),
    ("mps", no_gpu, "no Apple GPU \\(MPS\\) is usable here"),
    ("gpu", two_gpus, "device 'gpu' is not one of 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"),
])
def test_a_device_that_is_not_there_is_one_line_naming_it_and_the_fix(asked: str, probe, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_device(asked, probe=probe)


def test_the_setting_is_the_default_and_a_tool_device_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_DEVICE", "cuda:1")
    assert resolve_device(probe=two_gpus) == "cuda:1"
    assert resolve_device("cpu", probe=two_gpus) == "cpu"
    monkeypatch.delenv("MMAGENT_DEVICE")
    assert resolve_device(probe=no_gpu) == "cpu"  # default auto


def test_gpus_run_half_precision_and_cpus_full() -> None:
    assert [dtype_name(d) for d in ("cuda:0", "mps", "cpu")] == ["float16", "float16", "float32"]
    assert parse_device(" Cuda ") == "cuda"


def test_the_clip_tool_takes_its_own_device_before_the_runs(store, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.vision.clip import ImageTextScore

    monkeypatch.setenv("MMAGENT_DEVICE", "cpu")
    with pytest.raises(ConfigError, match="device 'banana' is not one of"):
        from tools.base import ToolContext

        ImageTextScore(device="banana").bundle(ToolContext(store))


def test_gpu_memory_is_budgeted_apart_from_ram() -> None:
    cache = ModelCache(budget_bytes=100, gpu_budget_bytes=50)
    cache.get("whisper", "cpu", lambda: ("w", 70))
    cache.get("clip", "cuda:0", lambda: ("c", 30))
    cache.get("sd", "cuda:0", lambda: ("s", 40))  # 70 > 50 on the GPU: the older GPU model goes, not the CPU one
    assert cache.evictions == [("clip", "cuda:0")]
    assert ("whisper", "cpu") in cache and ("sd", "cuda:0") in cache
    assert cache.usage() == {"cuda:0": {"used": 40, "budget": 50}, "ram": {"used": 70, "budget": 100}}
    cache.get("big", "cuda:1", lambda: ("b", 45))  # another GPU: its own budget
    assert cache.used_bytes_in("cuda:1") == 45 and ("sd", "cuda:0") in cache
    cache.get("clip2", "cpu", lambda: ("c2", 40))  # RAM full: the CPU model goes, the GPU ones stay
    assert cache.evictions[-1] == ("whisper", "cpu") and cache.used_bytes_in("cuda:0") == 40


def test_a_model_bigger_than_the_gpu_budget_names_the_gpu_setting() -> None:
    cache = ModelCache(budget_bytes=10**9, gpu_budget_bytes=50)
    with pytest.raises(BudgetExceeded, match="over the cuda:0 memory budget of .*; raise MMAGENT_GPU_MEMORY"):
        cache.get("huge", "cuda", lambda: ("h", 60))
    assert memory_pool("cuda") == "cuda:0" and cache.keys() == []


def test_the_gpu_setting_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMAGENT_GPU_MEMORY", "2GB")
    assert ModelCache(budget_bytes=1).budget_for("cuda:0") == 2 * 10**9
