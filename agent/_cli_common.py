"""What every ``agent`` command shares: options, one-line errors and exit codes, JSON output, Ctrl-C handling, the
live progress printer. Command modules (``agent/cli.py``, ``agent/cli_memory.py``...) import from here, never from
each other."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

__all__ = ["PlannerOpt", "ToolsOpt", "BaseUrlOpt",
           "RunsDirOpt", "JsonOpt", "InputOpt", "ExecutorOpt", "err", "resume_hint",
           "on_interrupt", "default_interrupt", "print_json", "guard", "start_command_line", "override_setting",
           "setting_overrides", "cli_settings", "make_agent", "progress_printer", "finish"]

# settings the options of this command line set, by name; the app's callback starts each command line afresh
_overrides: dict[str, Any] = {}

PlannerOpt = Annotated[str, typer.Option("--planner", "-p", help="auto, symbolic, local[:PATH.gguf], "
                                         "llm:<provider:model>, or package.module:attribute")]
ToolsOpt = Annotated[str | None, typer.Option("--tools", help="package.module:attribute naming a registry, a tool "
                                              "or a list of tools, or mcp:SERVERS.json (an mcpServers file) "
                                              "(default: the built-in tools)")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible URL for an llm: planner "
                                                "(llama.cpp, vLLM, Ollama, LM Studio), e.g. "
                                                "http://127.0.0.1:8080/v1; default $MMAGENT_PLANNER_BASE_URL")]
RunsDirOpt = Annotated[Path | None, typer.Option("--runs-dir", help="where run directories go "
                                                 "(default $MMAGENT_HOME/runs)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print one line of JSON on stdout")]
InputOpt = Annotated[list[Path] | None, typer.Option(
    "--input", "-i", help="an input file (repeatable); files the task names that are in the working directory are "
    "added too")]
ExecutorOpt = Annotated[str | None, typer.Option("--executor", help="where steps run: local, ray (a private local "
                                                 "Ray head) or ray=ADDRESS (ray=auto, ray=HOST:6379); default "
                                                 "$MMAGENT_EXECUTOR or local")]


def err(message: str, code: int = 2, as_json: bool = False) -> NoReturn:
    """One line on stderr and exit ``code``; with ``as_json`` also ``{"status": "error", ...}`` as the last line
    of stdout, so a script reads every outcome from the same place."""
    default_interrupt()
    typer.echo(f"error: {message}", err=True)
    if as_json:
        print_json({"status": "error", "error": message, "exit_code": code})
    raise typer.Exit(code)


def resume_hint(run_id: str, run_dir: Path | None) -> str:
    """The command that finishes a run (with ``--runs-dir`` when it is not the default folder, and the approval
    answer when the run waits for one)."""
    from agent.runs import runs_dir as default_runs

    where = f" --runs-dir {run_dir.parent}" if run_dir is not None and run_dir.parent != default_runs() else ""
    try:
        paused = json.loads((run_dir / "summary.json").read_text()).get("status") == "interrupted" if run_dir else False
    except (OSError, ValueError):
        paused = False
    return f"agent resume {run_id}{where}" + (" --decision accept|reject|PLAN.json" if paused else "")


def on_interrupt(as_json: bool, run_id: str | None = None, run_dir: Path | None = None) -> None:
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
        how = f"nothing finished is lost: {resume_hint(run_id, run_dir)}" if started else "before the run started"
        sys.stderr.write(f"interrupted; {how}\n")
        sys.stderr.flush()
        if as_json:
            print_json({"status": "interrupted", "run_id": run_id if started else None, "exit_code": 130})
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


def default_interrupt() -> None:
    """Ctrl-C back to Python's KeyboardInterrupt once a command is done (the CLI also runs inside other programs,
    such as tests)."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def guard(fn: Any, as_json: bool = False, *, usage: tuple[type[Exception], ...] = ()) -> Any:
    """Run a command body, turning user errors (and the ``usage`` errors) into one line on stderr and exit code 2,
    and run errors into exit code 1 (see :func:`err`)."""
    from modalities.errors import RunError, UserError

    try:
        return fn()
    except (UserError, *usage) as exc:
        err(str(exc), 2, as_json)
    except RunError as exc:
        err(str(exc), 1, as_json)
    finally:
        default_interrupt()


def start_command_line(**settings: Any) -> None:
    """Begin a command line with the settings its global options set (those given), forgetting an earlier one's
    (the app runs more than once in a process under tests or another program)."""
    _overrides.clear()
    _overrides.update({name: value for name, value in settings.items() if value is not None})


def override_setting(name: str, value: Any) -> None:
    """Make ``value`` (an option's, when given) the setting ``name`` for the rest of this command line."""
    if value is not None:
        _overrides[name] = value


def setting_overrides() -> dict[str, Any]:
    """The settings this command line's options set, by name (a detached run's process gets them too)."""
    return dict(_overrides)


def cli_settings() -> Any:
    """The command's :class:`~modalities.settings.Settings`: the environment's, with the options' on top."""
    from modalities.settings import Settings

    return Settings(**setting_overrides())


def make_agent(planner: str, tools: str | None, runs_dir: Path | None, *, base_url: str | None = None,
               **kw: Any) -> Any:
    from agent import Agent

    override_setting("planner_base_url", base_url)  # the planner, resolved from its spec later, reads it there
    return Agent(planner=planner, tools=tools, runs_dir=runs_dir, settings=cli_settings(), **kw)


def progress_printer() -> Any:
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


def finish(result: Any, as_json: bool) -> NoReturn:
    default_interrupt()
    if result.status == "interrupted":
        typer.echo(f"paused for approval: see the plan in {result.run_dir / 'report.html'}, then answer with "
                   f"'{resume_hint(result.run_id, result.run_dir)}'", err=True)
    if as_json:
        print_json(result.summary())
    else:
        for name, path in result.outputs.items():
            typer.echo(f"{name}: {path}")
        typer.echo(f"report: {result.run_dir / 'report.html'}")
    raise typer.Exit(1 if result.status == "failed" else 0)
