from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from mutualist.accounts.access import acting_user
from mutualist.imports import access, actions, live
from mutualist.imports.forms import UploadForm
from mutualist.imports.models import ImportRun
from mutualist.imports.report import COLUMNS
from mutualist.imports.sources import KINDS
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.forms import add_action_errors
from mutualist.lib.listing import Column, render_filtered_list

RUN_COLUMNS = [
    Column("id", lambda r: r.pk),
    Column("kind", lambda r: r.kind),
    Column("status", lambda r: r.status),
    Column("started_at", lambda r: r.started_at.isoformat()),
    Column("started_by", lambda r: r.started_by.username if r.started_by else "system"),
    Column("files", lambda r: " ".join(f["name"] for f in r.files)),
    Column("errors", lambda r: r.error_count),
    Column("warnings", lambda r: r.warning_count),
    Column("message", lambda r: r.message),
]
STATUSES = ("queued", "running", "succeeded", "no_changes", "dry_run", "failed")


def _filtered_runs(runs: QuerySet[ImportRun], params: dict[str, str]) -> QuerySet[ImportRun]:
    if params["status"] and params["status"] not in STATUSES:
        raise ValidationFailed({"status": f"unknown status; use one of: {', '.join(STATUSES)}"})
    if params["kind"] and params["kind"] not in KINDS:
        raise ValidationFailed({"kind": f"unknown kind; use one of: {', '.join(KINDS)}"})
    if params["kind"]:
        runs = runs.filter(kind=params["kind"])
    if params["status"]:
        runs = runs.filter(status=params["status"])
    return runs.order_by("-started_at", "-id")


@login_required
def run_list(request: HttpRequest) -> HttpResponseBase:
    if request.user.is_partner_user:  # type: ignore[union-attr]
        raise Http404("No such page.")
    runs = access.runs_visible_to(request.user).select_related("started_by")
    ctx = {"can_import": access.can_import(request.user), "statuses": STATUSES, "kinds": KINDS}
    return render_filtered_list(
        request,
        ("kind", "status", "sort"),
        "-started",
        lambda p: _filtered_runs(runs, p),
        RUN_COLUMNS,
        "imports/run_list.html",
        ctx,
        "imports",
    )


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    access.require_can_import(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = actions.queue_import(
                acting_user(request),
                data["kind"],
                [(f.name, f.read()) for f in data["uploads"]],
                dry_run=data["dry_run"],
                strict=data["strict"],
                config=data["config"].read() if data["config"] else None,
                mapping=data["mapping"].read() if data["mapping"] else None,
            )
            return redirect("import-details", run.pk)
        except ValidationFailed as exc:
            add_action_errors(form, exc, {"files": "uploads"})
    status = 400 if form.errors else 200
    return render(request, "imports/upload.html", {"form": form}, status=status)


@login_required
def details(request: HttpRequest, run_id: int) -> HttpResponse:
    run = access.get_run_for(request.user, run_id)
    ctx = {
        "run": run,
        "problems": run.problems[:500],
        "report_columns": COLUMNS,
        "running": run.status in ("queued", "running"),
        "live": live.read(run.pk) if run.status == "running" else None,
    }
    template = (
        "imports/_run_status.html" if request.headers.get("HX-Request") else "imports/details.html"
    )
    return render(request, template, ctx)


@login_required
def report(request: HttpRequest, run_id: int) -> HttpResponse:
    import csv

    run = access.get_run_for(request.user, run_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-problems.csv"'
    writer = csv.DictWriter(response, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(run.problems)
    return response
