"""The demo ecosystem: generated data plus one login per role, loaded through the bulk action."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Count

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.agreements import demo as agreements_demo
from mutualist.cosell import demo as cosell_demo
from mutualist.crm import actions as crm_actions
from mutualist.fit import demo as fit_demo
from mutualist.onboarding import demo as onboarding_demo
from mutualist.overlaps import demo as overlaps_demo
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner
from mutualist.synth import SIZES, Ecosystem, generate
from mutualist.tiers import demo as tiers_demo

SOURCE_SYSTEM = "synth"
DEMO_PASSWORD = "mutualist-demo"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    partner: str
    shows: str


VENDOR_LOGINS = [
    ("cpo", Role.CPO, "Dana", "Chief", "Everything; Django admin"),
    ("analyst", Role.ANALYST, "Ari", "Analyst", "Everything, read-only"),
    ("legal", Role.APPROVER_LEGAL, "Lee", "Legal", "Everything, read-only (approver)"),
    ("finance", Role.APPROVER_FINANCE, "Fin", "Finance", "Everything, read-only (approver)"),
    ("ops", Role.APPROVER_OPS, "Ola", "Operations", "Everything, read-only (approver)"),
]


def is_loaded() -> bool:
    return Partner.objects.filter(external_ids__source_system=SOURCE_SYSTEM).exists()


def build(size: str, progress: Callable[[str, int, int], None] | None = None) -> Ecosystem:
    return generate(SIZES[size], progress=progress)


@transaction.atomic
def load(eco: Ecosystem, progress: Callable[[str, int], None] | None = None) -> list[DemoLogin]:
    """Create the demo users, load the ecosystem, and give two partners their own logins."""
    logins: list[DemoLogin] = []
    for username, role, first, last, shows in VENDOR_LOGINS:
        account_actions.create_user(
            None,
            username,
            DEMO_PASSWORD,
            role,
            first_name=first,
            last_name=last,
            is_staff=role == Role.CPO,
        )
        logins.append(DemoLogin(username, Role(role).label, "", shows))
    User.objects.filter(username="cpo").update(is_superuser=True)
    managers = [
        account_actions.create_user(
            None,
            f"alliance{i + 1}",
            DEMO_PASSWORD,
            Role.ALLIANCE_MANAGER,
            first_name=f"Alex{i + 1}",
            last_name="Alliance",
        )
        for i in range(eco.config.alliance_managers)
    ]
    logins.append(
        DemoLogin(
            "alliance1 … alliance" + str(len(managers)),
            Role.ALLIANCE_MANAGER.label,
            "",
            "Everything; edits the partners they own",
        )
    )
    crm_actions.load_ecosystem(
        None, eco.tables, source_system=SOURCE_SYSTEM, owners=managers, progress=progress
    )
    logins += _partner_logins()
    return logins


@transaction.atomic
def load_workflows() -> None:
    """What people did on top of the generated ecosystem: account mapping with the two partners
    that have logins, deal registrations, routed leads, referrals, announcements. Kept apart
    from `load` so that the loaded ecosystem stays exactly the generated one (the metrics are
    checked against it)."""
    overlaps_demo.load()
    cosell_demo.load()
    onboarding_demo.load()
    tiers_demo.load()
    agreements_demo.load()
    fit_demo.load()


def _partner_logins() -> list[DemoLogin]:
    """Logins for the two active partners with the most deals, so the portal has data to show."""
    busiest = _busiest_active_partners(2)
    logins: list[DemoLogin] = []
    for number, partner in enumerate(busiest, start=1):
        for suffix, role in (("admin", Role.PARTNER_ADMIN), ("user", Role.PARTNER_USER)):
            username = f"partner{number}-{suffix}"
            account_actions.create_user(
                None,
                username,
                DEMO_PASSWORD,
                role,
                partner=partner,
                first_name=partner.name,
                last_name=suffix.title(),
            )
            logins.append(
                DemoLogin(
                    username,
                    Role(role).label,
                    partner.name,
                    "Only this partner's records (portal)",
                )
            )
    return logins


def _busiest_active_partners(count: int) -> list[Partner]:
    return list(
        Partner.objects.filter(status=Status.ACTIVE)
        .annotate(deals=Count("involvements"))
        .order_by("-deals", "id")[:count]
    )


def write_truth(eco: Ecosystem, data_dir: Path) -> Path:
    path = data_dir / "demo-truth.json"
    path.write_text(json.dumps(eco.truth, indent=2, sort_keys=True))
    return path
