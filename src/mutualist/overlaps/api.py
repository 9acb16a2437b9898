"""Account mapping over HTTP: the same policy as the pages, the caller's side from its token."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.lib.pagination import PagePagination
from mutualist.overlaps import access, actions, policy, review
from mutualist.overlaps.models import AccountList, PartnerAccount, Partnership, Population
from mutualist.overlaps.populations import populations_of
from mutualist.overlaps.schemas import (
    AccountListOut,
    MatrixOut,
    OptInIn,
    OverlapRowOut,
    ReviewDecisionIn,
    ReviewLinkOut,
    SharingOut,
    SharingRuleIn,
    SuggestionOut,
)
from mutualist.partners.models import Partner

router = Router(tags=["account mapping"])


def _partnership(request: HttpRequest, partner_id: int) -> tuple[Partner, Partnership]:
    partner = access.get_partner_for_mapping(request.user, partner_id)
    return partner, actions.partnership_for(partner)


def _population(p: Population, size: str) -> dict[str, Any]:
    return {
        "id": p.pk,
        "key": p.key,
        "name": p.name,
        "base": p.base,
        "country": p.country,
        "industry": p.industry,
        "size": size,
    }


@router.get("/mapping/partners/{partner_id}/matrix", response=MatrixOut)
def matrix(request: HttpRequest, partner_id: int) -> Any:
    """The overlap matrix as the caller's side may see it (rows: own populations)."""
    partner, partnership = _partnership(request, partner_id)
    m = policy.matrix_for(partnership, access.side_of(request.user))
    return {
        "partner_id": partner.pk,
        "viewer": m.viewer,
        "state": m.state,
        "min_count": partnership.min_count,
        "rows": [_population(r, str(m.row_sizes[r.pk])) for r in m.rows],
        "columns": [
            {
                **_population(c.population, c.size_label),
                "level": c.rule.level,
                "fields": list(c.rule.fields),
            }
            for c in m.columns
        ],
        "cells": [
            {
                "mine": c.mine.pk,
                "theirs": c.theirs.pk,
                "count": c.count,
                "label": c.label,
                "can_drill": c.can_drill,
            }
            for c in m.cells.values()
        ],
    }


class _Rows:
    """A cell's rows, sliced a page at a time, as the paginator expects of a queryset."""

    def __init__(self, view: policy.CellView) -> None:
        self.view = view

    def count(self) -> int:
        return self.view.company_ids.count()

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        rows = self.view.rows(list(self.view.company_ids[page]))
        return [{"company_id": r.company_id, "mine": r.mine, "theirs": r.theirs} for r in rows]


@router.get(
    "/mapping/partners/{partner_id}/cells/{mine_id}/{theirs_id}", response=list[OverlapRowOut]
)
@paginate(PagePagination)
def cell(request: HttpRequest, partner_id: int, mine_id: int, theirs_id: int, q: str = "") -> Any:
    """The overlapping companies of one cell: your records in full, theirs with shared fields."""
    _, partnership = _partnership(request, partner_id)
    return _Rows(
        policy.cell_view(partnership, access.side_of(request.user), mine_id, theirs_id, q.strip())
    )


@router.get("/mapping/partners/{partner_id}/co-sell", response=list[SuggestionOut])
@paginate(PagePagination)
def co_sell(request: HttpRequest, partner_id: int) -> Any:
    _, partnership = _partnership(request, partner_id)
    return [
        {
            "play": s.play,
            "mine": s.mine,
            "theirs": s.theirs,
            "value": float(s.value) if s.value is not None else None,
        }
        for s in policy.co_sell(partnership, access.side_of(request.user))
    ]


def _sharing(request: HttpRequest, partner: Partner, partnership: Partnership) -> dict[str, Any]:
    side = access.side_of(request.user)
    rules = policy.rules_of(partnership)
    return {
        "partner_id": partner.pk,
        "side": side,
        "state": policy.state_of(partnership),
        "vendor_opted_in_at": partnership.vendor_opted_in_at,
        "partner_opted_in_at": partnership.partner_opted_in_at,
        "mode": partnership.mode,
        "min_count": partnership.min_count,
        "rules": [
            {
                "population": p.pk,
                "key": p.key,
                "name": p.name,
                "level": r.level,
                "fields": list(r.fields),
            }
            for p in populations_of(side, partner)
            for r in [policy.rule_for(rules, p)]
        ],
    }


@router.get("/mapping/partners/{partner_id}/sharing", response=SharingOut)
def get_sharing(request: HttpRequest, partner_id: int) -> Any:
    """Your side's opt-in and rules for this partnership."""
    partner, partnership = _partnership(request, partner_id)
    return _sharing(request, partner, partnership)


@router.put("/mapping/partners/{partner_id}/sharing/{population_id}", response=SharingOut)
def set_rule(
    request: HttpRequest, partner_id: int, population_id: int, payload: SharingRuleIn
) -> Any:
    partner, partnership = _partnership(request, partner_id)
    population = policy.get_population(partnership, population_id)
    if population.side != access.side_of(request.user):
        raise Http404("No such population of yours.")
    actions.set_rule(acting_user(request), partner, population, payload.level, payload.fields)
    return _sharing(request, partner, partnership)


@router.post("/mapping/partners/{partner_id}/opt-in", response=SharingOut)
def opt_in(request: HttpRequest, partner_id: int, payload: OptInIn) -> Any:
    partner, _ = _partnership(request, partner_id)
    partnership = actions.set_opt_in(
        acting_user(request), partner, access.side_of(request.user), payload.opted_in
    )
    return _sharing(request, partner, partnership)


@router.post("/mapping/partners/{partner_id}/account-lists", response={202: AccountListOut})
def upload_list(request: HttpRequest, partner_id: int, file: File[UploadedFile]) -> Any:
    """Upload the partner's account list (or blind tokens); poll GET /mapping/account-lists/{id}."""
    partner, _ = _partnership(request, partner_id)
    with transaction.atomic():
        account_list = actions.queue_account_list(
            acting_user(request), partner, file.name or "accounts.csv", file.read()
        )
    account_list.refresh_from_db()
    return Status(202, account_list)


@router.get("/mapping/account-lists/{list_id}", response=AccountListOut)
def get_list(request: HttpRequest, list_id: int) -> AccountList:
    return access.get_list_for(request.user, list_id)


def _review_row(account: PartnerAccount) -> dict[str, Any]:
    company = account.company
    assert company is not None
    return {
        "id": account.pk,
        "external_id": account.external_id,
        "name": account.name,
        "domain": account.domain,
        "country": account.country,
        "company_id": company.pk,
        "company_name": company.name,
        "company_domain": company.domain,
        "reason": account.reason,
    }


@router.get("/mapping/partners/{partner_id}/review", response=list[ReviewLinkOut])
@paginate(PagePagination)
def review_queue(request: HttpRequest, partner_id: int) -> Any:
    """Medium-confidence links waiting for a person (vendor staff only; not counted or shared
    until confirmed)."""
    return [
        _review_row(a)
        for a in review.waiting(access.get_partner_for_review(request.user, partner_id))
    ]


@router.post("/mapping/partners/{partner_id}/review/{record_id}", response=ReviewLinkOut)
def review_decide(
    request: HttpRequest, partner_id: int, record_id: int, payload: ReviewDecisionIn
) -> Any:
    """Confirm (counts as high from then on) or reject (unlinked) one waiting link; the
    decision is kept for later uploads. The CPO or the partner's owner."""
    partner = access.get_partner_for_review(request.user, partner_id)
    account = review.get_waiting(partner, record_id)
    row = _review_row(account)
    decided = review.decide(acting_user(request), partner, record_id, payload.decision)
    return {**row, "reason": decided.reason}
