"""record_page_video and compose_video: real MP4 files, probed for duration, streams and size."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modalities.errors import ToolError
from modalities.ingest import probe_mp4_duration
from tools._video import ffmpeg_exe, first_frame, probe_video
from tools.base import ToolContext
from tools.browser.video import RecordPageVideo, _blank_frames, _content_offsets, scroll_offsets
from tools.checks import evaluate_check
from tools.code.html import compile_layout
from tools.code.samples import SAMPLE_LAYOUTS
from tools.generation.slideshow import ComposeVideo

pytest.importorskip("imageio_ffmpeg")


def _tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    t = np.arange(int(rate * seconds)) / rate
    pcm = (np.sin(2 * np.pi * 330 * t) * 6000).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def _checks_pass(tool, result, store) -> None:
    for check in tool.checks():
        outcome = evaluate_check(check, result.outputs, result.metrics, store)
        assert outcome.passed, outcome


def test_scroll_is_monotonic_and_eased() -> None:
    offsets = scroll_offsets(100, 1000, 10)
    assert offsets[:10] == [0] * 10 and offsets[-10:] == [1000] * 10
    assert all(b >= a for a, b in zip(offsets, offsets[1:], strict=False))
    steps = np.diff(offsets[10:90])
    assert steps[0] < steps[40] and steps[-1] < steps[40]  # slow start, fast middle, slow end


def _sections_apart(gap: int) -> np.ndarray:
    """A page screenshot: a section, ``gap`` px of white, another section; 1280 px wide."""
    page = np.full((200 + gap + 200, 1280, 3), 255, np.uint8)
    page[40:160, 100:900] = (30, 40, 60)
    page[200 + gap + 40:200 + gap + 160, 100:900] = (30, 40, 60)
    return page


def test_white_space_between_sections_is_not_a_blank_frame() -> None:
    page = _sections_apart(1500)  # a gap taller than the 720 px screen
    plain = scroll_offsets(100, page.shape[0] - 720, 10)
    assert _blank_frames(page, plain, 720) > 0  # a straight scroll shows empty screens: what the old check saw
    content = _content_offsets(page, 720)
    offsets = [int(content[i]) for i in scroll_offsets(100, len(content) - 1, 10)]
    assert _blank_frames(page, offsets, 720) == 0 and offsets[0] == 0 and offsets[-1] == page.shape[0] - 720


def test_a_band_of_colour_is_content_and_a_flat_page_is_blank() -> None:
    band = np.full((1000, 1280, 3), 255, np.uint8)
    band[600:] = (230, 236, 245)  # rows flat each, but the frame holds two colours: a panel edge
    assert _blank_frames(band, [0, 280], 720) == 0
    assert _blank_frames(np.full((1000, 1280, 3), 255, np.uint8), [0, 280], 720) == 2


@pytest.mark.slow
def test_an_honest_page_with_white_space_has_no_blank_frame_and_an_empty_page_has_only_blank_frames(
        browser, store) -> None:
    tool = RecordPageVideo()
    honest = store.put_text("<body style='margin:0'><h1>Fresh coffee</h1><div style='height:1800px'></div>"
                            "<p>Open every day</p><button>Order now</button></body>", "html")
    result = tool.run(ToolContext(store), {"html": honest}, tool.validate_params({"duration_s": 2}))
    assert result.metrics["blank_frames"] == 0 and result.metrics["scroll_px"] > 1800 - 720
    _checks_pass(tool, result, store)
    empty = store.put_text("<body style='background:#fff'></body>", "html")
    result = tool.run(ToolContext(store), {"html": empty}, tool.validate_params({"duration_s": 1}))
    assert result.metrics["blank_frames"] == result.metrics["frames"] == 25


@pytest.mark.slow
def test_page_video_paced_to_narration(browser, store, tmp_path) -> None:
    html = store.put_text(compile_layout(SAMPLE_LAYOUTS["landing"]), "html")
    audio = store.put_file(_tone(tmp_path / "n.wav", 2.3), "audio", "audio/wav", duration_s=2.3)
    tool = RecordPageVideo()
    result = tool.run(ToolContext(store), {"html": html, "audio": audio}, tool.validate_params({}))
    path = store.path(result.outputs["video"])
    info = probe_video(path)
    assert (info.video_codec, info.audio_codec, info.width, info.height, info.fps) == ("h264", "aac", 1280, 720, 25)
    assert probe_mp4_duration(path) == pytest.approx(2.3, abs=0.1)
    assert result.metrics["narration_s"] == pytest.approx(2.3, abs=0.01)
    assert result.metrics["blank_frames"] == 0 and result.metrics["scroll_px"] == 1800 - 720
    assert result.outputs["video"].meta["duration_s"] == result.metrics["duration_s"]
    _checks_pass(tool, result, store)
    # the last frame shows the bottom of the page, not the top
    last = subprocess.run([ffmpeg_exe(), "-v", "error", "-sseof", "-0.1", "-i", str(path), "-frames:v", "1", "-f",
                           "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    last_frame = np.frombuffer(last, np.uint8).reshape(720, 1280, 3)
    assert np.abs(last_frame.astype(int) - first_frame(path).astype(int)).mean() > 2


@pytest.mark.slow
def test_page_video_without_audio_and_converted_mp3(browser, store, tmp_path) -> None:
    html = store.put_text(compile_layout(SAMPLE_LAYOUTS["signup"]), "html")
    tool = RecordPageVideo()
    silent = tool.run(ToolContext(store), {"html": html}, tool.validate_params({"duration_s": 1.2, "fps": 10}))
    assert probe_video(store.path(silent.outputs["video"])).audio_codec is None
    assert silent.metrics["duration_s"] == pytest.approx(1.2, abs=0.05) and silent.metrics["narration_s"] is None
    mp3 = tmp_path / "n.mp3"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(_tone(tmp_path / "n.wav", 1.0)), str(mp3)], check=True)
    voiced = tool.run(ToolContext(store), {"html": html, "audio": store.put_file(mp3, "audio", "audio/mpeg")},
                      tool.validate_params({"fps": 10}))
    assert probe_video(store.path(voiced.outputs["video"])).audio_codec == "aac"
    assert voiced.metrics["duration_error_s"] <= 0.15


@pytest.mark.slow
def test_undecodable_audio_and_hanging_page_fail_clearly(browser, store) -> None:
    tool = RecordPageVideo()
    html = store.put_text("<h1>ok</h1>", "html")
    junk = store.put_bytes(b"ID3" + bytes(400), "audio", "audio/mpeg")
    with pytest.raises(ToolError, match=r"cannot be decoded.*give WAV, MP3"):
        tool.run(ToolContext(store), {"html": html, "audio": junk}, tool.validate_params({}))
    hang = store.put_text("<script>for(;;){}</script>", "html")
    with pytest.raises(ToolError, match="script limit"):
        tool.run(ToolContext(store), {"html": hang}, tool.validate_params({"script_limit_s": 1, "duration_s": 1}))


def test_slideshow_with_captions_and_audio(store, tmp_path) -> None:
    images = {}
    for name, color in (("image", "red"), ("image2", "blue")):
        Image.new("RGB", (400, 300), color).save(tmp_path / f"{name}.png")
        images[name] = store.put_file(tmp_path / f"{name}.png", "image", "image/png", width=400, height=300)
    audio = store.put_file(_tone(tmp_path / "n.wav", 2.0), "audio", "audio/wav")
    tool = ComposeVideo()
    params = tool.validate_params({"captions": ["Red slide", "Blue slide"], "width": 320, "height": 240})
    result = tool.run(ToolContext(store), {**images, "audio": audio}, params)
    path = store.path(result.outputs["video"])
    info = probe_video(path)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (320, 240, "h264", "aac")
    assert probe_mp4_duration(path) == pytest.approx(2.0, abs=0.1)
    frame = first_frame(path)
    assert frame[120, 10, 0] > 150 and frame[120, 10, 2] < 80  # a red (letterboxed 4:3 -> fits exactly) slide
    assert frame[-10:, :, :].mean() < frame[100:140, :, :].mean()  # the caption band darkens the bottom
    _checks_pass(tool, result, store)


def _frame_at(path: Path, seconds: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", str(seconds), "-i", str(path), "-frames:v", "1", "-f",
                          "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3)


def test_captions_not_one_per_image_are_subtitles_in_turn_over_the_video(store, tmp_path) -> None:
    Image.new("RGB", (320, 240), "red").save(tmp_path / "red.png")
    image = store.put_file(tmp_path / "red.png", "image", "image/png", width=320, height=240)
    tool = ComposeVideo()
    # a transcript's sentences: the short one first, the long one (three times as long) after it
    captions = ["Short one.", "A much longer second caption here."]
    params = tool.validate_params({"captions": captions, "width": 320, "height": 240, "seconds_per_image": 4})
    result = tool.run(ToolContext(store), {"image": image}, params)
    path = store.path(result.outputs["video"])
    assert result.metrics["captions"] == 2 and result.metrics["images"] == 1
    band = slice(190, 240)  # the caption band at the bottom
    early, late = (_frame_at(path, t, (320, 240))[band].astype(int) for t in (0.3, 3.7))
    assert np.abs(early - late).mean() > 5  # another caption later on the same picture
    # each caption's share of the 4 s follows its length: the first ends near 4 * 10 / 44 = 0.9 s
    switch = next(t / 10 for t in range(2, 40) if np.abs(_frame_at(path, t / 10, (320, 240))[band].astype(int)
                                                            - early).mean() > 5)
    assert 0.6 <= switch <= 1.3
    # one caption for two pictures (a one-sentence transcript) stays over both, not only the first
    Image.new("RGB", (320, 240), "blue").save(tmp_path / "blue.png")
    blue = store.put_file(tmp_path / "blue.png", "image", "image/png", width=320, height=240)
    params = tool.validate_params({"captions": ["Only one."], "width": 320, "height": 240, "seconds_per_image": 1,
                                   "fade_s": 0})
    path = store.path(tool.run(ToolContext(store), {"image": image, "image2": blue}, params).outputs["video"])
    for t, channel in ((0.5, 0), (1.5, 2)):  # red, then blue
        frame = _frame_at(path, t, (320, 240)).astype(float)
        # the dark caption band dims the bottom of the picture
        assert frame[band, :, channel].mean() < 0.7 * frame[100:140, :, channel].mean(), t


@pytest.mark.parametrize("asked, narration", [(4.0, 2.0), (1.5, 3.0)])
def test_a_length_asked_for_outright_wins_over_the_narrations(store, tmp_path, asked: float, narration: float) -> None:
    # "make a 4-second slideshow" planned with a narration nobody asked for: the video still lasts 4 s
    Image.new("RGB", (320, 240), "red").save(tmp_path / "red.png")
    image = store.put_file(tmp_path / "red.png", "image", "image/png", width=320, height=240)
    audio = store.put_file(_tone(tmp_path / "n.wav", narration), "audio", "audio/wav")
    tool = ComposeVideo()
    params = tool.validate_params({"duration_s": asked, "width": 320, "height": 240})
    path = store.path(tool.run(ToolContext(store), {"image": image, "audio": audio}, params).outputs["video"])
    assert probe_mp4_duration(path) == pytest.approx(asked, abs=0.15)
