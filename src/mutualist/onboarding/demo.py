"""Onboarding in the demo: the standard journey template, and journeys for the partners now in
onboarding, started weeks ago, with the early tasks done and a few overdue."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.utils import timezone

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.onboarding import actions
from mutualist.onboarding.choices import Side
from mutualist.onboarding.models import JourneyTemplate, Task
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner

# (phase, gated, [(title, kind, side, owner_role, due_days, depends on titles)])
PHASES: list[tuple[str, bool, list[tuple[str, str, str, str, int, list[str]]]]] = [
    (
        "Welcome & contacts",
        False,
        [
            ("Kick-off call with the alliance manager", "contact", "vendor", "", 5, []),
            ("Name a partner lead and a technical contact", "contact", "partner", "", 7, []),
            ("Share the partner welcome pack and brand guide", "resource", "vendor", "", 7, []),
            ("Add your team to the partner portal", "other", "partner", "", 10, []),
        ],
    ),
    (
        "Enablement",
        True,
        [
            ("Sales fundamentals training (2 sellers)", "training", "partner", "", 21, []),
            ("Solution engineer training", "training", "partner", "", 28, []),
            (
                "Sales certification",
                "certification",
                "partner",
                "",
                35,
                ["Sales fundamentals training (2 sellers)"],
            ),
            (
                "Technical certification",
                "certification",
                "partner",
                "",
                45,
                ["Solution engineer training"],
            ),
        ],
    ),
    (
        "Technical integration",
        False,
        [
            ("Provision sandbox and API keys", "integration", "vendor", "engineering", 14, []),
            (
                "Integration design review",
                "integration",
                "vendor",
                "engineering",
                30,
                ["Provision sandbox and API keys"],
            ),
            (
                "Build and test the connector",
                "integration",
                "partner",
                "",
                50,
                ["Integration design review"],
            ),
            (
                "Certify the integration for the marketplace",
                "integration",
                "vendor",
                "engineering",
                60,
                ["Build and test the connector"],
            ),
        ],
    ),
    (
        "Go to market",
        True,
        [
            ("First joint account plan", "other", "partner", "", 60, []),
            (
                "First deal registration",
                "other",
                "partner",
                "",
                75,
                ["First joint account plan"],
            ),
            ("Joint launch announcement", "resource", "vendor", "", 90, []),
        ],
    ),
]


def build_template(cpo: User) -> JourneyTemplate:
    template = actions.create_template(
        cpo,
        {
            "name": "Standard partner onboarding",
            "description": "From a signed agreement to the first registered deal in 90 days.",
            "is_default": True,
        },
    )
    made: dict[str, int] = {}
    for phase_name, gated, tasks in PHASES:
        phase = actions.add_phase(cpo, template, {"name": phase_name, "gated": gated})
        for title, kind, side, role, days, depends in tasks:
            task = actions.add_task(
                cpo,
                phase,
                {
                    "title": title,
                    "kind": kind,
                    "owner_side": side,
                    "owner_role": role,
                    "due_days": days,
                    "depends_on": [made[d] for d in depends],
                },
            )
            made[title] = task.pk
    return template


def _partner_admin(partner: Partner, number: int) -> User:
    from mutualist.core.demo import DEMO_PASSWORD

    username = f"onboarding{number}-admin"
    existing = User.objects.filter(username=username).first()
    return existing or account_actions.create_user(
        None,
        username,
        DEMO_PASSWORD,
        Role.PARTNER_ADMIN,
        partner=partner,
        first_name=partner.name,
        last_name="Admin",
    )


def _work(task: Task, vendor: User, partner_person: User) -> None:
    who = vendor if task.owner_side == Side.VENDOR else partner_person
    evidence = "https://learn.example.com/certificates/" + str(task.pk)
    # A task blocked behind one left open stays open, as it would.
    with contextlib.suppress(Conflict, NotAllowed, ValidationFailed):
        actions.complete_task(who, task, "", evidence if task.kind == "certification" else "")


def load(limit: int = 6) -> None:
    cpo = User.objects.get(username="cpo")
    build_template(cpo)
    today = timezone.localdate()
    partners = Partner.objects.filter(status=Status.ONBOARDING).order_by("pk")[:limit]
    for number, partner in enumerate(partners, start=1):
        days_ago = 12 + 11 * number  # 23, 34, 45 … days into onboarding
        started = timezone.now() - dt.timedelta(days=days_ago)
        vendor: Any = partner.owner or cpo
        journey = actions.start_journey(vendor, partner, at=started)
        person = _partner_admin(partner, number)
        tasks = list(journey.tasks.select_related("journey__partner", "phase").order_by("due_on"))
        # Done: what fell due more than a few days ago, except one task per journey that the
        # partner let slip (and what depends on it), so the list shows overdue work.
        slipped = tasks[number % 4].pk
        for task in tasks:
            if task.pk != slipped and task.due_on < today - dt.timedelta(days=3):
                _work(task, cpo if task.owner_role else vendor, person)
