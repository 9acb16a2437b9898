"""Recording audit entries. Called by actions, inside their transaction, never by views."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import models

from mutualist.audit.models import AuditEntry

SYSTEM_ACTOR = "system"


def jsonable(value: Any) -> Any:
    """Turn model field values into JSON: decimals as strings so no cent is lost to floats."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The concrete field values of obj (foreign keys as ids), for before/after."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: jsonable(getattr(obj, name)) for name in names}


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    is_user = actor is not None and getattr(actor, "pk", None) is not None
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:300]
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_label=actor.get_username() if is_user else SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
    )


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Only the keys whose value changed, as {key: [old, new]}."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def record_many(
    actor: Any, action: str, object_type: str, changed: list[tuple[str, str, dict[str, Any]]]
) -> int:
    """One entry per changed object in a bulk write: (object id, label, {field: [old, new]})."""
    is_user = actor is not None and getattr(actor, "pk", None) is not None
    entries = [
        AuditEntry(
            actor=actor if is_user else None,
            actor_label=actor.get_username() if is_user else SYSTEM_ACTOR,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_label=label[:300],
            before=jsonable({k: v[0] for k, v in diff.items()}),
            after=jsonable({k: v[1] for k, v in diff.items()}),
        )
        for object_id, label, diff in changed
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)
