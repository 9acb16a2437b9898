"""Agreement pages: the list (with drafting), an agreement with its sign-offs and history, its
printable page, templates, and the partner's agreements and targets (a fragment for the partner
page and the portal)."""

from __future__ import annotations

import datetime as dt
import operator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mutualist.accounts.access import acting_user
from mutualist.agreements import access, actions, progress, terms
from mutualist.agreements.models import Agreement, AgreementType, AgreementVersion, Cadence
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.listing import Column, csv_response, render_filtered_list
from mutualist.partners.access import get_partner_for, partners_visible_to

STATUSES = tuple(Agreement.Status.values)
COLUMNS = [
    Column("id", lambda a: a.pk),
    Column("title", lambda a: a.title),
    Column("partner", lambda a: a.partner.name),
    Column("type", lambda a: a.agreement_type),
    Column("status", lambda a: a.status),
    Column("version", lambda a: a.current_version),
    Column("start_on", lambda a: a.start_on.isoformat()),
    Column("end_on", lambda a: a.end_on.isoformat()),
    Column("signed_at", lambda a: a.signed_at.isoformat() if a.signed_at else ""),
]


def filtered(user: Any, params: dict[str, str]) -> QuerySet[Agreement]:
    """The list's filters, shared by the page, its CSV and the API."""
    rows = access.agreements_visible_to(user).select_related("partner")
    errors: dict[str, str] = {}
    if params.get("status") and params["status"] not in STATUSES:
        errors["status"] = f"unknown status; use one of: {', '.join(STATUSES)}"
    if params.get("partner") and not params["partner"].isdigit():
        errors["partner"] = "must be a partner's id, a whole number"
    expiring = params.get("expiring", "")
    if expiring and not (expiring.isdigit() and int(expiring) <= 3650):
        errors["expiring"] = "must be a number of days from 0 to 3650, e.g. 90"
    if errors:
        raise ValidationFailed(errors)
    if params.get("status"):
        rows = rows.filter(status=params["status"])
    if params.get("partner"):
        rows = rows.filter(partner_id=int(params["partner"]))
    if expiring:
        today = timezone.localdate()
        rows = rows.filter(
            status=Agreement.Status.SIGNED,
            end_on__gte=today,
            end_on__lte=today + dt.timedelta(days=int(expiring)),
        )
    if params.get("q"):
        rows = rows.filter(title__icontains=params["q"])
    order = {"ending": ("end_on", "pk"), "title": ("title", "pk")}.get(
        params.get("sort", ""), ("-created_at", "-pk")
    )
    return rows.order_by(*order)


@login_required
def agreement_list(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            agreement = _draft(request)
            return redirect("agreement-details", agreement.pk)
        except ValidationFailed as exc:
            errors = exc.errors
    ctx: dict[str, Any] = {
        "statuses": Agreement.Status.choices,
        "is_staff": access.is_staff(user),
        "templates": access.templates_visible_to(user),
        "partners": partners_visible_to(user).only("pk", "name") if access.is_staff(user) else [],
        "draft_errors": errors,
        "posted": request.POST,
    }
    response = render_filtered_list(
        request,
        ("q", "status", "partner", "expiring", "sort"),
        "newest",
        lambda p: filtered(user, p),
        COLUMNS,
        "agreements/list.html",
        ctx,
        "agreements",
    )
    if errors:
        response.status_code = 400
    return response


def _draft(request: HttpRequest) -> Agreement:
    user = acting_user(request)
    if not access.is_staff(user):
        raise Http404("No such page.")
    post = request.POST
    errors: dict[str, str] = {}
    partner_id, template_id = post.get("partner", ""), post.get("template", "")
    if not partner_id.isdigit():
        errors["partner"] = "pick the partner the agreement is with"
    if not template_id.isdigit():
        errors["template"] = "pick the template to draft from"
    if errors:
        raise ValidationFailed(errors)
    partner = get_partner_for(user, int(partner_id))
    template = access.get_template_for(user, int(template_id))
    return actions.draft(
        user,
        partner,
        template,
        post.get("title", ""),
        post.get("start_on", ""),
        post.get("renewal_notice_days", "60") or "60",
    )


def history(agreement: Agreement) -> list[dict[str, Any]]:
    """Each version, newest first, with what it changed against the one before."""
    versions = list(agreement.versions.select_related("created_by").order_by("number"))
    rows = []
    for before, version in zip([None, *versions], versions, strict=False):
        changes = (
            terms.diff(terms.content(before), terms.content(version)) if before is not None else []
        )
        rows.append({"version": version, "changes": changes})
    return rows[::-1]


def term_rows(values: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, display value) of every key term, in the fixed order."""
    return [(terms.TERM_LABELS[k], terms.display(k, values.get(k))) for k in terms.TERM_FIELDS]


def coverage_rows(roles: list[str], coverage: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each required approver role with the labels of the fields its sign-off covers."""
    return [
        {
            "role": role,
            "label": terms.role_label(role),
            "fields": [terms.FIELD_LABELS[f] for f in coverage.get(role, [])],
        }
        for role in roles
    ]


def _approval_rows(agreement: Agreement) -> list[dict[str, Any]]:
    live = {a.role: a for a in actions.live_approvals(agreement)}
    rows = coverage_rows(agreement.required_approvals, agreement.coverage)
    return [{**row, "approval": live.get(row["role"])} for row in rows]


def _details(
    request: HttpRequest, agreement: Agreement, errors: dict[str, str] | None = None
) -> HttpResponse:
    user: Any = request.user
    version = actions.current_version(agreement)
    ctx: dict[str, Any] = {
        "a": agreement,
        "v": version,
        "terms": term_rows(version.terms),
        "approvals": _approval_rows(agreement),
        "resets": agreement.approvals.filter(reset_at__isnull=False)
        .select_related("approver", "version")
        .order_by("-reset_at"),
        "history": history(agreement),
        "is_staff": access.is_staff(user),
        "can_edit": access.can_edit(user, agreement.partner)
        and agreement.status in actions.EDITABLE,
        "can_renew": access.can_edit(user, agreement.partner)
        and agreement.status in actions.RENEWABLE
        and not agreement.renewals.exclude(status=Agreement.Status.TERMINATED).exists(),
        "renewed_by": access.agreements_visible_to(user).filter(renews=agreement),
        "my_role": access.approver_role_of(user, agreement),
        "my_role_label": terms.role_label(user.role) if access.is_staff(user) else "",
        "renewals": terms.RENEWALS,
        "metric_keys": ", ".join(progress.KPI_METRICS),
        "kpi_lines": "\n".join(
            " | ".join([k["name"], k["target"], k["unit"], k["cadence"], k["metric_key"]]).rstrip(
                " |"
            )
            for k in version.kpis
        ),
        "vendor_lines": "\n".join(version.responsibilities.get("vendor", [])),
        "partner_lines": "\n".join(version.responsibilities.get("partner", [])),
        "errors": errors or {},
    }
    if ctx["my_role"]:
        ctx["my_approval"] = next(
            (r["approval"] for r in ctx["approvals"] if r["role"] == ctx["my_role"]), None
        )
    return render(request, "agreements/details.html", ctx, status=400 if errors else 200)


@login_required
def agreement_details(request: HttpRequest, agreement_id: int) -> HttpResponse:
    return _details(request, access.get_agreement_for(request.user, agreement_id))


def parse_kpi_lines(text: str) -> list[dict[str, str]]:
    """'Sourced pipeline | 500000 | USD | quarterly | sourced_pipeline' per line."""
    kpis = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")] + [""] * 5
        kpis.append(
            {
                "name": parts[0],
                "target": parts[1],
                "unit": parts[2],
                "cadence": parts[3],
                "metric_key": parts[4],
            }
        )
    return kpis


def changes_from_form(post: QueryDict) -> dict[str, Any]:
    return {
        "terms": {
            "territory": post.get("territory", ""),
            "exclusivity": post.get("exclusivity") == "on",
            "term_months": post.get("term_months", ""),
            "renewal": post.get("renewal", ""),
            "discount_pct": post.get("discount_pct", ""),
            "commission_pct": post.get("commission_pct", ""),
            "mdf_eligible": post.get("mdf_eligible") == "on",
        },
        "responsibilities": {
            "vendor": post.get("vendor_responsibilities", "").splitlines(),
            "partner": post.get("partner_responsibilities", "").splitlines(),
        },
        "kpis": parse_kpi_lines(post.get("kpis", "")),
    }


def _version_number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


ACTIONS = {
    "edit": lambda u, a, p: actions.edit(
        u, a, changes_from_form(p), p.get("note", ""), _version_number(p.get("based_on"))
    ),
    "submit": lambda u, a, p: actions.submit(u, a),
    "approve": lambda u, a, p: actions.approve(u, a, _version_number(p.get("version"))),
    "terminate": lambda u, a, p: actions.terminate(u, a, p.get("reason", "")),
    "renew": lambda u, a, p: actions.renew(u, a, p.get("title", "")),
}


@require_POST
@login_required
def agreement_act(request: HttpRequest, agreement_id: int, action: str) -> HttpResponse:
    agreement = access.get_agreement_for(request.user, agreement_id)
    if action not in ACTIONS:
        raise Http404("No such action.")
    try:
        result = ACTIONS[action](acting_user(request), agreement, request.POST)
    except ValidationFailed as exc:
        agreement.refresh_from_db()
        return _details(request, agreement, exc.errors)
    # Renewing drafts another agreement: go to it.
    return redirect("agreement-details", result.pk if action == "renew" else agreement.pk)


@login_required
def agreement_print(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = access.get_agreement_for(request.user, agreement_id)
    version: AgreementVersion = actions.current_version(agreement)
    ctx = {
        "a": agreement,
        "v": version,
        "terms": term_rows(version.terms),
        "approvals": _approval_rows(agreement),
        "printed_at": timezone.now(),
    }
    return render(request, "agreements/print.html", ctx)


KPI_COLUMNS = ("name", "target", "unit", "cadence", "metric_key")
BLANK_KPI_ROWS = 3


def template_from_form(post: QueryDict) -> dict[str, Any]:
    """The template form's fields as `actions.clean_template` takes them: responsibilities one a
    line, KPIs as rows (blank rows dropped), approver roles ticked and the fields each covers."""
    columns = [post.getlist(f"kpi_{c}") for c in KPI_COLUMNS]
    rows = zip(*(c + [""] * (max(map(len, columns)) - len(c)) for c in columns), strict=True)
    kpis = [dict(zip(KPI_COLUMNS, (v.strip() for v in row), strict=True)) for row in rows]
    roles = post.getlist("required_approvals")
    return {
        "name": post.get("name", ""),
        "agreement_type": post.get("agreement_type", ""),
        "description": post.get("description", ""),
        "terms": changes_from_form(post)["terms"],
        "responsibilities": {
            "vendor": post.get("vendor_responsibilities", "").splitlines(),
            "partner": post.get("partner_responsibilities", "").splitlines(),
        },
        "kpis": [k for k in kpis if any(k.values())],
        "required_approvals": roles,
        "coverage": {role: post.getlist(f"coverage.{role}") for role in roles},
    }


def _template_form(data: dict[str, Any]) -> dict[str, Any]:
    """What the template form shows: a template's values, or what was posted."""
    roles = list(data.get("required_approvals") or [])
    coverage = data.get("coverage") or {}
    responsibilities = data.get("responsibilities") or {}
    kpis = list(data.get("kpis") or [])
    blank = dict.fromkeys(KPI_COLUMNS, "")
    return {
        "name": data.get("name", ""),
        "agreement_type": data.get("agreement_type", ""),
        "description": data.get("description", ""),
        "terms": data.get("terms") or {},
        "vendor_lines": "\n".join(responsibilities.get("vendor", [])),
        "partner_lines": "\n".join(responsibilities.get("partner", [])),
        "kpis": [{**blank, **k} for k in kpis] + [blank] * BLANK_KPI_ROWS,
        "approvers": [
            {
                "role": role,
                "label": terms.role_label(role),
                "required": role in roles,
                "fields": [
                    {
                        "name": f,
                        "label": terms.FIELD_LABELS[f],
                        "checked": f in coverage.get(role, terms.DEFAULT_COVERAGE[role]),
                    }
                    for f in terms.VERSIONED_FIELDS
                ],
            }
            for role in terms.APPROVER_ROLES
        ],
    }


def _form_choices() -> dict[str, Any]:
    return {
        "types": AgreementType.choices,
        "cadences": Cadence.choices,
        "renewals": terms.RENEWALS,
        "metrics": progress.metric_choices(),
    }


NEW_TEMPLATE: dict[str, Any] = {
    "terms": {"term_months": 12, "renewal": "manual", "discount_pct": "0", "commission_pct": "0"},
    "required_approvals": list(terms.APPROVER_ROLES),
    "coverage": terms.DEFAULT_COVERAGE,
}


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    """The templates; the CPO creates one with the form below the list (POST here)."""
    user: Any = request.user
    if not access.is_staff(user):
        raise Http404("No such page.")
    errors: dict[str, str] = {}
    form = NEW_TEMPLATE
    if request.method == "POST":
        form = template_from_form(request.POST)
        try:
            template = actions.create_template(acting_user(request), form)
            return redirect("agreement-template", template.pk)
        except ValidationFailed as exc:
            errors = exc.errors
    rows = access.templates_visible_to(user).order_by("name")
    ctx = {
        "templates": rows,
        "can_manage": access.can_manage_templates(user),
        "form": _template_form(form),
        "errors": errors,
        **_form_choices(),
    }
    return render(request, "agreements/templates.html", ctx, status=400 if errors else 200)


@login_required
def template_details(request: HttpRequest, template_id: int) -> HttpResponse:
    """A template; the CPO edits it with the form below (POST here). Agreements drafted from it
    before keep what they copied when drafted."""
    user: Any = request.user
    template = access.get_template_for(user, template_id)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {name: getattr(template, name) for name in actions.TEMPLATE_FIELDS}
    if request.method == "POST":
        form = template_from_form(request.POST)
        try:
            actions.update_template(acting_user(request), template, form)
            return redirect("agreement-template", template.pk)
        except ValidationFailed as exc:
            errors = exc.errors
            template.refresh_from_db()
    ctx = {
        "t": template,
        "terms": term_rows(template.terms),
        "approvals": coverage_rows(template.required_approvals, template.coverage),
        "agreements": template.agreements.select_related("partner").order_by("-created_at")[:50],
        "can_manage": access.can_manage_templates(user),
        "form": _template_form(form),
        "errors": errors,
        **_form_choices(),
    }
    return render(request, "agreements/template_details.html", ctx, status=400 if errors else 200)


@login_required
def partner_panel(request: HttpRequest, partner_id: int) -> HttpResponse:
    """The partner's agreements and targets, each target with its current review period
    measured: a fragment for its page and its portal."""
    partner, targets = access.targets_for(request.user, partner_id)
    agreements = (
        access.agreements_visible_to(request.user)
        .filter(partner=partner, status__in=access.SHARED_STATUSES)
        .order_by("-end_on")
    )
    today = timezone.localdate()
    rows = [(t, progress.latest(t, today)) for t in targets.order_by("agreement_id", "name")]
    ctx = {"partner": partner, "rows": rows, "agreements": agreements}
    return render(request, "agreements/partner_panel.html", ctx)


PERIOD_FIELDS = (
    "start", "end", "running", "actual", "n", "low", "high", "target", "expected", "attainment",
    "status", "note",
)  # fmt: skip
PERIOD_COLUMNS = [Column(name, operator.itemgetter(name)) for name in PERIOD_FIELDS]


@login_required
def target_details(request: HttpRequest, target_id: int) -> HttpResponseBase:
    """One target, every review period that has begun: actual against target, the verdict,
    and what each figure rests on. `?format=csv` downloads the periods."""
    target = access.get_target_for(request.user, target_id)
    periods = progress.target_progress(target, timezone.localdate())
    if request.GET.get("format") == "csv":
        rows = [progress.as_dict(p) for p in periods]
        return csv_response(rows, PERIOD_COLUMNS, f"target-{target.pk}-periods")
    metric = progress.KPI_METRICS.get(target.metric_key)
    ctx = {"t": target, "periods": periods[::-1], "metric": metric}
    return render(request, "agreements/target.html", ctx)
