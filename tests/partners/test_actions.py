from __future__ import annotations

import pytest

from mutualist.audit.models import AuditEntry
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.partners import actions
from mutualist.partners.models import Partner, StatusChange
from tests.conftest import World


def test_create_partner_validates_normalises_and_audits(world: World) -> None:
    partner = actions.create_partner(
        world.alice,
        {
            "name": " Initrode ",
            "domain": "https://www.Initrode.com/about",
            "country": "de",
            "types": ["msp", "reseller"],
            "segments": ["healthcare", "EMEA"],
            "region": "EMEA",
        },
    )
    assert partner.name == "Initrode"
    assert partner.domain == "initrode.com"
    assert partner.country == "DE"
    assert partner.type_list == ["msp", "reseller"]
    assert sorted(s.code for s in partner.segments.all()) == ["EMEA", "healthcare"]
    assert partner.status == "prospect"
    assert StatusChange.objects.filter(partner=partner, to_status="prospect").count() == 1
    entry = AuditEntry.objects.get(action="partner.create")
    assert entry.actor == world.alice
    assert entry.after is not None and entry.after["domain"] == "initrode.com"


def test_create_partner_names_every_bad_field_and_writes_nothing(world: World) -> None:
    before = Partner.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        actions.create_partner(
            world.cpo,
            {
                "name": "",
                "domain": "not a domain",
                "country": "XX",
                "types": ["wizard"],
                "segments": ["nope"],
                "owner": world.ann.pk,
                "color": "blue",
            },
        )
    assert set(exc.value.errors) == {
        "name",
        "domain",
        "country",
        "types",
        "segments",
        "owner",
        "color",
    }
    assert "ISO 3166" in exc.value.errors["country"]
    assert "reseller" in exc.value.errors["types"]  # lists the allowed values
    assert (Partner.objects.count(), AuditEntry.objects.count()) == before


def test_analyst_and_partner_people_cannot_create(world: World) -> None:
    for user in (world.ann, world.acme_admin):
        with pytest.raises(NotAllowed):
            actions.create_partner(user, {"name": "X", "types": ["referral"]})


def test_update_records_only_what_changed(world: World) -> None:
    actions.update_partner(world.alice, world.acme, {"name": "Acme Corp", "country": "US"})
    world.acme.refresh_from_db()
    assert world.acme.name == "Acme Corp"
    entry = AuditEntry.objects.get(action="partner.update")
    assert entry.before == {"name": "Acme"}
    assert entry.after == {"name": "Acme Corp"}


def test_update_of_another_managers_partner_is_refused(world: World) -> None:
    with pytest.raises(NotAllowed):
        actions.update_partner(world.alice, world.globex, {"name": "Mine now"})
    world.globex.refresh_from_db()
    assert world.globex.name == "Globex"


def test_status_moves_only_along_allowed_transitions(world: World) -> None:
    actions.change_status(world.alice, world.acme, "inactive", "No deals for 12 months")
    assert world.acme.status == "inactive"
    with pytest.raises(ValidationFailed) as exc:
        actions.change_status(world.alice, world.acme, "negotiating", "Back to talks")
    assert "from inactive it can go to: active, exited" in exc.value.errors["status"]
    with pytest.raises(ValidationFailed):
        actions.change_status(world.alice, world.acme, "active", "  ")
    history = list(world.acme.status_changes.values_list("from_status", "to_status"))
    assert history == [("", "active"), ("active", "inactive")]


def test_tier_change_keeps_dated_history(world: World) -> None:
    actions.change_tier(world.cpo, world.acme, "platinum", "Exceeded sourced revenue target")
    assert world.acme.tier == "platinum"
    assert list(world.acme.tier_changes.values_list("tier", flat=True)) == ["platinum"]
    with pytest.raises(NotAllowed):
        actions.change_tier(world.alice, world.acme, "silver", "")


def test_delete_refuses_partner_with_deals_and_requires_cpo(world: World) -> None:
    with pytest.raises(NotAllowed):
        actions.delete_partner(world.alice, world.acme)
    with pytest.raises(Conflict, match="exited"):
        actions.delete_partner(world.cpo, world.acme)
    fresh = actions.create_partner(world.cpo, {"name": "Temp", "types": ["affiliate"]})
    fresh_id = fresh.pk
    actions.delete_partner(world.cpo, fresh)
    assert not Partner.objects.filter(pk=fresh_id).exists()
    assert AuditEntry.objects.filter(action="partner.delete", object_id=str(fresh_id)).exists()
