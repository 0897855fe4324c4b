"""The HTML run report: one self-contained file (inline CSS and SVG, media by relative path, no CDN).

Built from the run's files only (``run.json``, ``events.jsonl``, ``summary.json``, the checkpoint's final state
through the journal), so it can be rebuilt for any run, finished or not. This module gathers the data; the page is
``agent/templates/report.html.j2``, rendered by Jinja2 with autoescape on, so a task text, file name, tool message or
OCR'd word always reaches the page as text. The plan graph is drawn here, where its layout is easier to compute, and
escapes each of its labels through ``Markup.format``.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.events import read_events
from agent.journal import StepJournal
from modalities.artifacts import Artifact
from modalities.errors import StoreError
from modalities.store import ArtifactStore

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

__all__ = ["write_report", "plan_svg"]

_COLORS = {"succeeded": "#2e8b57", "failed": "#c0392b", "pending": "#999", "replaced": "#b9770e"}
_TEXT_SHOWN = 4000  # characters of a text or HTML output shown inline; the file itself is linked or kept


def plan_svg(plan: dict[str, Any], statuses: dict[str, str], changed: frozenset[str] | set[str] = frozenset()
             ) -> Markup:
    """The plan as an SVG graph: steps in dependency layers, left to right, arrows for references.

    Args:
        plan: A plan as JSON (``steps`` with ``id``, ``tool``, ``inputs`` and ``params``).
        statuses: Step id to status; a step not in it is drawn as pending.
        changed: Steps a replan touched, drawn dashed in amber so that plans before and after read as a diff.

    Returns:
        The ``<svg>`` element as ``Markup``: every step id, tool name and param in it is escaped.

    Example:
        >>> svg = plan_svg({"steps": [{"id": "<script>", "tool": "emit"}]}, {})
        >>> "<script>" in svg, "&lt;script&gt;" in svg
        (False, True)
    """
    from markupsafe import Markup

    from planners.param_refs import param_refs

    steps = plan.get("steps", [])
    ids = [s["id"] for s in steps]
    made = {s["id"]: {r.split(".", 1)[0] for r in s.get("inputs", {}).values() if not r.startswith("input:")}
            for s in steps}
    # a step whose output another step reads into a param (a transcript as captions) is drawn dashed
    valued = {s["id"]: {r.split(".", 1)[0] for r in param_refs(s.get("params") or {}).values()
                        if not r.startswith("input:")} for s in steps}
    deps = {sid: sorted((made[sid] | valued[sid]) & set(ids)) for sid in ids}
    layer: dict[str, int] = {}
    for _ in range(len(ids) + 1):
        for sid in ids:
            layer[sid] = 1 + max((layer.get(d, 0) for d in deps[sid]), default=-1)
    columns: dict[int, list[str]] = {}
    for sid in ids:
        columns.setdefault(layer[sid], []).append(sid)
    w, h, gx, gy = 170, 58, 60, 22
    top = 70  # room for edges that arc over the first row
    pos = {sid: (20 + col * (w + gx), top + row * (h + gy))
           for col, members in columns.items() for row, sid in enumerate(members)}
    width = 40 + (max(columns, default=0) + 1) * (w + gx)
    height = top + 20 + max((len(m) for m in columns.values()), default=1) * (h + gy)
    dashed = Markup(' stroke-dasharray="5 3"')
    parts = [Markup('<svg class="plan-graph" width="{0}" height="{1}" viewBox="0 0 {0} {1}"><defs><marker '
                    'id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path '
                    'd="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>').format(width, height)]
    for sid in ids:
        for d in deps[sid]:
            (x1, y1), (x2, y2) = pos[d], pos[sid]
            sx, sy, ex, ey = x1 + w, y1 + h / 2, x2, y2 + h / 2
            span = layer[sid] - layer[d]
            cls, dash = ("edge", "") if d in made[sid] else ("edge param", dashed)
            if span > 1:  # an edge that skips layers arcs above the boxes in between instead of hiding behind them
                lift = 18 * span + h / 2
                parts.append(Markup('<path class="{}"{} d="M{},{} C{},{} {},{} {},{}" fill="none" stroke="#555" '
                                    'marker-end="url(#arrow)"/>').format(cls, dash, sx, sy, sx + 50, sy - lift,
                                                                         ex - 50, ey - lift, ex, ey))
            else:
                parts.append(Markup('<line class="{}"{} x1="{}" y1="{}" x2="{}" y2="{}" stroke="#555" '
                                    'marker-end="url(#arrow)"/>').format(cls, dash, sx, sy, ex, ey))
    for s in steps:
        x, y = pos[s["id"]]
        touched = s["id"] in changed
        color = _COLORS["replaced"] if touched else _COLORS.get(statuses.get(s["id"], "pending"), "#999")
        refs = param_refs(s.get("params") or {})
        params = ", ".join(f"{k}←{refs[k]}" if k in refs else f"{k}={v}" for k, v in (s.get("params") or {}).items())
        params = params if len(params) <= 26 else params[:25] + "…"  # cut before escaping, never inside an entity
        parts.append(Markup(
            '<g class="node" data-step="{sid}"><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#fff" '
            'stroke="{color}" stroke-width="2"{dash}/><text x="{tx}" y="{y1}" font-size="13" font-weight="600">'
            '{sid}</text><text x="{tx}" y="{y2}" font-size="11" fill="#555">{tool}</text><text x="{tx}" y="{y3}" '
            'font-size="10" fill="#8a6d1f">{params}</text></g>'
        ).format(sid=s["id"], x=x, y=y, w=w, h=h, color=color, dash=Markup(' stroke-dasharray="6 3"') if touched
                 else "", tx=x + 8, y1=y + 19, y2=y + 35, y3=y + 50, tool=s["tool"], params=params))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _media(art: dict[str, Any], store: ArtifactStore, media_dir: Path, run_dir: Path) -> dict[str, Any]:
    """How the template shows one artifact: a picture or player for media (linked into ``media/`` so the report
    folder is self-contained), a text view for the rest."""
    a = Artifact.from_state(art)
    try:
        src = store.path(a)
    except StoreError:
        return {"view": "missing", "label": f"{a.kind} {a.short_id}"}
    if a.kind in ("image", "audio", "video"):
        target = media_dir / f"{a.id[:16]}{a.extension}"
        if not target.exists():
            try:
                os.link(src, target)
            except OSError:
                shutil.copyfile(src, target)
        return {"view": a.kind, "src": os.path.relpath(target, run_dir), "alt": a.meta.get("output", "image")}
    text = src.read_text(encoding="utf-8", errors="replace")
    if a.kind == "layout":
        try:
            return {"view": "layout", "elements": json.loads(text).get("elements", [])}
        except json.JSONDecodeError:
            return {"view": "text", "text": text[:_TEXT_SHOWN]}
    if a.kind == "html":
        return {"view": "html", "size": f"{a.size:,}", "href": os.path.relpath(src, run_dir),
                "text": text[:_TEXT_SHOWN]}
    return {"view": "text", "text": text if len(text) <= _TEXT_SHOWN else text[:_TEXT_SHOWN] + "\n..."}


def _requirements(checked: list[dict[str, Any]], planned: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The request's requirements, each with its verdict on the deliverables and the evidence ('not checked' when
    the run ended before its acceptance)."""
    by_text = {r["text"]: r for r in checked}
    rows = []
    for req in planned or checked:
        got = by_text.get(req["text"])
        rows.append({"text": req["text"], "verdict": "not checked" if got is None else "met" if got["passed"]
                     else "NOT met", "css": "" if got is None else "pass" if got["passed"] else "fail",
                     "evidence": (got or {}).get("evidence", "")})
    return rows


def _executions(run_dir: Path) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Each step's last execution record, and the earlier ones that a retry or replan replaced."""
    records: dict[str, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    if (run_dir / "journal.sqlite").exists():
        journal = StepJournal(run_dir / "journal.sqlite")
        try:
            rows = journal._conn.execute("SELECT step_id, record FROM executions WHERE record IS NOT NULL "
                                         "ORDER BY id").fetchall()
        finally:
            journal.close()
        for step_id, raw in rows:
            if step_id in records:
                history.append(records[step_id])
            records[step_id] = json.loads(raw)
    return records, history


@functools.cache
def _environment() -> jinja2.Environment:
    # imported here: `import agent` and the CLI's start never pay for Jinja2
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("agent", "templates"), undefined=jinja2.StrictUndefined,
                              autoescape=jinja2.select_autoescape(("html", "html.j2"), default=True),
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def write_report(run_dir: Path, store: ArtifactStore) -> Path:
    """Write ``report.html`` into ``run_dir`` and return its path.

    Args:
        run_dir: The run's directory (``run.json``, ``events.jsonl``, and when it ended, ``summary.json``).
        store: The artifact store the run's outputs are in.

    Returns:
        The path of ``report.html``, replaced atomically, so a reader never sees half a page.
    """
    meta = json.loads((run_dir / "run.json").read_text())
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {"status": "incomplete"}
    events = read_events(run_dir / "events.jsonl")
    media_dir = run_dir / "media"
    media_dir.mkdir(exist_ok=True)
    records, history = _executions(run_dir)
    plans = [e.data["plan"] for e in events if e.kind in ("plan_made", "replanned") and e.data.get("plan")]
    final_plan = plans[-1] if plans else {"steps": []}
    statuses = {s["id"]: s["status"] for s in summary.get("steps", [])}
    replans = [e for e in events if e.kind == "replanned"]
    exec_counts = {s["id"]: s.get("executions", 0) for s in summary.get("steps", [])}
    steps = []
    for step in final_plan.get("steps", []):
        rec = records.get(step["id"], {})
        steps.append({
            "id": step["id"], "tool": step["tool"], "status": statuses.get(step["id"], rec.get("status", "pending")),
            "duration_s": rec.get("duration_s", "?"), "executions": exec_counts.get(step["id"], 0),
            "why": step.get("why"), "params": json.dumps(step["params"]) if step.get("params") else "",
            "checks": [{"name": c["name"], "value": c.get("value"), "expected": c.get("expected", ""),
                        "passed": c["passed"]} for c in rec.get("checks", [])],
            "metrics": json.dumps(rec["metrics"], default=str)[:600] if rec.get("metrics") else "",
            "error": rec.get("error"),
            "outputs": [(name, _media(art, store, media_dir, run_dir)) for name, art in rec.get("outputs", {}).items()],
        })
    first = set(replans[0].data.get("affected", [])) if replans else set()
    last = set(replans[-1].data.get("affected", [])) if replans else set()
    t0 = events[0].t if events else 0
    page = _environment().get_template("report.html.j2").render(
        run_id=meta["run_id"], status=summary.get("status", "incomplete"), task=meta.get("task", ""),
        planner=meta.get("planner") or "?", wall_s=summary.get("wall_s", "?"),
        replan_count=summary.get("replans", len(replans)), error=summary.get("error"),
        inputs=[{"name": name, "kind": art["kind"], "media_type": art["media_type"],
                 "media": _media(art, store, media_dir, run_dir)} for name, art in meta.get("inputs", {}).items()],
        plan_svg=plan_svg(final_plan, statuses),
        requirements=_requirements(summary.get("requirements") or [], final_plan.get("requirements") or []),
        outputs=[{"name": name, "href": os.path.relpath(path, run_dir)}
                 for name, path in (summary.get("outputs") or {}).items()],
        steps=steps,
        replans=[{"number": e.data.get("number"), "reason": e.data.get("reason"),
                  "affected": ", ".join(e.data.get("affected", []))} for e in replans],
        plan_before_svg=plan_svg(plans[0], {}, first) if replans else "",
        plan_after_svg=plan_svg(final_plan, statuses, last) if replans else "",
        history=[{"step": rec.get("step"), "attempt": rec.get("attempt"), "status": rec.get("status"),
                  "detail": rec.get("error") or "; ".join(f"{c['name']}: {c.get('value')}"
                                                          for c in rec.get("checks", []))} for rec in history],
        loads=[{"model": e.data.get("model"), "device": e.data.get("device"), "step": e.data.get("step")}
               for e in events if e.kind == "model_loading"],
        events=[{"t": f"{e.t - t0:.2f}", "kind": e.kind,
                 "details": json.dumps({k: v for k, v in e.data.items() if k != "plan"}, default=str)[:300]}
                for e in events],
    )
    path = run_dir / "report.html"
    tmp = run_dir / ".report.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path
