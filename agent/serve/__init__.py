"""``agent serve``: runs in the background behind an HTTP API, with a live web console.

The run directories are the only state (see :mod:`agent.serve.rundir`); :class:`RunManager` queues and runs them,
:func:`create_app` serves them. Starlette and uvicorn are imported only here, never by ``import agent``.

Example:
    >>> from agent.serve.security import safe_name
    >>> safe_name("../x.png")
    'x.png'
"""

from __future__ import annotations

__all__ = ["RunManager", "create_app"]


def __getattr__(name: str) -> object:
    if name == "RunManager":
        from agent.serve.manager import RunManager

        return RunManager
    if name == "create_app":
        from agent.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'agent.serve' has no attribute {name!r}")
