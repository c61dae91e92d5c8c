"""Errors that reach the user.

Rule: anything the user can fix (bad config, bad log, bad tarball, bad CLI argument, a missing
device node, a fault of the driver) is raised as :class:`UserError` with a one-line message that
names what is wrong. The CLI prints ``r2wifi: error: <message>`` on stderr and exits with code 2.
Nothing else is allowed to print a traceback in normal use.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can act on. ``str(err)`` is the one-line message; exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # always a single line
        self.hint = " ".join(hint.split()) if hint else None

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(UserError):
    """Invalid configuration value; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


class ConfigErrors(ConfigError):
    """Several invalid values found in one pass (``config check`` lists them all).

    ``problems`` holds one :class:`ConfigError` per bad key, in file order; ``key`` is the first
    one's, and ``str()`` joins every message with ``"; "`` so that it still is one line.
    """

    def __init__(self, problems: list[ConfigError]) -> None:
        UserError.__init__(self, "; ".join(p.message for p in problems))
        self.key = problems[0].key
        self.problems = list(problems)
