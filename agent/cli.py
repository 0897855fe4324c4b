"""The ``agent`` command line. Heavy libraries are imported inside command bodies so ``agent --help`` is instant.

Every ``--json`` command prints one line of JSON as the last line of stdout; progress goes to stderr.
Exit codes: 0 success, 1 run failed, 2 bad usage or bad input (one clear line on stderr).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from agent.cli_memory import register as register_memory_commands

app = typer.Typer(name="agent", help="Multimodal agents that plan, check every result, and replan what diverged.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
demo_app = typer.Typer(help="Runnable end-to-end demos.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
register_memory_commands(app)  # agent feedback, agent memory ..., agent --memory none

PlannerOpt = Annotated[str, typer.Option("--planner", "-p", help="auto, symbolic, local[:PATH.gguf], "
                                         "llm:<provider:model>, or package.module:attribute")]
ToolsOpt = Annotated[str | None, typer.Option("--tools", help="package.module:attribute naming a registry, a tool "
                                              "or a list of tools (default: the built-in tools)")]
RunsDirOpt = Annotated[Path | None, typer.Option("--runs-dir", help="where run directories go "
                                                 "(default $MMAGENT_HOME/runs)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one line of JSON on stdout")]
InputOpt = Annotated[list[Path] | None, typer.Option(
    "--input", "-i", help="an input file (repeatable); files the task names that are in the working directory are "
    "added too")]
ExecutorOpt = Annotated[str | None, typer.Option("--executor", help="where steps run: local, ray (a private local "
                                                 "Ray head) or ray=ADDRESS (ray=auto, ray=HOST:6379); default "
                                                 "$MMAGENT_EXECUTOR or local")]


def _err(message: str, code: int = 2, as_json: bool = False) -> NoReturn:
    """One line on stderr and exit ``code``; with ``as_json`` also ``{"status": "error", ...}`` as the last line
    of stdout, so a script reads every outcome from the same place."""
    _default_interrupt()
    typer.echo(f"error: {message}", err=True)
    if as_json:
        _print_json({"status": "error", "error": message, "exit_code": code})
    raise typer.Exit(code)


def _resume_hint(run_id: str, run_dir: Path | None) -> str:
    """The command that finishes a run (with ``--runs-dir`` when it is not the default folder, and the approval
    answer when the run waits for one)."""
    from agent.runs import runs_dir as default_runs

    where = f" --runs-dir {run_dir.parent}" if run_dir is not None and run_dir.parent != default_runs() else ""
    try:
        paused = json.loads((run_dir / "summary.json").read_text()).get("status") == "interrupted" if run_dir else False
    except (OSError, ValueError):
        paused = False
    return f"agent resume {run_id}{where}" + (" --decision accept|reject|PLAN.json" if paused else "")


def _on_interrupt(as_json: bool, run_id: str | None = None, run_dir: Path | None = None) -> None:
    """Make Ctrl-C (SIGINT) end the process at once with exit 130 and a line saying how to resume. Every finished
    step is checkpointed and journaled, so a hard exit loses nothing (a kill -9 is tested to be safe); a normal
    shutdown could instead abort inside native model threads (llama.cpp), dumping a backtrace on stdout."""
    import os
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set signal handlers (the CLI can be called from others)

    def stop(signum: int, frame: Any) -> None:
        threading.Timer(5.0, os._exit, (130,)).start()  # whatever the clean-up below does, exit soon
        started = run_id is not None and run_dir is not None and run_dir.exists()
        how = f"nothing finished is lost: {_resume_hint(run_id, run_dir)}" if started else "before the run started"
        sys.stderr.write(f"interrupted; {how}\n")
        sys.stderr.flush()
        if as_json:
            _print_json({"status": "interrupted", "run_id": run_id if started else None, "exit_code": 130})
        workers = sys.modules.get("agent.workers")
        if workers is not None:  # a worker killed mid-step loses nothing: its step runs again on resume
            workers.shutdown_shared_pool()
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            try:  # a private local Ray head would outlive a hard exit
                ray.shutdown()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        os._exit(130)

    signal.signal(signal.SIGINT, stop)


def _default_interrupt() -> None:
    """Ctrl-C back to Python's KeyboardInterrupt once a command is done (the CLI also runs inside other programs,
    such as tests)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _guard(fn: Any, as_json: bool = False, *, usage: tuple[type[Exception], ...] = ()) -> Any:
    """Run a command body, turning user errors (and the ``usage`` errors) into one line on stderr and exit code 2,
    and run errors into exit code 1 (see :func:`_err`)."""
    from modalities.errors import RunError, UserError

    try:
        return fn()
    except (UserError, *usage) as exc:
        _err(str(exc), 2, as_json)
    except RunError as exc:
        _err(str(exc), 1, as_json)
    finally:
        _default_interrupt()


def _make_agent(planner: str, tools: str | None, runs_dir: Path | None, **kw: Any) -> Any:
    from agent import Agent

    return Agent(planner=planner, tools=tools, runs_dir=runs_dir, **kw)


def _progress_printer() -> Any:
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)  # one event a line, never cut mid-path
    icons = {"succeeded": "[green]✓[/]", "failed": "[red]✗[/]"}

    def show(event: Any) -> None:
        d = event.data
        if event.kind == "plan_made":
            steps = d["plan"]["steps"]
            console.print(f"[bold]plan[/] by {d.get('planner')} in {d.get('seconds')} s: "
                          + " → ".join(f"{s['id']}({s['tool']})" for s in steps))
        elif event.kind == "step_started":
            tool = "" if d["tool"] == d["step"] else f"{d['tool']} "
            console.print(f"  [cyan]▶[/] {d['step']} [dim]{tool}attempt {d.get('attempt', 1)}[/]")
        elif event.kind == "model_loading":
            console.print(f"    [magenta]loading[/] {d.get('model')} on {d.get('device')}")
        elif event.kind in ("check_passed", "check_failed"):
            mark = "[green]pass[/]" if event.kind == "check_passed" else "[red]fail[/]"
            console.print(f"    check {d['check']}: {mark} (value {d.get('value')!r})"
                          + (f" [red]{d['error']}[/]" if d.get("error") else ""))
        elif event.kind == "step_finished":
            extra = " (from journal)" if d.get("cached") else ""
            console.print(f"  {icons.get(d['status'], '?')} {d['step']} {d.get('seconds')} s{extra}"
                          + (f" [red]{d['error']}[/]" if d.get("error") else ""))
        elif event.kind == "replanning":
            console.print(f"[yellow]replanning[/] after {d['reason']} (planner: {d.get('planner')})")
        elif event.kind == "replanned":
            console.print(f"[yellow]replan {d.get('number')}[/]: {d['reason']} → redo {', '.join(d['affected'])}")
        elif event.kind == "run_finished":
            console.print(f"[bold]{d['status']}[/] in {d.get('wall_s')} s" + (f": {d['error']}" if d.get("error")
                                                                            else ""))
    return show


def _finish(result: Any, as_json: bool) -> NoReturn:
    _default_interrupt()
    if result.status == "interrupted":
        typer.echo(f"paused for approval: see the plan in {result.run_dir / 'report.html'}, then answer with "
                   f"'{_resume_hint(result.run_id, result.run_dir)}'", err=True)
    if as_json:
        _print_json(result.summary())
    else:
        for name, path in result.outputs.items():
            typer.echo(f"{name}: {path}")
        typer.echo(f"report: {result.run_dir / 'report.html'}")
    raise typer.Exit(1 if result.status == "failed" else 0)


# "save it as out.wav", "export it to demo.mp4", "a clip called intro.mp4": a name the run is to write
_OUTPUT_NAME = re.compile(r"(?:\b(?:save|saved|saving|export|exported|exporting|output)\b(?:\W+\w+){0,3}?\W+"
                          r"(?:as|to|into|in)|\b(?:called|named))\W*$", re.I)


def _with_named_files(agent: Any, task: str, inputs: list[Path] | None, as_json: bool = False) -> list[Path]:
    """The ``--input`` files, plus each file the task names by a bare file name ("transcribe talk.wav") that is in
    the working directory and was not given: the user means that file, so a broken one is an error (exit 2, as a
    bad ``-i`` is). A name with no file here is only noted: it may be one the run is to write, in words no rule
    can tell apart ("put the text in notes.txt"), and refusing it would leave no way to run the request."""
    from modalities.errors import InputFileError
    from planners._intents import input_names

    given = list(inputs or [])
    have = {p.resolve() for p in given}
    given_names = {p.name for p in given}
    here = Path.cwd().resolve()
    for name, kind in input_names(task).items():
        path = Path(name)
        if kind == "url" or name in given_names or path.resolve() in have:
            continue
        if _OUTPUT_NAME.search(task[: task.find(name)]):
            continue
        if not path.is_file():
            typer.echo(f"note: the task names {name!r}, but {here} has no such file; if it is an input, pass it "
                       f"with -i PATH", err=True)
            continue
        if here not in path.resolve().parents:
            typer.echo(f"note: not reading {name!r}, a link out of {here}; pass it with -i PATH to use it", err=True)
            continue
        try:
            agent.ingest([path])
        except InputFileError as exc:
            _err(f"the task names {name!r}: {exc}", 2, as_json)
        typer.echo(f"input: {name} (named in the task, found in {here})", err=True)
        given.append(path)
        have.add(path.resolve())
    return given


@app.command()
def run(
    task: Annotated[str | None, typer.Argument(help="what to do, in words")] = None,
    inputs: InputOpt = None,
    audio: Annotated[Path | None, typer.Option("--audio", help="a spoken request; its transcript is the task")] = None,
    planner: PlannerOpt = "auto",
    tools: ToolsOpt = None,
    runs_dir: RunsDirOpt = None,
    executor: ExecutorOpt = None,
    approve: Annotated[bool, typer.Option("--approve", help="pause after planning to accept, edit or reject")] = False,
    max_replans: Annotated[int, typer.Option(help="replans allowed")] = 3,
    max_steps: Annotated[int, typer.Option(help="largest plan allowed, replacements included")] = 64,
    step_timeout: Annotated[float | None, typer.Option(help="seconds any one step may take")] = None,
    run_timeout: Annotated[float | None, typer.Option(help="seconds the whole run may take")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan TASK over the input files and run it; outputs and report.html go to the run directory."""
    if (task is None) == (audio is None):
        _err("give a TASK or --audio FILE (exactly one); e.g. agent run 'make a page from this sketch' -i s.png",
             as_json=as_json)

    _on_interrupt(as_json)

    def body() -> Any:
        from agent.runs import new_run_id

        agent = _make_agent(planner, tools, runs_dir, executor=executor, approve=approve, max_replans=max_replans,
                            max_steps=max_steps, step_timeout_s=step_timeout, run_timeout_s=run_timeout)
        run_id = new_run_id()
        _on_interrupt(as_json, run_id, agent.runs_dir / run_id)
        text = task
        if audio is not None:
            from agent.spoken import transcribe_request

            text = transcribe_request(audio, agent.store)
            typer.echo(f"task (transcribed): {text}", err=True)
        named = _with_named_files(agent, text or "", inputs, as_json)
        result = agent.run(text or "", named, run_id=run_id, on_event=_progress_printer())
        if result.status == "interrupted" and approve and sys.stdin.isatty() and not as_json:
            result = _ask_approval(agent, result)
        return result

    _finish(_guard(body, as_json), as_json)


def _ask_approval(agent: Any, result: Any) -> Any:
    plan = result.state.get("plan") or {}
    typer.echo(json.dumps(plan, indent=1), err=True)
    answer = typer.prompt("accept, reject, or a path to an edited plan JSON", default="accept", err=True)
    decision: Any = answer
    if answer not in ("accept", "reject"):
        decision = {"plan": json.loads(Path(answer).read_text())}
    return agent.resume(result.run_id, decision=decision, on_event=_progress_printer())


@app.command()
def plan(
    task: Annotated[str, typer.Argument(help="what to do, in words")],
    inputs: InputOpt = None,
    planner: PlannerOpt = "auto",
    tools: ToolsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make and validate a plan without running it (a dry run)."""

    def body() -> Any:
        import time

        agent = _make_agent(planner, tools, None)
        t0 = time.perf_counter()
        made = agent.plan(task, _with_named_files(agent, task, inputs, as_json))
        return made, time.perf_counter() - t0

    from modalities.errors import PlanningError

    # a dry run that cannot plan is a request this set-up cannot do: a usage answer, not a failed run
    made, seconds = _guard(body, as_json, usage=(PlanningError,))
    if as_json:
        _print_json({**made.model_dump(mode="json"), "plan_s": round(seconds, 3)})
        return
    count = f"{len(made.steps)} step{'' if len(made.steps) == 1 else 's'}"
    typer.echo(f"plan by {made.planner or planner} in {seconds:.2f} s ({count}):")
    for s in made.steps:
        valued = s.param_refs()  # params filled from another step's output when the step starts
        refs = ", ".join([f"{k}={v}" for k, v in s.inputs.items()] + [f"{k} from {v}" for k, v in valued.items()])
        fixed = {k: v for k, v in s.params.items() if k not in valued}
        checks = "; ".join(c.name for c in s.expect)
        typer.echo(f"  {s.id}: {s.tool}({refs}){' ' + json.dumps(fixed) if fixed else ''}"
                   f"{'  expect ' + checks if checks else ''}")
    if made.requirements:
        typer.echo("requirements, checked on the delivered files:")
        for r in made.requirements:
            typer.echo(f"  - {r.text}")


@app.command("tools")
def tools_cmd(tools: ToolsOpt = None, as_json: JsonOpt = False) -> None:
    """List every tool: its kinds in and out, and whether it can run here (and why not)."""
    from tools.registry import load_tools

    registry = _guard(lambda: load_tools(tools), as_json)
    rows = [{k: d[k] for k in ("name", "family", "inputs", "outputs", "available", "reason")}
            for d in registry.describe()]
    if as_json:
        _print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("tool", "family", "inputs", "outputs", "available")
    for r in rows:
        ins = ", ".join(f"{k}:{v}" for k, v in r["inputs"].items())
        outs = ", ".join(f"{k}:{v}" for k, v in r["outputs"].items())
        table.add_row(r["name"], r["family"], ins, outs, "[green]yes[/]" if r["available"] else "[red]no[/]")
    console = Console()
    console.print(table)
    for r in rows:  # reasons are long (they say how to fix it): one line each, below the table
        if not r["available"]:
            console.print(f"[red]{r['name']}[/]: {r['reason']}", soft_wrap=True)


@app.command()
def runs(runs_dir: RunsDirOpt = None, as_json: JsonOpt = False) -> None:
    """List runs, newest first."""
    from agent.runs import list_runs
    from agent.runs import runs_dir as default_runs

    rows = list_runs(runs_dir or default_runs())
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['run_id']}  {r['status']:<11} {r['task'][:70]}")


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="a run id (or a unique prefix)")],
    runs_dir: RunsDirOpt = None,
    open_browser: Annotated[bool, typer.Option("--open", help="open the report in a browser")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Print the path of a run's report (and its summary with --json)."""
    from agent.runs import find_run
    from agent.runs import runs_dir as default_runs

    run_dir = _guard(lambda: find_run(run_id, runs_dir or default_runs()), as_json)
    report = run_dir / "report.html"
    if not report.exists():
        from agent.report import write_report
        from modalities.store import ArtifactStore

        meta = json.loads((run_dir / "run.json").read_text())
        write_report(run_dir, ArtifactStore(meta["store"]))
    if open_browser:
        import webbrowser

        webbrowser.open(report.as_uri())
    if as_json:
        summary_path = run_dir / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {
            "run_id": run_dir.name, "status": "incomplete", "outputs": {}, "steps": [], "replans": 0, "wall_s": None}
        _print_json({**summary, "report": str(report)})
        return
    typer.echo(str(report))


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="a run id (or a unique prefix)")],
    runs_dir: RunsDirOpt = None,
    planner: Annotated[str | None, typer.Option("--planner", "-p", help="override the run's planner")] = None,
    executor: ExecutorOpt = None,
    tools: ToolsOpt = None,
    decision: Annotated[str | None, typer.Option(help="answer to an approval pause: accept, reject, or a path to "
                                                 "an edited plan JSON")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Finish a run that crashed, was killed or paused, without re-running finished steps."""

    def body() -> Any:
        from agent.runs import find_run
        from agent.runs import runs_dir as default_runs

        base = runs_dir or default_runs()
        run_dir = find_run(run_id, base)
        meta = json.loads((run_dir / "run.json").read_text())
        from agent import Agent
        from modalities.store import ArtifactStore

        agent = Agent(planner=planner or meta.get("planner_spec") or "auto", tools=tools or meta.get("tools"),
                      runs_dir=base, store=ArtifactStore(meta["store"]), approve=bool(meta.get("approve")),
                      executor=executor)
        answer: Any = decision
        if decision not in (None, "accept", "reject"):
            answer = {"plan": json.loads(Path(decision).read_text())}
        _on_interrupt(as_json, run_dir.name, run_dir)
        printer = _progress_printer()
        heard: list[Any] = []

        def show(event: Any) -> None:
            heard.append(event)
            printer(event)

        result = agent.resume(run_dir.name, decision=answer, on_event=show)
        if not heard:  # nothing ran: the run had ended before
            typer.echo(f"run {run_dir.name} had already ended: {result.status}"
                       + (f": {result.error}" if result.error else ""), err=True)
        return result

    _finish(_guard(body, as_json), as_json)


@demo_app.command("sketch-to-video")
def demo_sketch_to_video(
    sketch: Annotated[Path | None, typer.Option("--sketch", help="a hand-drawn page sketch (default: the shipped "
                                                "examples/sketches/landing.png)")] = None,
    planner: PlannerOpt = "auto",
    inject_divergence: Annotated[bool, typer.Option("--inject-divergence", help="start from a page strategy that "
                                                    "drops sections, to show partial replanning")] = False,
    runs_dir: RunsDirOpt = None,
    executor: ExecutorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sketch -> landing page -> narrated video, offline, on the embedded models."""
    _on_interrupt(as_json)

    def body() -> Any:
        from agent.demo import default_sketch, missing_tools, sketch_to_video

        agent = _make_agent(planner, None, runs_dir, executor=executor)
        missing = missing_tools(agent.registry)
        if missing:
            lines = "; ".join(f"{k}: {v}" for k, v in missing.items())
            _err(f"the sketch-to-video demo cannot run here yet, missing tools: {lines}", 1, as_json)
        path = sketch or default_sketch()
        typer.echo(f"sketch: {path}", err=True)
        from agent.runs import new_run_id

        run_id = new_run_id()
        _on_interrupt(as_json, run_id, agent.runs_dir / run_id)
        return sketch_to_video(agent, path, inject_divergence=inject_divergence, on_event=_progress_printer(),
                               run_id=run_id)

    result = _guard(body, as_json)
    if not as_json:
        video = next((p for p in result.outputs.values() if p.suffix == ".mp4"), None)
        typer.echo(f"video: {video if video else '(none: the run did not finish)'}")
    _finish(result, as_json)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
