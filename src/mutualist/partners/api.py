from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from mutualist.lib.pagination import PagePagination
from mutualist.partners import access, actions
from mutualist.partners.models import Partner, Segment, StatusChange
from mutualist.partners.queries import PartnerFilters, filter_partners
from mutualist.partners.schemas import (
    PartnerIn,
    PartnerOut,
    PartnerPatch,
    SegmentOut,
    StatusChangeIn,
    StatusChangeOut,
)

router = Router(tags=["partners"])


@router.get("/partners", response=list[PartnerOut])
@paginate(PagePagination)
def list_partners(request: HttpRequest, filters: Query[PartnerFilters]) -> Any:
    partners = access.partners_visible_to(request.user).prefetch_related("segments")
    return filter_partners(partners, filters)


@router.post("/partners", response={201: PartnerOut})
def create_partner(request: HttpRequest, payload: PartnerIn) -> Any:
    return Status(201, actions.create_partner(request.user, payload.dict()))  # type: ignore[arg-type]


@router.get("/partners/{partner_id}", response=PartnerOut)
def get_partner(request: HttpRequest, partner_id: int) -> Partner:
    return access.get_partner_for(request.user, partner_id)


@router.patch("/partners/{partner_id}", response=PartnerOut)
def update_partner(request: HttpRequest, partner_id: int, payload: PartnerPatch) -> Partner:
    partner = access.get_partner_for(request.user, partner_id, write=True)
    return actions.update_partner(request.user, partner, payload.dict(exclude_unset=True))  # type: ignore[arg-type]


@router.delete("/partners/{partner_id}", response={204: None})
def delete_partner(request: HttpRequest, partner_id: int) -> Any:
    partner = access.get_partner_for(request.user, partner_id)
    actions.delete_partner(request.user, partner)  # type: ignore[arg-type]
    return Status(204, None)


@router.post("/partners/{partner_id}/status", response=PartnerOut)
def change_status(request: HttpRequest, partner_id: int, payload: StatusChangeIn) -> Partner:
    partner = access.get_partner_for(request.user, partner_id, write=True)
    return actions.change_status(request.user, partner, payload.status, payload.reason)  # type: ignore[arg-type]


@router.get("/partners/{partner_id}/status-history", response=list[StatusChangeOut])
def status_history(request: HttpRequest, partner_id: int) -> Any:
    partner = access.get_partner_for(request.user, partner_id)
    return StatusChange.objects.filter(partner=partner)


@router.get("/segments", response=list[SegmentOut])
def list_segments(request: HttpRequest) -> Any:
    return Segment.objects.all()
