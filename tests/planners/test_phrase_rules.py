"""Paraphrase tests of the symbolic planner's phrase rules: each rule kept because a dev record or a README
sentence needed it must also plan requests in words of its own (issue 18: a rule that serves one phrasing goes).

The paraphrases are written here, not taken from the benchmark records or the README; each was checked to plan
differently (worse) with its rule turned off.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from stand_ins import builtin_stand_ins

from planners.plan import Plan, plan_issues
from planners.symbolic import SymbolicPlanner
from planners.taskbench import load_tools, record_inputs

TASKBENCH_TOOLS = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "taskbench_tools.json"
# the sketch-to-video demo's plan: the page first (built, rendered, checked), then the narration, then the video
# recorded from the page with the narration as its sound
PAGE_VIDEO = ["analyze_sketch", "generate_html", "render_page", "layout_similarity", "sketch_fidelity", "write_text",
              "speak", "speech_roundtrip", "record_page_video"]


def _tools(task: str, inputs: dict[str, str]) -> list[str]:
    registry = builtin_stand_ins()
    plan = SymbolicPlanner().plan(task, inputs, registry)
    assert plan_issues(plan, registry, inputs) == []
    return [s.tool for s in plan.steps]


def _taskbench_tools(task: str) -> list[str]:
    return [s.tool for s in SymbolicPlanner().plan(task, record_inputs(task), load_tools(TASKBENCH_TOOLS)).steps]


@pytest.mark.parametrize("task", [
    "Convert my wireframe into a website, and make a narrated video of it",
    "Turn the mockup into a web page and create a narrated video of that",
    "Make a page from the mockup, then generate a narrated video of it",
    "Build a landing page from this drawing, then make a video of it with narration",
])
def test_a_video_of_it_after_a_page_is_a_video_of_the_page(task: str) -> None:
    # the pronoun rule: "of it" is what the previous clause set out to make (off, it is a slideshow of the sketch)
    assert _tools(task, {"drawing": "image"}) == PAGE_VIDEO


@pytest.mark.parametrize("task", [
    "record a narrated video of the landing page in this wireframe",
    "create a narrated video of this mockup's web page",
    "make a narrated video of the web page in my drawing",
])
def test_a_video_of_the_page_makes_the_page_first(task: str) -> None:
    # the "video of the page" rule: the page is made (and checked) before the narration and the recording
    assert _tools(task, {"drawing": "image"}) == PAGE_VIDEO


@pytest.mark.parametrize("task", [
    "Create a landing page from the wireframe; after that make a film of it with a voiceover",
    "Build a page from the drawing, then make a video of it with a voiceover",
    "Design a website from my mockup and record a clip of it with some narration",
])
def test_a_video_with_a_narration_makes_the_narration(task: str) -> None:
    # the "with ..." rule: what the video comes with is made first (off, the video is silent)
    assert _tools(task, {"drawing": "image"}) == PAGE_VIDEO


@pytest.mark.parametrize("task", [
    "create a narrated clip of the landing page in this mockup",
    "make a spoken video of the landing page in my sketch",
    "Build a website from the sketch and make a narrated film of it",
])
def test_a_narrated_video_is_a_video_with_the_narration_as_its_sound(task: str) -> None:
    # "narrated"/"spoken" name the audio and let the next kind word name the video (off, no video is made)
    registry = builtin_stand_ins()
    plan: Plan = SymbolicPlanner().plan(task, {"drawing": "image"}, registry)
    video = next(s for s in plan.steps if "video" in registry.get(s.tool).outputs.values())
    assert "speak.audio" in video.inputs.values()


@pytest.mark.parametrize(("task", "tools"), [
    ("Translate the text 'Bonjour tout le monde' to English so we can create an image from it",
     ["text_translator", "text_to_image"]),
    ("Transcribe speech.wav so you can summarize it afterwards", ["audio_to_text", "text_summarizer"]),
    ("Generate an image from the text 'a red bicycle' so that we can find similar images",
     ["text_to_image", "image_search_by_image"]),
])
def test_so_that_i_can_starts_the_next_step(task: str, tools: list[str]) -> None:
    assert _taskbench_tools(task) == tools


@pytest.mark.parametrize(("task", "tools"), [
    ("Look up pictures of sunflowers", ["image_search"]),
    ("Lookup images of red foxes", ["image_search"]),
    ("Find videos of penguins", ["video_search"]),
    ("Fetch the text at https://example.com/a and summarize it", ["text_downloader", "text_summarizer"]),
    ("Fetch the video at https://example.com/v and extract its audio", ["video_downloader", "video_to_audio"]),
    ("Retrieve the text from https://example.com/x and check its grammar",
     ["text_downloader", "text_grammar_checker"]),
    ("Retrieve the video at https://example.com/y and slow it down", ["video_downloader", "video_speed_changer"]),
])
def test_search_and_download_synonyms(task: str, tools: list[str]) -> None:
    # find / look (up) / lookup read as "search", fetch / retrieve as "download"
    assert _taskbench_tools(task) == tools
