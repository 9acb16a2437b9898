"""What a partner's portal home shows of co-selling: its registrations, the leads waiting for its
answer, referrals to answer, and the vendor's latest announcements."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from mutualist.cosell import access, announcements
from mutualist.cosell.models import DealRegistration, LeadOffer, Referral


def portal_summary(user: Any) -> dict[str, Any]:
    by_status = dict(
        access.registrations_visible_to(user)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "registrations": {s: by_status.get(s, 0) for s in DealRegistration.Status.values},
        "offers_waiting": access.offers_visible_to(user)
        .filter(status=LeadOffer.Status.OFFERED)
        .count(),
        "referrals_waiting": access.referrals_visible_to(user)
        .filter(to_partner_id=user.partner_id, status=Referral.Status.OFFERED)
        .count(),
        "announcements": announcements.visible_to(user)[:3],
    }
