"""Search, filter and sort of partner lists, shared by the directory page, CSV export and API."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from ninja import Schema

from mutualist.lib.errors import ValidationFailed
from mutualist.partners.choices import PartnerType, Status, Tier
from mutualist.partners.models import Partner, Segment

SORTS = {
    "name": "name",
    "-name": "-name",
    "status": "status",
    "tier": "tier",
    "country": "country",
    "created": "created_at",
    "-created": "-created_at",
    "status_since": "status_since",
    "-status_since": "-status_since",
}


class PartnerFilters(Schema):
    q: str = ""
    type: str = ""
    tier: str = ""
    status: str = ""
    segment: str = ""
    owner: str = ""
    country: str = ""
    sort: str = "name"


def validate_filters(f: PartnerFilters) -> None:
    """Refuse unknown filter values by name, rather than silently showing an empty list."""
    errors: dict[str, str] = {}
    if f.type and f.type not in PartnerType.values:
        errors["type"] = (
            f"unknown partner type {f.type!r}; use one of: {', '.join(PartnerType.values)}"
        )
    tiers = [t for t in Tier.values if t] + ["none"]
    if f.tier and f.tier not in tiers:
        errors["tier"] = f"unknown tier {f.tier!r}; use one of: {', '.join(tiers)}"
    if f.status and f.status not in Status.values:
        errors["status"] = f"unknown status {f.status!r}; use one of: {', '.join(Status.values)}"
    if f.segment and not Segment.objects.filter(code=f.segment).exists():
        errors["segment"] = f"unknown segment {f.segment!r}; see the segment list for codes"
    if f.owner and not (f.owner.isdigit() or f.owner == "none"):
        errors["owner"] = f"{f.owner!r} is not a user id (or 'none' for unowned partners)"
    if f.sort not in SORTS:
        errors["sort"] = f"cannot sort by {f.sort!r}; use one of: {', '.join(SORTS)}"
    if errors:
        raise ValidationFailed(errors)


def filter_partners(partners: QuerySet[Partner], f: PartnerFilters) -> QuerySet[Partner]:
    validate_filters(f)
    if f.q:
        partners = partners.filter(
            Q(name__icontains=f.q) | Q(legal_name__icontains=f.q) | Q(domain__icontains=f.q)
        )
    if f.type:
        partners = partners.filter(types__contains=f",{f.type},")
    if f.tier:
        partners = partners.filter(tier="" if f.tier == "none" else f.tier)
    if f.status:
        partners = partners.filter(status=f.status)
    if f.segment:
        partners = partners.filter(segments__code=f.segment).distinct()
    if f.owner:
        partners = (
            partners.filter(owner__isnull=True)
            if f.owner == "none"
            else partners.filter(owner_id=int(f.owner))
        )
    if f.country:
        partners = partners.filter(country=f.country.upper())
    return partners.order_by(SORTS[f.sort], "id")
