"""Requests benchmark (issue 15): does `agent run` deliver what a user asked for, and refuse what it cannot do?

Usage:
    python benchmarks/requests.py [--planner auto] [--only SUBSTRING] [--limit N] [--timeout 300] [--keep DIR]
                                  [--json]
    python benchmarks/requests.py --rejudge DIR [--only SUBSTRING]   # judge the runs an earlier --keep DIR kept

The benchmark makes its own sample inputs in a temp folder (speech from espeak-ng, photos drawn with PIL in distinct
colours with a white shape each, the shipped demo sketch and a few of ``../shared/data/sketches/images`` when
present, short texts, an HTML page), then drives each request as a user would: a real
``agent run TASK [-i FILE ...] --planner P --json`` subprocess in that folder, under a per-request timeout, with
a fresh ``MMAGENT_HOME`` for the whole benchmark (so plan memory from elsewhere does not leak in). It parses the
last stdout line and judges the delivered files with its own means (``benchmarks/_request_checks.py``: WER of a
transcript against the spoken sentence, faster-whisper tiny.en on delivered audio, ffmpeg for a video's sound
and duration, frame colours against the photos' order, rapidocr on frames and screenshots, the page's HTML),
never with the run's status and never with the product's acceptance code.

Whether a request is doable is decided per request: some never are (translation, ordering a pizza, a song...);
those that need CLIP or a diffusion model are doable exactly when ``agent tools --json`` says that tool is
available on this machine, so the benchmark stays right where weights are installed.

Metrics (last line of stdout, one JSON object):
    requests           number of requests run
    doable, undoable   how many of them are doable here, and how many are not
    satisfied          doable requests whose files meet the expectation / doable requests (a fraction)
    false_success      count: runs with status "succeeded" whose files do NOT meet the expectation, plus undoable
                       requests that "succeeded"
    false_failure      count: doable requests whose run did not succeed although their files meet the expectation
    refused_correctly  undoable requests whose run did not succeed / undoable requests (a fraction)
    mean_s             mean wall time of the agent subprocess over all requests, seconds
    planner            the --planner used
    judge_errors       judges that could not run at all (an import failed): the harness's fault, not the run's

Above it, a table: one row per request (id, doable, status, exit code, met, seconds, evidence).

Targets (issue 15): false_success == 0, satisfied >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# run as a script, this folder is sys.path[0], and this file would shadow the 'requests' package that rapidocr
# imports ("module 'requests' has no attribute 'Response'"): import from the repository root only
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(REPO))

from benchmarks._request_checks import JUDGES, classify_outputs  # noqa: E402

__all__ = ["Request", "REQUESTS", "make_samples", "tool_availability", "run_request", "judge", "summarize", "main"]

# what the speech samples say (chosen so tiny.en hears espeak-ng's voice well enough to judge a transcript)
TALK = "The weather is sunny and warm today, so we will have lunch in the garden."
MEETING = "Please send the quarterly report to the finance team before Friday afternoon."
NOTES = "Our bakery opens at seven every morning. Fresh bread and hot coffee are waiting for you."
STORY = "The little boat sailed across the quiet lake. A family of ducks followed it all the way home."
ANNOUNCEMENT = "The library will be closed on Monday for repairs. Books can be returned at the front desk."
# photo backgrounds, far apart in RGB so a frame's photo is unambiguous
COLOURS = {"photo1": (220, 40, 40), "photo2": (40, 170, 60), "photo3": (40, 70, 220), "photo4": (240, 200, 30)}
PAGE_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>Green Valley Farm</title>
<style>body{font-family:sans-serif;margin:0}header,section,footer{padding:48px}h1{font-size:56px}
section{min-height:300px}button{font-size:28px;padding:12px 24px}</style></head><body>
<header><h1>Green Valley Farm</h1><nav><a href="#box">Vegetable box</a> <a href="#visit">Visit us</a></nav></header>
<section id="box"><h2>Fresh vegetables every week</h2><p>We deliver carrots, potatoes and tomatoes from our fields
to your door every Tuesday.</p><button>Order a box</button></section>
<section id="visit"><h2>Visit the farm</h2><p>Meet our goats and chickens on Saturday mornings.</p></section>
<footer><p>Green Valley Farm, Meadow Lane, open every day</p></footer></body></html>
"""
PAGE_WORDS = ("green", "valley", "farm", "vegetables", "fresh", "deliver", "carrots", "potatoes", "tomatoes",
              "order", "box", "visit", "goats", "chickens", "saturday", "week", "fields", "tuesday", "meadow")
# the demo sketch's words (examples/sketches/draw_landing_sketch.py)
SKETCH_WORDS = ("acme", "trips", "home", "pricing", "contact", "plan", "your", "faster", "book", "flights",
                "hotels", "started", "fast", "simple", "cheap", "minute", "clear", "page", "hidden", "fees",
                "deals", "email", "sign", "up")
SHARED_SKETCHES = REPO.parent / "shared" / "data" / "sketches"


@dataclass(frozen=True)
class Request:
    """One user request and what its delivered files must show.

    Attributes:
        id: Short unique name (``--only`` matches it and the task).
        task: The request, as a user types it.
        inputs: Sample files passed with ``-i`` (files the task names are found in the folder by the CLI itself).
        checks: (judge name, keyword arguments) pairs from ``_request_checks.JUDGES``; all must hold.
        needs: Tools the request needs; it is doable only when all are available (e.g. CLIP ones).
        needs_any: Tool groups of which one must be available (empty: none needed).
        never: No tool set-up of this project can do it; it must be refused.
    """

    id: str
    task: str
    inputs: tuple[str, ...] = ()
    checks: tuple[tuple[str, dict[str, Any]], ...] = ()
    needs: tuple[str, ...] = ()
    needs_any: tuple[str, ...] = ()
    never: bool = False

    def doable(self, available: Mapping[str, bool]) -> bool:
        if self.never:
            return False
        if any(not available.get(t, False) for t in self.needs):
            return False
        return not self.needs_any or any(available.get(t, False) for t in self.needs_any)


def _order(*photos: str) -> dict[str, Any]:
    return {"colours": [COLOURS[p] for p in photos]}


_LANDING_PAGE = ("page", {"words": SKETCH_WORDS, "min_words": 6, "tags_any": ("button", "input", "a")})
_NARRATED = {"sound": True, "min_s": 3.0, "min_speech_words": 3}
_SKETCH_VIDEO = ("video", {**_NARRATED, "speech_words": SKETCH_WORDS})
_PAGE_VIDEO = ("video", {**_NARRATED, "speech_words": PAGE_WORDS})
_CAPTIONS = {"min_caption_share": 0.4}

REQUESTS: tuple[Request, ...] = (
    # speech to text
    Request("transcribe-named", "transcribe talk.wav", checks=(("transcript", {"text": TALK}),)),
    Request("transcribe-question", "What is said in this recording? Write it down as text.", ("meeting.wav",),
            (("transcript", {"text": MEETING}),)),
    Request("transcribe-meeting", "Give me a transcript of the meeting audio", ("meeting.wav",),
            (("transcript", {"text": MEETING}),)),
    Request("transcribe-memo", "turn this voice memo into text", ("talk.wav",), (("transcript", {"text": TALK}),)),
    # text to speech
    Request("aloud-named", "read notes.txt aloud", checks=(("speech", {"text": NOTES}),)),
    Request("aloud-input", "Read this text aloud", ("story.txt",), (("speech", {"text": STORY}),)),
    Request("mp3", "make an mp3 of this", ("notes.txt",), (("speech", {"text": NOTES}),)),
    Request("to-speech", "convert announcement.txt to speech", checks=(("speech", {"text": ANNOUNCEMENT}),)),
    Request("aloud-fast", "read notes.txt aloud twice as fast", checks=(("speech", {"text": NOTES, "pace": 2.0}),)),
    Request("aloud-slow", "Read this aloud slowly", ("story.txt",), (("speech", {"text": STORY, "pace": 0.75}),)),
    Request("audio-half-speed", "I want an audio version of this text at half speed", ("announcement.txt",),
            (("speech", {"text": ANNOUNCEMENT, "pace": 0.5}),)),
    # chains of speech
    Request("transcribe-then-speak", "transcribe talk.wav, then read the transcript aloud",
            checks=(("transcript", {"text": TALK}), ("speech", {"text": TALK, "max_wer": 0.5}))),
    Request("speak-back", "Listen to this recording and read what it says back to me in a synthetic voice",
            ("meeting.wav",), (("speech", {"text": MEETING, "max_wer": 0.5}),)),
    # sketch to page
    Request("sketch-page", "turn this sketch into a landing page", ("landing.png",), (_LANDING_PAGE,)),
    Request("wireframe-html", "build an HTML page from my wireframe", ("landing.png",), (_LANDING_PAGE,)),
    Request("drawing-website", "make a website from this drawing", ("sketch1.jpg",),
            (("page", {"min_elements": 3}),)),
    Request("mockup-code", "code this UI mockup as a web page", ("sketch2.jpg",), (("page", {"min_elements": 3}),)),
    # the demo and its paraphrases
    Request("demo", "Turn this sketch into a landing page and make a narrated video of it.", ("landing.png",),
            (_LANDING_PAGE, _SKETCH_VIDEO)),
    Request("demo-website-clip", "I need a website from my drawing, plus a short narrated clip of it",
            ("landing.png",), (_LANDING_PAGE, _SKETCH_VIDEO)),
    Request("demo-voiceover", "Build the page in this sketch and record a video walkthrough with a voice-over",
            ("landing.png",), (_LANDING_PAGE, _SKETCH_VIDEO)),
    Request("demo-video-only", "make a narrated video of this sketch's landing page", ("landing.png",),
            (_SKETCH_VIDEO,)),
    Request("demo-shared-sketch", "Code this sketch as a web page, then make a narrated video that presents it",
            ("sketch1.jpg",), (("page", {"min_elements": 3}), ("video", _NARRATED))),
    # page videos and screenshots
    Request("page-narrated", "make a narrated video of this page", ("page.html",), (_PAGE_VIDEO,)),
    Request("page-tour", "Create a video tour of this web page with narration", ("page.html",), (_PAGE_VIDEO,)),
    Request("page-scroll", "record a video scrolling through page.html", checks=(("video", {"min_s": 1.0}),)),
    Request("screenshot", "take a screenshot of page.html",
            checks=(("image", {"words": PAGE_WORDS, "min_words": 3}),)),
    Request("render-png", "render this HTML page as an image", ("page.html",),
            (("image", {"words": PAGE_WORDS, "min_words": 3}),)),
    Request("looks-like", "show me what this page looks like as a PNG", ("page.html",),
            (("image", {"words": PAGE_WORDS, "min_words": 3}),)),
    # slideshows
    Request("slideshow-two", "make a slideshow video of photo1.png and photo2.png",
            checks=(("video", _order("photo1", "photo2")),)),
    Request("slideshow-order", "make a slideshow of photo3.png, photo1.png and photo2.png, in that order",
            checks=(("video", _order("photo3", "photo1", "photo2")),)),
    Request("slideshow-first-then", "Create a video from these pictures: first photo2.png, then photo4.png",
            checks=(("video", _order("photo2", "photo4")),)),
    Request("slideshow-inputs", "make a slideshow of these photos", ("photo1.png", "photo2.png", "photo3.png"),
            (("video", _order("photo1", "photo2", "photo3")),)),
    Request("slideshow-captions", "transcribe talk.wav and make a slideshow video of photo1.png and photo2.png "
            "with the transcript as captions",
            checks=(("video", {**_order("photo1", "photo2"), "caption_words": ("weather", "sunny", "warm", "today",
                                                                                 "lunch", "garden"), **_CAPTIONS}),)),
    Request("slideshow-captioned-speech", "make a slideshow of photo2.png and photo3.png captioned with what is "
            "said in meeting.wav",
            checks=(("video", {**_order("photo2", "photo3"), "caption_words": ("send", "quarterly", "report",
                                                                                 "finance", "team", "friday"),
                               **_CAPTIONS}),)),
    Request("video-6s", "make a 6-second video of photo1.png", checks=(("video", {"min_s": 5.0, "max_s": 7.0}),)),
    Request("slideshow-10s", "make a 10 second slideshow of photo1.png and photo2.png",
            checks=(("video", {"min_s": 8.5, "max_s": 11.5, **_order("photo1", "photo2")}),)),
    Request("video-lasting", "Make a video of photo4.png lasting 5 seconds",
            checks=(("video", {"min_s": 4.0, "max_s": 6.0}),)),
    Request("slideshow-soundtrack", "make a slideshow of photo1.png and photo2.png with talk.wav as the soundtrack",
            checks=(("video", {**_order("photo1", "photo2"), "sound": True,
                               "speech_words": ("weather", "sunny", "warm", "lunch", "garden"),
                               "min_speech_words": 3}),)),
    # sketch analysis
    Request("analyse-wireframe", "analyse this wireframe", ("landing.png",),
            (("layout", {"min_elements": 5, "words": SKETCH_WORDS, "min_words": 4}),)),
    Request("detect-elements", "What UI elements are in this sketch? Detect them.", ("sketch1.jpg",),
            (("layout", {"min_elements": 3}),)),
    Request("mockup-layout", "Detect the layout of this mockup", ("sketch2.jpg",), (("layout", {"min_elements": 3}),)),
    # doable only with CLIP weights (MMAGENT_CLIP_MODEL)
    Request("clip-which-red", "which of these photos shows a red background?", ("photo1.png", "photo2.png"),
            (("answer", {"mentions": ("photo1",)}),), needs_any=("zero_shot_classify", "image_text_score")),
    Request("clip-circle", "Does this picture contain a circle?", ("photo1.png",),
            (("answer", {"mentions": ("circle",)}),), needs_any=("zero_shot_classify", "image_text_score")),
    Request("clip-similar", "how similar are photo1.png and photo3.png?",
            checks=(("answer", {"mentions": ("similar", "score")}),), needs=("image_similarity",)),
    # doable only with a diffusion model (MMAGENT_DIFFUSION_MODEL)
    Request("generate-cat", "generate an image of a cat sitting on a sofa", checks=(("image", {}),),
            needs=("text_to_image",)),
    Request("generate-sunset", "draw me a picture of a sunset over the sea", checks=(("image", {}),),
            needs=("text_to_image",)),
    # never doable here
    Request("translate-text", "translate notes.txt into French", never=True),
    Request("translate-audio", "Translate this recording into Spanish", ("talk.wav",), never=True),
    Request("pizza", "order me a pizza", never=True),
    Request("weather", "what's the weather in Paris", never=True),
    Request("page-from-text", "make a page from this", ("notes.txt",), never=True),
    Request("song", "compose a song about the sea", never=True),
    Request("3d-model", "make a 3D model of this sketch", ("landing.png",), never=True),
)


def make_samples(folder: Path) -> Path:
    """Write every sample input into ``folder``: speech, photos, sketches, texts, a page. Returns ``folder``."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("talk.wav", TALK), ("meeting.wav", MEETING)):
        subprocess.run(["espeak-ng", "-w", str(folder / name), text], check=True, capture_output=True)
    shapes = ("ellipse", "rectangle", "polygon", "ellipse")
    for (name, colour), shape in zip(COLOURS.items(), shapes, strict=True):
        im = Image.new("RGB", (640, 480), colour)
        draw = ImageDraw.Draw(im)
        if shape == "polygon":
            draw.polygon([(320, 110), (460, 370), (180, 370)], fill=(255, 255, 255))
        else:
            getattr(draw, shape)((220, 140, 420, 340), fill=(255, 255, 255))
        im.save(folder / f"{name}.png")
    for name, text in (("notes.txt", NOTES), ("story.txt", STORY), ("announcement.txt", ANNOUNCEMENT)):
        (folder / name).write_text(text + "\n")
    (folder / "page.html").write_text(PAGE_HTML)
    shutil.copy(REPO / "examples" / "sketches" / "landing.png", folder / "landing.png")
    # two of the shared photographed sketches (sorted, so the same two every time); the demo sketch otherwise
    shared = sorted((SHARED_SKETCHES / "images").glob("*.jpg"))[:2]
    for n in (1, 2):
        source = shared[n - 1] if len(shared) >= n else None
        if source is not None:
            shutil.copy(source, folder / f"sketch{n}.jpg")
        else:
            Image.open(REPO / "examples" / "sketches" / "landing.png").convert("RGB").save(folder / f"sketch{n}.jpg")
    return folder


def _agent_exe() -> str:
    here = Path(sys.executable).parent / "agent"
    return str(here) if here.exists() else (shutil.which("agent") or "agent")


def tool_availability(env: Mapping[str, str] | None = None) -> dict[str, bool]:
    """Each tool's availability as ``agent tools --json`` reports it in this environment."""
    out = subprocess.run([_agent_exe(), "tools", "--json"], capture_output=True, text=True, env=env, timeout=120)
    return {t["name"]: bool(t["available"]) for t in json.loads(out.stdout.strip().splitlines()[-1])}


@dataclass
class Outcome:
    """What one request's run did and whether its files met the expectation."""

    request: Request
    doable: bool
    status: str
    exit_code: int | None
    seconds: float
    outputs: dict[str, str] = field(default_factory=dict)
    steps_run: int = 0
    error: str = ""
    met: bool | None = None  # None for undoable requests: nothing to judge
    evidence: list[str] = field(default_factory=list)
    judge_errors: int = 0  # judges that could not run (the harness's fault, counted apart in the summary)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def run_request(request: Request, samples: Path, *, planner: str, env: Mapping[str, str], timeout: float,
                available: Mapping[str, bool]) -> Outcome:
    """Run one request through the CLI, as a user would, and parse its JSON summary."""
    cmd = [_agent_exe(), "run", request.task, "--planner", planner, "--json"]
    for name in request.inputs:
        cmd += ["-i", name]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=samples, env=dict(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Outcome(request, request.doable(available), "timeout", None, time.perf_counter() - start,
                       error=f"no answer in {timeout:.0f} s")
    seconds = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else {}
    except ValueError:
        summary = {}
    error = summary.get("error") or (proc.stderr.strip().splitlines() or [""])[-1]
    steps_run = sum(1 for s in summary.get("steps", ()) if s.get("executions"))
    return Outcome(request, request.doable(available), str(summary.get("status", "no summary")), proc.returncode,
                   seconds, dict(summary.get("outputs") or {}), steps_run, str(error)[:300])


def judge(outcome: Outcome) -> Outcome:
    """Check a doable request's expectation on its delivered files (never on the run's status)."""
    if not outcome.doable:
        return outcome
    files = classify_outputs(outcome.outputs)
    met = True
    for name, kwargs in outcome.request.checks:
        try:
            ok, evidence = JUDGES[name](files, **kwargs)
        except ImportError as exc:  # the harness itself is broken: not met, but said apart
            ok, evidence = False, f"JUDGE ERROR {type(exc).__name__}: {exc}"
            outcome.judge_errors += 1
        except Exception as exc:  # a judge that cannot read a delivered file counts that file as not meeting it
            ok, evidence = False, f"{type(exc).__name__}: {exc}"
        met = met and ok
        outcome.evidence.append(f"{'ok' if ok else 'NO'} {name}: {evidence}")
    outcome.met = met
    return outcome


def summarize(outcomes: Sequence[Outcome], planner: str) -> dict[str, Any]:
    """The metrics the module docstring defines."""
    doable = [o for o in outcomes if o.doable]
    undoable = [o for o in outcomes if not o.doable]
    false_success = sum(1 for o in doable if o.succeeded and not o.met) + sum(1 for o in undoable if o.succeeded)
    return {
        "requests": len(outcomes), "doable": len(doable), "undoable": len(undoable),
        "satisfied": round(sum(1 for o in doable if o.met) / len(doable), 3) if doable else None,
        "false_success": false_success,
        "false_failure": sum(1 for o in doable if o.met and not o.succeeded),
        "refused_correctly": round(sum(1 for o in undoable if not o.succeeded) / len(undoable), 3)
        if undoable else None,
        "mean_s": round(statistics.mean(o.seconds for o in outcomes), 2) if outcomes else None,
        "planner": planner,
        "judge_errors": sum(o.judge_errors for o in outcomes),
    }


def rejudge(home: Path, requests: Sequence[Request], available: Mapping[str, bool]) -> list[Outcome]:
    """Judge again the runs kept under ``home`` (``--keep DIR`` keeps them in ``DIR/home``), e.g. after a judge
    changed, without running anything: each request takes the latest run of its task (its summary's status and
    outputs, its own wall_s as the time); a request with no run directory was refused before a run began."""
    latest: dict[str, Path] = {}
    for run in sorted((home / "runs").glob("*/run.json")):
        latest[json.loads(run.read_text())["task"]] = run.parent
    outcomes = []
    for request in requests:
        run_dir = latest.get(request.task)
        summary = json.loads((run_dir / "summary.json").read_text()) if run_dir and (
            run_dir / "summary.json").exists() else {}
        status = str(summary.get("status", "error"))
        outcomes.append(judge(Outcome(request, request.doable(available), status, 0 if status == "succeeded" else 1,
                                      float(summary.get("wall_s") or 0.0), dict(summary.get("outputs") or {}),
                                      error=str(summary.get("error") or "no run (refused at planning)")[:300])))
    return outcomes


def _row(o: Outcome) -> str:
    verdict = "-" if o.met is None else ("met" if o.met else "NOT met")
    if not o.doable:
        verdict = "refused" if not o.succeeded else "NOT refused"
    return (f"{o.request.id:<28} {'yes' if o.doable else 'no':<6} {o.status:<10} {str(o.exit_code):>4} "
            f"{verdict:<12} {o.seconds:7.1f}  {o.request.task}")


def select(requests: Sequence[Request], only: str | None, limit: int | None) -> list[Request]:
    chosen = [r for r in requests if not only or only.lower() in (r.id + " " + r.task).lower()]
    return chosen[:limit] if limit else chosen


def main(argv: list[str] | None = None, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planner", default="auto", help="the agent's --planner (default auto)")
    parser.add_argument("--only", default=None, help="run the requests whose id or task contains this")
    parser.add_argument("--limit", type=int, default=None, help="run at most this many requests")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take")
    parser.add_argument("--keep", type=Path, default=None, help="make samples and runs here and keep them")
    parser.add_argument("--rejudge", type=Path, default=None,
                        help="judge again the runs kept by an earlier --keep DIR (pass DIR); runs nothing")
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    args = parser.parse_args(argv)
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def show(outcome: Outcome) -> None:
        log(_row(outcome))
        for line in outcome.evidence + ([f"error: {outcome.error}"] if outcome.error and not outcome.succeeded
                                        else []):
            log(f"{'':<28} {line}")

    with tempfile.TemporaryDirectory(prefix="mmagent-requests-") as tmp:
        base = args.rejudge or args.keep or Path(tmp)
        env = {**os.environ, "MMAGENT_HOME": str(base / "home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        available = tool_availability(env)
        chosen = select(REQUESTS, args.only, args.limit)
        if args.rejudge:
            outcomes = rejudge(base / "home", chosen, available)
            runs = sorted((base / "home" / "runs").glob("*/run.json"))
            args.planner = json.loads(runs[-1].read_text()).get("planner_spec", args.planner) if runs else args.planner
            for outcome in outcomes:
                show(outcome)
        else:
            samples = make_samples(base / "samples")
            outcomes = []
            for request in chosen:
                outcome = judge(run_request(request, samples, planner=args.planner, env=env, timeout=args.timeout,
                                            available=available))
                outcomes.append(outcome)
                show(outcome)
    print(f"{'request':<28} {'doable':<6} {'status':<10} {'exit':>4} {'outcome':<12} {'s':>7}  task")
    for outcome in outcomes:
        print(_row(outcome))
    failures = [o for o in outcomes if (o.doable and not o.met) or (not o.doable and o.succeeded)
                or (o.doable and o.met and not o.succeeded)]
    if failures:
        print("\nfailures:")
        for o in failures:
            print(f"- {o.request.id} ({o.status}, exit {o.exit_code}): " + " | ".join(o.evidence)
                  + (f" | error: {o.error}" if o.error and not o.succeeded else ""))
    result = summarize(outcomes, args.planner)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
