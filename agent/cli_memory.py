"""``agent feedback`` and ``agent memory``: what the plan memory holds, and a person's word on a run.

Registered on the main app by :func:`register`. The memory is ``$MMAGENT_MEMORY`` or
``$MMAGENT_HOME/memory.sqlite``; ``agent --memory none run ...`` (or ``MMAGENT_MEMORY=none``) plans and runs
without it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register", "memory_app"]

memory_app = typer.Typer(help="The plan memory: list, show, forget, export and import remembered plans.",
                         no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print one line of JSON on stdout")]
IdArg = Annotated[str, typer.Argument(help="an entry id (or its first 4+ characters) from 'agent memory list'")]


def _memory() -> Any:
    from agent._cli_common import cli_settings
    from modalities.errors import ConfigError
    from planners.memory import resolve_memory

    memory = resolve_memory("default", settings=cli_settings())
    if memory is None:
        raise ConfigError("the plan memory is off (MMAGENT_MEMORY=none); unset it to use 'agent memory'")
    return memory


def _guarded(fn: Any, as_json: bool) -> Any:
    from agent._cli_common import guard as _guard

    return _guard(fn, as_json)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _row(e: Any) -> dict[str, Any]:
    return {"id": e.id, "outcome": e.outcome, "source": e.source, "uses": e.uses, "request": e.request,
            "kinds": e.kinds, "tools": e.tools, "run_id": e.run_id, "note": e.note}


@memory_app.command("list")
def list_cmd(limit: Annotated[int, typer.Option(help="newest N entries")] = 50,
             outcome: Annotated[str | None, typer.Option(help="only 'good' or only 'bad' entries")] = None,
             as_json: JsonOpt = False) -> None:
    """Remembered plans, newest first: id, outcome, source, tools, request."""
    def body() -> Any:
        from modalities.errors import ConfigError

        if outcome not in (None, "good", "bad"):
            raise ConfigError(f"--outcome {outcome!r} is neither 'good' nor 'bad'")
        return _memory().entries(outcome=outcome, limit=limit)

    entries = _guarded(body, as_json)
    if as_json:
        _print_json({"entries": [_row(e) for e in entries]})
        return
    for e in entries:
        typer.echo(f"{e.id}  {e.outcome:<4} {e.source:<8} {' > '.join(e.tools)}  {e.request[:70]!r}")
    if not entries:
        typer.echo("the plan memory is empty", err=True)


@memory_app.command()
def show(entry_id: IdArg, as_json: JsonOpt = False) -> None:
    """One entry in full: request, input kinds, plan, outcome, source."""
    entry = _guarded(lambda: _memory().get(entry_id), as_json)
    if as_json:
        _print_json({**_row(entry), "plan": entry.plan})
        return
    typer.echo(json.dumps({**_row(entry), "plan": entry.plan}, indent=1, ensure_ascii=False))


@memory_app.command()
def forget(entry_id: IdArg, as_json: JsonOpt = False) -> None:
    """Forget one entry."""
    def body() -> int:
        memory = _memory()
        memory.get(entry_id)  # says so when no entry has the id
        return int(memory.forget(entry_id))

    n = _guarded(body, as_json)
    if as_json:
        _print_json({"forgotten": n})
    else:
        typer.echo(f"forgot {n} entr{'y' if n == 1 else 'ies'}")


@memory_app.command("export")
def export_cmd(path: Annotated[Path | None, typer.Argument(help="JSONL file to write (default: stdout)")] = None
               ) -> None:
    """Every entry as one JSON object a line (request, kinds, plan, outcome, source, ...), to share a library."""
    def body() -> int:
        memory = _memory()
        if path is None:
            return int(memory.export(sys.stdout))
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("w", encoding="utf-8") as out:
            n = memory.export(out)
        os.replace(tmp, path)
        return int(n)

    n = _guarded(body, False)
    typer.echo(f"exported {n} entr{'y' if n == 1 else 'ies'}" + (f" to {path}" if path else ""), err=True)


@memory_app.command("import")
def import_cmd(path: Annotated[Path, typer.Argument(help="a JSONL file written by 'agent memory export'")],
               as_json: JsonOpt = False) -> None:
    """Add the entries of a JSONL file; entries already remembered are counted, not duplicated."""
    def body() -> int:
        from modalities.errors import ConfigError

        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {str(path)!r}: {exc}; give a JSONL file from 'agent memory export'") \
                from None
        return int(_memory().import_lines(lines, where=str(path)))

    n = _guarded(body, as_json)
    if as_json:
        _print_json({"imported": n})
    else:
        typer.echo(f"imported {n} entr{'y' if n == 1 else 'ies'}")


def feedback(
    run_id: Annotated[str, typer.Argument(help="a run id (or a unique prefix)")],
    verdict: Annotated[str, typer.Argument(help="good or bad")],
    plan: Annotated[Path | None, typer.Option("--plan", help="an edited plan JSON: remembered as the good plan "
                                              "for this request")] = None,
    note: Annotated[str | None, typer.Option("--note", help="why, in words")] = None,
    runs_dir: Annotated[Path | None, typer.Option("--runs-dir", help="where run directories are "
                                                  "(default $MMAGENT_HOME/runs)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Tell the plan memory whether a run's plan was good or bad (bad plans are never reused for the request)."""
    def body() -> Any:
        from agent.learning import give_feedback
        from agent.runs import find_run
        from agent.runs import runs_dir as default_runs
        from modalities.errors import ConfigError
        from planners.plan import parse_plan

        if verdict not in ("good", "bad"):
            raise ConfigError(f"verdict {verdict!r} is neither 'good' nor 'bad'; e.g. agent feedback RUN_ID good")
        run_dir = find_run(run_id, runs_dir or default_runs())
        edited = None
        if plan is not None:
            try:
                edited = parse_plan(json.loads(plan.read_text(encoding="utf-8"))).model_dump(mode="json")
            except (OSError, ValueError) as exc:
                raise ConfigError(f"--plan {str(plan)!r} is not a plan: {str(exc).splitlines()[0]}; give a plan "
                                  f"JSON such as 'agent plan --json' prints") from None
        return give_feedback(_memory(), run_dir, verdict, edited=edited, note=note)

    added = _guarded(body, as_json)
    if as_json:
        _print_json({"entries": [_row(e) for e in added]})
    else:
        for e in added:
            typer.echo(f"remembered {e.id} as {e.outcome} ({e.source}): {' > '.join(e.tools)}")


def _memory_option(memory: Annotated[str | None, typer.Option(
        "--memory", help="plan memory for this command: 'none' to plan and run without one, or a file "
        "(default $MMAGENT_MEMORY, else $MMAGENT_HOME/memory.sqlite)")] = None) -> None:
    from agent._cli_common import start_command_line

    start_command_line(memory=memory)  # the settings every command below builds its agent or memory with


def register(app: typer.Typer) -> None:
    """Add ``agent feedback``, ``agent memory ...`` and the global ``--memory`` option to ``app``."""
    app.command("feedback")(feedback)
    app.add_typer(memory_app, name="memory")
    app.callback()(_memory_option)
