"""A custom workflow: register your own tools with ``@tool``, plan with the symbolic planner, run.

    python examples/custom_tool.py notes.txt

With no argument it writes a small note of its own first. No model and no network are needed.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from agent import Agent
from tools import JsonFile, Result, TextFile, ToolRegistry, tool


@tool(family="text", metrics={"words": "number of words"}, checks=("words >= 1",))
def count_words(text: TextFile, top: int = 5) -> JsonFile:
    """Count the words in a text and list the most frequent ones.

    Args:
        text: The text to count.
        top: How many frequent words to list.
    """
    words = [w.strip(".,;:!?\"'()").lower() for w in text.read_text().split()]
    words = [w for w in words if w]
    return Result({"words": len(words), "frequent": Counter(words).most_common(top)}, {"words": len(words)})


@tool(family="text")
def shout_text(text: TextFile) -> TextFile:
    """Shout a text: convert it to upper case letters.

    Args:
        text: The text to shout.
    """
    return text.read_text().upper()


def main(note: Path | None = None, home: Path | None = None) -> dict:
    if note is None:
        note = Path(tempfile.mkdtemp()) / "note.txt"
        note.write_text("The sketch becomes a page. The page becomes a video. The video tells the story.")
    agent = Agent(planner="symbolic", tools=ToolRegistry([count_words, shout_text]), home=home)
    result = agent.run("Count the words in this note", [note])
    print(f"plan: {[s['tool'] for s in result.steps]} -> {result.status}", file=sys.stderr)
    report = result.outputs[next(iter(result.outputs))]
    print(report.read_text())
    return result.summary()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
