"""What the home page says about the ecosystem, computed from what the user may see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from mutualist.crm.access import accounts_visible_to, leads_visible_to, opportunities_visible_to
from mutualist.partners.access import partners_visible_to
from mutualist.partners.choices import PartnerType, Status


def ecosystem_summary(user: Any) -> dict[str, Any]:
    partners = partners_visible_to(user)
    by_status = dict(partners.values_list("status").annotate(n=Count("id")).order_by())
    by_type = {
        t.label: partners.filter(types__contains=f",{t.value},").count() for t in PartnerType
    }
    opportunities = opportunities_visible_to(user)
    totals = opportunities.aggregate(
        open_count=Count("id", filter=Q(is_closed=False)),
        open_amount=Sum("amount", filter=Q(is_closed=False)),
        won_count=Count("id", filter=Q(is_won=True)),
        lost_count=Count("id", filter=Q(is_closed=True, is_won=False)),
        won_amount=Sum("amount", filter=Q(is_won=True)),
    )
    return {
        "partner_count": sum(by_status.values()),
        "partners_by_status": [(s.label, s.value, by_status.get(s.value, 0)) for s in Status],
        "partners_by_type": sorted(by_type.items(), key=lambda kv: -kv[1]),
        "account_count": accounts_visible_to(user).count(),
        "customer_count": accounts_visible_to(user).filter(lifecycle="customer").count(),
        "lead_count": leads_visible_to(user).count(),
        "open_count": totals["open_count"],
        "open_amount": totals["open_amount"] or Decimal(0),
        "won_count": totals["won_count"],
        "lost_count": totals["lost_count"],
        "won_amount": totals["won_amount"] or Decimal(0),
        "currencies": sorted(set(opportunities.values_list("currency", flat=True).distinct()[:5])),
    }
