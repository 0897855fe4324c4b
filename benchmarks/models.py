"""Benchmark the models that are present: load time, first-inference time, and size on disk.

Each model loads in a fresh process (a model loaded once in this process would be warm for the next, and
libraries imported by one would make another's load look faster), then runs the same one tiny inference as
``agent models verify``. Absent models are listed as absent (``agent models pull NAME`` fetches them). Figures are
for this machine's device (``MMAGENT_DEVICE``, default auto: the CPU when no GPU is present).

Prints one line per model, then on the last line of stdout
``{"device": ..., "models": {name: {"load_s", "first_s", "bytes"}}, "absent": [...]}``.

Example:
    .venv/bin/python benchmarks/models.py --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# run as a script, this folder is first on sys.path, where requests.py would hide the requests package
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_CHILD = """
import json, sys
from agent.model_catalog import timed_load
_, load_s, first_s = timed_load(sys.argv[1])
print(json.dumps({"load_s": round(load_s, 3), "first_s": round(first_s, 3)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="models to measure (default: every present one)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line (always printed last)")
    args = parser.parse_args(argv)

    from agent.model_catalog import MODEL_NAMES, model_info
    from tools.devices import resolve_device

    names = args.names or [n for n in MODEL_NAMES if n != "copy"]  # copy is the planner's model by default
    results: dict[str, dict[str, float | int | None]] = {}
    absent: list[str] = []
    for name in names:
        info = model_info(name)
        if not info.present:
            absent.append(name)
            print(f"{name}: absent ({info.note})", file=sys.stderr)
            continue
        proc = subprocess.run([sys.executable, "-c", _CHILD, name], capture_output=True, text=True, cwd=ROOT,
                              timeout=900, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{name}: failed: {tail}", file=sys.stderr)
            results[name] = {"load_s": None, "first_s": None, "bytes": info.bytes, "error": tail}  # type: ignore
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        results[name] = {**row, "bytes": info.bytes}
        print(f"{name}: {info.model}: load {row['load_s']} s, first inference {row['first_s']} s, "
              f"{(info.bytes or 0) / 2**20:.0f} MiB", file=sys.stderr)
    try:
        device = resolve_device()
    except Exception as exc:  # noqa: BLE001 - a bad MMAGENT_DEVICE is reported, the figures still print
        device = f"error: {exc}"
    summary = {"device": device, "models": results, "absent": absent}
    print(json.dumps(summary) if args.json else json.dumps(summary, indent=1))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
