"""Partner fit pages (vendor staff only; a partner's people get 404): the ranked prospects (and
the CPO's new-scorecard form), one partner's score with its explanation and the viewer's
assessment form, a side-by-side comparison, and a scorecard's versions and criteria (a draft's
editable by the CPO)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from mutualist.accounts.access import acting_user
from mutualist.fit import access, actions
from mutualist.fit.models import Assessment, CriterionKind, ScorecardVersion
from mutualist.fit.score import current_version, rank, score_partner
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.listing import PAGE_SIZE, page_number
from mutualist.partners.access import partners_visible_to
from mutualist.partners.models import Partner, Segment

STATUSES = tuple(str(s) for s in actions.ASSESSABLE)


def version_from(user: Any, raw: str) -> ScorecardVersion | None:
    """The published version named by `raw` (an id), or the current one."""
    if not raw:
        return current_version()
    versions = access.versions_visible_to(user).filter(published_at__isnull=False)
    if not raw.isdigit() or not versions.filter(pk=raw).exists():
        raise ValidationFailed({"version": f"{raw!r} is not a published scorecard version's id"})
    return versions.select_related("scorecard").get(pk=raw)


def prospects(user: Any, status: str, segment: str) -> list[Partner]:
    """The partners in an early stage (one stage with `status`), in `segment` (an id) if given."""
    errors: dict[str, str] = {}
    if status and status not in STATUSES:
        errors["status"] = f"{status!r} is not assessed; use one of: {', '.join(STATUSES)}"
    if segment and (not segment.isdigit() or not Segment.objects.filter(pk=segment).exists()):
        errors["segment"] = f"{segment!r} is not a segment id; pick one listed"
    if errors:
        raise ValidationFailed(errors)
    rows = partners_visible_to(user).filter(status__in=[status] if status else STATUSES)
    if segment:
        rows = rows.filter(segments__pk=segment)
    return list(rows.distinct().order_by("name", "pk"))


CSV_HEADER = ["rank", "partner_id", "partner", "status", "total", "gates_passed", "reviewers"]


def _csv(scores: list[dict[str, Any]], version: ScorecardVersion) -> HttpResponse:
    keys = [c.key for c in version.criteria.all()]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER + keys)
    for s in scores:
        values = {r["key"]: "" if r["value"] is None else r["value"] for r in s["criteria"]}
        writer.writerow([s[h] for h in CSV_HEADER] + [values[k] for k in keys])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="fit-prospects.csv"'
    return response


TABLE_FIELDS = ("key", "name", "kind", "scale_max", "weight", "gate_min", "full_at")
BLANK_ROWS = 3


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {f: values.get(f, "") for f in TABLE_FIELDS} | {
        "evidence_required": bool(values.get("evidence_required")),
        "errors": {},
    }


def _table(
    rows: list[dict[str, Any]], targets: list[str], errors: dict[str, str], name: str = ""
) -> dict[str, Any]:
    """What the criteria form shows: its rows (with their own errors), the target segments, the
    running weight sum and the errors that belong to no row."""
    general: dict[str, str] = {}
    for field, msg in errors.items():
        match = re.fullmatch(r"criteria\[(\d+)\](?:\.(\w+))?", field)
        if match and int(match[1]) < len(rows):
            rows[int(match[1])]["errors"][match[2] or "row"] = msg
        else:
            general[field] = msg
    weights = [str(r["weight"]).strip() for r in rows]
    return {
        "name": name,
        "rows": rows + [_row({}) for _ in range(BLANK_ROWS)],
        "targets": targets,
        "errors": errors,
        "general": general,
        "weight_total": sum(int(w) for w in weights if w.isdigit()),
    }


def _table_of(version: ScorecardVersion) -> dict[str, Any]:
    rows = [
        _row(
            {
                "key": c.key,
                "name": c.name,
                "kind": c.kind,
                "scale_max": c.scale_max,
                "weight": c.weight,
                "gate_min": "" if c.gate_min is None else format(c.gate_min.normalize(), "f"),
                "full_at": c.full_at,
                "evidence_required": c.evidence_required,
            }
        )
        for c in version.criteria.all()
    ]
    return _table(rows, list(version.target_segments), {})


def _posted_table(request: HttpRequest) -> tuple[list[dict[str, Any]], list[str]]:
    """The posted criteria table, blank rows left out, and the target segments."""
    columns = {f: request.POST.getlist(f) for f in TABLE_FIELDS}
    evidence = set(request.POST.getlist("evidence_required"))
    count = max(len(v) for v in columns.values())
    rows = []
    for i in range(count):
        values: dict[str, Any] = {
            f: (columns[f][i] if i < len(columns[f]) else "").strip() for f in columns
        }
        if not any(values[f] for f in ("key", "name", "weight", "gate_min")):
            continue
        values["evidence_required"] = str(i) in evidence
        rows.append(_row(values))
    return rows, request.POST.getlist("target_segments")


def _action_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the actions take them: a blank kind, scale or `full_at` means the default."""
    out = []
    for row in rows:
        item = {f: row[f] for f in TABLE_FIELDS if f not in ("kind", "scale_max", "full_at")}
        item["evidence_required"] = row["evidence_required"]
        item |= {f: row[f] for f in ("kind", "scale_max", "full_at") if str(row[f]).strip()}
        if item.get("kind", CriterionKind.MANUAL) == CriterionKind.MANUAL:
            item.pop("full_at", None)
        out.append(item)
    return out


def _form_context() -> dict[str, Any]:
    return {"kinds": CriterionKind.choices, "labels": actions.segment_labels()}


@login_required
def fit_index(request: HttpRequest) -> HttpResponse:
    """Prospects ranked by fit against the current (or chosen) published version."""
    access.require_staff(request.user)
    filters = {n: request.GET.get(n, "").strip() for n in ("status", "segment", "version")}
    ctx: dict[str, Any] = {
        "filters": filters,
        "statuses": STATUSES,
        "segments": Segment.objects.all(),
        "scorecards": access.scorecards_visible_to(request.user),
        "errors": {},
        "page": None,
        "can_manage": access.can_manage_scorecards(request.user),
        "new": _table([], [], {}),
        **_form_context(),
    }
    status = 200
    if request.method == "POST":
        rows, targets = _posted_table(request)
        name = request.POST.get("scorecard_name", "")
        try:
            created = actions.create_scorecard_from_table(
                acting_user(request), name, targets, _action_rows(rows)
            )
        except ValidationFailed as exc:
            ctx["new"], status = _table(rows, targets, exc.errors, name), 400
        else:
            return redirect("fit-scorecard", created.scorecard_id)
    try:
        version = version_from(request.user, filters["version"])
        partners = prospects(request.user, filters["status"], filters["segment"])
    except ValidationFailed as exc:
        ctx["errors"] = exc.errors
        return render(request, "fit/index.html", ctx, status=400)
    ctx["version"] = version
    if version is None:
        return render(request, "fit/index.html", ctx, status=status)
    scores = rank(partners, version)
    if request.GET.get("format") == "csv":
        return _csv(scores, version)
    ctx["page"] = Paginator(scores, PAGE_SIZE).get_page(page_number(request))
    ctx["count"] = len(scores)
    return render(request, "fit/index.html", ctx, status=status)


def _posted_scores(request: HttpRequest, version: ScorecardVersion) -> dict[str, dict[str, Any]]:
    return {
        c.key: {
            "value": request.POST.get(f"score_{c.key}", "").strip(),
            "evidence": request.POST.get(f"evidence_{c.key}", ""),
        }
        for c in version.criteria.all()
        if not c.computed
    }


@login_required
def fit_partner(request: HttpRequest, partner_id: int) -> HttpResponse:
    """GET: the partner's score with its explanation and the viewer's own assessment. POST:
    submit (or replace) the viewer's assessment."""
    partner = access.get_partner_for(request.user, partner_id)
    errors: dict[str, str] = {}
    status = 200
    try:
        version = version_from(request.user, request.GET.get("version", "").strip())
    except ValidationFailed as exc:
        version, errors, status = current_version(), exc.errors, 400
    mine = None
    if version is not None:
        mine = Assessment.objects.filter(
            partner=partner, version=version, reviewer_id=request.user.pk
        ).first()
    posted: dict[str, dict[str, Any]] = {}
    if request.method == "POST":
        user = acting_user(request)
        posted = _posted_scores(request, version) if version is not None else {}
        try:
            actions.submit_assessment(user, partner, version, posted)
        except ValidationFailed as exc:
            errors, status = exc.errors, 400
        else:
            return redirect("fit-partner", partner.pk)
    form = []
    if version is not None:
        current = posted or (mine.scores if mine else {})
        form = [
            {
                "c": c,
                "value": current.get(c.key, {}).get("value", ""),
                "evidence": current.get(c.key, {}).get("evidence", ""),
            }
            for c in version.criteria.all()
            if not c.computed
        ]
    ctx = {
        "partner": partner,
        "version": version,
        "score": score_partner(partner, version) if version is not None else None,
        "mine": mine,
        "form": form,
        "can_assess": access.can_assess(request.user),
        "assessable": partner.status in STATUSES,
        "errors": errors,
    }
    return render(request, "fit/partner.html", ctx, status=status)


def _ids(request: HttpRequest) -> list[int]:
    raw = ",".join(request.GET.getlist("ids"))
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    bad = [p for p in parts if not p.isdigit()]
    if bad:
        raise ValidationFailed({"ids": f"{', '.join(bad)} are not partner ids; give ids=1,2,3"})
    return list(dict.fromkeys(int(p) for p in parts))


@login_required
def fit_compare(request: HttpRequest) -> HttpResponse:
    """Two or more partners side by side, criterion by criterion (`?ids=1,2,3`)."""
    access.require_staff(request.user)
    ctx: dict[str, Any] = {"errors": {}, "scores": [], "rows": []}
    try:
        ids = _ids(request)
        version = version_from(request.user, request.GET.get("version", "").strip())
    except ValidationFailed as exc:
        ctx["errors"] = exc.errors
        return render(request, "fit/compare.html", ctx, status=400)
    partners = list(partners_visible_to(request.user).filter(pk__in=ids))
    ctx["version"] = version
    if len(ids) < 2:
        ctx["errors"] = {"ids": "pick two or more partners to compare, e.g. ids=1,2"} if ids else {}
        return render(request, "fit/compare.html", ctx, status=400 if ids else 200)
    if len(partners) != len(ids):
        missing = sorted(set(ids) - {p.pk for p in partners})
        ctx["errors"] = {"ids": f"no partner has id {', '.join(map(str, missing))}"}
        return render(request, "fit/compare.html", ctx, status=400)
    if version is not None:
        order = {pk: i for i, pk in enumerate(ids)}
        scores = sorted(rank(partners, version), key=lambda s: order[s["partner_id"]])
        ctx["scores"] = scores
        ctx["rows"] = [
            {"name": c.name, "weight": c.weight, "cells": [s["criteria"][i] for s in scores]}
            for i, c in enumerate(version.criteria.all())
        ]
    return render(request, "fit/compare.html", ctx)


@login_required
def fit_scorecard(request: HttpRequest, scorecard_id: int) -> HttpResponse:
    """A scorecard's versions with their criteria; the CPO publishes a draft, starts one, or
    replaces a draft's criteria table (published versions are read-only)."""
    scorecard = access.get_scorecard_for(request.user, scorecard_id)
    errors: dict[str, str] = {}
    status = 200
    edited: tuple[int, dict[str, Any]] | None = None
    if request.method == "POST":
        user = acting_user(request)
        what = request.POST.get("action", "")
        try:
            if what in ("publish", "criteria"):
                raw = request.POST.get("version", "")
                version = scorecard.versions.filter(pk=raw if raw.isdigit() else 0).first()
                if version is None:
                    raise ValidationFailed({"version": "pick a version of this scorecard"})
                if what == "publish":
                    actions.publish(user, version)
                else:
                    rows, targets = _posted_table(request)
                    try:
                        actions.set_criteria_table(user, version, targets, _action_rows(rows))
                    except ValidationFailed as exc:
                        edited = (version.pk, _table(rows, targets, exc.errors))
                        raise
            elif what == "new_version":
                actions.new_version(user, scorecard)
            else:
                raise ValidationFailed(
                    {"action": "unknown action; use publish, criteria or new_version"}
                )
        except ValidationFailed as exc:
            errors, status = exc.errors, 400
        else:
            return redirect("fit-scorecard", scorecard.pk)
    can_manage = access.can_manage_scorecards(request.user)
    versions = []
    for v in scorecard.versions.prefetch_related("criteria").order_by("-number"):
        form = None
        if can_manage and not v.published:
            form = edited[1] if edited and edited[0] == v.pk else _table_of(v)
        versions.append({"v": v, "form": form})
    ctx = {
        "scorecard": scorecard,
        "versions": versions,
        "can_manage": can_manage,
        "errors": {} if edited else errors,
        **_form_context(),
    }
    return render(request, "fit/scorecard.html", ctx, status=status)
