"""Record the demo's spoken request (examples/request.wav) with the speak tool (piper, the shipped voice)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from modalities.store import ArtifactStore
from tools.audio.speak import Speak
from tools.base import ToolContext

# worded so that whisper tiny.en hears it exactly ("a narrated video" comes back as "an rated video")
SPOKEN_REQUEST = "Turn this sketch into a landing page, then make a video of it with a spoken narration."


def main(out: Path = Path(__file__).with_name("request.wav")) -> Path:
    store = ArtifactStore(tempfile.mkdtemp())
    speak = Speak()
    text = store.put_text(SPOKEN_REQUEST)
    result = speak.run(ToolContext(store), {"text": text}, speak.validate_params({}))
    shutil.copyfile(store.path(result.outputs["audio"]), out)
    return out


if __name__ == "__main__":
    print(main())
