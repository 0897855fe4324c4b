"""Input files a request names: "transcribe talk.wav" means the file talk.wav in the working directory."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["discover_inputs"]

# "save it as out.wav", "export it to demo.mp4", "a clip called intro.mp4": a name the run is to write
_OUTPUT_NAME = re.compile(r"(?:\b(?:save|saved|saving|export|exported|exporting|output)\b(?:\W+\w+){0,3}?\W+"
                          r"(?:as|to|into|in)|\b(?:called|named))\W*$", re.I)


def discover_inputs(task: str, given: Sequence[str | Path], validate: Callable[[Path], object],
                    cwd: Path | None = None) -> tuple[list[Path], list[str]]:
    """The ``given`` files plus each file the task names by a bare name that is in ``cwd`` and was not given, and
    notes on the names left alone.

    The user means that file, so ``validate`` (ingestion) runs on it and its error propagates, as for a given file.
    A name with no file here is only noted: it may be one the run is to write, in words no rule can tell apart
    ("put the text in notes.txt"), and refusing it would leave no way to run the request. A name after "save as"
    is an output; a link out of ``cwd`` is not followed.

    Example:
        >>> import tempfile
        >>> here = Path(tempfile.mkdtemp())
        >>> _ = (here / "talk.wav").write_bytes(b"RIFF")
        >>> paths, notes = discover_inputs("transcribe talk.wav, save it as out.txt", [], lambda p: None, here)
        >>> [p.name for p in paths], notes[0].split(" (")[0]
        (['talk.wav'], 'input: talk.wav')
    """
    from planners._intents import input_names

    cwd = (cwd or Path.cwd()).resolve()
    paths = [Path(p) for p in given]
    have = {p.resolve() for p in paths}
    given_names = {p.name for p in paths}
    notes: list[str] = []
    for name, kind in input_names(task).items():
        path = cwd / name
        if kind == "url" or name in given_names or path.resolve() in have:
            continue
        if _OUTPUT_NAME.search(task[: task.find(name)]):
            continue
        if not path.is_file():
            notes.append(f"the task names {name!r}, but {cwd} has no such file; if it is an input, pass it with "
                         "-i PATH")
            continue
        if cwd not in path.resolve().parents:
            notes.append(f"not reading {name!r}, a link out of {cwd}; pass it with -i PATH to use it")
            continue
        validate(path)
        notes.append(f"input: {name} (named in the task, found in {cwd})")
        paths.append(path)
        have.add(path.resolve())
    return paths, notes
