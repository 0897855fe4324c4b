"""The HTML run report: one self-contained file (inline CSS and SVG, media by relative path, no CDN).

Built from the run's files only (``run.json``, ``events.jsonl``, ``summary.json``, the checkpoint's final state
through the journal), so it can be rebuilt for any run, finished or not.
"""

from __future__ import annotations

import html
import json
import os
import shutil
from pathlib import Path
from typing import Any

from agent.events import read_events
from agent.journal import StepJournal
from modalities.artifacts import Artifact
from modalities.store import ArtifactStore

__all__ = ["write_report", "plan_svg"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d2430;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde;padding-bottom:4px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff}
.succeeded{background:#2e8b57}.failed{background:#c0392b}.pending,.interrupted,.incomplete{background:#888}
.replaced{background:#b9770e}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;
vertical-align:top}
.step{border:1px solid #dde;border-radius:8px;padding:10px 14px;margin:10px 0}
.pass{color:#2e8b57}.fail{color:#c0392b}code{background:#f4f5f7;padding:1px 4px;border-radius:3px}
img,video{display:block;max-width:100%;max-height:360px;border:1px solid #ddd;margin:4px 0}
ul.layout{margin:4px 0;padding-left:18px;max-height:240px;overflow:auto;font-size:13px}
pre{white-space:pre-wrap;background:#f7f7f9;padding:8px;max-height:240px;overflow:auto}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def plan_svg(plan: dict[str, Any], statuses: dict[str, str], changed: frozenset[str] | set[str] = frozenset()
             ) -> str:
    """The plan as an SVG graph: steps in dependency layers, left to right, arrows for references."""
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
    colors = {"succeeded": "#2e8b57", "failed": "#c0392b", "pending": "#999", "replaced": "#b9770e"}
    parts = [f'<svg class="plan-graph" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" '
             'refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for sid in ids:
        for d in deps[sid]:
            (x1, y1), (x2, y2) = pos[d], pos[sid]
            sx, sy, ex, ey = x1 + w, y1 + h / 2, x2, y2 + h / 2
            span = layer[sid] - layer[d]
            kind = "edge" if d in made[sid] else 'edge param" stroke-dasharray="5 3'
            if span > 1:  # an edge that skips layers arcs above the boxes in between instead of hiding behind them
                lift = 18 * span + h / 2
                parts.append(f'<path class="{kind}" d="M{sx},{sy} C{sx + 50},{sy - lift} {ex - 50},{ey - lift} '
                             f'{ex},{ey}" fill="none" stroke="#555" marker-end="url(#arrow)"/>')
            else:
                parts.append(f'<line class="{kind}" x1="{sx}" y1="{sy}" x2="{ex}" y2="{ey}" stroke="#555" '
                             'marker-end="url(#arrow)"/>')
    for s in steps:
        x, y = pos[s["id"]]
        color = colors.get(statuses.get(s["id"], "pending"), "#999")
        # a step the replan touched is drawn dashed in amber, so before and after read as a diff
        extra = ' stroke-dasharray="6 3"' if s["id"] in changed else ""
        if s["id"] in changed:
            color = colors["replaced"]
        refs = param_refs(s.get("params") or {})
        params = ", ".join(f"{k}←{refs[k]}" if k in refs else f"{k}={v}" for k, v in (s.get("params") or {}).items())
        params = params if len(params) <= 26 else params[:25] + "…"
        parts.append(f'<g class="node" data-step="{_e(s["id"])}"><rect x="{x}" y="{y}" width="{w}" height="{h}" '
                     f'rx="8" fill="#fff" stroke="{color}" stroke-width="2"{extra}/><text x="{x + 8}" y="{y + 19}" '
                     f'font-size="13" font-weight="600">{_e(s["id"])}</text><text x="{x + 8}" y="{y + 35}" '
                     f'font-size="11" fill="#555">{_e(s["tool"])}</text><text x="{x + 8}" y="{y + 50}" '
                     f'font-size="10" fill="#8a6d1f">{_e(params)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _media(art: dict[str, Any], store: ArtifactStore, media_dir: Path, run_dir: Path) -> str:
    a = Artifact.from_state(art)
    try:
        src = store.path(a)
    except Exception:
        return f"<em>{_e(a.kind)} {a.short_id} (missing from store)</em>"
    if a.kind in ("image", "audio", "video"):
        target = media_dir / f"{a.id[:16]}{a.extension}"
        if not target.exists():
            try:
                os.link(src, target)
            except OSError:
                shutil.copyfile(src, target)
        rel = _e(os.path.relpath(target, run_dir))
        if a.kind == "image":
            return f'<img src="{rel}" alt="{_e(a.meta.get("output", "image"))}">'
        if a.kind == "audio":
            return f'<audio controls src="{rel}"></audio>'
        return f'<video controls src="{rel}"></video>'
    text = src.read_text(encoding="utf-8", errors="replace")
    if a.kind == "layout":
        return _layout_outline(text)
    if a.kind == "html":
        return (f"<details><summary>{a.size:,} bytes of HTML (<a href='{_e(os.path.relpath(src, run_dir))}'>open"
                f"</a>)</summary><pre>{_e(text[:4000])}</pre></details>")
    if len(text) > 4000:
        text = text[:4000] + "\n..."
    return f"<pre>{_e(text)}</pre>"


def _layout_outline(text: str) -> str:
    """A layout as a nested list of ``Role "text"`` items, which a person can read at a glance."""
    try:
        layout = json.loads(text)
    except json.JSONDecodeError:
        return f"<pre>{_e(text[:4000])}</pre>"

    def items(elements: list[dict[str, Any]]) -> str:
        rows = []
        for el in elements:
            words = f" &ldquo;{_e(el.get('text', ''))}&rdquo;" if el.get("text") else ""
            kids = f"<ul>{items(el['children'])}</ul>" if el.get("children") else ""
            rows.append(f"<li><code>{_e(el.get('role'))}</code>{words}{kids}</li>")
        return "".join(rows)

    return f"<ul class='layout'>{items(layout.get('elements', []))}</ul>"


def _requirements(checked: list[dict[str, Any]], planned: list[dict[str, Any]]) -> str:
    """The request's requirements: each with its verdict on the deliverables and the evidence (or 'not checked'
    when the run ended before its acceptance)."""
    rows = ["<h2>Requirements</h2><table><tr><th>requirement</th><th>verdict</th><th>evidence</th></tr>"]
    by_text = {r["text"]: r for r in checked}
    for req in planned or checked:
        got = by_text.get(req["text"])
        verdict = "not checked" if got is None else "met" if got["passed"] else "NOT met"
        css = "" if got is None else "pass" if got["passed"] else "fail"
        rows.append(f"<tr><td>{_e(req['text'])}</td><td class='{css}'>{verdict}</td>"
                    f"<td>{_e((got or {}).get('evidence', ''))}</td></tr>")
    return "".join(rows) + "</table>"


def write_report(run_dir: Path, store: ArtifactStore) -> Path:
    """Write ``report.html`` into ``run_dir`` and return its path."""
    meta = json.loads((run_dir / "run.json").read_text())
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {"status": "incomplete"}
    events = read_events(run_dir / "events.jsonl")
    media_dir = run_dir / "media"
    media_dir.mkdir(exist_ok=True)
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
    plans = [e.data["plan"] for e in events if e.kind in ("plan_made", "replanned") and e.data.get("plan")]
    final_plan = plans[-1] if plans else {"steps": []}
    statuses = {s["id"]: s["status"] for s in summary.get("steps", [])}
    replans = [e for e in events if e.kind == "replanned"]
    loads = [e for e in events if e.kind == "model_loading"]
    status = summary.get("status", "incomplete")
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Run {_e(meta['run_id'])}</title>",
           f"<style>{_CSS}</style></head><body>",
           f"<h1>Run <code>{_e(meta['run_id'])}</code> <span class='badge {_e(status)}'>{_e(status)}</span></h1>",
           f"<p><b>Task:</b> {_e(meta.get('task', ''))}</p>",
           f"<p><b>Planner:</b> {_e(meta.get('planner') or '?')} &middot; <b>wall:</b> {summary.get('wall_s', '?')} s"
           f" &middot; <b>replans:</b> {summary.get('replans', len(replans))}</p>"]
    if summary.get("error"):
        out.append(f"<p class='fail'><b>Error:</b> {_e(summary['error'])}</p>")
    out.append("<h2>Inputs</h2>")
    for name, art in meta.get("inputs", {}).items():
        out.append(f"<div class='step'><b>{_e(name)}</b> ({_e(art['kind'])}, {_e(art['media_type'])})"
                   f"{_media(art, store, media_dir, run_dir)}</div>")
    out.append("<h2>Plan</h2>" + plan_svg(final_plan, statuses))
    if summary.get("requirements") or final_plan.get("requirements"):
        out.append(_requirements(summary.get("requirements") or [], final_plan.get("requirements") or []))
    if summary.get("outputs"):
        out.append("<h2>Outputs</h2><ul>")
        for name, path in summary["outputs"].items():
            out.append(f"<li><a href='{_e(os.path.relpath(path, run_dir))}'>{_e(name)}</a></li>")
        out.append("</ul>")
    out.append("<h2>Steps</h2>")
    exec_counts = {s["id"]: s.get("executions", 0) for s in summary.get("steps", [])}
    for step in final_plan.get("steps", []):
        rec = records.get(step["id"], {})
        st = statuses.get(step["id"], rec.get("status", "pending"))
        out.append(f"<div class='step' id='step-{_e(step['id'])}'><b>{_e(step['id'])}</b> "
                   f"<code>{_e(step['tool'])}</code> <span class='badge {_e(st)}'>{_e(st)}</span> "
                   f"&middot; {rec.get('duration_s', '?')} s &middot; executions {exec_counts.get(step['id'], 0)}")
        if step.get("why"):
            out.append(f"<div><i>{_e(step['why'])}</i></div>")
        if step.get("params"):
            out.append(f"<div>params: <code>{_e(json.dumps(step['params']))}</code></div>")
        if rec.get("checks"):
            out.append("<table><tr><th>check</th><th>value</th><th>expected</th><th></th></tr>")
            for c in rec["checks"]:
                mark = "<span class='pass'>pass</span>" if c["passed"] else "<span class='fail'>fail</span>"
                out.append(f"<tr><td>{_e(c['name'])}</td><td>{_e(c.get('value'))}</td>"
                           f"<td>{_e(c.get('expected', ''))}</td><td>{mark}</td></tr>")
            out.append("</table>")
        if rec.get("metrics"):
            out.append(f"<div>metrics: <code>{_e(json.dumps(rec['metrics'], default=str)[:600])}</code></div>")
        if rec.get("error"):
            out.append(f"<div class='fail'>error: {_e(rec['error'])}</div>")
        for name, art in rec.get("outputs", {}).items():
            out.append(f"<div><b>{_e(name)}</b>: {_media(art, store, media_dir, run_dir)}</div>")
        out.append("</div>")
    if replans:
        out.append("<h2>Replans</h2>")
        for e in replans:
            out.append(f"<div class='step replan'><b>Replan {e.data.get('number')}</b>: {_e(e.data.get('reason'))}"
                       f"<br>affected: {_e(', '.join(e.data.get('affected', [])))}</div>")
        first, last = set(replans[0].data.get("affected", [])), set(replans[-1].data.get("affected", []))
        out.append("<h3>Plan before the first replan</h3><p>Dashed: the steps the replan replaced.</p>"
                   + plan_svg(plans[0], {}, first))
        out.append("<h3>Plan after the last replan</h3><p>Dashed: the replacement steps; all others were kept and "
                   "not run again.</p>" + plan_svg(final_plan, statuses, last))
    if history:
        out.append("<h2>Replaced attempts</h2><table><tr><th>step</th><th>attempt</th><th>status</th>"
                   "<th>checks / error</th></tr>")
        for rec in history:
            detail = rec.get("error") or "; ".join(f"{c['name']}: {c.get('value')}" for c in rec.get("checks", []))
            out.append(f"<tr><td>{_e(rec.get('step'))}</td><td>{_e(rec.get('attempt'))}</td>"
                       f"<td>{_e(rec.get('status'))}</td><td>{_e(detail)}</td></tr>")
        out.append("</table>")
    if loads:
        out.append("<h2>Model loads</h2><ul>" + "".join(
            f"<li>{_e(e.data.get('model'))} on {_e(e.data.get('device'))} (step {_e(e.data.get('step'))})</li>"
            for e in loads) + "</ul>")
    out.append("<h2>Events</h2><table><tr><th>t (s)</th><th>event</th><th>details</th></tr>")
    t0 = events[0].t if events else 0
    for e in events:
        details = {k: v for k, v in e.data.items() if k != "plan"}
        out.append(f"<tr><td>{e.t - t0:.2f}</td><td>{_e(e.kind)}</td><td><code>"
                   f"{_e(json.dumps(details, default=str)[:300])}</code></td></tr>")
    out.append("</table></body></html>")
    path = run_dir / "report.html"
    tmp = run_dir / ".report.html.tmp"
    tmp.write_text("".join(out), encoding="utf-8")
    os.replace(tmp, path)
    return path
