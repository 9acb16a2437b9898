"""Onboarding journeys: versioned templates of phases and tasks, and the journeys started from
them. A journey copies its template's phases and tasks when it starts, so editing a template
never changes a journey under way."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.onboarding.choices import JourneyStatus, Kind, Side, TaskStatus
from mutualist.partners.models import Partner

USER = settings.AUTH_USER_MODEL


class JourneyTemplate(models.Model):
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    # The template a journey starts from when a partner enters onboarding.
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="journey_template_version"),
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="journey_template_one_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PhaseTemplate(models.Model):
    template = models.ForeignKey(JourneyTemplate, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    # A gated phase's tasks cannot start until every task of the phases before it is resolved.
    gated = models.BooleanField(default=False)

    class Meta:
        ordering = ["template", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "order"], name="phase_template_order")
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class TaskTemplate(models.Model):
    phase = models.ForeignKey(PhaseTemplate, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OTHER)
    owner_side = models.CharField(max_length=8, choices=Side.choices)
    owner_role = models.CharField(
        max_length=64, blank=True, help_text="Who on that side does it, e.g. engineering."
    )
    due_days = models.IntegerField(help_text="Due this many days after the journey starts.")
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents"
    )

    class Meta:
        ordering = ["phase__order", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Journey(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="journeys")
    template = models.ForeignKey(JourneyTemplate, on_delete=models.PROTECT, related_name="+")
    template_version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=JourneyStatus.choices, default=JourneyStatus.ACTIVE, db_index=True
    )
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One journey under way per partner: a database fact, not just a check in actions.
            models.UniqueConstraint(
                fields=["partner"],
                condition=models.Q(status="active"),
                name="journey_one_active_per_partner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} onboarding ({self.started_at:%Y-%m-%d})"

    # The figures below read annotations of `progress.with_figures` (list pages and the API).
    @property
    def first_deal_days(self) -> int | None:
        from mutualist.onboarding.progress import days_to_first_deal

        return days_to_first_deal(self)

    @property
    def first_win_days(self) -> int | None:
        from mutualist.onboarding.progress import days_to_first_win

        return days_to_first_win(self)


class Phase(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    gated = models.BooleanField(default=False)

    class Meta:
        ordering = ["journey", "order", "id"]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="tasks")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="tasks")
    template_task = models.ForeignKey(
        TaskTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    owner_side = models.CharField(max_length=8, choices=Side.choices)
    owner_role = models.CharField(max_length=64, blank=True)
    assignee = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="onboarding_tasks"
    )
    due_on = models.DateField(db_index=True)
    status = models.CharField(
        max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN, db_index=True
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents"
    )
    # Owners are told once that a task is overdue; reopening or re-dating clears it.
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["phase__order", "order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def blocked_by(self) -> list[str]:
        """What keeps this task from starting (a query each time; pages use `state.blockers`)."""
        from mutualist.onboarding.state import blockers

        return blockers(self.journey).get(self.pk, [])

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)
