from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from mutualist.accounts.models import User
from mutualist.audit.models import AuditEntry
from mutualist.core import demo
from mutualist.crm.actions import load_ecosystem
from mutualist.crm.models import Account, Lead, Opportunity, PartnerInvolvement, RevenueMonth
from mutualist.lib.errors import Conflict
from mutualist.partners.models import Partner, StatusChange
from mutualist.synth import SIZES, generate

CONFIG = dataclasses.replace(SIZES["small"], partners=40, accounts=400, opportunities=1500)


@pytest.fixture(scope="module")
def eco() -> Any:
    return generate(CONFIG)


def test_load_puts_every_generated_row_in_the_database(db: Any, eco: Any) -> None:
    counts = load_ecosystem(None, eco.tables, source_system="synth", owners=[])
    t = eco.tables
    assert Partner.objects.count() == len(t["partners"]["id"]) == counts["partners"]
    assert Account.objects.count() == len(t["accounts"]["id"])
    assert Opportunity.objects.count() == len(t["opportunities"]["id"])
    assert PartnerInvolvement.objects.count() == len(t["involvements"]["opportunity_id"])
    assert Lead.objects.count() == len(t["leads"]["id"])
    assert RevenueMonth.objects.count() == len(t["revenue_months"]["account_id"])
    assert StatusChange.objects.count() == len(t["partner_status_history"]["partner_id"])
    assert AuditEntry.objects.filter(action="ecosystem.load").count() == 1


def test_foreign_keys_and_values_survive_the_load(db: Any, eco: Any) -> None:
    load_ecosystem(None, eco.tables, source_system="synth", owners=[])
    o = eco.tables["opportunities"]
    a = eco.tables["accounts"]
    for i in (0, len(o["id"]) // 2, len(o["id"]) - 1):
        opp = Opportunity.objects.select_related("account").get(
            external_id=str(o["external_id"][i])
        )
        assert opp.account.external_id == str(a["external_id"][int(o["account_id"][i])])
        assert f"{opp.amount:.2f}" == f"{o['amount'][i]:.2f}"
        assert opp.is_won == bool(o["is_won"][i])
        assert (opp.closed_at is None) == bool(np.isnat(o["closed_at"][i]))
        assert (
            opp.created_at.replace(tzinfo=None) == o["created_at"][i].astype("datetime64[s]").item()
        )
    partner = Partner.objects.get(
        external_ids__external_id=str(eco.tables["partners"]["external_id"][0])
    )
    assert partner.name == str(eco.tables["partners"]["name"][0])
    history = list(partner.status_changes.values_list("from_status", "to_status"))
    assert history[0][0] == ""
    assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(history))
    assert history[-1][1] == partner.status


def test_second_load_of_the_same_source_is_refused_and_changes_nothing(db: Any, eco: Any) -> None:
    load_ecosystem(None, eco.tables, source_system="synth", owners=[])
    before = Opportunity.objects.count(), AuditEntry.objects.count()
    with pytest.raises(Conflict, match="already loaded"):
        load_ecosystem(None, eco.tables, source_system="synth", owners=[])
    assert (Opportunity.objects.count(), AuditEntry.objects.count()) == before


def test_a_failing_load_leaves_the_database_as_it_was(db: Any, eco: Any) -> None:
    broken = {name: dict(cols) for name, cols in eco.tables.items()}
    del broken["leads"]["company"]  # fails after partners, accounts and opportunities went in
    with pytest.raises(KeyError):
        load_ecosystem(None, broken, source_system="synth", owners=[])
    assert Partner.objects.count() == 0
    assert Opportunity.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_demo_creates_a_login_per_role_and_partner_logins_with_data(db: Any, eco: Any) -> None:
    logins = demo.load(eco)
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {
        "cpo",
        "alliance_manager",
        "analyst",
        "approver_legal",
        "approver_finance",
        "approver_ops",
        "partner_admin",
        "partner_user",
    }
    assert User.objects.get(username="cpo").is_superuser
    partner_user = User.objects.get(username="partner1-user")
    assert partner_user.check_password(demo.DEMO_PASSWORD)
    assert partner_user.partner is not None
    assert partner_user.partner.involvements.exists()
    assert {login.username for login in logins} >= {"cpo", "partner1-admin", "partner2-user"}
    owners = set(Partner.objects.exclude(owner=None).values_list("owner__role", flat=True))
    assert owners == {"alliance_manager"}
    assert demo.is_loaded()


def test_demo_workflows_show_mapping_and_co_selling_at_work(
    db: Any, eco: Any, settings: Any, tmp_path: Any
) -> None:
    from mutualist.cosell.models import Announcement, DealRegistration, LeadOffer, Referral
    from mutualist.overlaps.models import AccountList, Partnership

    settings.UPLOAD_DIR = tmp_path
    demo.load(eco)
    demo.load_workflows()
    lists = {a.is_blind: a for a in AccountList.objects.all()}
    assert set(lists) == {False, True}
    assert all(a.status == "succeeded" and a.matched_count > 0 for a in lists.values())
    assert (
        Partnership.objects.filter(
            vendor_opted_in_at__isnull=False, partner_opted_in_at__isnull=False
        ).count()
        == 2
    )
    statuses = set(DealRegistration.objects.values_list("status", flat=True))
    assert statuses >= {"pending", "approved", "rejected", "conflict"}
    assert DealRegistration.objects.filter(appeal="open").count() == 1
    assert LeadOffer.objects.exists() and Referral.objects.filter(status="accepted").exists()
    assert Announcement.objects.count() == 2
