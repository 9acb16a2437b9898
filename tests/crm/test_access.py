from __future__ import annotations

import pytest
from django.http import Http404

from mutualist.crm import access
from tests.conftest import World


def test_vendor_staff_see_all_crm_records(world: World) -> None:
    for user in (world.cpo, world.alice, world.ann):
        assert access.opportunities_visible_to(user).count() == 3
        assert access.accounts_visible_to(user).count() == 2
        assert access.leads_visible_to(user).count() == 2


def test_partner_sees_only_deals_it_is_involved_in(world: World) -> None:
    assert set(access.opportunities_visible_to(world.acme_user)) == {
        world.acme_opp,
        world.shared_opp,
    }
    assert set(access.opportunities_visible_to(world.globex_user)) == {
        world.globex_opp,
        world.shared_opp,
    }


def test_partner_sees_accounts_of_its_deals_only(world: World) -> None:
    assert list(access.accounts_visible_to(world.acme_user)) == [world.acme_account]
    assert set(access.accounts_visible_to(world.globex_user)) == {
        world.acme_account,
        world.globex_account,
    }


def test_partner_sees_its_own_leads_only(world: World) -> None:
    assert list(access.leads_visible_to(world.acme_admin)) == [world.acme_lead]


@pytest.mark.parametrize(
    "getter,attr",
    [
        (access.get_account_for, "globex_account"),
        (access.get_opportunity_for, "globex_opp"),
        (access.get_lead_for, "globex_lead"),
    ],
)
def test_partner_user_gets_404_for_another_partners_records(
    world: World, getter: object, attr: str
) -> None:
    with pytest.raises(Http404):
        getter(world.acme_user, getattr(world, attr).pk)  # type: ignore[operator]


def test_a_shared_deal_hides_the_other_partner(world: World) -> None:
    mine = access.involvements_visible_to(world.acme_user, world.shared_opp)
    assert [i.partner for i in mine] == [world.acme]
    everyone = access.involvements_visible_to(world.cpo, world.shared_opp)
    assert {i.partner for i in everyone} == {world.acme, world.globex}
