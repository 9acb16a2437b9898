"""Deal registration over HTTP: a partner's token registers, vendor staff decide."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Header, Router, Status
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.cosell import access, registrations, sla
from mutualist.cosell.models import DealRegistration, ExtensionRequest
from mutualist.cosell.schemas import (
    AppealDecisionIn,
    AppealIn,
    ReasonIn,
    RegistrationIn,
    RegistrationOut,
    SlaOut,
)
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.pagination import PagePagination

router = Router(tags=["co-selling"])


def present(request: HttpRequest, registration: DealRegistration) -> dict[str, Any]:
    fields = RegistrationOut.model_fields
    data = {name: getattr(registration, name) for name in fields if hasattr(registration, name)}
    data.update(
        rules_version=registration.rules.version,
        reasons=access.reasons_for(request.user, registration),
    )
    return data


@router.post("/deal-registrations", response={201: RegistrationOut})
def submit(
    request: HttpRequest,
    payload: RegistrationIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Any:
    """Register a deal (a partner's user or token). The answer says pending, conflict (with
    reasons) or rejected by rule. Send an `Idempotency-Key` header to make retries safe: a
    repeated key gets 409 and stores nothing."""
    data = {k: v for k, v in payload.dict().items() if v is not None}
    registration = registrations.submit(acting_user(request), data, idempotency_key)
    return Status(201, present(request, registration))


@router.get("/deal-registrations", response=list[RegistrationOut])
@paginate(PagePagination)
def list_registrations(
    request: HttpRequest, status: str = "", partner_id: int | None = None, q: str = ""
) -> Any:
    rows = access.registrations_visible_to(request.user).select_related("rules")
    if status:
        if status not in DealRegistration.Status.values:
            raise ValidationFailed(
                {
                    "status": f"unknown status; use one of: {', '.join(DealRegistration.Status.values)}"
                }
            )
        rows = rows.filter(status=status)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if q:
        rows = rows.filter(company_name__icontains=q.strip())
    return _Presented(request, rows)


class _Presented:
    def __init__(self, request: HttpRequest, rows: Any) -> None:
        self.request, self.rows = request, rows

    def count(self) -> int:
        return int(self.rows.count())

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        return [present(self.request, r) for r in self.rows[page]]


@router.get("/deal-registrations/sla", response=SlaOut)
def service_level(request: HttpRequest) -> Any:
    """Time to decision over the last 90 days and the overdue queue (vendor staff)."""
    if not request.user.is_authenticated or request.user.is_partner_user:
        raise Http404("No such page.")
    summary = sla.summary()
    return {**asdict(summary), "within_sla": asdict(summary.within_sla)}


@router.get("/deal-registrations/{registration_id}", response=RegistrationOut)
def get_registration(request: HttpRequest, registration_id: int) -> Any:
    return present(request, access.get_registration_for(request.user, registration_id))


def _act(request: HttpRequest, registration_id: int) -> tuple[Any, DealRegistration]:
    return acting_user(request), access.get_registration_for(request.user, registration_id)


@router.post("/deal-registrations/{registration_id}/approve", response=RegistrationOut)
def approve(request: HttpRequest, registration_id: int, payload: ReasonIn) -> Any:
    user, registration = _act(request, registration_id)
    return present(request, registrations.approve(user, registration, payload.reason))


@router.post("/deal-registrations/{registration_id}/reject", response=RegistrationOut)
def reject(request: HttpRequest, registration_id: int, payload: ReasonIn) -> Any:
    user, registration = _act(request, registration_id)
    return present(request, registrations.reject(user, registration, payload.reason))


@router.post("/deal-registrations/{registration_id}/withdraw", response=RegistrationOut)
def withdraw(request: HttpRequest, registration_id: int) -> Any:
    user, registration = _act(request, registration_id)
    return present(request, registrations.withdraw(user, registration))


@router.post("/deal-registrations/{registration_id}/extensions", response={201: RegistrationOut})
def request_extension(request: HttpRequest, registration_id: int, payload: ReasonIn) -> Any:
    user, registration = _act(request, registration_id)
    registrations.request_extension(user, registration, payload.reason)
    registration.refresh_from_db()
    return Status(201, present(request, registration))


@router.post(
    "/deal-registrations/{registration_id}/extensions/{extension_id}/{decision}",
    response=RegistrationOut,
)
def decide_extension(
    request: HttpRequest, registration_id: int, extension_id: int, decision: str, payload: ReasonIn
) -> Any:
    user, registration = _act(request, registration_id)
    if decision not in ("approve", "decline"):
        raise ValidationFailed({"decision": "use approve or decline"})
    try:
        extension = registration.extensions.get(pk=extension_id)
    except ExtensionRequest.DoesNotExist:
        raise Http404("No such extension request.") from None
    registrations.decide_extension(user, extension, decision == "approve", payload.reason)
    registration.refresh_from_db()
    return present(request, registration)


@router.post("/deal-registrations/{registration_id}/appeal", response=RegistrationOut)
def appeal(request: HttpRequest, registration_id: int, payload: AppealIn) -> Any:
    user, registration = _act(request, registration_id)
    return present(request, registrations.appeal(user, registration, payload.text))


@router.post("/deal-registrations/{registration_id}/appeal/decision", response=RegistrationOut)
def decide_appeal(request: HttpRequest, registration_id: int, payload: AppealDecisionIn) -> Any:
    user, registration = _act(request, registration_id)
    return present(
        request, registrations.decide_appeal(user, registration, payload.overturn, payload.reason)
    )
