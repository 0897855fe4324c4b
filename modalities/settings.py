"""Every ``MMAGENT_*`` setting in one place: its type, default and meaning (pydantic-settings).

The README's configuration table is checked against :class:`Settings` by a test, so a variable is documented where
it is read, and nothing else reads one. :class:`~agent.Agent` builds one object (from the environment, or takes
``Agent(settings=...)``) and passes it down: to its planner, memory and executor, and to its tools (their
``settings``), which get it with each step in whichever process runs it (``ToolContext.settings``). Library code
called without one reads the environment through :func:`settings` (a fresh, validated read: tests and long-lived
processes that change the environment see the change).

Example:
    >>> s = Settings(max_input_mb=5, model_memory="2GB")
    >>> s.max_input_bytes, s.model_memory
    (5242880, 2000000000)
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ByteSize, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "settings", "settings_table"]


class Settings(BaseSettings):
    """The settings of mmagent; each field ``name`` is read from ``MMAGENT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MMAGENT_", extra="ignore", validate_default=True)

    home: Path = Field(Path("~/.mmagent"), description="runs and the artifact store (default `~/.mmagent`)")
    cache: Path | None = Field(None, description="where the embedded planner model is assembled (default "
                                                  "`$XDG_CACHE_HOME/mmagent` or `~/.cache/mmagent`)")
    model_memory: ByteSize | None = Field(
        None, description="model cache budget of each process, e.g. `6GB` (default: half the machine's memory)")
    worker_memory: ByteSize | None = Field(
        None, description="resident memory past which a worker process is replaced after its step "
                          "(default: the model budget plus 2 GB)")
    worker_threads: int | None = Field(
        None, ge=1, description="BLAS/OpenMP threads of each worker process (default: the cores divided by the "
                                "workers that may run at once)")
    max_input_mb: float = Field(200, gt=0, description="largest input file, in MiB (default 200)")
    max_pixels: int = Field(80_000_000, gt=0, description="largest input image, in pixels (default 80 megapixels)")
    device: str = Field("auto", description="device for model-backed tools: `auto` (the first CUDA GPU, then "
                                            "Apple's MPS, then the CPU), `cpu`, `cuda`, `cuda:1` or `mps`; CLIP and "
                                            "text-to-image run in fp16 on a GPU")
    gpu_memory: ByteSize | None = Field(
        None, description="model cache budget of each GPU, apart from RAM, e.g. `10GB` (default: 80% of the GPU's "
                          "memory)")
    hub_timeout: float = Field(3.0, gt=0, description="seconds to wait for the model hub (`HF_ENDPOINT`) to accept "
                                                      "a connection before a missing model counts as not "
                                                      "downloadable (default 3)")
    executor: str = Field("local", description="where steps run: `local` (worker processes, threads for light "
                                               "tools), `threads`, `ray` or `ray=ADDRESS`")
    planner_model: str | None = Field(None, description="a GGUF file for the local planner, or a model by name "
                                                        "(`agent models list` shows them; default: the shipped "
                                                        "Qwen2.5-Coder-1.5B)")
    copy_model: str | None = Field(None, description="a GGUF for generate_html's copy writer (default: the "
                                                     "planner's model)")
    matcher: str = Field("bm25", description="how the symbolic planner matches words to tools: `bm25`, "
                                             "`embedding` (the shipped MiniLM; `embeddings` extra) or `overlap`")
    memory: str = Field("default", description="plan memory: `default` (a SQLite file under the home), a path, "
                                               "or `none`")
    clip_model: str | None = Field(None, description="CLIP weights: `ARCH/TAG` (open_clip's pretrained tag), "
                                                     "`hf-hub:ORG/NAME`, or `ARCH:/path/weights.pt` (default "
                                                     "`ViT-B-32/laion2b_s34b_b79k`, fetched on first use)")
    diffusion_model: str | None = Field(None, description="a diffusers pipeline folder or a Hub model id (default "
                                                          "`IDKiro/sdxs-512-0.9`, one step, fetched on first use)")
    whisper_model: str | None = Field(None, description="a faster-whisper model folder or size name (`base.en`, "
                                                        "`small`, `large-v3`...; default: the shipped tiny.en)")
    chat_model: str | None = Field(None, description="chat model for generate_html strategy `llm` "
                                                     "(`openai:gpt-4o`, ...)")
    chat_base_url: str | None = Field(None, description="OpenAI-compatible URL for the chat model")
    planner_base_url: str | None = Field(None, description="OpenAI-compatible URL for the `llm:` planner "
                                                           "(`http://127.0.0.1:8080/v1`; `--base-url` overrides)")
    vision_model: str | None = Field(None, description="vision chat model for analyze_sketch (`auto` uses it "
                                                       "when set)")
    vision_base_url: str | None = Field(None, description="OpenAI-compatible URL for the vision model")
    chromium: str | None = Field(None, description="the Chromium binary for the browser tools (default: a "
                                                   "Playwright-managed one, then `chromium` on PATH)")
    ray_shared_store: bool | None = Field(
        None, description="`1`: Ray workers see the artifact store at the same path; `0`: bytes travel through Ray "
                          "(default: shared on a single-node cluster)")
    sketch_det_side: int = Field(960, gt=0, description="longest side, in pixels, the OCR detector reads a "
                                                        "sketch at (default 960)")
    server: str | None = Field(None, description="URL of a running `agent serve` (`http://127.0.0.1:8765`): "
                                                 "`agent run --detach`, `agent watch` and `agent cancel` go to it")
    token: str | None = Field(None, description="the API token of `agent serve`: required for a bind other than "
                                                "loopback, sent by the CLI to `MMAGENT_SERVER`")

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def cache_dir(self) -> Path:
        # shared by every MMAGENT_HOME: the assembled planner model is 1 GB and the same for all of them
        if self.cache is not None:
            return self.cache.expanduser()
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "mmagent"

    @property
    def max_input_bytes(self) -> int:
        return int(self.max_input_mb * 2**20)


def settings(**overrides: object) -> Settings:
    """The settings as the environment says now, with ``overrides`` on top.

    Example:
        >>> settings(device="cuda").device
        'cuda'
    """
    return Settings(**overrides)  # type: ignore[arg-type]


def settings_table() -> str:
    """The README's configuration table: one row a variable, from the fields' descriptions.

    Example:
        >>> settings_table().splitlines()[2].startswith("| `MMAGENT_HOME` |")
        True
    """
    rows = ["| variable | meaning |", "|---|---|"]
    for name, info in Settings.model_fields.items():
        rows.append(f"| `MMAGENT_{name.upper()}` | {info.description} |")
    return "\n".join(rows)
