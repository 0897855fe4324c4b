"""The main job's benchmark counts a run that stalls as a hang, and a run that is only slow as none."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.sketch_to_page import _STALL_S, _longest_silence


def _events(run_dir: Path, times: list[float], kinds: dict[float, str] | None = None) -> Path:
    run_dir.mkdir()
    (run_dir / "events.jsonl").write_text("".join(
        json.dumps({"kind": (kinds or {}).get(t, "step_finished"), "t": t}) + "\n" for t in times))
    return run_dir


def test_a_stalled_run_is_a_hang_and_a_long_busy_one_is_not(tmp_path: Path) -> None:
    busy = _events(tmp_path / "busy", [float(t) for t in range(0, 60, 5)])  # a minute of steps, 5 s apart
    stalled = _events(tmp_path / "stalled", [0.0, 2.0, 2.5, 125.0])  # a step held until its 120 s limit
    assert _longest_silence(busy) == 5.0 < _STALL_S
    assert _longest_silence(stalled) == 122.5 >= _STALL_S


def test_a_model_loading_is_slow_not_stuck_but_silence_after_it_is_a_stall(tmp_path: Path) -> None:
    # a first plan on a fresh machine: the planner reads its tool catalogue for 40 s, and says so first
    warming = _events(tmp_path / "warming", [0.0, 0.5, 41.0, 45.0], {0.5: "model_loading"})
    assert _longest_silence(warming) == 4.0 < _STALL_S
    # the same silence after the load is over (a step that never ends) is still a stall
    stuck = _events(tmp_path / "stuck", [0.0, 0.5, 2.0, 42.0], {0.5: "model_loading"})
    assert _longest_silence(stuck) == 40.0 >= _STALL_S
