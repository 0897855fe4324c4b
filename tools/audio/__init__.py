"""Audio tools: speech to text (faster-whisper), text to speech (piper, espeak-ng) and their round trip.
Submodules import their engines only inside functions, so importing this package is cheap."""

__all__ = ["transcribe", "speak", "roundtrip"]
