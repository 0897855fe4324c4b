"""The ``agent`` command line. Heavy libraries are imported inside command bodies so ``agent --help`` is instant.

Every ``--json`` command prints one line of JSON as the last line of stdout; progress goes to stderr.
Exit codes: 0 success, 1 run failed, 2 bad usage or bad input (one clear line on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agent._cli_common import (
    BaseUrlOpt,
    ExecutorOpt,
    InputOpt,
    JsonOpt,
    PlannerOpt,
    RunsDirOpt,
    ToolsOpt,
    cli_settings,
    err,
    finish,
    guard,
    make_agent,
    on_interrupt,
    print_json,
    progress_printer,
)
from agent.cli_demo import demo_app
from agent.cli_mcp import register as register_mcp_commands
from agent.cli_memory import register as register_memory_commands
from agent.cli_models import register as register_model_commands
from agent.cli_serve import register as register_serve_commands
from agent.cli_serve import run_detached

app = typer.Typer(name="agent", help="Multimodal agents that plan, check every result, and replan what diverged.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(demo_app, name="demo")
register_memory_commands(app)  # agent feedback, agent memory ..., agent --memory none
register_serve_commands(app)  # agent serve, agent watch, agent cancel
register_mcp_commands(app)  # agent mcp
register_model_commands(app)  # agent models list|pull|verify|path

def _inputs(agent: Any, task: str, inputs: list[Path] | None, as_json: bool) -> list[Path]:
    """The ``-i`` files plus the ones the task names in this folder (a broken one is a bad input: exit 2)."""
    from modalities.errors import InputFileError

    try:
        paths, notes = agent.discover_inputs(task, inputs or [])
    except InputFileError as exc:
        err(f"the task names {Path(exc.path).name!r}: {exc}", 2, as_json)
    for note in notes:
        typer.echo(note if note.startswith("input:") else f"note: {note}", err=True)
    return paths


@app.command()
def run(
    task: Annotated[str | None, typer.Argument(help="what to do, in words")] = None,
    inputs: InputOpt = None,
    audio: Annotated[Path | None, typer.Option("--audio", help="a spoken request; its transcript is the task")] = None,
    planner: PlannerOpt = "auto",
    base_url: BaseUrlOpt = None,
    tools: ToolsOpt = None,
    runs_dir: RunsDirOpt = None,
    executor: ExecutorOpt = None,
    approve: Annotated[bool, typer.Option("--approve", help="pause after planning to accept, edit or reject")] = False,
    max_replans: Annotated[int, typer.Option(help="replans allowed per diverging step (per run: twice that)")] = 3,
    max_steps: Annotated[int, typer.Option(help="largest plan allowed, replacements included")] = 64,
    step_timeout: Annotated[float | None, typer.Option(help="seconds any one step may take")] = None,
    run_timeout: Annotated[float | None, typer.Option(help="seconds the whole run may take")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="run in the background; print the run id")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Plan TASK over the input files and run it; outputs and report.html go to the run directory."""
    if (task is None) == (audio is None):
        err("give a TASK or --audio FILE (exactly one); e.g. agent run 'make a page from this sketch' -i s.png",
             as_json=as_json)

    on_interrupt(as_json)

    def body() -> Any:
        from agent.runs import new_run_id

        agent = make_agent(planner, tools, runs_dir, base_url=base_url, executor=executor, approve=approve,
                           max_replans=max_replans, max_steps=max_steps, step_timeout_s=step_timeout,
                           run_timeout_s=run_timeout)
        run_id = new_run_id()
        on_interrupt(as_json, run_id, agent.runs_dir / run_id)
        text = task
        if audio is not None:
            from agent.spoken import transcribe_request

            text = transcribe_request(audio, agent.store)
            typer.echo(f"task (transcribed): {text}", err=True)
        named = _inputs(agent, text or "", inputs, as_json)
        if detach:  # to MMAGENT_SERVER, else a background process (agent/cli_serve.py)
            run_detached(agent, text or "", named, executor, as_json)
        result = agent.run(text or "", named, run_id=run_id, on_event=progress_printer())
        if result.status == "interrupted" and approve and sys.stdin.isatty() and not as_json:
            result = _ask_approval(agent, result)
        return result

    finish(guard(body, as_json), as_json)


def _ask_approval(agent: Any, result: Any) -> Any:
    plan = result.state.get("plan") or {}
    typer.echo(json.dumps(plan, indent=1), err=True)
    answer = typer.prompt("accept, reject, or a path to an edited plan JSON", default="accept", err=True)
    decision: Any = answer
    if answer not in ("accept", "reject"):
        decision = {"plan": json.loads(Path(answer).read_text())}
    return agent.resume(result.run_id, decision=decision, on_event=progress_printer())


@app.command()
def plan(
    task: Annotated[str, typer.Argument(help="what to do, in words")],
    inputs: InputOpt = None,
    planner: PlannerOpt = "auto",
    base_url: BaseUrlOpt = None,
    tools: ToolsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make and validate a plan without running it (a dry run)."""

    def body() -> Any:
        import time

        agent = make_agent(planner, tools, None, base_url=base_url)
        t0 = time.perf_counter()
        made = agent.plan(task, _inputs(agent, task, inputs, as_json))
        return made, time.perf_counter() - t0

    from modalities.errors import PlanningError

    # a dry run that cannot plan is a request this set-up cannot do: a usage answer, not a failed run
    made, seconds = guard(body, as_json, usage=(PlanningError,))
    if as_json:
        print_json({**made.model_dump(mode="json"), "plan_s": round(seconds, 3)})
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

    registry = guard(lambda: load_tools(tools), as_json)
    rows = [{k: d[k] for k in ("name", "family", "inputs", "outputs", "available", "reason")}
            for d in registry.describe()]
    if as_json:
        print_json(rows)
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
        print_json(rows)
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

    run_dir = guard(lambda: find_run(run_id, runs_dir or default_runs()), as_json)
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
        print_json({**summary, "report": str(report)})
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
        from agent import Agent
        from agent.runs import find_run

        agent = Agent.from_run(run_id, runs_dir=runs_dir, planner=planner, tools=tools, executor=executor,
                               settings=cli_settings())
        run_dir = find_run(run_id, agent.runs_dir)
        answer: Any = decision
        if decision not in (None, "accept", "reject"):
            answer = {"plan": json.loads(Path(decision).read_text())}
        on_interrupt(as_json, run_dir.name, run_dir)
        printer = progress_printer()
        heard: list[Any] = []

        def show(event: Any) -> None:
            heard.append(event)
            printer(event)

        result = agent.resume(run_dir.name, decision=answer, on_event=show)
        if not heard:  # nothing ran: the run had ended before
            typer.echo(f"run {run_dir.name} had already ended: {result.status}"
                       + (f": {result.error}" if result.error else ""), err=True)
        return result

    finish(guard(body, as_json), as_json)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
