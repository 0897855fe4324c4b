"""Benchmark the main job on real wireframes: sketch -> landing page -> narrated video, end to end, scored.

Usage:
    python benchmarks/sketch_to_page.py --data DIR [--skip N] [--limit N] [--keep DIR] [--planner auto] [--json]

``DIR`` is laid out like ``../shared/data/sketches`` (``annotations.json`` + ``images/``), or is a folder of bare
images (like ``../shared/data/wireframes``). For every image, one run of the main job (the task below, with
``Agent(planner=...)``), then:

- ``page_f1``: the rendered page's DOM elements (``render_page``'s layout) against the sketch's gold boxes,
  class-agnostic F1 at IoU >= 0.5, both normalised to their content box (the union of their leaf boxes), since a
  page laid out at 1280 px and a photo with margins differ in scale and offset. ``null`` without annotations;
- ``role_accuracy``: of the matched pairs, the share whose page role is the gold class;
- ``text_filled``: of the page's text elements (headings, paragraphs, labels, links, buttons), the share that
  holds a word (:func:`tools._page_content.content_metrics`), over all pages rendered;
- ``success_rate``, ``hangs`` (a run stopped at the safety limit of 20x the first run and at least 300 s, or one
  that stalled: 30 s and more with no step starting or finishing and no model being loaded, where the slowest step
  takes about 10 s; a run that is only slow, loading models first or working through its replans, is not a
  hang), ``failed`` (each with the image and the reason), ``mean_s`` (wall time per run) and ``max_s``.

Progress goes to stderr; the last line of stdout is
``{"page_f1", "role_accuracy", "text_filled", "success_rate", "hangs", "failed", "images", "mean_s"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# this folder is not a package root: a benchmark named like a library (requests.py) must not shadow it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from modalities.layout import LEAF_ROLES, Layout  # noqa: E402

TASK = "Turn this hand-drawn wireframe into a landing page and make a short narrated video of it"
_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
Rect = tuple[float, float, float, float]


def normalise(boxes: list[Rect]) -> list[Rect]:
    """Boxes as fractions of their content box (the union of all of them).

    Example:
        >>> normalise([(0.2, 0.2, 0.2, 0.2), (0.4, 0.4, 0.2, 0.2)])
        [(0.0, 0.0, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)]
    """
    if not boxes:
        return []
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    w = max(max(b[0] + b[2] for b in boxes) - x0, 1e-6)
    h = max(max(b[1] + b[3] for b in boxes) - y0, 1e-6)
    return [((b[0] - x0) / w, (b[1] - y0) / h, b[2] / w, b[3] / h) for b in boxes]


def page_score(page: Layout, gold: list[tuple[str, Rect]]) -> dict[str, int]:
    """Matches of the page's leaves to the gold boxes: tp, fp, fn, and how many matched pairs agree on the role."""
    from benchmarks.sketch_detection import match

    leaves = [e for e in page.leaves() if e.box[2] > 0 and e.box[3] > 0]
    pred = list(zip([e.role for e in leaves], normalise([e.box for e in leaves]), strict=True))
    ref = list(zip([g[0] for g in gold], normalise([g[1] for g in gold]), strict=True))
    pairs = match(pred, ref)
    return {"tp": len(pairs), "fp": len(pred) - len(pairs), "fn": len(ref) - len(pairs),
            "roles": sum(1 for i, j in pairs if pred[i][0] == ref[j][0])}


_STALL_S = 30.0


def _longest_silence(run_dir: Path) -> float:
    """The longest stretch of a run, in seconds, in which no event was logged (no step started or finished), not
    counting the stretches that a ``model_loading`` event opened: a model loading, or the planner reading its
    tool catalogue the first time, is slow, not stuck (the run's time limit still stops one that never ends)."""
    events = []
    for line in (Path(run_dir) / "events.jsonl").read_text().splitlines():
        try:
            event = json.loads(line)
            events.append((float(event["t"]), event.get("kind")))
        except (ValueError, KeyError, TypeError):
            continue
    gaps = (b[0] - a[0] for a, b in zip(events, events[1:], strict=False) if a[1] != "model_loading")
    return round(max(gaps, default=0.0), 2)


def _rendered_layout(result: Any, home: Path) -> Layout | None:
    """The layout ``render_page`` read from the page's DOM in this run, if a render step finished."""
    from modalities.store import ArtifactStore

    records = (result.state or {}).get("results") or {}
    store = ArtifactStore(home / "store")
    for record in records.values():
        if record.get("tool") != "render_page" or record.get("status") != "succeeded":
            continue
        art = (record.get("outputs") or {}).get("layout")
        if art:
            return Layout.model_validate(store.read_json(art))
    return None


def _images(data: Path) -> tuple[list[tuple[Path, list[tuple[str, Rect]] | None]], bool]:
    ann = data / "annotations.json"
    if ann.is_file():
        items = json.loads(ann.read_text())
        out = []
        for item in items:
            image = next((p for p in (data / "images").glob(f"{item['id']}.*") if p.suffix.lower() in _SUFFIXES),
                         None)
            if image is not None:
                gold = [(g["label"], (g["left"], g["top"], g["width"], g["height"])) for g in item["elements"]
                        if g["label"] in LEAF_ROLES]
                out.append((image, gold))
        return out, True
    folder = data / "images" if (data / "images").is_dir() else data
    return [(p, None) for p in sorted(folder.iterdir()) if p.suffix.lower() in _SUFFIXES], False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sketches")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N images")
    parser.add_argument("--limit", type=int, default=None, help="only N images (after --skip)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the runs (pages, videos) under this folder")
    parser.add_argument("--planner", default="auto")
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    args = parser.parse_args(argv)
    if args.skip < 0 or (args.limit is not None and args.limit < 1):
        parser.error(f"--skip {args.skip} --limit {args.limit}: --skip takes 0 or more images, --limit 1 or more")

    from agent import Agent
    from agent.executor import LocalExecutor
    from tools._page_content import content_metrics

    images, annotated = _images(args.data)
    images = images[args.skip:][: args.limit]
    if not images:
        raise SystemExit(f"no images in {str(args.data)!r}")
    executor = LocalExecutor()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp)
        limit: float | None = None
        for n, (image, gold) in enumerate(images, 1):
            agent = Agent(planner=args.planner, home=home, executor=executor, run_timeout_s=limit)
            started = time.monotonic()
            try:
                result = agent.run(TASK, {"sketch": image})
                status, error = result.status, result.error or ""
            except Exception as exc:  # a crash of the job is a failure to count, not the end of the benchmark
                result, status, error = None, "failed", f"{type(exc).__name__}: {exc}"
            wall = time.monotonic() - started
            if limit is None:
                limit = max(300.0, 20 * wall)
            page = _rendered_layout(result, home) if result is not None else None
            row: dict[str, Any] = {"image": image.name, "status": status, "wall_s": round(wall, 2),
                                   "timed_out": "run time limit" in error, "error": error[:200],
                                   "stall_s": _longest_silence(result.run_dir) if result is not None else wall}
            if page is not None:
                content = content_metrics(page)
                row["text_filled"], row["text_elements"] = content["text_filled"], content["text_elements"]
                if gold is not None:
                    row.update(page_score(page, gold))
            elif gold is not None:
                row.update({"tp": 0, "fp": 0, "fn": len(gold), "roles": 0})
            rows.append(row)
            figures = f"tp {row.get('tp', '-')} fp {row.get('fp', '-')} fn {row.get('fn', '-')}" if gold else ""
            kept = f" {result.run_dir}" if args.keep and result is not None else ""
            print(f"{n:>3}/{len(images)} {image.name[:40]:<40} {status:<9} {wall:>6.1f} s "
                  f"text_filled {row.get('text_filled', '-')} {figures} {error[:80]}{kept}", file=sys.stderr,
                  flush=True)
    walls = [r["wall_s"] for r in rows]
    hangs = sum(1 for r in rows if r["timed_out"] or r["stall_s"] >= _STALL_S)
    failed = [{"image": r["image"], "reason": r["error"] or r["status"]} for r in rows if r["status"] != "succeeded"]
    page_f1 = role_accuracy = None
    if annotated:
        tp, fp, fn = (sum(r.get(k, 0) for r in rows) for k in ("tp", "fp", "fn"))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        page_f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
        role_accuracy = round(sum(r.get("roles", 0) for r in rows) / tp, 4) if tp else 0.0
    filled = [r for r in rows if "text_filled" in r]
    total = sum(r["text_elements"] for r in filled)
    text_filled = (round(sum(r["text_filled"] * r["text_elements"] for r in filled) / total, 4) if total
                   else None)
    print(json.dumps({"page_f1": page_f1, "role_accuracy": role_accuracy, "text_filled": text_filled,
                      "success_rate": round(sum(r["status"] == "succeeded" for r in rows) / len(rows), 4),
                      "hangs": hangs, "failed": failed, "images": len(rows),
                      "mean_s": round(sum(walls) / len(walls), 2), "max_s": max(walls)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
