"""The three error families shared by every layer.

- :class:`UserError`: a mistake in what the user handed us (bad input file, unknown tool, missing extra,
  invalid plan or option). Raised at once; the CLI prints its one-line message and exits with code 2.
- :class:`ToolFeedback`: a signal from a tool that its result should be retried or replanned. The runtime turns
  it into a divergence; it never escapes a run.
- :class:`RunError`: a run that could not finish (budgets spent, planner failure). Exit code 1.
"""

from __future__ import annotations

__all__ = [
    "MMAgentError",
    "UserError",
    "InputFileError",
    "UnknownToolError",
    "MissingExtraError",
    "ConfigError",
    "PlanValidationError",
    "ToolFeedback",
    "ToolError",
    "RunError",
    "PlanningError",
    "BudgetExceeded",
    "StoreError",
]


class MMAgentError(Exception):
    """Base of every error this project raises on purpose."""


class UserError(MMAgentError):
    """Something the user gave us is wrong; the message says what and how to fix it."""


class InputFileError(UserError):
    """An input file is empty, corrupt, unsupported, or too large."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path!r}: {problem}")


class UnknownToolError(UserError):
    """A plan or a command names a tool that is not registered."""


class MissingExtraError(UserError):
    """A tool needs an optional dependency that is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(f"module {module!r} is not installed; install it with: pip install 'mmagent[{extra}]'")


class ConfigError(UserError):
    """An option, environment variable or spec string is invalid."""


class PlanValidationError(UserError):
    """A plan does not fit the tool registry or the run's inputs."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = list(issues)
        super().__init__("invalid plan: " + "; ".join(self.issues))


class ToolFeedback(MMAgentError):
    """Raised by a tool to say its result diverged and the step should be replanned."""


class ToolError(ToolFeedback):
    """A tool failed on an intermediate result (not on the user's own input)."""


class RunError(MMAgentError):
    """A run could not finish."""


class PlanningError(RunError):
    """The planner could not produce a valid plan."""

    def __init__(self, message: str, last_reply: str | None = None) -> None:
        self.last_reply = last_reply
        if last_reply:
            message = f"{message}; last reply: {last_reply[:500]!r}"
        super().__init__(message)


class BudgetExceeded(RunError):
    """A run hit one of its limits (steps, replans, time)."""


class StoreError(MMAgentError):
    """The artifact store found missing or corrupt content."""
