"""Deal registration pages: the partner registers and follows its registrations in the portal;
vendor staff work the queue, with the service level in view."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mutualist.accounts.access import acting_user
from mutualist.accounts.roles import PARTNER_EDITORS
from mutualist.cosell import access, announcements, registrations, sla
from mutualist.cosell.forms import RegistrationForm
from mutualist.cosell.models import DealRegistration, Notification
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.forms import add_action_errors
from mutualist.lib.listing import Column, render_filtered_list, render_list
from mutualist.partners.choices import PartnerType, Tier

STATUSES = tuple(DealRegistration.Status.values)
COLUMNS = [
    Column("id", lambda r: r.pk),
    Column("partner", lambda r: r.partner.name),
    Column("company", lambda r: r.company_name),
    Column("domain", lambda r: r.domain_key),
    Column("country", lambda r: r.country),
    Column("amount", lambda r: r.amount),
    Column("currency", lambda r: r.currency),
    Column("status", lambda r: r.status),
    Column("submitted_at", lambda r: r.submitted_at.isoformat()),
    Column("decided_at", lambda r: r.decided_at.isoformat() if r.decided_at else ""),
    Column(
        "protected_until",
        lambda r: r.protected_until.date().isoformat() if r.protected_until else "",
    ),
    Column("rules_version", lambda r: r.rules.version),
]


def _filtered(user: Any, params: dict[str, str]) -> QuerySet[DealRegistration]:
    rows = access.registrations_visible_to(user).select_related("partner", "rules")
    if params["status"] and params["status"] not in STATUSES:
        raise ValidationFailed({"status": f"unknown status; use one of: {', '.join(STATUSES)}"})
    if params["status"]:
        rows = rows.filter(status=params["status"])
    if params["q"]:
        rows = rows.filter(company_name__icontains=params["q"])
    if params["overdue"]:
        rows = rows.filter(pk__in=sla.overdue_queue().values("pk"))
    order = {"oldest": ("submitted_at", "pk"), "amount": ("-amount", "pk")}.get(
        params["sort"], ("-submitted_at", "-pk")
    )
    return rows.order_by(*order)


@login_required
def registration_list(request: HttpRequest) -> HttpResponseBase:
    registrations.sweep()
    is_staff = not request.user.is_partner_user  # type: ignore[union-attr]
    ctx = {
        "statuses": STATUSES,
        "summary": sla.summary() if is_staff else None,
        "is_staff": is_staff,
    }
    return render_filtered_list(
        request,
        ("q", "status", "overdue", "sort"),
        "newest",
        lambda p: _filtered(request.user, p),
        COLUMNS,
        "cosell/registration_list.html",
        ctx,
        "deal-registrations",
    )


@login_required
def registration_new(request: HttpRequest) -> HttpResponse:
    access.require_partner_user(request.user)
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "idempotency_key"}
        try:
            registration = registrations.submit(
                acting_user(request), data, form.cleaned_data["idempotency_key"]
            )
            return redirect("registration-details", registration.pk)
        except ValidationFailed as exc:
            add_action_errors(form, exc)
    return render(
        request, "cosell/registration_form.html", {"form": form}, status=400 if form.errors else 200
    )


def _details(
    request: HttpRequest, registration: DealRegistration, errors: dict[str, str] | None = None
) -> HttpResponse:
    user: Any = request.user
    ctx: dict[str, Any] = {
        "r": registration,
        "reasons": access.reasons_for(user, registration),
        "is_owner": user.is_partner_user and user.partner_id == registration.partner_id,
        "can_decide": access.can_decide(user, registration.partner),
        "extensions": registration.extensions.order_by("-requested_at"),
        "errors": errors or {},
    }
    return render(request, "cosell/registration_details.html", ctx, status=400 if errors else 200)


@login_required
def registration_details(request: HttpRequest, registration_id: int) -> HttpResponse:
    return _details(request, access.get_registration_for(request.user, registration_id))


ACTIONS = {
    "approve": lambda u, r, p: registrations.approve(u, r, p.get("reason", "")),
    "reject": lambda u, r, p: registrations.reject(u, r, p.get("reason", "")),
    "withdraw": lambda u, r, p: registrations.withdraw(u, r),
    "extend": lambda u, r, p: registrations.request_extension(u, r, p.get("reason", "")),
    "appeal": lambda u, r, p: registrations.appeal(u, r, p.get("text", "")),
    "uphold": lambda u, r, p: registrations.decide_appeal(u, r, False, p.get("reason", "")),
    "overturn": lambda u, r, p: registrations.decide_appeal(u, r, True, p.get("reason", "")),
}


@require_POST
@login_required
def registration_act(request: HttpRequest, registration_id: int, action: str) -> HttpResponse:
    registration = access.get_registration_for(request.user, registration_id)
    user = acting_user(request)
    try:
        if action in ("approve-extension", "decline-extension"):
            extension = registration.extensions.filter(
                pk=request.POST.get("extension") or 0
            ).first()
            if extension is None:
                raise Http404("No such extension request.")
            registrations.decide_extension(
                user, extension, action == "approve-extension", request.POST.get("reason", "")
            )
        elif action in ACTIONS:
            ACTIONS[action](user, registration, request.POST)
        else:
            raise Http404("No such action.")
    except ValidationFailed as exc:
        registration.refresh_from_db()
        return _details(request, registration, exc.errors)
    return redirect("registration-details", registration.pk)


@login_required
def notifications(request: HttpRequest) -> HttpResponseBase:
    rows = Notification.objects.filter(user=acting_user(request)).order_by("-created_at", "-id")
    columns = [
        Column("created_at", lambda n: n.created_at.isoformat()),
        Column("text", lambda n: n.text),
        Column("url", lambda n: n.url),
    ]
    response = render_list(request, rows, columns, "cosell/notifications.html", {}, "notifications")
    if request.method == "GET" and request.GET.get("format") != "csv":
        rows.filter(read_at__isnull=True).update(read_at=timezone.now())
    return response


@login_required
def announcement_list(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            announcements.publish(acting_user(request), request.POST)
            return redirect("announcements")
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = {
        "items": announcements.visible_to(request.user)[:50],
        "can_publish": getattr(request.user, "role", "") in PARTNER_EDITORS,
        "tiers": Tier.choices,
        "types": PartnerType.choices,
        "errors": errors,
    }
    return render(request, "cosell/announcements.html", ctx, status=400 if errors else 200)
