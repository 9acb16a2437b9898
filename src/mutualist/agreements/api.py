"""Agreements over HTTP: draft, edit, submit, sign off (in the caller's approver role),
terminate and renew them, read them and their diffs, and read a partner's targets with their
progress per review period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.agreements import access, actions, progress, terms
from mutualist.agreements.models import Agreement, Target
from mutualist.agreements.schemas import (
    AgreementOut,
    ApproveIn,
    DiffOut,
    DraftIn,
    EditIn,
    RenewIn,
    TargetOut,
    TargetProgressOut,
    TemplateIn,
    TemplateOut,
    TerminateIn,
)
from mutualist.agreements.views import filtered
from mutualist.lib.pagination import PagePagination
from mutualist.partners.access import get_partner_for

router = Router(tags=["agreements"])


def present(agreement: Agreement) -> dict[str, Any]:
    version = actions.current_version(agreement)
    return {
        **{
            name: getattr(agreement, name)
            for name in AgreementOut.model_fields
            if hasattr(agreement, name)
        },
        "version": version.number,
        "terms": version.terms,
        "responsibilities": version.responsibilities,
        "kpis": version.kpis,
        "approvals": [
            {
                "role": a.role,
                "approver": a.approver.get_username(),
                "approved_at": a.approved_at,
                "carried_over": a.carried_from_id is not None,
            }
            for a in actions.live_approvals(agreement)
        ],
    }


class _Presented:
    """A queryset the paginator can count and slice, each row of the page presented."""

    def __init__(self, rows: Any, show: Callable[[Any], dict[str, Any]] = present) -> None:
        self.rows, self.show = rows, show

    def count(self) -> int:
        return int(self.rows.count())

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        return [self.show(row) for row in self.rows[page]]


@router.get("/agreements", response=list[AgreementOut])
@paginate(PagePagination)
def list_agreements(
    request: HttpRequest,
    status: str = "",
    partner_id: int | None = None,
    expiring_within_days: int | None = None,
    q: str = "",
) -> Any:
    """Agreements you may see (a partner: its own signed ones), newest first. `expiring_within_days`
    keeps signed agreements ending within that many days."""
    params = {
        "status": status,
        "partner": "" if partner_id is None else str(partner_id),
        "expiring": "" if expiring_within_days is None else str(expiring_within_days),
        "q": q.strip(),
    }
    return _Presented(filtered(request.user, params))


# Before /agreements/{agreement_id}: that route would otherwise take "templates" as an id.
def _template_data(payload: TemplateIn) -> dict[str, Any]:
    """The fields the caller sent (on PUT the others keep their values)."""
    return payload.dict(exclude_unset=True)


@router.post("/agreements/templates", response={201: TemplateOut})
def create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    """A template (CPO only): default terms, responsibilities, KPIs, the approver roles and the
    fields each covers (default coverage if left out). 422 names each bad field."""
    return Status(201, actions.create_template(acting_user(request), _template_data(payload)))


@router.put("/agreements/templates/{template_id}", response=TemplateOut)
def update_template(request: HttpRequest, template_id: int, payload: TemplateIn) -> Any:
    """Change a template (CPO only); fields left out keep their values. Agreements already
    drafted from it keep what they copied when drafted."""
    template = access.get_template_for(request.user, template_id)
    return actions.update_template(acting_user(request), template, _template_data(payload))


@router.get("/agreements/{agreement_id}", response=AgreementOut)
def get_agreement(request: HttpRequest, agreement_id: int) -> Any:
    return present(access.get_agreement_for(request.user, agreement_id))


@router.get("/agreements/{agreement_id}/diff", response=DiffOut)
def diff(
    request: HttpRequest,
    agreement_id: int,
    from_version: int | None = None,
    to_version: int | None = None,
) -> Any:
    """What changed between two versions (default: the current one against the one before)."""
    agreement = access.get_agreement_for(request.user, agreement_id)
    new_number = to_version or agreement.current_version
    old_number = from_version or max(new_number - 1, 1)
    versions = {v.number: v for v in agreement.versions.filter(number__in=[old_number, new_number])}
    if old_number not in versions or new_number not in versions:
        raise Http404(
            f"No such version: this agreement has versions 1 to {agreement.current_version}."
        )
    changes = terms.diff(terms.content(versions[old_number]), terms.content(versions[new_number]))
    return {
        "from_version": old_number,
        "to_version": new_number,
        "changes": [c.__dict__ for c in changes],
    }


@router.post("/agreements", response={201: AgreementOut})
def draft(request: HttpRequest, payload: DraftIn) -> Any:
    """Draft an agreement with a partner from a template (version 1 holds its defaults)."""
    user = acting_user(request)
    if not access.is_staff(user):
        raise Http404("No such page.")
    partner = get_partner_for(user, payload.partner_id)
    template = access.get_template_for(user, payload.template_id)
    agreement = actions.draft(
        user, partner, template, payload.title, payload.start_on, payload.renewal_notice_days
    )
    return Status(201, present(agreement))


@router.post("/agreements/{agreement_id}/versions", response={201: AgreementOut})
def edit(request: HttpRequest, agreement_id: int, payload: EditIn) -> Any:
    """Save changes as a new version; sign-offs whose fields changed are reset."""
    agreement = access.get_agreement_for(request.user, agreement_id)
    actions.edit(acting_user(request), agreement, payload.changes, payload.note, payload.based_on)
    agreement.refresh_from_db()
    return Status(201, present(agreement))


@router.post("/agreements/{agreement_id}/submission", response=AgreementOut)
def submit(request: HttpRequest, agreement_id: int) -> Any:
    """Send a draft for sign-off; the approvers are told."""
    agreement = access.get_agreement_for(request.user, agreement_id)
    return present(actions.submit(acting_user(request), agreement))


@router.post("/agreements/{agreement_id}/termination", response=AgreementOut)
def terminate(request: HttpRequest, agreement_id: int, payload: TerminateIn) -> Any:
    """End the agreement now, with the reason; its targets stop being tracked."""
    agreement = access.get_agreement_for(request.user, agreement_id)
    return present(actions.terminate(acting_user(request), agreement, payload.reason))


@router.post("/agreements/{agreement_id}/renewal", response={201: AgreementOut})
def renew(request: HttpRequest, agreement_id: int, payload: RenewIn) -> Any:
    """Draft the renewal of a signed or expired agreement: its current terms, responsibilities
    and KPIs from the day after it ends, for another term. 409 if it was renewed already; 400
    if its terms say it does not renew."""
    agreement = access.get_agreement_for(request.user, agreement_id)
    return Status(201, present(actions.renew(acting_user(request), agreement, payload.title)))


@router.post("/agreements/{agreement_id}/approvals", response={201: AgreementOut})
def approve(request: HttpRequest, agreement_id: int, payload: ApproveIn) -> Any:
    """Sign off in your approver role (legal, finance or operations). 403 if your role is not
    one the agreement needs, 409 if the version is stale or that role approved already."""
    agreement = access.get_agreement_for(request.user, agreement_id)
    actions.approve(acting_user(request), agreement, payload.version)
    agreement.refresh_from_db()
    return Status(201, present(agreement))


def present_target(target: Target, periods: bool = False) -> dict[str, Any]:
    today = timezone.localdate()
    fields = {name: getattr(target, name) for name in TargetOut.model_fields if name != "current"}
    current = progress.latest(target, today)
    fields["current"] = progress.as_dict(current) if current else None
    if periods:
        fields["periods"] = [progress.as_dict(p) for p in progress.target_progress(target, today)]
    return fields


@router.get("/partners/{partner_id}/targets", response=list[TargetOut])
@paginate(PagePagination)
def partner_targets(request: HttpRequest, partner_id: int) -> Any:
    """The KPI targets of the partner's agreements in force, each with its current review
    period measured (`current`: actual, count, pro-rated target, status)."""
    _, targets = access.targets_for(request.user, partner_id)
    return _Presented(targets.order_by("agreement_id", "name"), present_target)


@router.get("/agreements/targets/{target_id}", response=TargetProgressOut)
def target_periods(request: HttpRequest, target_id: int) -> Any:
    """One target with every review period that has begun, oldest first. Statuses: met,
    missed, on_track, behind (totals against the pro-rated target), below (levels),
    not_conclusive (a rate whose interval straddles the target), no_data, manual (no metric)."""
    return present_target(access.get_target_for(request.user, target_id), periods=True)
