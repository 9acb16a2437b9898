"""The portal around co-selling: people management, announcements and the home page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mutualist.accounts import people
from mutualist.accounts.models import User
from mutualist.cosell import announcements, registrations
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from tests.conftest import World
from tests.cosell.conftest import deal

STRONG = "a-long-Passw0rd-for-tests"


def test_partner_admin_adds_and_switches_off_its_people(world: World) -> None:
    person = people.add_person(
        world.acme_admin,
        world.acme,
        {"username": "acme_new", "password": STRONG, "role": "partner_user", "email": "n@acme.com"},
    )
    assert (person.partner, person.role, person.is_active) == (world.acme, "partner_user", True)
    people.set_active(world.acme_admin, world.acme, person, False)
    person.refresh_from_db()
    assert person.is_active is False
    with pytest.raises(Conflict):
        people.set_active(world.acme_admin, world.acme, world.acme_admin, False)


def test_people_rules(world: World) -> None:
    with pytest.raises(NotAllowed):
        people.add_person(world.acme_user, world.acme, {"username": "x", "password": STRONG})
    with pytest.raises(ValidationFailed) as weak:
        people.add_person(world.acme_admin, world.acme, {"username": "x", "password": "123"})
    assert "password" in weak.value.errors
    with pytest.raises(ValidationFailed) as vendor_role:
        people.add_person(
            world.acme_admin, world.acme, {"username": "x", "password": STRONG, "role": "cpo"}
        )
    assert "role" in vendor_role.value.errors
    from django.http import Http404

    with pytest.raises(Http404):
        people.add_person(world.globex_user, world.acme, {"username": "x", "password": STRONG})
    assert not User.objects.filter(username="x").exists()


def test_people_page(world: World) -> None:
    admin = world.client_for(world.acme_admin)
    page = admin.get(reverse("people"))
    assert (
        page.status_code == 200
        and b"acme_user" in page.content
        and b"globex_user" not in page.content
    )
    added = admin.post(
        reverse("people"),
        {"action": "add", "username": "acme_two", "password": STRONG, "role": "partner_user"},
    )
    assert added.status_code == 302 and User.objects.get(username="acme_two").partner == world.acme
    globex = User.objects.get(username="globex_user")
    assert (
        admin.post(reverse("people"), {"action": "deactivate", "user": globex.pk}).status_code
        == 404
    )
    assert (
        world.client_for(world.acme_user)
        .post(reverse("people"), {"action": "add", "username": "y", "password": STRONG})
        .status_code
        == 403
    )
    assert world.client_for(world.alice).get(reverse("people")).status_code == 404


def test_announcements_reach_only_their_audience(world: World) -> None:
    with pytest.raises(NotAllowed):
        announcements.publish(world.ann, {"title": "x", "body": "y"})
    with pytest.raises(ValidationFailed):
        announcements.publish(world.alice, {"title": "", "body": "y", "tier": "diamond"})
    announcements.publish(
        world.alice, {"title": "For ISVs", "body": "SDK update", "partner_type": "isv"}
    )
    announcements.publish(world.alice, {"title": "For everyone", "body": "Kick-off"})
    assert list(announcements.visible_to(world.acme_user).values_list("title", flat=True)) == [
        "For everyone"
    ]
    assert sorted(announcements.visible_to(world.globex_user).values_list("title", flat=True)) == [
        "For ISVs",
        "For everyone",
    ]
    assert (
        world.globex_user.notifications.count() == 2 and world.acme_user.notifications.count() == 1
    )


def test_portal_home_counts_registrations_and_shows_news(resolved: World) -> None:
    registrations.submit(resolved.acme_user, deal())
    registrations.submit(resolved.acme_user, deal(company_name="Umbrella", domain="", country="DE"))
    announcements.publish(resolved.alice, {"title": "Kick-off", "body": "See you in Berlin"})
    page = resolved.client_for(resolved.acme_user).get(reverse("home"))
    text = page.content.decode()
    assert "1 waiting · 1 in conflict" in text and "Kick-off" in text
