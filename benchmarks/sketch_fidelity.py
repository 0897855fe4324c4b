"""Can ``sketch_fidelity`` tell a faithful page from the broken ones users saw? Measured on annotated sketches.

For every sketch of a folder laid out like ``shared/data/sketches`` (``annotations.json`` + ``images/``), three
pages are built from the annotators' own boxes, so none depends on ``analyze_sketch``:

- ``good``: every annotated element in place, holding words as a rendered page's would (a control its label);
- ``dropped``: the same without its text elements (headings, paragraphs, labels, links): the issue's lost squiggles;
- ``shell``: every element in place but none says anything (text became empty boxes): the issue's empty shell.

Each page is compared with the sketch's ink (:func:`tools.vision.sketch_fidelity.compare_page_to_ink`; the layout
itself, not a render, so it runs in seconds). A judge that can fail on what users see passes ``good`` (coverage
>= 0.8, agreement >= 0.7) and fails ``dropped`` on coverage or ``shell`` on agreement. Prints a table, then on the
last line of stdout one JSON object: per page, min/mean of coverage and agreement, and how many pass.

``--perturb`` (half-size, faint, upside-down, whiteboard) judges the same pages against each photo changed as
users' photos are, as in ``benchmarks/sketch_detection.py``. Every photo is read as the tool reads it, turned the
way its writing reads first.

Example:
    .venv/bin/python benchmarks/sketch_fidelity.py --json
    .venv/bin/python benchmarks/sketch_fidelity.py --perturb faint --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# this folder is not a package root: a benchmark named like a library (requests.py) must not shadow it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]
sys.path.insert(0, str(ROOT))

from benchmarks.sketch_detection import PERTURBATIONS  # noqa: E402
from modalities.layout import Layout, LayoutElement  # noqa: E402

TEXT_ROLES = {"Heading", "Paragraph", "Label", "Link"}
# the words a faithful page shows on each kind of element (a control's label or placeholder as well)
_WORDS = {"Heading": "Welcome aboard", "Paragraph": "Plans for every team", "Label": "Your name",
          "Link": "Read more", "Button": "Start now", "CheckBox": "Option", "RadioButton": "Choice",
          "ComboBox": "Choose one", "TextBox": "Your email"}


def gold_page(item: dict[str, Any]) -> Layout:
    """The annotated sketch as a page layout, each text element labelled with words (as a page would be)."""
    return Layout(width=item["width"], height=item["height"], elements=[
        LayoutElement(role=e["label"], box=(e["left"], e["top"], e["width"], e["height"]),
                      text=_WORDS.get(e["label"], "")) for e in item["elements"]])


def without_text(layout: Layout) -> Layout:
    """The page with its text elements dropped."""
    return layout.model_copy(update={"elements": [e for e in layout.elements if e.role not in TEXT_ROLES]})


def shell(layout: Layout) -> Layout:
    """Every element in place but none says anything: text and controls became empty boxes."""
    return layout.model_copy(update={"elements": [
        e.model_copy(update={"role": "TextBox", "text": ""}) if e.role != "Image" else e
        for e in layout.elements]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "sketches")
    parser.add_argument("--json", action="store_true", help="(the last line is always JSON)")
    parser.add_argument("--perturb", choices=sorted(PERTURBATIONS), default=None,
                        help="judge against each photo changed this way (half its size, 0.45x contrast, turned over)")
    args = parser.parse_args(argv)

    from tools.vision._ink import read_ink
    from tools.vision.sketch import _load_ocr, load_sketch, turned_upright
    from tools.vision.sketch_fidelity import compare_page_to_ink

    # the photo is read as the tool reads it: turned the way its writing reads first (a photo taken upside down
    # is judged upright, as the page built from it is)
    ocr, _ = _load_ocr()

    items = json.loads((args.data / "annotations.json").read_text())
    pages = {"good": gold_page, "dropped": lambda i: without_text(gold_page(i)), "shell": lambda i: shell(gold_page(i))}
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for item in items:
        image = next(p for p in (args.data / "images").glob(f"{item['id']}.*"))
        bgr = load_sketch(image)
        photo, _ = turned_upright(PERTURBATIONS[args.perturb](bgr) if args.perturb else bgr, ocr)
        reading = read_ink(photo)
        for name, make in pages.items():
            r = compare_page_to_ink(reading, make(item))
            scores[name].append((r["ink_coverage"], r["role_agreement"]))
        print(f"{item['id'][:8]} regions {len(reading.regions):>3} " + " ".join(
            f"{n} {scores[n][-1][0]:.2f}/{scores[n][-1][1]:.2f}" for n in pages), file=sys.stderr)
    summary: dict[str, Any] = {"sketches": len(items), "perturb": args.perturb}
    print(f"{'page':<8} {'coverage min/mean':>18} {'agreement min/mean':>19} {'pass':>5}")
    for name, rows in scores.items():
        cover, agree = [c for c, _ in rows], [a for _, a in rows]
        passed = sum(1 for c, a in rows if c >= 0.8 and a >= 0.7)
        summary[name] = {"coverage_min": min(cover), "coverage_mean": round(statistics.mean(cover), 3),
                         "agreement_min": min(agree), "agreement_mean": round(statistics.mean(agree), 3),
                         "passed": passed}
        print(f"{name:<8} {min(cover):>8.2f} / {statistics.mean(cover):<7.3f} {min(agree):>8.2f} / "
              f"{statistics.mean(agree):<8.3f} {passed:>5}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
