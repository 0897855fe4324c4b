// The mmagent console: plain DOM, no library. Every text that comes from a run (task, file names, tool messages)
// goes through textContent, never innerHTML, and the page's CSP allows no inline script besides.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const ENDED = new Set(["succeeded", "failed", "cancelled"]);
const MEDIA = /^(image|audio|video)\//;
let current = null;   // {id, source, steps: Map, plan, shown: Set}
let chosen = [];      // File objects for the next run

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function notice(text) { $("notice").textContent = text || ""; }

async function api(path, options = {}) {
  const response = await fetch(path, {credentials: "same-origin", ...options});
  if (response.status === 401) {
    notice("This server needs its token: open /?token=YOUR_TOKEN once.");
    throw new Error("401");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { notice(body.error || `error ${response.status}`); throw new Error(body.error); }
  return body;
}

function runUrl(id, rest = "") { return `/api/runs/${encodeURIComponent(id)}${rest}`; }

// -- the run list and the new-run form ------------------------------------------------------------------------
async function refreshRuns() {
  let runs;
  try { runs = await api("/api/runs"); } catch { return; }
  const list = $("runs");
  list.replaceChildren(...runs.map((r) => {
    const b = el("button", {type: "button", "data-run": r.run_id, "aria-current": String(current?.id === r.run_id)});
    b.append(el("span", {class: `badge s-${r.status}`}, r.status), el("span", {class: "t"}, r.task));
    b.title = r.task;
    b.addEventListener("click", () => openRun(r.run_id));
    return el("li", {}, undefined).appendChild(b).parentNode;
  }));
}

function showChosen() {
  $("chosen").replaceChildren(...chosen.map((f) => el("li", {}, `${f.name} (${Math.ceil(f.size / 1024)} KB)`)));
}

function setUpForm() {
  const drop = $("drop");
  const add = (files) => { chosen = chosen.concat(Array.from(files)); showChosen(); };
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); add(e.dataTransfer.files); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("files").click(); });
  $("files").addEventListener("change", (e) => { add(e.target.files); e.target.value = ""; });
  $("new-run").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData();
    form.append("task", $("task").value);
    for (const f of chosen) form.append("files", f, f.name);
    if ($("planner").value.trim()) form.append("planner", $("planner").value.trim());
    form.append("approve", $("approve").checked ? "true" : "false");
    try {
      const {run_id} = await api("/api/runs", {method: "POST", body: form});
      chosen = []; showChosen(); $("task").value = ""; notice(`started ${run_id}`);
      await refreshRuns();
      openRun(run_id);
    } catch { /* notice says why */ }
  });
}

// -- one run: its graph, log, media, approval -------------------------------------------------------------------
function setStatus(status) {
  const badge = $("run-status");
  badge.textContent = status;
  badge.className = `badge s-${status}`;
  $("cancel").disabled = ENDED.has(status);
  const item = document.querySelector(`#runs button[data-run="${CSS.escape(current.id)}"] .badge`);
  if (item) { item.textContent = status; item.className = `badge s-${status}`; }
}

function log(text, cls = "") { const li = el("li", cls ? {class: cls} : {}, text); $("log").append(li); li.scrollIntoView({block: "nearest"}); }

function deps(step, ids) {
  const found = new Set();
  const scan = (v) => {
    if (typeof v === "string") { const s = v.split(".")[0]; if (ids.has(s) && v.includes(".")) found.add(s); }
    else if (v && typeof v === "object") Object.values(v).forEach(scan);
  };
  scan(step.inputs || {});
  for (const p of Object.values(step.params || {})) if (p && typeof p === "object" && "from" in p) scan(p.from);
  return [...found];
}

function drawPlan() {
  const plan = current.plan;
  const box = $("graph");
  if (!plan) { box.replaceChildren(el("p", {class: "mono"}, "no plan yet")); return; }
  const ids = new Set(plan.steps.map((s) => s.id));
  const depth = new Map();
  const depOf = new Map(plan.steps.map((s) => [s.id, deps(s, ids)]));
  const level = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...depOf.get(id).map((p) => level(p, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  plan.steps.forEach((s) => level(s.id));
  const W = 170, H = 46, GX = 50, GY = 18, rows = new Map(), pos = new Map();
  for (const s of plan.steps) {
    const d = depth.get(s.id), r = rows.get(d) || 0;
    rows.set(d, r + 1);
    pos.set(s.id, {x: 10 + d * (W + GX), y: 10 + r * (H + GY)});
  }
  const width = 20 + (Math.max(...depth.values()) + 1) * (W + GX), height = 20 + Math.max(...rows.values()) * (H + GY);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", width); svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const defs = document.createElementNS(SVG, "defs"), marker = document.createElementNS(SVG, "marker");
  Object.entries({id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7",
    orient: "auto"}).forEach(([k, v]) => marker.setAttribute(k, v));
  const tip = document.createElementNS(SVG, "path"); tip.setAttribute("d", "M0,0 L10,5 L0,10 z"); tip.setAttribute("fill", "#8c959f");
  marker.append(tip); defs.append(marker); svg.append(defs);
  for (const s of plan.steps) for (const p of depOf.get(s.id)) {
    const a = pos.get(p), b = pos.get(s.id), path = document.createElementNS(SVG, "path");
    path.setAttribute("class", "edge");
    path.setAttribute("d", `M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}`);
    svg.append(path);
  }
  for (const s of plan.steps) {
    const {x, y} = pos.get(s.id), g = document.createElementNS(SVG, "g");
    const state = current.steps.get(s.id) || "pending";
    g.setAttribute("class", `node ${state}`);
    g.setAttribute("data-step", s.id);
    g.setAttribute("data-state", state);
    const rect = document.createElementNS(SVG, "rect");
    Object.entries({x, y, width: W, height: H, rx: 6}).forEach(([k, v]) => rect.setAttribute(k, v));
    const title = document.createElementNS(SVG, "title"); title.textContent = `${s.id} (${s.tool}): ${state}`;
    const t1 = document.createElementNS(SVG, "text"), t2 = document.createElementNS(SVG, "text");
    t1.setAttribute("x", x + 8); t1.setAttribute("y", y + 19); t1.textContent = s.id.slice(0, 24);
    t2.setAttribute("x", x + 8); t2.setAttribute("y", y + 36); t2.setAttribute("class", "tool");
    t2.textContent = `${s.tool} · ${state}`.slice(0, 30);
    g.append(title, rect, t1, t2);
    svg.append(g);
  }
  box.replaceChildren(svg);
}

async function showMedia(url, caption) {
  if (current.shown.has(url)) return;
  current.shown.add(url);
  let type = "";
  try { type = (await fetch(url, {method: "HEAD"})).headers.get("content-type") || ""; } catch { return; }
  const kind = (type.match(MEDIA) || [])[1];
  if (!kind) return;
  const fig = el("figure");
  const media = kind === "image" ? el("img", {src: url, alt: caption}) : el(kind, {src: url, controls: "", preload: "metadata"});
  fig.append(media, el("figcaption", {}, caption));
  $("media").append(fig);
}

function onEvent(e) {
  const d = e.data || {};
  switch (e.kind) {
    case "run_started": setStatus("running"); log(d.resumed ? "run resumed" : "run started"); break;
    case "plan_made": case "replanned":
      current.plan = d.plan;
      if (e.kind === "replanned") {
        log(`replan ${d.number}: ${d.reason} → redo ${(d.affected || []).join(", ")}`, "replan");
        for (const s of d.affected || []) current.steps.delete(s);
      } else log(`plan by ${d.planner}: ${d.plan.steps.map((s) => s.id).join(" → ")}`);
      $("plan-json").value = JSON.stringify(d.plan, null, 1);
      drawPlan(); break;
    case "replanning": log(`replanning after ${d.reason}`, "replan"); break;
    case "step_started": current.steps.set(d.step, "running"); drawPlan(); log(`▶ ${d.step} (${d.tool})`); break;
    case "model_loading": log(`loading ${d.model}`); break;
    case "check_passed": case "check_failed": {
      const ok = e.kind === "check_passed";
      log(`${d.step}: check ${d.check} ${ok ? "passed" : "failed"} (value ${JSON.stringify(d.value)})${d.error ? ": " + d.error : ""}`, ok ? "pass" : "fail");
      break;
    }
    case "step_finished":
      current.steps.set(d.step, d.status); drawPlan();
      log(`${d.status === "succeeded" ? "✓" : "✗"} ${d.step} ${d.seconds ?? ""} s${d.error ? ": " + d.error : ""}`, d.status === "succeeded" ? "pass" : "fail");
      if (d.status === "succeeded") for (const name of Object.keys(d.outputs || {})) {
        showMedia(runUrl(current.id, `/steps/${encodeURIComponent(d.step)}/${encodeURIComponent(name)}`), `${d.step}.${name}`);
      }
      break;
    case "interrupted":
      $("approval").hidden = false; setStatus("paused"); log("paused: the plan waits for approval"); break;
    case "run_finished":
      if (d.status === "interrupted") break;
      $("approval").hidden = true; setStatus(d.status);
      log(`${d.status} in ${d.wall_s} s${d.error ? ": " + d.error : ""}`, d.status === "succeeded" ? "pass" : "fail");
      // the deliverables are files of steps already shown above: here they are links to download
      for (const [name, path] of Object.entries(d.outputs || {})) {
        const file = String(path).split("/").pop();
        const link = el("a", {href: runUrl(current.id, `/files/${encodeURIComponent(file)}`), download: file}, file);
        const p = el("p", {class: "deliverable"}, `${name}: `);
        p.append(link);
        $("media").after(p);
      }
      if (ENDED.has(d.status)) { current.source.close(); refreshRuns(); }
      break;
  }
}

async function openRun(id) {
  if (current?.source) current.source.close();
  current = {id, source: null, steps: new Map(), plan: null, shown: new Set()};
  document.querySelectorAll("#runs button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.run === id)));
  $("run").hidden = false;
  $("approval").hidden = true;
  $("log").replaceChildren(); $("media").replaceChildren(); drawPlan();
  document.querySelectorAll(".deliverable").forEach((p) => p.remove());
  $("run-id").textContent = id;
  $("report").href = runUrl(id, "/files/report.html");
  let summary;
  try { summary = await api(runUrl(id)); } catch { return; }
  $("run-task").textContent = summary.task;
  setStatus(summary.status);
  if (summary.status === "paused") $("approval").hidden = false;
  // the stream replays the run from its first event, then follows it live; EventSource resumes with Last-Event-ID
  const source = new EventSource(runUrl(id, "/events"));
  current.source = source;
  const mine = current;
  source.onmessage = null;
  for (const kind of ["run_started", "plan_made", "step_started", "model_loading", "step_finished", "check_passed",
    "check_failed", "replanning", "replanned", "interrupted", "run_finished"]) {
    source.addEventListener(kind, (m) => { if (current === mine) onEvent(JSON.parse(m.data)); });
  }
}

async function decide(body) {
  try {
    await api(runUrl(current.id, "/decision"), {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    $("approval").hidden = true; setStatus("queued");
  } catch { /* notice says why */ }
}

function setUpRun() {
  $("accept").addEventListener("click", () => decide({decision: "accept"}));
  $("reject").addEventListener("click", () => decide({decision: "reject"}));
  $("send-plan").addEventListener("click", () => {
    let plan;
    try { plan = JSON.parse($("plan-json").value); } catch (err) { notice(`the plan is not JSON: ${err.message}`); return; }
    decide({plan});
  });
  $("cancel").addEventListener("click", async () => {
    try { await api(runUrl(current.id, "/cancel"), {method: "POST"}); } catch { /* notice says why */ }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setUpForm(); setUpRun(); refreshRuns();
  setInterval(refreshRuns, 3000);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("run");
  if (wanted) openRun(wanted);
});
