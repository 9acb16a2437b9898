from __future__ import annotations

import datetime as dt

from ninja import Schema


class TaskOut(Schema):
    id: int
    journey_id: int
    phase: str
    phase_order: int
    title: str
    kind: str
    owner_side: str
    owner_role: str
    assignee: str | None
    due_on: dt.date
    status: str
    overdue: bool
    blocked_by: list[str]
    completed_at: dt.datetime | None
    completed_by: str | None
    note: str
    evidence_url: str


class JourneyOut(Schema):
    id: int
    partner_id: int
    partner: str
    template: str
    template_version: int
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    tasks: int
    done: int
    percent_done: int
    overdue: int
    days_to_first_registered_deal: int | None
    days_to_first_won_deal: int | None


class JourneyDetailOut(JourneyOut):
    next_due: TaskOut | None
    task_list: list[TaskOut]


class CompleteIn(Schema):
    note: str = ""
    evidence_url: str = ""


class StartIn(Schema):
    template_id: int | None = None
