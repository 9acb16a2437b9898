"""Putting an action's field errors on the form that collected the input."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

from mutualist.lib.errors import ValidationFailed


def add_action_errors(
    form: forms.Form, exc: ValidationFailed, aliases: Mapping[str, str] | None = None
) -> None:
    """Each error goes under its field (renamed by `aliases` where the form calls it
    differently); errors about fields the form does not show go at the top."""
    for field, message in exc.errors.items():
        name = (aliases or {}).get(field, field)
        form.add_error(name if name in form.fields else None, message)
