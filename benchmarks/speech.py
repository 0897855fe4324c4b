"""Benchmark the audio tools: speak a few sentences, transcribe them back, report WER and transcription speed.

Prints one line per sentence, then on the last line of stdout one JSON object
``{"wer", "realtime_factor", "sentences", ...}``; ``realtime_factor`` is seconds of audio transcribed per second
of compute (higher is faster).

Example:
    .venv/bin/python benchmarks/speech.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SENTENCES = [
    "Welcome to our new landing page.",
    "Press the blue button to start your free trial.",
    "Our team answers every message within 24 hours.",
    "Choose a plan, enter your email address, and click sign up.",
    "Thanks for watching, and see you soon.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default="default", help="speak voice: default (piper), espeak, or a .onnx path")
    parser.add_argument("--model", default=None, help="whisper model (default: MMAGENT_WHISPER_MODEL or tiny.en)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line (always printed last)")
    args = parser.parse_args(argv)

    from tools.audio._media import check_not_silent, decode_audio, word_error_rate
    from tools.audio.speak import synthesize
    from tools.audio.transcribe import load_whisper, resolve_whisper_model, transcribe_samples

    model_name = resolve_whisper_model(args.model)
    start = time.perf_counter()
    model, _ = load_whisper(model_name)
    load_s = time.perf_counter() - start
    errors = words = 0
    audio_s = compute_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, sentence in enumerate(SENTENCES):
            wav = Path(tmp) / f"s{i}.wav"
            engine = synthesize(sentence, wav, voice=args.voice)
            samples = decode_audio(wav)
            duration = check_not_silent(samples, wav.name)
            start = time.perf_counter()
            heard, _ = transcribe_samples(model, samples)
            compute_s += time.perf_counter() - start
            audio_s += duration
            wer, counts = word_error_rate(sentence, heard)
            errors += round(wer * counts["reference_words"])
            words += counts["reference_words"]
            print(f"[{engine}] wer {wer:.2f}  {duration:4.1f}s  {heard!r}", file=sys.stderr)
    result = {"wer": round(errors / max(words, 1), 4), "realtime_factor": round(audio_s / max(compute_s, 1e-9), 2),
              "sentences": len(SENTENCES), "audio_s": round(audio_s, 2), "model_load_s": round(load_s, 2),
              "voice": args.voice}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
