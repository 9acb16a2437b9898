from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from mutualist.overlaps.actions import resolve_vendor_accounts
from tests.conftest import World


def deal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "company_name": "Hooli Inc.",
        "domain": "https://www.hooli.com/",
        "country": "US",
        "contact_name": "Gavin Belson",
        "contact_email": "gavin@hooli.com",
        "product": "Platform",
        "amount": "25000",
        "currency": "USD",
        "expected_close": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.fixture
def resolved(world: World) -> World:
    """The shared personas with the vendor's accounts resolved to companies."""
    resolve_vendor_accounts()
    return world
