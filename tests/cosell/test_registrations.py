"""Deal registration: the conflict check, the decisions and their bookkeeping."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from mutualist.cosell import registrations
from mutualist.cosell.models import DealRegistration, RegistrationClaim
from mutualist.crm.access import opportunities_visible_to
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from tests.conftest import World
from tests.cosell.conftest import deal

Status = DealRegistration.Status


def test_a_clean_registration_is_pending_and_holds_the_company(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    assert (r.status, r.reasons, r.domain_key) == (Status.PENDING, [], "hooli.com")
    assert list(RegistrationClaim.objects.values_list("key", flat=True)) == ["d:hooli.com"]
    assert r.rules.version == 1


def test_an_existing_customer_is_rejected_by_the_named_account_rule(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal(company_name="Initech LLC", domain=""))
    assert r.status == Status.REJECTED
    assert [f["code"] for f in r.reasons] == ["existing_customer", "open_opportunity"]
    finding = r.reasons[0]
    assert "customer" in finding["partner_message"] and "Initech" not in finding["partner_message"]
    assert finding["object_id"] == resolved.acme_account.pk
    assert not RegistrationClaim.objects.exists()


def test_an_open_opportunity_found_by_name_and_country_is_a_conflict(resolved: World) -> None:
    r = registrations.submit(
        resolved.acme_user, deal(company_name="UMBRELLA GmbH", domain="", country="Germany")
    )
    assert r.status == Status.CONFLICT
    assert [f["code"] for f in r.reasons] == ["open_opportunity"]
    assert r.reasons[0]["object_id"] == resolved.globex_opp.pk


def test_the_second_partner_gets_a_conflict_without_learning_who_was_first(resolved: World) -> None:
    first = registrations.submit(resolved.acme_user, deal())
    second = registrations.submit(
        resolved.globex_user, deal(company_name="Hooli", domain="hooli.com")
    )
    assert second.status == Status.CONFLICT
    (finding,) = second.reasons
    assert finding["code"] == "registered_by_other"
    assert "Acme" not in finding["partner_message"] and "Acme" in finding["staff_message"]
    assert finding["object_id"] == first.pk
    again = registrations.submit(resolved.acme_user, deal(domain="www.hooli.com"))
    assert again.reasons[0]["code"] == "registered_by_you"


def test_abbreviations_and_legal_forms_do_not_hide_a_company_without_a_domain(
    resolved: World,
) -> None:
    registrations.submit(
        resolved.acme_user, deal(company_name="Pied Piper International, Inc.", domain="")
    )
    second = registrations.submit(
        resolved.globex_user, deal(company_name="PIED PIPER INTL", domain="")
    )
    assert second.status == Status.CONFLICT
    other_country = registrations.submit(
        resolved.globex_user, deal(company_name="Pied Piper Intl", domain="", country="FR")
    )
    assert other_country.status == Status.PENDING


def test_different_domains_are_different_companies_even_with_one_name(resolved: World) -> None:
    airline = registrations.submit(
        resolved.acme_user, deal(company_name="Delta", domain="delta.com")
    )
    faucets = registrations.submit(
        resolved.globex_user, deal(company_name="Delta", domain="deltafaucet.com")
    )
    assert (airline.status, faucets.status) == (Status.PENDING, Status.PENDING)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"company_name": ""}, "company_name"),
        ({"domain": "not a domain"}, "domain"),
        ({"domain": "gmail.com"}, "domain"),
        ({"currency": "XYZ"}, "currency"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"country": "Atlantis"}, "country"),
        ({"expected_close": "2001-01-01"}, "expected_close"),
        ({"expected_close": "soon"}, "expected_close"),
        ({"contact_name": ""}, "contact_name"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(
    resolved: World, overrides: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        registrations.submit(resolved.acme_user, deal(**overrides))
    assert field in error.value.errors
    assert not DealRegistration.objects.exists()


def test_a_replayed_submission_is_refused_and_stores_nothing_new(resolved: World) -> None:
    first = registrations.submit(resolved.acme_user, deal(), idempotency_key="abc")
    with pytest.raises(Conflict, match=str(first.pk)):
        registrations.submit(resolved.acme_user, deal(), idempotency_key="abc")
    assert DealRegistration.objects.count() == 1


def test_only_partner_people_register(resolved: World) -> None:
    with pytest.raises(NotAllowed):
        registrations.submit(resolved.alice, deal())


def test_approval_protects_and_puts_the_deal_in_the_crm_as_partner_sourced(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    approved = registrations.approve(resolved.alice, r, "good fit")
    assert approved.status == Status.APPROVED
    assert (approved.protected_until - approved.decided_at).days == 90
    opportunity = approved.opportunity
    assert (opportunity.amount, opportunity.stage, opportunity.account.domain) == (
        25000,
        "Registered",
        "hooli.com",
    )
    involvement = opportunity.involvements.get()
    assert (involvement.partner, involvement.role, involvement.is_primary) == (
        resolved.acme,
        "sourced",
        True,
    )
    assert opportunities_visible_to(resolved.acme_user).filter(pk=opportunity.pk).exists()
    assert not opportunities_visible_to(resolved.globex_user).filter(pk=opportunity.pk).exists()
    with pytest.raises(Conflict):
        registrations.approve(resolved.cpo, r)
    assert DealRegistration.objects.get().opportunity_id == opportunity.pk


def test_a_conflict_approved_after_review_links_the_open_opportunity(resolved: World) -> None:
    r = registrations.submit(
        resolved.acme_user, deal(company_name="Umbrella", domain="", country="DE")
    )
    assert r.status == Status.CONFLICT
    with pytest.raises(ValidationFailed):
        registrations.approve(resolved.alice, r)  # a conflict needs a reason
    approved = registrations.approve(
        resolved.alice, r, "Globex only influenced; Acme brought the deal"
    )
    assert approved.opportunity_id == resolved.globex_opp.pk
    roles = dict(approved.opportunity.involvements.values_list("partner__name", "role"))
    assert roles == {"Globex": "influenced", "Acme": "sourced"}


def test_a_conflict_with_a_live_registration_cannot_be_approved(resolved: World) -> None:
    registrations.submit(resolved.acme_user, deal())
    second = registrations.submit(resolved.globex_user, deal())
    with pytest.raises(Conflict, match="Another live registration"):
        registrations.approve(resolved.bob, second, "override")


def test_who_decides(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    with pytest.raises(Http404):
        registrations.approve(resolved.acme_user, r)
    with pytest.raises(NotAllowed):
        registrations.approve(resolved.ann, r)
    with pytest.raises(NotAllowed):
        registrations.approve(resolved.bob, r)  # Bob does not own Acme
    assert registrations.approve(resolved.cpo, r).status == Status.APPROVED


def test_rejection_releases_the_company_for_the_next_partner(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    with pytest.raises(ValidationFailed):
        registrations.reject(resolved.alice, r, "  ")
    registrations.reject(resolved.alice, r, "duplicate of a direct deal")
    assert registrations.submit(resolved.globex_user, deal()).status == Status.PENDING


def test_one_extension_under_the_default_rules(resolved: World) -> None:
    r = registrations.approve(resolved.alice, registrations.submit(resolved.acme_user, deal()), "")
    until = r.protected_until
    request = registrations.request_extension(resolved.acme_user, r, "legal review at the customer")
    with pytest.raises(Conflict, match="waiting"):
        registrations.request_extension(resolved.acme_user, r, "again")
    registrations.decide_extension(resolved.alice, request, True, "ok")
    r.refresh_from_db()
    assert r.protected_until - until == dt.timedelta(days=30)
    with pytest.raises(Conflict, match="1 extension"):
        registrations.request_extension(resolved.acme_user, r, "more")


def test_appeal_overturned_makes_the_registration_pending(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    registrations.reject(resolved.alice, r, "looks like a direct deal")
    with pytest.raises(Http404):
        registrations.appeal(resolved.globex_user, r, "not yours")
    registrations.appeal(resolved.acme_user, r, "we found this customer at our event")
    with pytest.raises(Conflict):
        registrations.appeal(resolved.acme_user, r, "twice")
    overturned = registrations.decide_appeal(resolved.alice, r, True, "confirmed with sales")
    assert (overturned.status, overturned.appeal) == (Status.PENDING, "overturned")
    assert RegistrationClaim.objects.filter(registration=r).exists()


def test_sweep_reminds_then_expires_and_releases(resolved: World) -> None:
    r = registrations.approve(resolved.alice, registrations.submit(resolved.acme_user, deal()), "")
    assert r.protected_until is not None
    assert registrations.sweep(r.protected_until - dt.timedelta(days=20)) == {
        "expired": 0,
        "reminded": 0,
    }
    assert registrations.sweep(r.protected_until - dt.timedelta(days=10)) == {
        "expired": 0,
        "reminded": 1,
    }
    assert registrations.sweep(r.protected_until - dt.timedelta(days=9)) == {
        "expired": 0,
        "reminded": 0,
    }
    assert resolved.acme_user.notifications.filter(verb="registration.expiring").count() == 1
    assert registrations.sweep(r.protected_until + dt.timedelta(seconds=1)) == {
        "expired": 1,
        "reminded": 0,
    }
    r.refresh_from_db()
    assert r.status == Status.EXPIRED
    # Released: the next partner's registration meets only the opportunity, for staff to review.
    after = registrations.submit(resolved.globex_user, deal())
    assert [f["code"] for f in after.reasons] == ["open_opportunity"]
    assert (
        registrations.approve(resolved.bob, after, "Acme's protection lapsed").status
        == Status.APPROVED
    )


def test_decisions_keep_the_rules_version_that_made_them(resolved: World) -> None:
    first = registrations.submit(resolved.acme_user, deal())
    with pytest.raises(NotAllowed):
        registrations.new_rules(resolved.alice, {"protection_days": 60}, "shorter")
    with pytest.raises(ValidationFailed):
        registrations.new_rules(resolved.cpo, {"protection_days": -1, "colour": 3}, "bad")
    registrations.new_rules(
        resolved.cpo, {"protection_days": 60, "reject_existing_customers": False}, "shorter"
    )
    second = registrations.submit(resolved.globex_user, deal(company_name="Initech", domain=""))
    assert (second.rules.version, second.status) == (
        2,
        Status.CONFLICT,
    )  # no longer rejected outright
    approved = registrations.approve(resolved.alice, first, "")
    assert (approved.protected_until - approved.decided_at).days == 90  # v1 still governs the first


def test_rate_limit_per_partner(resolved: World) -> None:
    from mutualist.lib.errors import RateLimited

    registrations.new_rules(resolved.cpo, {"submissions_per_hour": 2}, "tight")
    registrations.submit(resolved.acme_user, deal(domain="a-corp.com"))
    registrations.submit(resolved.acme_user, deal(domain="b-corp.com"))
    with pytest.raises(RateLimited):
        registrations.submit(resolved.acme_user, deal(domain="c-corp.com"))
    assert (
        registrations.submit(resolved.globex_user, deal(domain="c-corp.com")).status
        == Status.PENDING
    )


def test_deciders_are_notified_of_a_new_registration(resolved: World) -> None:
    registrations.submit(resolved.acme_user, deal())
    assert resolved.alice.notifications.filter(verb="registration.submitted").count() == 1
    assert resolved.cpo.notifications.count() == 1
    assert resolved.bob.notifications.count() == 0
