"""Onboarding pages. Vendor staff follow every journey and run them; a partner's people see
their own journey in the portal and complete the partner's tasks there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from mutualist.accounts.access import acting_user
from mutualist.accounts.models import User
from mutualist.lib.errors import Conflict, ValidationFailed
from mutualist.lib.listing import Column, render_filtered_list
from mutualist.onboarding import access, actions, progress
from mutualist.onboarding.choices import JourneyStatus, Kind, Side
from mutualist.onboarding.models import Journey, JourneyTemplate, Task, TaskTemplate
from mutualist.partners.access import get_partner_for, partners_visible_to

STATUSES = tuple(JourneyStatus.values)
SORTS = ("newest", "oldest", "partner", "progress")
COLUMNS = [
    Column("journey_id", lambda j: j.pk),
    Column("partner", lambda j: j.partner.name),
    Column("template", lambda j: f"{j.template.name} v{j.template_version}"),
    Column("status", lambda j: j.status),
    Column("started_at", lambda j: j.started_at.date().isoformat()),
    Column("tasks", lambda j: j.n_tasks),
    Column("done", lambda j: j.n_done),
    Column("percent_done", lambda j: progress.percent(j.n_done, j.n_tasks)),
    Column("overdue", lambda j: j.n_overdue),
    Column("days_to_first_registered_deal", lambda j: progress.days_to_first_deal(j)),
    Column("days_to_first_won_deal", lambda j: progress.days_to_first_win(j)),
]


def _filtered(user: Any, params: dict[str, str]) -> QuerySet[Journey]:
    errors: dict[str, str] = {}
    if params["status"] and params["status"] not in STATUSES:
        errors["status"] = f"unknown status; use one of: {', '.join(STATUSES)}"
    if params["partner"] and not params["partner"].isdigit():
        errors["partner"] = "give a partner's id (pick one from the list)"
    if params["sort"] not in SORTS:
        errors["sort"] = f"unknown sort; use one of: {', '.join(SORTS)}"
    if errors:
        raise ValidationFailed(errors)
    rows = progress.with_figures(
        access.journeys_visible_to(user).select_related("partner", "template")
    )
    if params["status"]:
        rows = rows.filter(status=params["status"])
    if params["partner"]:
        rows = rows.filter(partner_id=int(params["partner"]))
    if params["q"]:
        rows = rows.filter(partner__name__icontains=params["q"])
    if params["overdue"]:
        rows = rows.filter(n_overdue__gt=0)  # type: ignore[misc]
    order = {
        "oldest": ("started_at", "pk"),
        "partner": ("partner__name", "pk"),
        "progress": ("n_done", "pk"),
    }.get(params["sort"], ("-started_at", "-pk"))
    return rows.order_by(*order)


@login_required
def index(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    template_form: dict[str, Any] = {"values": {}, "errors": {}}
    if request.method == "POST":
        access.require_staff(user)
        access.require_can_manage_templates(acting_user(request))
        if request.POST.get("form") != "template":
            template_form["errors"] = {"form": "unknown form; use: template"}
        else:
            template_form["values"] = {"name": request.POST.get("name", "")}
            try:
                actions.create_template(acting_user(request), template_form["values"])
            except ValidationFailed as exc:
                template_form["errors"] = exc.errors
            else:
                return redirect("onboarding-index")
    if user.is_partner_user:
        return _portal(request)
    actions.sweep_overdue()
    ctx = {
        "statuses": STATUSES,
        "partners": partners_visible_to(user)
        .filter(journeys__isnull=False)
        .distinct()
        .order_by("name"),
        "median": progress.median_days_to_first_win(),
        "overdue_tasks": access.tasks_visible_to(user)
        .filter(
            journey__status=JourneyStatus.ACTIVE,
            status="open",
            due_on__lt=timezone.localdate(),
        )
        .count(),
        "active_journeys": access.journeys_visible_to(user)
        .filter(status=JourneyStatus.ACTIVE)
        .count(),
        "templates": access.templates_visible_to(user),
        "waiting": access.partners_waiting_for(user),
        "can_start": access.can_manage_any(user),
        "can_edit_templates": access.can_manage_templates(user),
        "template_form": template_form,
    }
    response = render_filtered_list(
        request,
        ("q", "status", "partner", "overdue", "sort"),
        "newest",
        lambda p: _filtered(user, p),
        COLUMNS,
        "onboarding/index.html",
        ctx,
        "onboarding-journeys",
    )
    if template_form["errors"]:
        response.status_code = 400
    return response


def _portal(request: HttpRequest) -> HttpResponse:
    """A partner's people: their journey under way, else their latest; or a page saying none."""
    journeys = access.journeys_visible_to(request.user)
    journey = journeys.filter(status=JourneyStatus.ACTIVE).first() or journeys.first()
    if journey is None:
        return render(request, "onboarding/none.html", {})
    return redirect("onboarding-journey", journey.pk)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("onboarding-index")
    access.require_staff(request.user)
    raw_partner = request.POST.get("partner", "")
    raw_template = request.POST.get("template", "")
    if not raw_partner.isdigit():
        raise Http404("No such partner.")
    partner = get_partner_for(request.user, int(raw_partner))
    template = None
    if raw_template:
        template = access.get_template_for(
            request.user, int(raw_template) if raw_template.isdigit() else 0
        )
    journey = actions.start_journey(acting_user(request), partner, template)
    return redirect("onboarding-journey", journey.pk)


def _journey_page(
    request: HttpRequest, journey: Journey, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    user: Any = request.user
    figures = progress.of(journey)
    is_staff = not user.is_partner_user
    rows: list[dict[str, Any]] = [
        {
            "task": t,
            "blocked_by": figures.blocked.get(t.pk, []),
            "overdue": figures.is_overdue(t),
            "can_complete": journey.status == JourneyStatus.ACTIVE and access.can_complete(user, t),
            "can_assign": journey.status == JourneyStatus.ACTIVE and access.can_assign(user, t),
            "can_reopen": t.status != "open"
            and journey.status != JourneyStatus.CANCELLED
            and (access.can_complete(user, t) or access.can_manage(user, journey.partner)),
        }
        for t in figures.tasks
    ]
    phases = [
        (phase, [r for r in rows if r["task"].phase_id == phase.pk])
        for phase in journey.phases.order_by("order", "pk")
    ]
    can_manage = access.can_manage(user, journey.partner)
    ctx = {
        "journey": journey,
        "progress": figures,
        "phases": phases,
        "is_staff": is_staff,
        "can_manage": can_manage,
        "vendor_people": User.objects.filter(partner__isnull=True, is_active=True).order_by(
            "username"
        )
        if can_manage
        else [],
        "partner_people": User.objects.filter(partner=journey.partner, is_active=True).order_by(
            "username"
        ),
        "errors": errors or {},
    }
    return render(request, "onboarding/journey.html", ctx, status=status)


@login_required
def journey_details(request: HttpRequest, journey_id: int) -> HttpResponse:
    journey = access.get_journey_for(request.user, journey_id)
    if request.method == "POST":
        try:
            actions.cancel_journey(acting_user(request), journey, request.POST.get("reason", ""))
        except ValidationFailed as exc:
            return _journey_page(request, journey, exc.errors, 400)
        return redirect("onboarding-journey", journey.pk)
    return _journey_page(request, journey)


def _assignee(request: HttpRequest) -> User | None:
    raw = request.POST.get("assignee", "")
    if not raw:
        return None
    found = User.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
    if found is None:
        raise ValidationFailed({"assignee": "no such person; pick one from the list"})
    return found


TASK_ACTIONS = ("complete", "reopen", "skip", "assign")


def _task_anchor(task: Task) -> str:
    return f"{reverse('onboarding-journey', args=[task.journey_id])}#task-{task.pk}"


@login_required
def task_act(request: HttpRequest, task_id: int) -> HttpResponse:
    """POST `action` = complete | reopen | skip | assign. A GET shows the task in its journey."""
    task = access.get_task_for(request.user, task_id)
    if request.method != "POST":
        return redirect(_task_anchor(task))
    user, action, post = acting_user(request), request.POST.get("action", ""), request.POST
    try:
        match action:
            case "complete":
                actions.complete_task(
                    user, task, post.get("note", ""), post.get("evidence_url", "")
                )
            case "reopen":
                actions.reopen_task(user, task, post.get("reason", ""))
            case "skip":
                actions.skip_task(user, task, post.get("reason", ""))
            case "assign":
                actions.assign_task(user, task, _assignee(request))
            case _:
                raise ValidationFailed(
                    {"action": f"unknown action; use one of: {', '.join(TASK_ACTIONS)}"}
                )
    except ValidationFailed as exc:
        return _journey_page(request, task.journey, exc.errors, 400)
    except Conflict as exc:
        return _journey_page(request, task.journey, {task.title: str(exc)}, 409)
    return redirect(_task_anchor(task))


TEMPLATE_FORMS = ("phase", "task_new", "task_edit", "task_delete")
TASK_FIELDS = ("title", "kind", "owner_side", "owner_role", "due_days")
Failed = tuple[str, dict[str, Any], dict[str, str]]  # (form key, typed values, errors)


def _task_values(task: TaskTemplate) -> dict[str, Any]:
    return {
        "title": task.title,
        "kind": task.kind,
        "owner_side": task.owner_side,
        "owner_role": task.owner_role,
        "due_days": str(task.due_days),
        "depends_on": [str(d.pk) for d in task.depends_on.all()],
    }


def _form(key: str, values: dict[str, Any], failed: Failed | None) -> dict[str, Any]:
    if failed is not None and failed[0] == key:
        return {"values": failed[1], "errors": failed[2], "open": True}
    return {"values": values, "errors": {}, "open": False}


def _template_page(
    request: HttpRequest,
    template: JourneyTemplate,
    failed: Failed | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    phases = list(template.phases.prefetch_related("tasks__depends_on").order_by("order", "pk"))
    sections = []
    for phase in phases:
        earlier = [t for p in phases if p.order <= phase.order for t in p.tasks.all()]
        new_defaults = {"kind": "other", "owner_side": Side.VENDOR, "depends_on": []}
        sections.append(
            {
                "phase": phase,
                "choices": earlier,
                "new_task": _form(f"task_new-{phase.pk}", new_defaults, failed),
                "tasks": [
                    {
                        "task": t,
                        "choices": [c for c in earlier if c.pk != t.pk],
                        "edit": _form(f"task_edit-{t.pk}", _task_values(t), failed),
                    }
                    for t in phase.tasks.all()
                ],
            }
        )
    ctx = {
        "template": template,
        "phases": phases,
        "sections": sections,
        "sides": Side,
        "kinds": Kind.choices,
        "side_choices": Side.choices,
        "can_edit": access.can_manage_templates(request.user),
        "phase_form": _form("phase", {}, failed),
        "errors": errors or {},
    }
    return render(request, "onboarding/template.html", ctx, status=status)


def _posted_task(request: HttpRequest) -> dict[str, Any]:
    data: dict[str, Any] = {name: request.POST.get(name, "") for name in TASK_FIELDS}
    data["depends_on"] = request.POST.getlist("depends_on")
    return data


def _template_post(
    request: HttpRequest, template: JourneyTemplate
) -> tuple[str, dict[str, Any], Any]:
    """Which form was posted, the values typed in it, and the action to run on them."""
    user, form, post = acting_user(request), request.POST.get("form", ""), request.POST
    access.require_can_manage_templates(user)
    tasks = TaskTemplate.objects.filter(phase__template=template)
    match form:
        case "phase":
            data = {k: post.get(k, "") for k in ("name", "order", "gated")}
            return "phase", data, lambda: actions.add_phase(user, template, data)
        case "task_new":
            phase = template.phases.filter(pk=_id(post.get("phase"))).first()
            if phase is None:
                raise ValidationFailed({"phase": "no such phase of this template"})
            data = _posted_task(request)
            return f"task_new-{phase.pk}", data, lambda: actions.add_task(user, phase, data)
        case "task_edit" | "task_delete":
            task = tasks.filter(pk=_id(post.get("task"))).first()
            if task is None:
                raise ValidationFailed({"task": "no such task in this template"})
            if form == "task_delete":
                return "task_delete", {}, lambda: actions.delete_task(user, task)
            data = _posted_task(request)
            return f"task_edit-{task.pk}", data, lambda: actions.update_task(user, task, data)
    raise ValidationFailed({"form": f"unknown form; use one of: {', '.join(TEMPLATE_FORMS)}"})


def _id(raw: Any) -> int:
    return int(raw) if isinstance(raw, str) and raw.isdigit() else 0


@login_required
def template_details(request: HttpRequest, journey_template_id: int) -> HttpResponse:
    """GET shows the template; the CPO POSTs `form` = phase | task_new | task_edit |
    task_delete to change it."""
    template = access.get_template_for(request.user, journey_template_id)
    if request.method != "POST":
        return _template_page(request, template)
    try:
        key, data, run = _template_post(request, template)
    except ValidationFailed as exc:
        return _template_page(request, template, status=400, errors=exc.errors)
    try:
        run()
    except ValidationFailed as exc:
        return _template_page(request, template, (key, data, exc.errors), 400)
    except Conflict as exc:
        return _template_page(request, template, status=409, errors={key: str(exc)})
    return redirect("onboarding-template", template.pk)
