"""Partner-to-partner referrals: validation, who sees and answers them, and the opportunity an
accepted referral puts in the CRM with both partners credited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.cosell import referrals
from mutualist.cosell.access import referrals_visible_to
from mutualist.cosell.models import Notification, Referral
from mutualist.crm import access as crm_access
from mutualist.crm.models import Account, Opportunity
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.overlaps.models import AccountResolution, Company
from mutualist.partners.models import Partner
from tests.conftest import PASSWORD, World, make_partner


def customer(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "company_name": "Hooli",
        "domain": "https://www.hooli.com/about",
        "country": "us",
        "amount": "25000",
        "currency": "EUR",
        "note": "Their CIO wants an ISV for the data platform.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def initrode(world: World) -> tuple[Partner, User]:
    """A third partner and its person: an outsider to Acme-Globex referrals."""
    partner = make_partner("Initrode", None)
    user = account_actions.create_user(
        None, "initrode_user", PASSWORD, Role.PARTNER_USER, partner=partner
    )
    return partner, user


def test_it_records_a_referral_and_tells_the_receiver(world: World) -> None:
    referral = referrals.refer(world.acme_admin, world.globex, customer())
    assert referral.from_partner == world.acme and referral.to_partner == world.globex
    assert (referral.domain, referral.country, referral.currency) == ("hooli.com", "US", "EUR")
    assert referral.amount == Decimal("25000.00")
    assert referral.status == Referral.Status.OFFERED and referral.created_by == world.acme_admin
    note = Notification.objects.get(user=world.globex_user)
    assert note.verb == "referral_received" and "Acme refers Hooli (US)" in note.text
    assert not Notification.objects.filter(user__partner=world.acme).exists()


def test_both_partners_see_it_and_a_third_does_not(
    world: World, initrode: tuple[Partner, User]
) -> None:
    referral = referrals.refer(world.acme_user, world.globex.pk, customer())
    for user in (world.acme_user, world.acme_admin, world.globex_user, world.ann):
        assert referrals.get_referral_for(user, referral.pk) == referral
    with pytest.raises(Http404):
        referrals.get_referral_for(initrode[1], referral.pk)
    assert list(referrals_visible_to(initrode[1])) == []
    with pytest.raises(Http404):
        referrals.respond(initrode[1], referral, accept=True)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"company_name": " "}, "company_name", "is required"),
        ({"country": "XX"}, "country", "'XX' is not an ISO 3166-1 alpha-2 country code"),
        ({"country": ""}, "country", "is required"),
        ({"currency": "ZZZ"}, "currency", "'ZZZ' is not a currency we know"),
        ({"domain": "not a domain"}, "domain", "'not a domain' is not a web domain"),
        ({"amount": "lots"}, "amount", "'lots' is not an amount"),
        ({"amount": "-5"}, "amount", "give a positive amount"),
    ],
)
def test_it_names_the_wrong_field(
    world: World, overrides: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as exc:
        referrals.refer(world.acme_admin, world.globex, customer(**overrides))
    assert list(exc.value.errors) == [field]
    assert exc.value.errors[field].startswith(message)
    assert not Referral.objects.exists()


def test_it_refuses_self_inactive_and_unknown_receivers(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc:
        referrals.refer(world.acme_admin, world.acme, customer())
    assert exc.value.errors == {
        "to_partner": "you cannot refer a customer to your own company; choose another partner"
    }
    Partner.objects.filter(pk=world.globex.pk).update(status="inactive")
    for target in (world.globex.pk, 999_999, None):
        with pytest.raises(ValidationFailed) as exc:
            referrals.refer(world.acme_admin, target, customer())
        assert exc.value.errors == {
            "to_partner": "choose an active partner to refer the customer to"
        }


def test_staff_do_not_refer(world: World) -> None:
    with pytest.raises(NotAllowed):
        referrals.refer(world.cpo, world.globex, customer())


def test_accepting_puts_the_deal_in_the_crm_with_both_partners(
    world: World, initrode: tuple[Partner, User]
) -> None:
    referral = referrals.refer(world.acme_admin, world.globex, customer())
    referrals.respond(world.globex_user, referral, accept=True)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED and referral.responded_at is not None
    opp = referral.opportunity
    assert opp is not None
    assert (opp.stage, opp.source_system, opp.external_id) == (
        "Referred",
        "referral",
        f"ref-{referral.pk}",
    )
    assert (opp.amount, opp.currency, opp.type) == (Decimal("25000.00"), "EUR", "new_business")
    assert sorted(opp.involvements.values_list("partner__name", "role", "is_primary")) == [
        ("Acme", "sourced", True),
        ("Globex", "influenced", False),
    ]
    account = opp.account
    assert (account.name, account.domain, account.country) == ("Hooli", "hooli.com", "US")
    assert account.external_id == f"ref-{referral.pk}"
    # Both partners find the deal in their portal, each seeing only its own involvement.
    for user in (world.acme_user, world.globex_user):
        assert crm_access.get_opportunity_for(user, opp.pk) == opp
        assert [i.partner_id for i in crm_access.involvements_visible_to(user, opp)] == [
            user.partner_id
        ]
        assert crm_access.get_account_for(user, account.pk) == account
    with pytest.raises(Http404):
        crm_access.get_opportunity_for(initrode[1], opp.pk)
    told = Notification.objects.filter(verb="referral_accepted")
    assert set(told.values_list("user__username", flat=True)) == {"acme_admin", "acme_user"}


def test_it_links_the_companys_existing_account(world: World) -> None:
    company = Company.objects.create(name="Initech", domain="initech.com", country="US")
    AccountResolution.objects.create(account=world.acme_account, company=company)
    accounts_before = Account.objects.count()
    referral = referrals.refer(
        world.globex_user, world.acme, customer(company_name="Initech Corp", domain="initech.com")
    )
    referrals.respond(world.acme_user, referral, accept=True)
    referral.refresh_from_db()
    assert referral.opportunity is not None
    assert referral.opportunity.account == world.acme_account
    assert referral.opportunity.type == "expansion"  # Initech is a customer already
    assert Account.objects.count() == accounts_before


def test_only_the_receiver_answers_once(world: World) -> None:
    referral = referrals.refer(world.acme_admin, world.globex, customer())
    with pytest.raises(NotAllowed, match="Only Globex's people"):
        referrals.respond(world.acme_user, referral, accept=True)
    with pytest.raises(NotAllowed):
        referrals.respond(world.cpo, referral, accept=True)
    referrals.respond(world.globex_user, referral, accept=False)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECLINED and referral.opportunity is None
    assert not Opportunity.objects.filter(source_system="referral").exists()
    assert Notification.objects.filter(verb="referral_declined", user=world.acme_admin).exists()
    with pytest.raises(Conflict, match="declined already"):
        referrals.respond(world.globex_user, referral, accept=True)


def test_filters_by_direction(world: World) -> None:
    made = referrals.refer(world.acme_admin, world.globex, customer())
    received = referrals.refer(world.globex_user, world.acme, customer(company_name="Vandelay"))
    assert list(referrals.filter_referrals(world.acme_user, direction="made")) == [made]
    assert list(referrals.filter_referrals(world.acme_user, direction="received")) == [received]
    assert list(referrals.filter_referrals(world.acme_user, q="vandel")) == [received]
    with pytest.raises(ValidationFailed) as exc:
        referrals.filter_referrals(world.acme_user, direction="sideways")
    assert list(exc.value.errors) == ["direction"]
