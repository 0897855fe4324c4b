"""TaskBench adapter: its tool descriptions as a planning-only registry, its records as run inputs, its metrics.

TaskBench (Shen et al., 2023; microsoft/JARVIS, MIT licence) describes tools as
``{"nodes": [{"id", "desc", "input-type", "output-type"}]}`` with kinds among text, image, audio, video and url.
Those tools cannot run here: they exist so planners can be measured on TaskBench's requests. Their kinds are plain
strings (``url`` is no product artifact kind), which :func:`planners.plan.validate` compares as given.

Metrics follow TaskBench's ``evaluate.py``: node F1 is micro F1 over the set of tool names per record; edge F1 is
micro F1 over (source tool, target tool) pairs, the gold pairs rebuilt from ``<node-j>`` arguments (falling back to
``task_links`` when a record has none).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modalities.errors import ConfigError, ToolError
from planners._intents import input_names
from planners.plan import Plan
from tools.base import Availability, Tool, ToolContext, ToolResult
from tools.registry import ToolRegistry

__all__ = ["TaskBenchTool", "load_tools", "load_records", "request_of", "tool_name", "record_inputs", "gold_graph",
           "gold_plan", "plan_graph", "Scores", "score"]

_NODE_REF = re.compile(r"^<node-(\d+)>$")


def tool_name(title: str) -> str:
    """A plan-safe name for a TaskBench tool: ``'Image Search (by Image)'`` -> ``'image_search_by_image'``."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


class TaskBenchTool(Tool):
    """One TaskBench tool: typed, described, not executable.

    Args:
        node: A ``{"id", "desc", "input-type", "output-type"}`` record.
    """

    family = "taskbench"

    def __init__(self, node: Mapping[str, Any]) -> None:
        super().__init__()
        self.title: str = str(node["id"])
        self.name = tool_name(self.title)  # type: ignore[misc]
        self.description = str(node.get("desc", "")).strip() or self.title  # type: ignore[misc]
        inputs: dict[str, str] = {}
        for kind in (str(k).lower() for k in node.get("input-type", [])):
            label = kind if kind not in inputs else f"{kind}_{sum(1 for n in inputs if n.startswith(kind)) + 1}"
            inputs[label] = kind
        self.inputs = inputs  # type: ignore[misc]
        outputs = [str(k).lower() for k in node.get("output-type", [])]
        self.outputs = {kind: kind for kind in outputs}  # type: ignore[misc]

    def available(self) -> Availability:
        return Availability(True)

    def run(self, ctx: ToolContext, inputs: dict[str, Any], params: dict[str, Any]) -> ToolResult:
        raise ToolError(f"TaskBench tool {self.title!r} is for planning benchmarks only; it cannot run")


def load_tools(path: str | Path) -> ToolRegistry:
    """A registry of TaskBench tools from a tool description file.

    Example:
        >>> reg = load_tools("benchmarks/data/taskbench_tools.json")
        >>> reg.get("audio_splicer").inputs
        {'audio': 'audio', 'audio_2': 'audio'}
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read TaskBench tools from {str(path)!r}: {exc}") from None
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list):
        raise ConfigError(f"{str(path)!r} is not a TaskBench tool file: it needs a 'nodes' list")
    return ToolRegistry([TaskBenchTool(n) for n in nodes])


# TaskBench's raw data.json says "instruction" and its released split "user_request"; both name nodes and links
# either "task_*" or "tool_*" (sometimes as JSON-encoded strings)
_REQUEST_KEYS = ("user_request", "instruction")


def _field(record: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` the record has, decoded when it holds JSON as a string; an empty list if none."""
    for key in keys:
        value = record.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                continue
        if isinstance(value, list):
            return value
    return []


def request_of(record: Mapping[str, Any]) -> str:
    """The user's request of a TaskBench record (``user_request``, or ``instruction`` in the raw data)."""
    for key in _REQUEST_KEYS:
        if isinstance(record.get(key), str) and record[key].strip():
            return str(record[key])
    raise ConfigError(f"TaskBench record {record.get('id', '?')!r} has no request: it needs a 'user_request' "
                      f"(or 'instruction') string")


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """TaskBench records from a JSON-lines file (one record a line) or a JSON list, each checked for a request.

    Raises:
        ConfigError: The file is missing, a line is not JSON, or a record has no request; the message names the
            file and line.
    """
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read TaskBench records from {str(path)!r}: {exc.strerror or exc}; "
                          f"pass --data PATH to a records file (.jsonl)") from None
    if text.lstrip().startswith("["):
        try:
            rows = [(i + 1, r) for i, r in enumerate(json.loads(text))]
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{str(path)!r} is not valid JSON: {exc}") from None
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{str(path)!r} line {number} is not JSON ({exc.msg}); TaskBench records are one "
                                  f"JSON object a line") from None
    records = []
    for number, record in rows:
        if not isinstance(record, dict):
            raise ConfigError(f"{str(path)!r} record {number} is not a JSON object")
        try:
            request_of(record)
        except ConfigError as exc:
            raise ConfigError(f"{str(path)!r} record {number}: {exc}") from None
        records.append(record)
    return records


def record_inputs(request: str) -> dict[str, str]:
    """Run inputs for a TaskBench request: the files and URLs it names, plus the request's own ``text``."""
    found = input_names(request)
    return {"text": "text", **{k: v for k, v in found.items() if k != "text"}}


def gold_graph(record: Mapping[str, Any]) -> tuple[set[str], set[tuple[str, str]]]:
    """Gold tool titles and (source, target) edges of a TaskBench record."""
    raw = _field(record, "task_nodes", "tool_nodes")
    # a malformed node (no "task") is skipped but keeps its index, so "<node-j>" still points at node j
    titles = [str(n["task"]) if isinstance(n, Mapping) and "task" in n else None for n in raw]
    edges: set[tuple[str, str]] = set()
    for node, title in zip(raw, titles, strict=True):
        arguments = node.get("arguments") if title is not None else None
        for arg in [arguments] if isinstance(arguments, str) else arguments if isinstance(arguments, list) else []:
            m = _NODE_REF.match(str(arg).strip())
            source = titles[int(m.group(1))] if m and int(m.group(1)) < len(titles) else None
            if source is not None and title is not None:
                edges.add((source, title))
    if not edges:
        edges = {(str(link["source"]), str(link["target"])) for link in _field(record, "task_links", "tool_links")
                 if isinstance(link, Mapping) and "source" in link and "target" in link}
    return {t for t in titles if t is not None}, edges


def gold_plan(record: Mapping[str, Any], registry: ToolRegistry) -> dict[str, Any]:
    """A record's gold tools as a plan over ``registry`` (``Plan.model_dump`` form), for seeding a plan memory.

    Each ``<node-j>`` argument becomes a reference to node j's output of the kind the tool takes there; any other
    argument is a run input (a file or URL the request names, else the request's ``text``). Its
    :func:`plan_graph` is the record's :func:`gold_graph` whenever every node's tool is in ``registry``.

    Example:
        >>> reg = load_tools("benchmarks/data/taskbench_tools.json")
        >>> node = {"task": "Audio-to-Text", "arguments": ["a.wav"]}
        >>> rec = {"user_request": "Transcribe a.wav", "task_nodes": [node]}
        >>> gold_plan(rec, reg)["steps"]
        [{'id': 's0', 'tool': 'audio_to_text', 'inputs': {'audio': 'input:a.wav'}}]
    """
    by_title = {getattr(t, "title", t.name): t for t in registry.available()}
    inputs = record_inputs(request_of(record))
    raw = _field(record, "task_nodes", "tool_nodes")
    nodes = [(i, by_title.get(str(n.get("task")))) for i, n in enumerate(raw) if isinstance(n, Mapping)]
    steps = []
    for i, tool in nodes:
        if tool is None:
            continue
        bound: dict[str, str] = {}
        arguments = raw[i].get("arguments")
        for arg in [arguments] if isinstance(arguments, str) else arguments if isinstance(arguments, list) else []:
            m = _NODE_REF.match(str(arg).strip())
            source = dict(nodes).get(int(m.group(1))) if m and int(m.group(1)) < len(raw) else None
            if m and source is not None:
                kinds = list(source.outputs.values())
                slot = next((n for n, k in tool.inputs.items() if k in kinds and n not in bound), None)
                if slot is not None:
                    out = next(o for o, k in source.outputs.items() if k == tool.inputs[slot])
                    bound[slot] = f"s{m.group(1)}.{out}"
                continue
            given = next((name for name in inputs if name != "text" and name in str(arg)), None)
            if given is None and input_names(str(arg)).get("url") == "url":
                given = next((name for name, kind in inputs.items() if kind == "url"), None)
            for name in dict.fromkeys([given or "text", "text"]):  # a file named inside a text is text
                slot = next((n for n, k in tool.inputs.items() if k == inputs[name] and n not in bound), None)
                if slot is not None:
                    bound[slot] = f"input:{name}"
                    break
        steps.append({"id": f"s{i}", "tool": tool.name, "inputs": bound})
    return {"steps": steps}


def plan_graph(plan: Plan, registry: ToolRegistry) -> tuple[set[str], set[tuple[str, str]]]:
    """Tool titles and (source, target) edges of a plan over a TaskBench registry."""
    def title(name: str) -> str:
        tool = registry.get(name) if name in registry else None
        return getattr(tool, "title", name)

    by_id = {s.id: s for s in plan.steps}
    nodes = {title(s.tool) for s in plan.steps}
    edges = {(title(by_id[dep].tool), title(s.tool)) for s in plan.steps for dep in s.dependencies()
             if dep in by_id}
    return nodes, edges


@dataclass
class Scores:
    """Pooled counts and the F1 they give."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: set[Any], gold: set[Any]) -> None:
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 1.0


def score(pairs: Iterable[tuple[tuple[set[str], set[tuple[str, str]]], tuple[set[str], set[tuple[str, str]]]]]
          ) -> tuple[float, float]:
    """Node and edge micro F1 over (predicted graph, gold graph) pairs.

    Example:
        >>> score([(({"A", "B"}, {("A", "B")}), ({"A", "B"}, {("A", "B")}))])
        (1.0, 1.0)
    """
    nodes, edges = Scores(), Scores()
    for (p_nodes, p_edges), (g_nodes, g_edges) in pairs:
        nodes.add(p_nodes, g_nodes)
        edges.add(p_edges, g_edges)
    return nodes.f1, edges.f1
