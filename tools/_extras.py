"""Optional dependencies: import them late, and say which extra to install when they are missing."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from modalities.errors import MissingExtraError

__all__ = ["require", "missing_modules"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``pip install 'mmagent[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name and module.split(".")[0] != exc.name.split(".")[0]:
            raise  # the module exists but one of its own imports is broken: show the real error
        raise MissingExtraError(module, extra) from None


def missing_modules(*modules: str) -> list[str]:
    """Top-level modules from ``modules`` that cannot be found, without importing them."""
    missing = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing
