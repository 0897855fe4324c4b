"""Benchmark ``analyze_sketch`` on annotated sketches: detection precision/recall at IoU >= 0.5 and class accuracy.

Reads a folder laid out like ``shared/data/sketches`` (``annotations.json`` + ``images/``). Leaf elements of the
layout are matched one-to-one to the gold boxes, greedily by IoU. Prints a per-class table, then on the last line
of stdout one JSON object.

Honest figures: the analyser is a set of hand-made rules, so the images its author looked at while writing them
must not be the ones that score it. Images are dealt into ``--folds`` folds by a seeded hash of their id (sorted by
hash, dealt in turn, so the folds are even); ``--split dev`` is every fold but the first, ``--split held-out`` the
first. Rules are tuned on ``dev`` only and the ``held-out`` figure is the one to report. ``--cv`` prints the figures
of every fold, to show how much they spread.

``--perturb`` reads every photo changed as users' photos are (half size, faint, upside down, or redrawn in green
marker on a whiteboard with a lamp's glare over its top-left quarter) to show how the figures hold up.

Example:
    .venv/bin/python benchmarks/sketch_detection.py --split held-out --json
    .venv/bin/python benchmarks/sketch_detection.py --split dev --perturb faint --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# this folder is not a package root: a benchmark named like a library (requests.py) must not shadow it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from modalities.layout import LEAF_ROLES, Layout  # noqa: E402
from tools.vision.layout_similarity import greedy_pairs  # noqa: E402

Rect = tuple[float, float, float, float]


def iou(a: Rect, b: Rect) -> float:
    """Intersection over union of two [x, y, w, h] boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def match(pred: list[tuple[str, Rect]], gold: list[tuple[str, Rect]], threshold: float = 0.5
          ) -> list[tuple[int, int]]:
    """One-to-one (pred index, gold index) pairs with IoU >= threshold, taken greedily by IoU."""
    return greedy_pairs(((iou(p[1], g[1]), i, j) for i, p in enumerate(pred) for j, g in enumerate(gold)),
                        threshold)


def _half(bgr: Any) -> Any:
    import cv2

    return cv2.resize(bgr, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)


def _faint(bgr: Any) -> Any:
    import numpy as np

    return np.clip(255 - 0.45 * (255 - bgr.astype(np.float32)), 0, 255).astype(np.uint8)


def _upside_down(bgr: Any) -> Any:
    import cv2

    return cv2.rotate(bgr, cv2.ROTATE_180)


def _whiteboard(bgr: Any) -> Any:
    """Drawn in a green marker on a whiteboard: the ink's darkness kept as the marker's colour over a grey-blue
    board, with the glare of a lamp over the top-left quarter washing the strokes out there."""
    import cv2
    import numpy as np

    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    # darkness against the paper around each stroke (the brightest grey nearby), so the paper itself is board
    paper = cv2.GaussianBlur(cv2.dilate(gray, np.ones((25, 25), np.uint8)), (0, 0), 10)
    dark = np.clip(1.4 * (1 - gray / np.maximum(paper, 1)), 0, 1)[..., None]
    board = np.array([236, 232, 226], np.float32)
    marker = np.array([70, 140, 30], np.float32)
    out = board * (1 - dark) + marker * dark
    h, w = gray.shape
    yy, xx = np.mgrid[0:h, 0:w]
    glare = 0.55 * np.exp(-(((xx - 0.25 * w) / (0.3 * w)) ** 2 + ((yy - 0.25 * h) / (0.3 * h)) ** 2))
    out = out + (255 - out) * glare[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


PERTURBATIONS = {"half-size": _half, "faint": _faint, "upside-down": _upside_down, "whiteboard": _whiteboard}
"""How else the same sketches reach a user: photographed smaller, in pencil or over-exposed, upside down, drawn on
a whiteboard. The analyser reads a photo upright, so the gold boxes stay as they are."""

SEED = "mmagent-sketch-cv"


def folds(ids: list[str], k: int, seed: str = SEED) -> dict[str, int]:
    """Fold of each image id: ids sorted by a seeded hash, dealt into ``k`` folds in turn.

    Example:
        >>> sorted(folds(["a", "b", "c", "d"], 2).values())
        [0, 0, 1, 1]
    """
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    return {i: rank % k for rank, i in enumerate(ranked)}


def score(per_image: list[dict]) -> dict:
    """Precision, recall, F1 and class accuracy summed over images' match counts."""
    tp = sum(r["tp"] for r in per_image)
    fp = sum(r["fp"] for r in per_image)
    fn = sum(r["fn"] for r in per_image)
    correct = sum(r["correct"] for r in per_image)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "class_accuracy": round(correct / tp, 4) if tp else 0.0, "images": len(per_image)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "sketches"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--split", choices=("all", "dev", "held-out"), default="all",
                        help="which images: all, the dev folds (tune on these), or the held-out fold (report it)")
    parser.add_argument("--folds", type=int, default=5, help="number of folds the images are dealt into")
    parser.add_argument("--cv", action="store_true", help="also print the figures of each fold (stderr)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line (always printed last)")
    parser.add_argument("--verbose", action="store_true", help="one line per image")
    parser.add_argument("--perturb", choices=sorted(PERTURBATIONS), default=None,
                        help="read each photo changed this way (half its size, 0.45x contrast, turned over, "
                             "green marker on a glaring whiteboard)")
    args = parser.parse_args(argv)

    from tools.vision.sketch import _load_ocr, analyze_sketch_image, load_sketch

    data = Path(args.data)
    items = json.loads((data / "annotations.json").read_text())
    fold = folds([it["id"] for it in items], args.folds)
    if args.split != "all":
        items = [it for it in items if (fold[it["id"]] == 0) == (args.split == "held-out")]
    items = items[: args.limit]
    ocr, _ = _load_ocr()
    per_image: list[dict] = []
    per_class: Counter[str] = Counter()
    gold_per_class: Counter[str] = Counter()
    pred_per_class: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    seconds: list[float] = []
    for item in items:
        image = next(p for p in (data / "images").glob(f"{item['id']}.*"))
        start = time.perf_counter()
        bgr = load_sketch(image)
        layout, _ = analyze_sketch_image(PERTURBATIONS[args.perturb](bgr) if args.perturb else bgr, ocr)
        seconds.append(time.perf_counter() - start)
        leaves = Layout.model_validate(layout).leaves()
        pred = [(e.role, e.box) for e in leaves]
        gold = [(g["label"], (g["left"], g["top"], g["width"], g["height"])) for g in item["elements"]]
        pairs = match(pred, gold)
        correct = 0
        for i, j in pairs:
            confusion[(gold[j][0], pred[i][0])] += 1
            if pred[i][0] == gold[j][0]:
                correct += 1
                per_class[gold[j][0]] += 1
        per_image.append({"id": item["id"], "fold": fold[item["id"]], "tp": len(pairs),
                          "fp": len(pred) - len(pairs), "fn": len(gold) - len(pairs), "correct": correct})
        gold_per_class.update(g[0] for g in gold)
        pred_per_class.update(p[0] for p in pred)
        if args.verbose:
            unmatched = sorted(set(range(len(pred))) - {i for i, _ in pairs})
            print(f"{item['id'][:8]} gold {len(gold):2d} pred {len(pred):2d} matched {len(pairs):2d} "
                  f"{seconds[-1]:.2f}s extra {[(leaves[i].role, leaves[i].kind) for i in unmatched]}",
                  file=sys.stderr)
    print(f"{'class':<12} {'gold':>5} {'pred':>5} {'right':>6}  most confused with", file=sys.stderr)
    for cls in LEAF_ROLES:
        wrong = [(p, n) for (g, p), n in confusion.most_common() if g == cls and p != cls][:2]
        print(f"{cls:<12} {gold_per_class[cls]:>5} {pred_per_class[cls]:>5} {per_class[cls]:>6}  {wrong}",
              file=sys.stderr)
    if args.cv:
        for k in range(args.folds):
            part = [r for r in per_image if r["fold"] == k]
            if part:
                print(f"fold {k}{' (held out)' if k == 0 else ''}: {json.dumps(score(part))}", file=sys.stderr)
    result = {**score(per_image), "split": args.split, "perturb": args.perturb,
              "mean_s": round(sum(seconds) / len(seconds), 3) if seconds else 0.0}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
