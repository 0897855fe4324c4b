"""``speech_roundtrip``: transcribe spoken audio and score it against the text it should say (word error rate).

It judges the audio: when the WER check fails, the step that produced the audio is the suspect.
"""

from __future__ import annotations

from typing import Any

from modalities.artifacts import Artifact
from tools.audio._media import check_not_silent, decode_audio, misheard_words, word_error_rate
from tools.audio.transcribe import Transcribe, TranscribeParams, transcribe_samples, whisper_for
from tools.base import Tool, ToolContext, ToolResult

__all__ = ["SpeechRoundtrip"]


class SpeechRoundtrip(Tool):
    """Check spoken audio against its script: transcribe it and report the word error rate.

    Example:
        >>> SpeechRoundtrip().default_checks
        ('wer <= 0.25',)
    """

    name = "speech_roundtrip"
    description = "Transcribe speech audio and measure its word error rate against the text it should say."
    family = "audio"
    inputs = {"text": "text", "audio": "audio"}
    outputs = {"report": "json"}
    params_model = TranscribeParams
    metrics = {"wer": "word error rate of the transcript against the text (lower-cased, no punctuation, numbers "
                      "as words); 0 is perfect",
               "duration_s": "length of the audio in seconds",
               "misheard": "the script's words the transcript did not give back (a rewrite of the script leaves "
                           "them out)"}
    default_checks = ("wer <= 0.25",)
    requires = Transcribe.requires
    extra = "audio"
    stateful = True  # keeps its model loaded between calls
    judges = ("audio",)
    timeout_s = 600.0

    def available(self) -> Any:
        transcriber = Transcribe()
        transcriber.configure(self.settings)  # the same whisper model as this tool's runs
        return transcriber.available()

    def run(self, ctx: ToolContext, inputs: dict[str, Artifact], params: dict[str, Any]) -> ToolResult:
        script = ctx.store.read_text(inputs["text"]).strip()
        art = inputs["audio"]
        samples = decode_audio(ctx.store.path(art))
        duration = check_not_silent(samples, art.meta.get("name", art.short_id))
        # the script says which language to hear it in (write_text marks a narration written in Spanish)
        language = params.get("language") or inputs["text"].meta.get("language")
        model = whisper_for(ctx, params.get("model_size"), language)
        heard, details = transcribe_samples(model, samples, language=language,
                                            beam_size=params.get("beam_size", 1))
        wer, counts = word_error_rate(script, heard, language or "en")
        misheard = misheard_words(script, heard, language or "en")
        report = {"text": script, "transcript": heard, "wer": round(wer, 4), **counts, "misheard": misheard,
                  "language": details["language"], "duration_s": round(duration, 3)}
        out = ctx.store.put_json(report, "json", step=ctx.step_id, output="report")
        return ToolResult({"report": out},
                          {"wer": round(wer, 4), "duration_s": round(duration, 3), "misheard": misheard})
