"""The requests benchmark's harness (benchmarks/requests.py) runs, judges files and counts the way its docstring says.

Two real requests go through the CLI with the symbolic planner (a transcription, and a pizza order that must be
refused); the judges are also shown a wrong file so they can be seen to say no.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from benchmarks import requests as bench
from benchmarks._request_checks import classify_outputs, judge_transcript, judge_video, word_error_rate


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench.make_samples(tmp_path_factory.mktemp("requests") / "samples")


def _by_id(request_id: str) -> bench.Request:
    return next(r for r in bench.REQUESTS if r.id == request_id)


def test_catalogue_has_enough_requests_and_both_kinds() -> None:
    assert len(bench.REQUESTS) >= 40
    assert len({r.id for r in bench.REQUESTS}) == len(bench.REQUESTS)
    assert sum(r.never for r in bench.REQUESTS) >= 5
    # every doable request says how its files are judged, with a judge that exists
    for r in bench.REQUESTS:
        assert r.never or r.checks, r.id
        assert all(name in bench.JUDGES for name, _ in r.checks), r.id
    # CLIP questions are doable exactly when a CLIP tool is available
    clip = _by_id("clip-which-red")
    assert not clip.doable({"zero_shot_classify": False, "image_text_score": False})
    assert clip.doable({"zero_shot_classify": True})


def test_transcription_is_met_and_pizza_is_refused(samples: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MMAGENT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    available = {"transcribe": True}
    done = bench.judge(bench.run_request(_by_id("transcribe-named"), samples, planner="symbolic", env=env,
                                         timeout=240, available=available))
    assert done.status == "succeeded" and done.exit_code == 0, done.error
    assert done.met, done.evidence
    pizza = bench.judge(bench.run_request(_by_id("pizza"), samples, planner="symbolic", env=env, timeout=120,
                                          available=available))
    assert not pizza.doable and pizza.met is None
    assert pizza.status != "succeeded" and pizza.exit_code == 1
    metrics = bench.summarize([done, pizza], "symbolic")
    assert metrics == {"requests": 2, "doable": 1, "undoable": 1, "satisfied": 1.0, "false_success": 0,
                       "false_failure": 0, "refused_correctly": 1.0, "mean_s": metrics["mean_s"], "judge_errors": 0,
                       "planner": "symbolic"}

    # the same transcript judged against another sentence fails: the judge reads the file, not the status
    files = classify_outputs(done.outputs)
    assert not judge_transcript(files, text=bench.MEETING)[0]
    done.met = False
    assert bench.summarize([done], "symbolic")["false_success"] == 1


def test_video_judge_reads_photo_order(samples: Path, tmp_path: Path) -> None:
    import imageio_ffmpeg

    # a 2 s video: photo2 for a second, then photo1 (made here with ffmpeg, not with the product)
    out = tmp_path / "two.mp4"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = [ffmpeg, "-v", "error", "-loop", "1", "-t", "1", "-i", str(samples / "photo2.png"), "-loop", "1", "-t",
           "1", "-i", str(samples / "photo1.png"), "-filter_complex", "[0][1]concat=n=2:v=1[v]", "-map", "[v]",
           "-pix_fmt", "yuv420p", "-r", "10", str(out)]
    subprocess.run(cmd, check=True)
    files = {"video": [out]}
    assert judge_video(files, colours=[bench.COLOURS["photo2"], bench.COLOURS["photo1"]])[0]
    met, evidence = judge_video(files, colours=[bench.COLOURS["photo1"], bench.COLOURS["photo2"]])
    assert not met and "[1, 0]" in evidence
    assert not judge_video(files, sound=True)[0]  # no sound stream
    assert word_error_rate("a b c d", "a x c") == 0.5
