from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from mutualist.accounts.access import acting_user
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.crm.access import accounts_visible_to, opportunities_visible_to
from mutualist.crm.models import PartnerInvolvement
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.forms import add_action_errors
from mutualist.lib.listing import Column, render_filtered_list
from mutualist.partners import access, actions, lifecycle
from mutualist.partners.choices import TRANSITIONS, PartnerType, Status, Tier
from mutualist.partners.forms import PartnerForm, StatusForm
from mutualist.partners.models import Partner, Segment
from mutualist.partners.queries import SORTS, PartnerFilters, filter_partners

FILTER_NAMES = ("q", "type", "tier", "status", "segment", "owner", "country", "sort")

COLUMNS = [
    Column("id", lambda p: p.pk),
    Column("name", lambda p: p.name),
    Column("legal_name", lambda p: p.legal_name),
    Column("domain", lambda p: p.domain),
    Column("country", lambda p: p.country),
    Column("region", lambda p: p.region),
    Column("types", lambda p: " ".join(p.type_list)),
    Column("status", lambda p: p.status),
    Column("status_since", lambda p: p.status_since.date().isoformat()),
    Column("tier", lambda p: p.tier),
    Column("owner", lambda p: p.owner.username if p.owner else ""),
]


@login_required
def directory(request: HttpRequest) -> HttpResponseBase:
    ctx = {
        "type_choices": PartnerType.choices,
        "tier_choices": [(v, label) for v, label in Tier.choices if v] + [("none", "No tier")],
        "status_choices": Status.choices,
        "segments": Segment.objects.all(),
        "owners": User.objects.filter(role__in=[Role.CPO, Role.ALLIANCE_MANAGER]),
        "sorts": list(SORTS),
        "can_create": access.can_create_partner(request.user),
    }
    visible = access.partners_visible_to(request.user).select_related("owner")
    return render_filtered_list(
        request,
        FILTER_NAMES,
        "name",
        lambda p: filter_partners(visible, PartnerFilters(**p)),
        COLUMNS,
        "partners/directory.html",
        ctx,
        "partners",
    )


@login_required
def details(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner: Partner = access.get_partner_for(request.user, partner_id)
    opportunities = opportunities_visible_to(request.user).filter(
        id__in=PartnerInvolvement.objects.filter(partner=partner).values("opportunity_id")
    )
    ctx = {
        "partner": partner,
        "segments": partner.segments.all(),
        "status_changes": partner.status_changes.all(),
        "tier_changes": partner.tier_changes.all(),
        "external_ids": partner.external_ids.all(),
        "opportunity_count": opportunities.count(),
        "opportunities": opportunities.select_related("account")[:20],
        "accounts": accounts_visible_to(request.user)
        .filter(id__in=opportunities.values("account_id"))
        .order_by("name")[:20],
        "can_edit": access.can_edit_partner(request.user, partner),
        "next_statuses": [(s, Status(s).label) for s in sorted(TRANSITIONS[partner.status])],
    }
    return render(request, "partners/details.html", ctx)


def _form_data(form: PartnerForm) -> dict[str, object]:
    data = dict(form.cleaned_data)
    data["owner"] = data.get("owner") or None
    return data


@login_required
def create(request: HttpRequest) -> HttpResponse:
    access.require_can_create_partner(request.user)
    form = PartnerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = actions.create_partner(acting_user(request), _form_data(form))
            return redirect("partner-details", partner.pk)
        except ValidationFailed as exc:
            add_action_errors(form, exc)
    status = 400 if form.errors else 200
    return render(request, "partners/form.html", {"form": form, "partner": None}, status=status)


@login_required
def edit(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = access.get_partner_for(request.user, partner_id, write=True)
    form = PartnerForm(request.POST or None, initial=PartnerForm.initial_for(partner))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_partner(acting_user(request), partner, _form_data(form))
            return redirect("partner-details", partner.pk)
        except ValidationFailed as exc:
            add_action_errors(form, exc)
    status = 400 if form.errors else 200
    return render(request, "partners/form.html", {"form": form, "partner": partner}, status=status)


@login_required
def change_status(request: HttpRequest, partner_id: int) -> HttpResponse:
    partner = access.get_partner_for(request.user, partner_id, write=True)
    form = StatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.change_status(
                acting_user(request),
                partner,
                form.cleaned_data["status"],
                form.cleaned_data["reason"],
            )
            return redirect("partner-details", partner.pk)
        except ValidationFailed as exc:
            add_action_errors(form, exc)
    ctx = {
        "partner": partner,
        "errors": {k: " ".join(str(m) for m in v) for k, v in form.errors.items()},
    }
    return render(request, "partners/status_error.html", ctx, status=400)


BOARD_COLUMNS = [
    Column("id", lambda c: c.partner.pk),
    Column("name", lambda c: c.partner.name),
    Column("status", lambda c: c.partner.status),
    Column("days_in_stage", lambda c: c.days),
    Column("stuck", lambda c: "yes" if c.stuck else ""),
    Column("tier", lambda c: c.partner.tier),
    Column("owner", lambda c: c.partner.owner.username if c.partner.owner else ""),
]


@login_required
def lifecycle_board(request: HttpRequest) -> HttpResponse:
    """Partners by lifecycle stage, with time in stage and stuck warnings (vendor staff)."""
    if request.user.is_partner_user:  # type: ignore[union-attr]
        raise Http404("No such page.")
    params = {name: request.GET.get(name, "").strip() for name in ("q", "type", "owner", "stuck")}
    partners = access.partners_visible_to(request.user)
    if params["q"]:
        partners = partners.filter(name__icontains=params["q"])
    if params["type"]:
        partners = partners.filter(types__contains=f",{params['type']},")
    if params["owner"].isdigit():
        partners = partners.filter(owner_id=int(params["owner"]))
    columns = lifecycle.board(partners, stuck_only=bool(params["stuck"]))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="lifecycle-board.csv"'
        writer = csv.writer(response)
        writer.writerow([c.header for c in BOARD_COLUMNS])
        for column in lifecycle.board(partners, stuck_only=bool(params["stuck"])):
            for card in column.cards:
                writer.writerow([c.value(card) for c in BOARD_COLUMNS])
        return response
    ctx = {
        "columns": columns,
        "filters": params,
        "type_choices": PartnerType.choices,
        "owners": User.objects.filter(role__in=[Role.CPO, Role.ALLIANCE_MANAGER]),
        "stuck_after": ", ".join(
            f"{status} {days} d" for status, days in lifecycle.STUCK_AFTER_DAYS.items() if days
        ),
    }
    return render(request, "partners/board.html", ctx)
