"""Operator access to templates and journeys (decision 0004: the admin is outside the write
path). Product users edit templates through `actions`, which check dependencies and dates."""

from __future__ import annotations

from django.contrib import admin

from mutualist.onboarding.models import (
    Journey,
    JourneyTemplate,
    Phase,
    PhaseTemplate,
    Task,
    TaskTemplate,
)


class PhaseTemplateInline(admin.TabularInline[PhaseTemplate, JourneyTemplate]):
    model = PhaseTemplate
    extra = 0


@admin.register(JourneyTemplate)
class JourneyTemplateAdmin(admin.ModelAdmin[JourneyTemplate]):
    list_display = ("name", "version", "active", "is_default", "created_at")
    list_filter = ("active", "is_default")
    inlines = [PhaseTemplateInline]


@admin.register(TaskTemplate)
class TaskTemplateAdmin(admin.ModelAdmin[TaskTemplate]):
    list_display = ("title", "phase", "kind", "owner_side", "owner_role", "due_days")
    list_filter = ("kind", "owner_side", "phase__template")
    filter_horizontal = ("depends_on",)


class PhaseInline(admin.TabularInline[Phase, Journey]):
    model = Phase
    extra = 0


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin[Journey]):
    list_display = ("partner", "template", "template_version", "status", "started_at")
    list_filter = ("status",)
    raw_id_fields = ("partner", "started_by")
    inlines = [PhaseInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin[Task]):
    list_display = ("title", "journey", "owner_side", "assignee", "due_on", "status")
    list_filter = ("status", "owner_side", "kind")
    raw_id_fields = ("journey", "phase", "assignee", "completed_by", "template_task")
    filter_horizontal = ("depends_on",)
