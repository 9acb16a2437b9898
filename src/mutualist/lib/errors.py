"""Errors that actions raise and every surface (UI, API, CLI) renders the same way."""

from __future__ import annotations


class ValidationFailed(Exception):
    """Input was wrong. `errors` maps each field to what is wrong with it and how to fix it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


class NotAllowed(Exception):
    """The user may see the object but not do this to it (an analyst editing, say)."""


class Conflict(Exception):
    """The request is valid but the current state forbids it (deleting a partner with deals)."""


class RateLimited(Exception):
    """Too many requests of one kind in a window; the message says when to try again."""
