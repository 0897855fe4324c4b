"""``agent models``: the models the tools use: list them, pull the missing ones, verify each loads, print a path.

Registered on the main app by :func:`register`. The catalogue itself is ``agent/model_catalog.py``.

Example:
    >>> from typer.testing import CliRunner
    >>> result = CliRunner().invoke(models_app, ["path", "nonsense"])
    >>> result.exit_code
    2
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agent._cli_common import JsonOpt, cli_settings, err, guard, print_json

__all__ = ["register", "models_app"]

models_app = typer.Typer(help="The models the tools use: list, pull NAME|all, verify, path NAME.",
                         no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="clip, diffusion, whisper, voice, ocr, planner or copy")]


def register(app: typer.Typer) -> None:
    """Add ``agent models ...`` to ``app``."""
    app.add_typer(models_app, name="models")


def _names(names: list[str] | None) -> list[str]:
    from agent.model_catalog import MODEL_NAMES
    from modalities.errors import ConfigError

    chosen = list(MODEL_NAMES) if not names or names == ["all"] else names
    for name in chosen:
        if name not in MODEL_NAMES:
            raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(MODEL_NAMES)} or 'all'")
    return chosen


def _size(nbytes: int | None) -> str:
    return "-" if nbytes is None else f"{nbytes / 2**20:.0f} MiB" if nbytes < 2**30 else f"{nbytes / 2**30:.2f} GiB"


@models_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Each tool's model: where it comes from, its size, and whether it is here."""
    from agent.model_catalog import list_models

    rows = guard(lambda: [m.as_json() for m in list_models(cli_settings())], as_json)
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "model", "source", "size", "present", "tools")
    for r in rows:
        table.add_row(r["name"], r["model"], r["source"], _size(r["bytes"]),
                      "[green]yes[/]" if r["present"] else "[red]no[/]", ", ".join(r["tools"]))
    console = Console()
    console.print(table)
    for r in rows:
        if r["note"]:
            console.print(f"{r['name']}: {r['note']}", soft_wrap=True, highlight=False)


@models_app.command("pull")
def pull_cmd(name: NameArg, as_json: JsonOpt = False) -> None:
    """Download NAME's model (or every missing one with 'all') into the standard caches."""
    from agent.model_catalog import pull_model
    from modalities.errors import UserError

    names = guard(lambda: _names([name]), as_json)
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for n in names:
        try:
            rows.append({**pull_model(n, cli_settings()).as_json(), "error": None})
        except UserError as exc:
            if len(names) == 1:
                err(str(exc), 1, as_json)  # one line saying what failed, and the hint
            failed.append(n)
            rows.append({**_row(n), "error": str(exc)})
            typer.echo(f"error: {n}: {exc}", err=True)
    if as_json:
        print_json({"status": "error" if failed else "ok", "models": rows})
    else:
        for r in rows:
            state = "present" if r["present"] else "missing"
            typer.echo(f"{r['name']}: {r['model']} {state}" + (f" at {r['path']}" if r["path"] else ""))
    raise typer.Exit(1 if failed else 0)


def _row(name: str) -> dict[str, Any]:
    from agent.model_catalog import model_info

    return model_info(name, cli_settings()).as_json()


@models_app.command("verify")
def verify_cmd(names: Annotated[list[str] | None, typer.Argument(help="models to verify (default: all)")] = None,
               as_json: JsonOpt = False) -> None:
    """Load each present model and run one tiny inference; exit 1 when one that is present fails."""
    from agent.model_catalog import verify_model

    chosen = guard(lambda: _names(names), as_json)
    rows = []
    for name in chosen:
        typer.echo(f"verifying {name}...", err=True)
        rows.append(verify_model(name, cli_settings()))
    broken = [r for r in rows if not r["ok"] and _row(r["name"])["present"]]
    if as_json:
        print_json({"status": "error" if broken else "ok", "models": rows})
    else:
        for r in rows:
            if r["ok"]:
                timing = f"load {r['load_s']} s, first inference {r['first_s']} s" if r["load_s"] is not None else \
                    r.get("note", "")
                typer.echo(f"{r['name']}: ok ({timing})")
            else:
                typer.echo(f"{r['name']}: {'FAILED' if r in broken else 'absent'}: {r['error']}")
    raise typer.Exit(1 if broken else 0)


@models_app.command("path")
def path_cmd(name: NameArg, as_json: JsonOpt = False) -> None:
    """Print where NAME's model is on disk (exit 1 when it is not here)."""
    from agent.model_catalog import model_info

    guard(lambda: _names([name]), as_json)
    info = guard(lambda: model_info(name, cli_settings()), as_json)
    if not info.present or not info.path:
        err(f"{name} ({info.model}) is not here: {info.note or 'run `agent models pull ' + name + '`'}", 1, as_json)
    if as_json:
        print_json({"name": name, "path": info.path})
        return
    typer.echo(info.path)
