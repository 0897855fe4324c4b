"""Before anything runs: does the plan make what the request asks for, and if not, which tool could and why not.

A plan that delivers no page when a page was asked for would run for minutes and then fail acceptance, or worse,
deliver something else. Here the request's deliverables are compared with what the plan makes; a gap is a
:class:`~modalities.errors.PlanningError` that names the tools able to close it, and for unavailable ones why they
are unavailable (a missing extra, weights not set), instead of substituting an unrelated tool.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modalities.errors import ConfigError, PlanningError
from planners.plan import Plan, downstream_of
from planners.requirements import Requirement
from tools.base import Tool
from tools.registry import ToolRegistry

__all__ = ["check_deliverables", "complete_deliverables", "explain_gap", "plan_or_explain", "reachable_kinds"]


def reachable_kinds(have: Iterable[str], tools: Iterable[Tool]) -> set[str]:
    """Kinds that ``tools`` can make, step after step, starting from the kinds in ``have``. Tools that need no
    input (a text written from nothing, an image generated from a prompt) do not count: what they make is not
    made from the user's files.

    Example:
        >>> from tools.code.html import GenerateHtml
        >>> from tools.text import write_text
        >>> from tools.vision.sketch import AnalyzeSketch
        >>> sorted(reachable_kinds({"image"}, [AnalyzeSketch(), GenerateHtml(), write_text]))
        ['html', 'image', 'layout']
    """
    kinds = set(have)
    tools = list(tools)
    grew = True
    while grew:
        grew = False
        for tool in tools:
            needs = tool.required_inputs()
            if needs and all(tool.inputs[n] in kinds for n in needs):
                new = set(tool.outputs.values()) - kinds
                if new:
                    kinds |= new
                    grew = True
    return kinds


def _tools(registry: ToolRegistry) -> list[tuple[Tool, str]]:
    """Every registered tool with the reason it cannot run here ('' when it can)."""
    found = []
    for name in registry.names():
        try:
            tool = registry.get(name)
        except ConfigError as exc:
            found.append((None, f"{name}: {exc}"))
            continue
        avail = tool.available()
        found.append((tool, "" if avail.ok else avail.reason))
    return [(t, why) for t, why in found if t is not None]


def check_deliverables(plan: object, registry: ToolRegistry, input_kinds: Mapping[str, str]) -> None:
    """Raise :class:`PlanningError` when the plan makes none of a deliverable the request asks for.

    Args:
        plan: A :class:`~planners.plan.Plan` with its requirements.
        registry: All tools, available or not.
        input_kinds: Run input name -> kind.

    Example:
        >>> from planners.plan import Plan, Step
        >>> from tools.text import write_text
        >>> plan = Plan(steps=[Step(id="t", tool="write_text")],
        ...             requirements=[Requirement(id="deliver_html", kind="deliverable", target="html",
        ...                                       text="a page")])
        >>> check_deliverables(plan, ToolRegistry([write_text]), {})
        Traceback (most recent call last):
        ...
        modalities.errors.PlanningError: the request asks for a page, and no tool here makes one from text
    """
    files = set(input_kinds.values())
    steps = [registry.get(s.tool) for s in plan.steps if s.tool in registry]
    made = {kind for tool in steps for kind in tool.outputs.values()}
    # an answer about the given files is made by a tool that reads them: a layout comparison's report does not
    # answer "does this photo contain a circle?" (the same rule _gap_message uses to name the tools that could)
    answered = {kind for tool in steps if _reads(tool, files) for kind in tool.outputs.values()}
    tools = _tools(registry)
    given = files | {"text"}  # the request itself is a text a tool may start from
    for req in plan.requirements:
        if req.kind == "format":
            _check_format(req, [t for t, why in tools if not why])
        if req.kind != "deliverable":
            continue
        targets = _targets(req)
        if targets & (answered if req.params.get("answer") else made):
            continue
        raise PlanningError(_gap_message(req, targets, tools, given, set(input_kinds.values()))[1])


# the format every tool making a kind writes unless a ``format`` param says otherwise
_NATIVE_FORMAT = {"audio": "wav", "video": "mp4", "image": "png", "html": "html"}


def _check_format(req: Requirement, tools: list[Tool]) -> None:
    fmt, kind = req.params["format"], req.target
    writable = {_NATIVE_FORMAT.get(kind, "")}
    for tool in tools:
        if kind in tool.outputs.values():
            writable |= set(((tool.params_schema().get("properties") or {}).get("format") or {}).get("enum", ()))
    if fmt not in writable:
        raise PlanningError(f"the request asks for the {kind} in {fmt.upper()} format, and no tool here writes "
                            f"that; they write {', '.join(sorted(w.upper() for w in writable if w))}")


def complete_deliverables(plan: Any, registry: ToolRegistry, input_kinds: Mapping[str, str]) -> Any:
    """``plan`` with the steps that make each deliverable the request asks for and the plan does not make yet: the
    shortest chain of available tools from what the plan already has ("I need a website from my drawing, plus a
    narrated clip of it" planned as a page alone gets the clip). The steps already planned are kept as they are.

    Example:
        >>> from planners.plan import Plan, Step
        >>> from tools.code.html import GenerateHtml
        >>> from tools.vision.sketch import AnalyzeSketch
        >>> plan = Plan(steps=[Step(id="read", tool="analyze_sketch", inputs={"image": "input:sketch"})],
        ...             requirements=[Requirement(id="deliver_html", kind="deliverable", target="html",
        ...                                       text="a page")])
        >>> done = complete_deliverables(plan, ToolRegistry([AnalyzeSketch(), GenerateHtml()]), {"sketch": "image"})
        >>> [(s.tool, s.inputs) for s in done.steps]
        [('analyze_sketch', {'image': 'input:sketch'}), ('generate_html', {'layout': 'read.layout'})]
    """
    from planners._builder import PlanBuilder

    made = {kind for s in plan.steps if s.tool in registry for kind in registry.get(s.tool).outputs.values()}
    missing = [r for r in plan.requirements if r.kind == "deliverable" and not r.params.get("answer")
               and not _targets(r) & made]
    narrate = any(r.kind == "audio_track" for r in plan.requirements)
    about_page = any(r.kind == "about" for r in plan.requirements)
    captions = any(r.kind == "captions" for r in plan.requirements)
    if not missing and not narrate and not captions:
        return plan
    builder = PlanBuilder(registry, input_kinds)
    try:
        for step in plan.steps:  # what the plan has, so a chain starts from its products
            builder.add(step.tool, bind=step.inputs, step_id=step.id, fill_optional=False)
    except Exception:  # noqa: BLE001 - a plan the builder cannot replay is left for validation to judge
        return plan
    known = len(builder.steps)
    for req in missing:
        for name in builder.chain_to(req.target, builder.kinds()) or ():
            builder.add(name, why=f"the request asks for {req.text}")
    steps = [*plan.steps, *builder.steps[known:]]
    if narrate:
        steps = _narrated(steps, builder, registry)
    if about_page:
        steps = _script_reads_the_page(steps, builder, registry)
    if captions:
        steps = _captions_from_speech(steps, builder, registry)
    return plan.model_copy(update={"steps": steps}) if steps != plan.steps else plan


def _last_video(steps: list[Any], registry: ToolRegistry) -> Any:
    """The plan's last step that makes a video (the one a narration or captions are for), or None."""
    return next((s for s in reversed(steps) if "video" in registry.get(s.tool).outputs.values()), None)


def _free_slot(step: Any, tool: Tool, kind: str) -> str | None:
    """An optional input of ``kind`` that ``step`` leaves unbound."""
    return next((n for n, k in tool.inputs.items() if k == kind and n in tool.optional_inputs
                 and n not in step.inputs), None)


def _narrated(steps: list[Any], builder: Any, registry: ToolRegistry) -> list[Any]:
    """A narrated video asked for, and the video step has no sound: its optional audio input gets narration made
    by the shortest chain of available tools (a script, then a voice)."""
    video = _last_video(steps, registry)
    if video is None:
        return steps
    slot = _free_slot(video, registry.get(video.tool), "audio")
    if slot is None:
        return steps
    known = len(builder.steps)
    chain = builder.chain_to("audio", builder.kinds() - {"audio"})
    for name in chain or ():
        builder.add(name, why="the request asks for a narrated video")
    audio = builder.find("audio", produced_only=True)
    if not chain or audio is None:
        return steps
    wired = video.model_copy(update={"inputs": {**video.inputs, slot: audio.ref}})
    return [*(wired if s.id == video.id else s for s in steps), *builder.steps[known:]]


def _script_reads_the_page(steps: list[Any], builder: Any, registry: ToolRegistry) -> list[Any]:
    """The narration of a video of a page is written from that page: a script writer whose optional ``layout``
    input is unbound (it would write from the request's words alone) reads the layout of the page the video
    shows, made by a step the plan has or by one added to render the page."""
    by_id = {s.id: s for s in steps}

    def source(step: Any, kind: str) -> Any:
        tool = registry.get(step.tool)
        ref = next((r for n, r in step.inputs.items() if tool.inputs.get(n) == kind), None)
        return by_id.get(ref.split(".", 1)[0]) if ref and not ref.startswith("input:") else None

    video = _last_video(steps, registry)
    voice = source(video, "audio") if video is not None else None
    writer = source(voice, "text") if voice is not None else None
    if writer is None:
        return steps
    # the page the video shows: an html input of the video step or of a step it reads from
    pages = [r for s in (video, *(by_id[d] for d in _upstream(steps, video.id))) for n, r in s.inputs.items()
             if registry.get(s.tool).inputs.get(n) == "html"]
    makers = {r.split(".", 1)[0] for r in pages if not r.startswith("input:")} & set(by_id)
    if any(writer.id in _upstream(steps, m) for m in makers):
        return steps  # the page is made from the script (its brief): the script cannot read the page
    slot = _free_slot(writer, registry.get(writer.tool), "layout") or _layout_the_page_came_from(
        writer, registry.get(writer.tool), steps, makers)
    if slot is None:
        return steps
    after_writer = downstream_of(Plan(steps=steps), [writer.id])
    layout = next((f"{s.id}.{out}" for s in steps if s.id not in after_writer
                   for out, kind in registry.get(s.tool).outputs.items()
                   if kind == "layout" and any(r in s.inputs.values() for r in pages)), None)
    added: list[Any] = []
    if layout is None and pages:
        known = len(builder.steps)
        maker = next((t.name for t in builder.tools if "layout" in t.outputs.values()
                      and [t.inputs[n] for n in t.required_inputs()] == ["html"]), None)
        if maker is None:
            return steps
        made = builder.add(maker, bind={next(iter(registry.get(maker).required_inputs())): pages[0]},
                           why="the narration describes the page the video shows")
        added = builder.steps[known:]
        out = next(o for o, k in registry.get(maker).outputs.items() if k == "layout")
        layout = f"{made.id}.{out}"
    if layout is None:
        return steps
    wired = writer.model_copy(update={"inputs": {**writer.inputs, slot: layout}})
    return [*(wired if s.id == writer.id else s for s in steps), *added]


def _layout_the_page_came_from(writer: Any, tool: Tool, steps: list[Any], makers: set[str]) -> str | None:
    """An optional layout input of ``writer`` bound to a layout the page was built from (a sketch's analysis) by
    one of the steps ``makers``: the page shows more than it (its copy, its calls to action) and the narration is
    of the page, so the input is rebound to the page's own layout."""
    before: set[str] = set().union(*(_upstream(steps, m) for m in makers))
    return next((n for n, k in tool.inputs.items() if k == "layout" and n in tool.optional_inputs
                 and writer.inputs.get(n, "").split(".", 1)[0] in before), None)


def _captions_from_speech(steps: list[Any], builder: Any, registry: ToolRegistry) -> list[Any]:
    """Captions asked for on a video with a sound track but no captions, in a plan that transcribes nothing: the
    sound is transcribed, and the transcript becomes the captions."""
    video = _last_video(steps, registry)
    if video is None:
        return steps
    tool = registry.get(video.tool)
    if "captions" not in (tool.params_schema().get("properties") or {}) or video.params.get("captions"):
        return steps
    audio = next((r for n, r in video.inputs.items() if tool.inputs.get(n) == "audio"), None)
    hearers = {t.name for t in builder.tools if list(t.inputs.values()) == ["audio"] and "text" in t.outputs.values()}
    # a transcript the plan already makes (of this sound, else of any), or one made of the video's sound
    heard = sorted((s for s in steps if s.tool in hearers), key=lambda s: audio not in s.inputs.values())
    known = len(builder.steps)
    if heard:
        made = heard[0]
    elif audio is not None and hearers:
        name = sorted(hearers)[0]
        made = builder.add(name, bind={next(iter(registry.get(name).inputs)): audio},
                           why="the request asks for captions of what is said")
    else:
        return steps
    out = next(o for o, k in registry.get(made.tool).outputs.items() if k == "text")
    wired = video.model_copy(update={"params": {**video.params, "captions": {"from": f"{made.id}.{out}"}}})
    return [*(wired if s.id == video.id else s for s in steps), *builder.steps[known:]]


def _upstream(steps: list[Any], root: str) -> set[str]:
    by_id = {s.id: s for s in steps}
    found: set[str] = set()
    todo = list(by_id[root].dependencies())
    while todo:
        sid = todo.pop()
        if sid in by_id and sid not in found:
            found.add(sid)
            todo += list(by_id[sid].dependencies())
    return found


def explain_gap(task: str, registry: ToolRegistry, input_kinds: Mapping[str, str]) -> str | None:
    """Why no plan can be made for ``task``, in terms of its deliverables (None when that is not the reason):
    used when a planner found nothing to do, to name the tool that would have done it."""
    from planners.requirements import extract_requirements

    tools = _tools(registry)
    given = set(input_kinds.values()) | {"text"}
    for req in extract_requirements(task, list(input_kinds)):
        if req.kind == "deliverable":
            gap, message = _gap_message(req, _targets(req), tools, given, set(input_kinds.values()))
            if gap != "missed":  # a tool could have made it: the planner's own words say more
                return message
    return None


def plan_or_explain(planner: Any, task: str, inputs: Mapping[str, Any], registry: ToolRegistry) -> Any:
    """``planner.plan(...)``; when the planner finds nothing to do, the error names the tool that would have
    made the deliverable and why it cannot (unavailable, or no tool makes it from these inputs)."""
    try:
        return planner.plan(task, inputs, registry)
    except PlanningError as exc:
        kinds = {k: getattr(v, "kind", v) for k, v in inputs.items()}
        reason = explain_gap(task, registry, kinds)
        if reason is None:
            raise
        raise PlanningError(reason) from exc


def _reads(tool: Tool, files: set[str]) -> bool:
    """Whether ``tool`` works on the user's files themselves: it needs inputs, all of kinds the files have."""
    needs = {tool.inputs[n] for n in tool.required_inputs()}
    return bool(needs) and needs <= files


def _targets(req: Requirement) -> set[str]:
    return set(req.params.get("kinds") or [req.target])


def _gap_message(req: Requirement, targets: set[str], tools: list[tuple[Tool, str]], given: set[str],
                 files: set[str]) -> tuple[str, str]:
    """(``impossible`` | ``unavailable`` | ``missed``, the message naming the tools)."""
    answer = bool(req.params.get("answer"))
    every = [t for t, _ in tools]

    def makers(pool: list[Tool], have: set[str]) -> list[Tool]:
        found = []
        for tool in pool:
            if not targets & set(tool.outputs.values()) or (tool.judges and not answer):
                continue  # a judge of other steps' work makes no deliverable (it may answer about a given file)
            needs = {tool.inputs[n] for n in tool.required_inputs()}
            if answer and not _reads(tool, files):
                continue  # an answer about the given files reads them, not something made from them
            if needs <= have:
                found.append(tool)
        return found

    # what the tools that run here can make from the user's files; an unavailable maker counts when its own
    # inputs are within reach (a chain through another unavailable tool would be a guess, not a plan)
    able = makers(every, reachable_kinds(given, [t for t, why in tools if not why]))
    what = req.text
    if not able:
        near = [t.name for t in makers(every, set().union(*(set(t.inputs.values()) for t in every)) | given)]
        hint = f"; tools that make one from other inputs: {', '.join(near)}" if near else ""
        have = sorted(files) or ["text"]
        return "impossible", f"the request asks for {what}, and no tool here makes one from {', '.join(have)}{hint}"
    blocked = [(t, why) for t, why in tools if t in able and why]
    if blocked and len(blocked) == len(able):
        names = ", ".join(t.name for t, _ in blocked)
        by_reason: dict[str, list[str]] = {}
        for t, why in blocked:
            by_reason.setdefault(why, []).append(t.name)
        reasons = "; ".join(why if len(by_reason) == 1 else f"{', '.join(n)}: {why}" for why, n in by_reason.items())
        verb = "can answer this" if answer else f"can make {what}"
        return "unavailable", (f"{names} {verb}, but {'it is' if len(blocked) == 1 else 'they are'} unavailable "
                               f"here ({reasons})")
    ready = ", ".join(t.name for t in able if t not in dict(blocked))
    return "missed", (f"the plan makes no {what.removeprefix('a ').removeprefix('an ')} although the request asks "
                      f"for it; {ready} can make it from your inputs: reword the request or edit the plan")
