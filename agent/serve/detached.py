"""The background process of ``agent run --detach`` when no server is set: it runs one prepared run directory and
exits. ``agent cancel`` sends it SIGTERM, which cancels the run (its finished steps stay in the journal).

Run as ``python -m agent.serve.detached RUN_DIR '{"max_replans": 3, ...}'``; :func:`spawn` starts it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent.serve.rundir import DETACHED, TERMINAL, RunLock, mark_ended, read_json

__all__ = ["spawn", "main"]


def spawn(run_dir: Path, options: dict[str, Any]) -> int:
    """Start the background process for ``run_dir`` in its own session (it outlives the terminal); its output goes
    to ``run_dir/detached.log``. Returns its pid."""
    log = open(run_dir / "detached.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "agent.serve.detached", str(run_dir), json.dumps(options)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    (run_dir / DETACHED).write_text(json.dumps({"pid": proc.pid}))  # queued, not abandoned, until it starts
    return proc.pid


def main(argv: list[str]) -> int:
    from agent import Agent
    from modalities.settings import Settings
    from modalities.store import ArtifactStore

    run_dir = Path(argv[0])
    options = json.loads(argv[1]) if len(argv) > 1 else {}
    overrides = options.pop("settings", None) or {}  # the command line's, over this environment
    lock = RunLock(run_dir, "detached")
    if not lock.acquire():
        print(f"run {run_dir.name} is already running", file=sys.stderr)
        return 2
    if (read_json(run_dir / "summary.json") or {}).get("status") in TERMINAL:
        lock.release()
        return 0  # cancelled before it started
    meta = read_json(run_dir / "run.json") or {}
    try:
        agent = Agent(planner=meta.get("planner_spec") or "auto", tools=meta.get("tools"),
                      runs_dir=run_dir.parent, store=ArtifactStore(meta["store"]),
                      approve=bool(meta.get("approve")), settings=Settings(**overrides), **options)
        signal.signal(signal.SIGTERM, lambda signum, frame: agent.cancel(run_dir.name))
        result = agent.resume(run_dir.name)
    except Exception as exc:  # noqa: BLE001 - no terminal to show it: the run ends failed and says why
        mark_ended(run_dir, "failed", f"{type(exc).__name__}: {exc}")
        raise
    finally:
        lock.release()
    return 1 if result.status == "failed" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
