from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from mutualist.accounts.actions import create_user
from mutualist.accounts.models import User
from mutualist.lib.errors import ValidationFailed
from tests.conftest import World


def test_partner_roles_need_a_partner_and_vendor_roles_none(world: World) -> None:
    with pytest.raises(ValidationFailed, match="partner roles need a partner"):
        create_user(None, "x1", "pw-123456789", "partner_user")
    with pytest.raises(ValidationFailed, match="vendor roles take no partner"):
        create_user(None, "x2", "pw-123456789", "analyst", partner=world.acme)
    with pytest.raises(ValidationFailed, match="not a known role"):
        create_user(None, "x3", "pw-123456789", "overlord")
    with pytest.raises(ValidationFailed, match="is taken"):
        create_user(None, "ann", "pw-123456789", "analyst")


def test_the_database_enforces_the_membership_rule(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=world.ann.pk).update(partner=world.acme)
