"""User-facing errors: each becomes one line on stderr and an exit code at the CLI edge."""

from __future__ import annotations


class OnboardError(Exception):
    """A user's mistake or bad input; never shown with a traceback."""

    exit_code = 2


class UsageError(OnboardError):
    """A command was called with arguments that cannot work."""


class InputError(OnboardError):
    """An input cannot be read: names the file, row or column and what was expected."""
