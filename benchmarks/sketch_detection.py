"""Benchmark ``analyze_sketch`` on annotated sketches: detection precision/recall at IoU >= 0.5 and class accuracy.

Reads a folder laid out like ``shared/data/sketches`` (``annotations.json`` + ``images/``). Leaf elements of the
layout are matched one-to-one to the gold boxes, greedily by IoU. Prints a per-class table, then on the last line
of stdout one JSON object.

Example:
    .venv/bin/python benchmarks/sketch_detection.py --limit 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "sketches"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="end with one JSON line (always printed last)")
    parser.add_argument("--verbose", action="store_true", help="one line per image")
    args = parser.parse_args(argv)

    from tools.vision.sketch import _load_ocr, analyze_sketch_image, load_sketch

    data = Path(args.data)
    items = json.loads((data / "annotations.json").read_text())[: args.limit]
    ocr, _ = _load_ocr()
    tp = fp = fn = correct = 0
    per_class: Counter[str] = Counter()
    gold_per_class: Counter[str] = Counter()
    pred_per_class: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    seconds: list[float] = []
    for item in items:
        image = next(p for p in (data / "images").glob(f"{item['id']}.*"))
        start = time.perf_counter()
        layout, _ = analyze_sketch_image(load_sketch(image), ocr)
        seconds.append(time.perf_counter() - start)
        pred = [(e.role, e.box) for e in Layout.model_validate(layout).leaves()]
        gold = [(g["label"], (g["left"], g["top"], g["width"], g["height"])) for g in item["elements"]]
        pairs = match(pred, gold)
        tp += len(pairs)
        fp += len(pred) - len(pairs)
        fn += len(gold) - len(pairs)
        for i, j in pairs:
            confusion[(gold[j][0], pred[i][0])] += 1
            if pred[i][0] == gold[j][0]:
                correct += 1
                per_class[gold[j][0]] += 1
        gold_per_class.update(g[0] for g in gold)
        pred_per_class.update(p[0] for p in pred)
        if args.verbose:
            print(f"{item['id'][:8]} gold {len(gold):2d} pred {len(pred):2d} matched {len(pairs):2d} "
                  f"{seconds[-1]:.2f}s", file=sys.stderr)
    print(f"{'class':<12} {'gold':>5} {'pred':>5} {'right':>6}  most confused with", file=sys.stderr)
    for cls in LEAF_ROLES:
        wrong = [(p, n) for (g, p), n in confusion.most_common() if g == cls and p != cls][:2]
        print(f"{cls:<12} {gold_per_class[cls]:>5} {pred_per_class[cls]:>5} {per_class[cls]:>6}  {wrong}",
              file=sys.stderr)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
              "class_accuracy": round(correct / tp, 4) if tp else 0.0, "images": len(items),
              "mean_s": round(sum(seconds) / len(seconds), 3) if seconds else 0.0}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
