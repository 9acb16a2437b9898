from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from mutualist.lib.errors import NotAllowed
from mutualist.partners import access
from tests.conftest import World


def test_vendor_roles_see_every_partner(world: World) -> None:
    for user in (world.cpo, world.alice, world.bob, world.ann):
        assert set(access.partners_visible_to(user)) == {world.acme, world.globex}


def test_partner_people_see_only_their_partner(world: World) -> None:
    assert list(access.partners_visible_to(world.acme_admin)) == [world.acme]
    assert list(access.partners_visible_to(world.acme_user)) == [world.acme]
    assert list(access.partners_visible_to(world.globex_user)) == [world.globex]


def test_anonymous_and_inactive_users_see_nothing(world: World) -> None:
    assert not access.partners_visible_to(AnonymousUser()).exists()
    world.ann.is_active = False
    world.ann.save()
    assert not access.partners_visible_to(world.ann).exists()


def test_a_partner_user_gets_404_for_another_partner(world: World) -> None:
    with pytest.raises(Http404):
        access.get_partner_for(world.acme_user, world.globex.pk)
    with pytest.raises(Http404):
        access.get_partner_for(world.globex_user, world.acme.pk, write=True)


def test_missing_partner_is_404(world: World) -> None:
    with pytest.raises(Http404):
        access.get_partner_for(world.cpo, 999_999)


def test_edit_rights_by_role(world: World) -> None:
    assert access.can_edit_partner(world.cpo, world.globex)
    assert access.can_edit_partner(world.alice, world.acme)  # owns it
    assert not access.can_edit_partner(world.alice, world.globex)  # bob owns it
    assert not access.can_edit_partner(world.ann, world.acme)
    assert not access.can_edit_partner(world.acme_admin, world.acme)
    assert access.can_create_partner(world.alice)
    assert not access.can_create_partner(world.ann)
    assert not access.can_create_partner(world.acme_admin)


def test_an_analyst_cannot_write(world: World) -> None:
    with pytest.raises(NotAllowed):
        access.get_partner_for(world.ann, world.acme.pk, write=True)
    with pytest.raises(NotAllowed):
        access.require_can_create_partner(world.ann)


@pytest.mark.parametrize("role", ["approver_legal", "approver_finance", "approver_ops"])
def test_approvers_read_everything_and_write_nothing(world: World, role: str) -> None:
    from mutualist.accounts.actions import create_user
    from mutualist.crm import access as crm_access

    approver = create_user(None, f"{role}_person", "pw-123456789", role)
    assert access.partners_visible_to(approver).count() == 2
    assert crm_access.opportunities_visible_to(approver).count() == 3
    assert not access.can_create_partner(approver)
    assert not access.can_edit_partner(approver, world.acme)
    assert not access.can_delete_partner(approver)
