from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone


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
