"""Account mapping pages. Vendor staff and a partner's people use the same pages; the side a
page speaks for is the viewer's, and `policy` decides what of the other side it shows."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mutualist.accounts.access import acting_user
from mutualist.accounts.roles import PARTNER_EDITORS
from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.lib.listing import Column, page_number, render_filtered_list
from mutualist.overlaps import access, actions, policy, review, tasks
from mutualist.overlaps.choices import SHAREABLE_FIELDS, Base, Level, Mode, Side
from mutualist.overlaps.models import AccountList, Partnership
from mutualist.overlaps.populations import members, populations_of
from mutualist.partners.access import partners_visible_to
from mutualist.partners.models import Partner

PAGE_SIZE = 50
INDEX_COLUMNS = [
    Column("partner_id", lambda p: p.pk),
    Column("partner", lambda p: p.name),
    Column("state", lambda p: _state(p)),
    Column("mode", lambda p: p.mapping.mode if _has_mapping(p) else ""),
    Column("partner_accounts", lambda p: p.n_accounts),
    Column("matched_accounts", lambda p: p.n_matched),
]
STATES = ("active", "waiting_vendor", "waiting_partner", "waiting_both")


def _has_mapping(partner: Partner) -> bool:
    return hasattr(partner, "mapping")


def _state(partner: Partner) -> str:
    return policy.state_of(partner.mapping) if _has_mapping(partner) else "waiting_both"


def _filtered_partners(user: Any, params: dict[str, str]) -> QuerySet[Partner]:
    if params["state"] and params["state"] not in STATES:
        raise ValidationFailed({"state": f"unknown state; use one of: {', '.join(STATES)}"})
    partners = (
        partners_visible_to(user)
        .select_related("mapping")
        .annotate(
            n_accounts=Count("mapped_accounts", distinct=True),
            n_matched=Count(
                "mapped_accounts", filter=Q(mapped_accounts__company__isnull=False), distinct=True
            ),
        )
    )
    if params["q"]:
        partners = partners.filter(name__icontains=params["q"])
    vendor_in = Q(mapping__vendor_opted_in_at__isnull=False)
    partner_in = Q(mapping__partner_opted_in_at__isnull=False)
    match params["state"]:
        case "active":
            partners = partners.filter(vendor_in & partner_in)
        case "waiting_vendor":
            partners = partners.filter(~vendor_in & partner_in)
        case "waiting_partner":
            partners = partners.filter(vendor_in & ~partner_in)
        case "waiting_both":
            partners = partners.filter(~vendor_in & ~partner_in)
    order = "-n_accounts" if params["sort"] == "-accounts" else "name"
    return partners.order_by(order, "pk")


@login_required
def index(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_partner_user:  # type: ignore[union-attr]
        return redirect("mapping-partner", request.user.partner_id)  # type: ignore[union-attr]
    return render_filtered_list(
        request,
        ("q", "state", "sort"),
        "-accounts",
        lambda p: _filtered_partners(request.user, p),
        INDEX_COLUMNS,
        "overlaps/index.html",
        {"states": STATES},
        "account-mapping",
    )


def _context(request: HttpRequest, partner_id: int) -> tuple[Partner, Partnership, Side]:
    partner = access.get_partner_for_mapping(request.user, partner_id)
    return partner, actions.partnership_for(partner), access.side_of(request.user)


@login_required
def partner_matrix(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner, partnership, side = _context(request, partner_id)
    matrix = policy.matrix_for(partnership, side)
    ctx = {
        "partner": partner,
        "partnership": partnership,
        "side": side,
        "matrix": matrix,
        "grid": [
            (row, matrix.row_sizes[row.pk], [matrix.cell(row, c) for c in matrix.columns])
            for row in matrix.rows
        ],
        "latest_list": partner.account_lists.first(),
        "can_manage": access.can_manage(request.user, partner, side),
        "can_upload": access.can_upload(request.user, partner),
        # Medium-confidence matches are candidates: never counted or shown to the partner.
        "candidates": review.waiting(partner).count() if side == Side.VENDOR else 0,
    }
    return render(request, "overlaps/matrix.html", ctx)


def _page(request: HttpRequest, rows: Any) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(page_number(request))


def _csv(filename: str, header: list[str], lines: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(lines)
    return response


def _flat(records: list[dict[str, Any]], fields: tuple[str, ...] | list[str]) -> list[str]:
    return ["; ".join(str(r.get(f) or "") for r in records) for f in fields]


def own_fields(side: Side) -> tuple[str, ...]:
    return ("id", *SHAREABLE_FIELDS[side])


@login_required
def cell(request: HttpRequest, partner_id: int, mine_id: int, theirs_id: int) -> HttpResponse:
    partner, partnership, side = _context(request, partner_id)
    search = request.GET.get("q", "").strip()
    view = policy.cell_view(partnership, side, mine_id, theirs_id, search)
    mine_fields = own_fields(side)
    if request.GET.get("format") == "csv":
        ids = list(view.company_ids)
        rows = view.rows(ids)
        header = [f"our_{f}" for f in mine_fields] + [f"their_{f}" for f in view.rule.fields]
        return _csv(
            f"overlap-{partner.pk}-{view.mine.key}-{view.theirs.key}",
            header,
            (_flat(r.mine, mine_fields) + _flat(r.theirs, view.rule.fields) for r in rows),
        )
    page = _page(request, view.company_ids)
    ctx = {
        "partner": partner,
        "side": side,
        "view": view,
        "page": page,
        "rows": view.rows(list(page.object_list)),
        "mine_fields": mine_fields,
        "q": search,
    }
    return render(request, "overlaps/cell.html", ctx)


@login_required
def greenfield(request: HttpRequest, partner_id: int, theirs_id: int) -> HttpResponse:
    partner, partnership, side = _context(request, partner_id)
    theirs, rule, records = policy.greenfield(partnership, side, theirs_id)
    if request.GET.get("format") == "csv":
        return _csv(
            f"shared-{partner.pk}-{theirs.key}",
            list(rule.fields),
            (
                [policy.shared_record(theirs, r, rule).get(f) for f in rule.fields]
                for r in records.iterator()
            ),
        )
    page = _page(request, records)
    rows = [policy.shared_record(theirs, r, rule) for r in page.object_list]
    ctx = {
        "partner": partner,
        "side": side,
        "theirs": theirs,
        "rule": rule,
        "page": page,
        "rows": rows,
    }
    return render(request, "overlaps/greenfield.html", ctx)


@login_required
def co_sell(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner, partnership, side = _context(request, partner_id)
    suggestions = policy.co_sell(partnership, side)
    if request.GET.get("format") == "csv":
        return _csv(
            f"co-sell-{partner.pk}",
            ["play", "our_account", "their_account", "open_amount"],
            (
                [
                    s.play,
                    s.mine.get("name"),
                    s.theirs.get("name") or s.theirs.get("domain") or "",
                    s.value or "",
                ]
                for s in suggestions
            ),
        )
    ctx = {
        "partner": partner,
        "side": side,
        "partnership": partnership,
        "page": _page(request, suggestions),
    }
    return render(request, "overlaps/co_sell.html", ctx)


def _sharing_context(
    request: HttpRequest, partner: Partner, partnership: Partnership, side: Side
) -> dict[str, Any]:
    rules = policy.rules_of(partnership)
    own = populations_of(side, partner)
    return {
        "partner": partner,
        "partnership": partnership,
        "side": side,
        "state": policy.state_of(partnership),
        "opted_in": (
            partnership.vendor_opted_in_at
            if side == Side.VENDOR
            else partnership.partner_opted_in_at
        )
        is not None,
        "populations": [(p, policy.rule_for(rules, p), members(p).count()) for p in own],
        "levels": Level.choices,
        "shareable": SHAREABLE_FIELDS[side],
        "bases": Base.choices,
        "modes": Mode.choices,
        "can_manage": access.can_manage(request.user, partner, side),
        # What the other side sees: the matrix as rendered for them.
        "preview": policy.matrix_for(partnership, policy.other(side)),
    }


@login_required
def sharing(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner, _, side = _context(request, partner_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        user = acting_user(request)
        try:
            _apply_sharing_form(user, partner, side, request.POST)
            return redirect("mapping-sharing", partner.pk)
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = _sharing_context(request, partner, actions.partnership_for(partner), side)
    ctx["errors"] = errors
    ctx["preview_grid"] = [
        (row, [ctx["preview"].cell(row, c) for c in ctx["preview"].columns])
        for row in ctx["preview"].rows
    ]
    return render(request, "overlaps/sharing.html", ctx, status=400 if errors else 200)


def _apply_sharing_form(user: Any, partner: Partner, side: Side, data: Any) -> None:
    match data.get("action"):
        case "opt_in" | "opt_out":
            actions.set_opt_in(user, partner, side, data["action"] == "opt_in")
        case "rule":
            population = policy.get_population(
                actions.partnership_for(partner), int(data.get("population") or 0)
            )
            if population.side != side:
                raise ValidationFailed(
                    {"population": "you can only set the rules of your own side's populations"}
                )
            actions.set_rule(
                user, partner, population, data.get("level", ""), data.getlist("fields")
            )
        case "population":
            actions.create_population(user, partner, side, data)
        case "delete_population":
            partnership = actions.partnership_for(partner)
            population = policy.get_population(partnership, int(data.get("population") or 0))
            actions.delete_population(user, partner, population)
        case "settings":
            raw = data.get("min_count", "")
            if raw and not raw.isdigit():
                raise ValidationFailed({"min_count": "must be a whole number"})
            actions.set_settings(
                user, partner, mode=data.get("mode") or None, min_count=int(raw) if raw else None
            )
        case "rotate_key":
            actions.rotate_key(user, partner)
        case _:
            raise ValidationFailed({"action": "unknown action"})


@login_required
def upload(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner, partnership, side = _context(request, partner_id)
    access.require_can_upload(request.user, partner)
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        try:
            if upload_file is None:
                raise ValidationFailed({"file": "choose a CSV file of your accounts"})
            account_list = actions.queue_account_list(
                acting_user(request),
                partner,
                upload_file.name or "accounts.csv",
                upload_file.read(),
            )
            return redirect("mapping-list", account_list.pk)
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = {"partner": partner, "partnership": partnership, "side": side, "errors": errors}
    return render(request, "overlaps/upload.html", ctx, status=400 if errors else 200)


@login_required
def list_status(request: HttpRequest, list_id: int) -> HttpResponse:
    account_list = access.get_list_for(request.user, list_id)
    running = account_list.status in (AccountList.Status.QUEUED, AccountList.Status.RUNNING)
    ctx = {"list": account_list, "running": running, "partner": account_list.partner}
    template = (
        "overlaps/_list_status.html" if request.headers.get("HX-Request") else "overlaps/list.html"
    )
    return render(request, template, ctx)


@require_POST
@login_required
def resolve(request: HttpRequest) -> HttpResponse:
    """Vendor editors re-run company resolution for accounts that arrived since the last run."""
    if request.user.is_partner_user:  # type: ignore[union-attr]
        raise Http404("No such page.")
    if acting_user(request).role not in PARTNER_EDITORS:
        raise NotAllowed("Only the CPO and alliance managers resolve accounts.")
    tasks.resolve_vendor_accounts.enqueue()
    return redirect("mapping-index")


REVIEW_HEADER = ["id", "their_name", "their_domain", "their_country", "company", "reason"]


@login_required
def review_queue(request: HttpRequest, partner_id: int) -> HttpResponse:
    """Medium-confidence links of the partner's records, for a person to confirm or reject."""
    partner = access.get_partner_for_review(request.user, partner_id)
    waiting = review.waiting(partner)
    if search := request.GET.get("q", "").strip():
        waiting = waiting.filter(Q(name__icontains=search) | Q(company__name__icontains=search))
    if request.GET.get("format") == "csv":
        return _csv(
            f"review-{partner.pk}",
            REVIEW_HEADER,
            (
                [a.external_id, a.name, a.domain, a.country, a.company.name, a.reason]  # type: ignore[union-attr]
                for a in waiting
            ),
        )
    ctx = {
        "partner": partner,
        "page": _page(request, waiting),
        "q": search,
        "can_decide": access.can_manage(request.user, partner, Side.VENDOR),
    }
    return render(request, "overlaps/review.html", ctx)


@require_POST
@login_required
def review_decide(request: HttpRequest, partner_id: int, record_id: int) -> HttpResponse:
    partner = access.get_partner_for_review(request.user, partner_id)
    review.decide(acting_user(request), partner, record_id, request.POST.get("decision", ""))
    return redirect("mapping-review", partner.pk)
