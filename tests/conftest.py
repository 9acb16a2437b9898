"""Shared personas and a small ecosystem, in the healthchecks style: named people, real rows.

- cpo: the Chief Partner Officer (edits everything)
- alice: alliance manager who owns Acme
- bob: another alliance manager
- ann: analyst (reads everything, writes nothing)
- acme_admin / acme_user: people of partner Acme
- globex_user: a person of partner Globex (the outsider to Acme's records)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.crm.models import Account, Lead, Opportunity, PartnerInvolvement, RevenueMonth
from mutualist.partners.models import Partner, StatusChange

PASSWORD = "test-password-1"
T0 = datetime(2025, 1, 15, tzinfo=UTC)


@dataclass
class World:
    cpo: User
    alice: User
    bob: User
    ann: User
    acme_admin: User
    acme_user: User
    globex_user: User
    acme: Partner
    globex: Partner
    acme_account: Account
    globex_account: Account
    acme_opp: Opportunity
    globex_opp: Opportunity
    shared_opp: Opportunity
    acme_lead: Lead
    globex_lead: Lead

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def token_for(self, user: User) -> str:
        _, key = account_actions.create_api_token(user, user, "test")
        return key


def make_partner(name: str, owner: User | None, types: str = ",reseller,") -> Partner:
    partner = Partner.objects.create(
        name=name,
        legal_name=f"{name} Inc.",
        domain=f"{name.lower()}.example",
        country="US",
        region="NA",
        types=types,
        status="active",
        status_since=T0,
        tier="gold",
        owner=owner,
        created_at=T0,
    )
    StatusChange.objects.create(partner=partner, from_status="", to_status="active", changed_at=T0)
    return partner


def make_opportunity(account: Account, name: str, **kwargs: Any) -> Opportunity:
    fields: dict[str, Any] = {
        "amount": Decimal("1000.00"),
        "currency": "USD",
        "stage": "Prospecting",
        "created_at": T0,
        "source_system": "test",
        "external_id": name,
    }
    fields.update(kwargs)
    return Opportunity.objects.create(account=account, name=name, **fields)


@pytest.fixture
def world(db: Any) -> World:
    def user(name: str, role: str, partner: Partner | None = None) -> User:
        return account_actions.create_user(None, name, PASSWORD, role, partner=partner)

    cpo = user("cpo", Role.CPO)
    alice = user("alice", Role.ALLIANCE_MANAGER)
    bob = user("bob", Role.ALLIANCE_MANAGER)
    ann = user("ann", Role.ANALYST)
    acme = make_partner("Acme", alice, ",reseller,system_integrator,")
    globex = make_partner("Globex", bob, ",isv,")
    acme_account = Account.objects.create(
        name="Initech",
        domain="initech.example",
        created_at=T0,
        lifecycle="customer",
        country="US",
        industry="retail",
    )
    globex_account = Account.objects.create(
        name="Umbrella",
        domain="umbrella.example",
        created_at=T0,
        lifecycle="prospect",
        country="DE",
    )
    acme_opp = make_opportunity(acme_account, "Initech expansion")
    globex_opp = make_opportunity(globex_account, "Umbrella platform", amount=Decimal("5000.00"))
    shared_opp = make_opportunity(
        acme_account,
        "Initech renewal",
        is_closed=True,
        is_won=True,
        closed_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    PartnerInvolvement.objects.create(
        opportunity=acme_opp, partner=acme, role="sourced", attached_at=T0, is_primary=True
    )
    PartnerInvolvement.objects.create(
        opportunity=globex_opp, partner=globex, role="influenced", attached_at=T0, is_primary=True
    )
    PartnerInvolvement.objects.create(
        opportunity=shared_opp, partner=acme, role="co_sell", attached_at=T0, is_primary=True
    )
    PartnerInvolvement.objects.create(
        opportunity=shared_opp, partner=globex, role="technology", attached_at=T0
    )
    RevenueMonth.objects.create(account=acme_account, month=date(2025, 2, 1), mrr=Decimal("100.00"))
    acme_lead = Lead.objects.create(
        company="Hooli", created_at=T0, source="partner_referral", partner=acme
    )
    globex_lead = Lead.objects.create(
        company="Pied Piper", created_at=T0, source="partner_referral", partner=globex
    )
    return World(
        cpo=cpo,
        alice=alice,
        bob=bob,
        ann=ann,
        acme_admin=user("acme_admin", Role.PARTNER_ADMIN, acme),
        acme_user=user("acme_user", Role.PARTNER_USER, acme),
        globex_user=user("globex_user", Role.PARTNER_USER, globex),
        acme=acme,
        globex=globex,
        acme_account=acme_account,
        globex_account=globex_account,
        acme_opp=acme_opp,
        globex_opp=globex_opp,
        shared_opp=shared_opp,
        acme_lead=acme_lead,
        globex_lead=globex_lead,
    )


@pytest.fixture
def resolved(world: World) -> World:
    """The personas with the vendor's accounts resolved to companies (account mapping's
    registry), which deal registration and referrals look companies up in."""
    from mutualist.overlaps.actions import resolve_vendor_accounts

    resolve_vendor_accounts()
    return world


# The account-mapping world, for the tests of every app that need one (imported last: it builds
# on the personas above).
from tests.overlaps.conftest import mapped  # noqa: E402, F401


def _database_use(item: pytest.Item) -> str | None:
    """ "transactional", "db" or None (no database), as pytest-django orders tests."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    if (marker and marker.kwargs.get("transaction")) or fixtures & {
        "transactional_db",
        "live_server",
    }:
        return "transactional"
    return "db" if marker or "db" in fixtures else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs each file whole on one worker (`--dist loadfile`), so a transactional
    test's flush wipes the migrations' seed data (segments, …) for the ordinary tests its
    worker runs next: pytest-django orders them safely across files only, and only while xdist
    keeps that order (`--no-loadscope-reorder` in the Makefile). Refuse a file that mixes the
    two instead of failing somewhere else, depending on scheduling."""
    uses: dict[str, set[str]] = {}
    for item in items:
        if (use := _database_use(item)) is not None:
            uses.setdefault(str(item.path), set()).add(use)
    mixed = sorted(path for path, kinds in uses.items() if len(kinds) > 1)
    if mixed:
        raise pytest.UsageError(
            "these files mix transactional and ordinary database tests; move the "
            f"transactional ones to a file of their own: {', '.join(mixed)}"
        )


_flushed_by: list[str] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Name the cause when an ordinary database test would run on a database a transactional
    test has flushed (its seed data gone), instead of letting it fail on missing segments."""
    use = _database_use(item)
    if use == "transactional" and not _flushed_by:
        _flushed_by.append(item.nodeid)
    elif use == "db" and _flushed_by:
        pytest.fail(
            f"runs after {_flushed_by[0]} flushed this worker's database (seed data gone): run "
            "the suite in pytest-django's order, e.g. `make test` (--no-loadscope-reorder)",
            pytrace=False,
        )
