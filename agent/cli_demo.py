"""``agent demo``: runnable end-to-end demos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agent._cli_common import (
    ExecutorOpt,
    JsonOpt,
    PlannerOpt,
    RunsDirOpt,
    err,
    finish,
    guard,
    make_agent,
    on_interrupt,
    progress_printer,
)

__all__ = ["demo_app"]

demo_app = typer.Typer(help="Runnable end-to-end demos.", no_args_is_help=True)


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
    on_interrupt(as_json)

    def body() -> Any:
        from agent.demo import default_sketch, missing_tools, sketch_to_video

        agent = make_agent(planner, None, runs_dir, executor=executor)
        missing = missing_tools(agent.registry)
        if missing:
            lines = "; ".join(f"{k}: {v}" for k, v in missing.items())
            err(f"the sketch-to-video demo cannot run here yet, missing tools: {lines}", 1, as_json)
        path = sketch or default_sketch()
        typer.echo(f"sketch: {path}", err=True)
        from agent.runs import new_run_id

        run_id = new_run_id()
        on_interrupt(as_json, run_id, agent.runs_dir / run_id)
        return sketch_to_video(agent, path, inject_divergence=inject_divergence, on_event=progress_printer(),
                               run_id=run_id)

    result = guard(body, as_json)
    if not as_json:
        video = next((p for p in result.outputs.values() if p.suffix == ".mp4"), None)
        typer.echo(f"video: {video if video else '(none: the run did not finish)'}")
    finish(result, as_json)
