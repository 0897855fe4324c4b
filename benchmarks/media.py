"""Benchmark the code and browser tools: render generated pages, record their videos, score their layouts.

Usage:
    python benchmarks/media.py --json

Prints one line per page, then (last line, with ``--json``) a JSON object:
``{"render_s": median seconds per render with a warm browser, "video_s_per_output_s": wall seconds of
record_page_video work per second of 1280x720 video, "page_layout_score": mean layout_similarity between each
source layout and its rendered DOM layout (null when that tool is not installed)}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
HERE = Path(__file__).resolve().parent
sys.path[:] = [str(HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from modalities.store import ArtifactStore  # noqa: E402
from tools.base import ToolContext  # noqa: E402
from tools.code.samples import SAMPLE_LAYOUTS  # noqa: E402
from tools.registry import default_registry  # noqa: E402


def _layout_score(registry: Any, ctx: ToolContext, reference: Any, candidate: Any) -> float | None:
    """layout_similarity's score through the registry, or None when the tool is missing or cannot run here."""
    try:
        tool = registry.get("layout_similarity")
        if not tool.available():
            return None
        result = tool.run(ctx, {"reference": reference, "candidate": candidate}, tool.validate_params({}))
    except Exception as exc:  # a benchmark reports what it can measure
        print(f"layout_similarity unavailable: {exc}", file=sys.stderr)
        return None
    score = result.metrics.get("layout_score")
    return float(score) if score is not None else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the summary JSON as the last line")
    parser.add_argument("--video-s", type=float, default=6.0, help="seconds of video per page")
    args = parser.parse_args()

    registry = default_registry()
    generate, render, record = (registry.get(n) for n in ("generate_html", "render_page", "record_page_video"))
    store = ArtifactStore(tempfile.mkdtemp(prefix="mmagent-bench-"))
    ctx = ToolContext(store, step_id="bench")

    warm = store.put_text("<h1>warm up</h1>", "html")
    start = time.perf_counter()
    render.run(ctx, {"html": warm}, render.validate_params({}))
    print(f"browser start + first render: {time.perf_counter() - start:.2f} s")

    render_times: list[float] = []
    video_rates: list[float] = []
    scores: list[float] = []
    for name, layout in SAMPLE_LAYOUTS.items():
        source = store.put_json(layout.model_dump(mode="json"), "layout")
        page = generate.run(ctx, {"layout": source}, generate.validate_params({})).outputs["html"]
        start = time.perf_counter()
        rendered = render.run(ctx, {"html": page}, render.validate_params({}))
        render_times.append(time.perf_counter() - start)
        score = _layout_score(registry, ctx, source, rendered.outputs["layout"])
        if score is not None:
            scores.append(score)
        start = time.perf_counter()
        video = record.run(ctx, {"html": page}, record.validate_params({"duration_s": args.video_s}))
        wall = time.perf_counter() - start
        video_rates.append(wall / video.metrics["duration_s"])
        print(f"{name}: render {render_times[-1]:.2f} s, layout_score {score}, video {video.metrics['duration_s']} s "
              f"in {wall:.2f} s (encode {video.metrics['encode_s']} s), blank_frames {video.metrics['blank_frames']}")

    summary = {
        "render_s": round(statistics.median(render_times), 3),
        "video_s_per_output_s": round(statistics.mean(video_rates), 3),
        "page_layout_score": round(statistics.mean(scores), 3) if scores else None,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(summary)


if __name__ == "__main__":
    main()
