"""Tier governance: programs of levels with rules, benefits attached to levels, the computed
eligibility of each partner (evaluations), and the proposals that turn eligibility into an
assignment once someone approves them. The assignment itself is `partners.TierChange`."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.partners.choices import Tier
from mutualist.partners.models import Partner
from mutualist.tiers.choices import BenefitKind, Operator, ProposalStatus

USER = settings.AUTH_USER_MODEL


class Program(models.Model):
    """A tier program: its levels, their rules and benefits. Downgrades wait `grace_days`."""

    name = models.CharField(max_length=200, unique=True)
    active = models.BooleanField(default=True)
    grace_days = models.PositiveSmallIntegerField(default=90)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Level(models.Model):
    """One level of a program, standing for a partner tier; a higher rank is a better tier."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="levels")
    tier = models.CharField(max_length=16, choices=Tier.choices)
    rank = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["program", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["program", "tier"], name="tiers_level_program_tier"),
            models.UniqueConstraint(fields=["program", "rank"], name="tiers_level_program_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.name}"


class Rule(models.Model):
    """A partner reaches a level when every rule of the level holds (a level without rules is
    open to every active partner). `metric` is a key of `tiers.metrics.METRICS`."""

    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="rules")
    metric = models.CharField(max_length=32)
    operator = models.CharField(max_length=2, choices=Operator.choices, default=Operator.AT_LEAST)
    threshold = models.DecimalField(max_digits=18, decimal_places=4)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["level", "metric", "id"]

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.threshold}"


class Benefit(models.Model):
    """What a level gives, valid from one day to another (open-ended without `valid_to`)."""

    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="benefits")
    kind = models.CharField(max_length=24, choices=BenefitKind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=4)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["level", "kind", "valid_from"]

    def __str__(self) -> str:
        return f"{self.level}: {self.kind} {self.value}"


class PartnerFact(models.Model):
    """A manually recorded measure (certifications held, customer satisfaction), valid from
    `as_of` until a newer fact of the same key."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tier_facts")
    key = models.CharField(max_length=32)
    value = models.DecimalField(max_digits=18, decimal_places=4)
    as_of = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["partner", "key", "-as_of", "-id"]
        indexes = [models.Index(fields=["partner", "key", "as_of"], name="tiers_fact_lookup")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.key}={self.value} as of {self.as_of}"


class Evaluation(models.Model):
    """A partner's eligibility in a program on a day, with each rule's measured value. It
    assigns nothing: a differing tier becomes a `Proposal`."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tier_evaluations")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="evaluations")
    as_of = models.DateField()
    eligible_tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    current_tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    # [{level, tier, rule_id, metric, operator, threshold, value, passed}], one per rule.
    details = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-as_of", "-computed_at", "-id"]
        indexes = [models.Index(fields=["program", "as_of"], name="tiers_eval_program_day")]

    def __str__(self) -> str:
        return f"{self.partner} eligible for {self.eligible_tier or 'no tier'} on {self.as_of}"


class Proposal(models.Model):
    """A proposed tier change: approved by the partner's owner or the CPO, in force from
    `effective_on`. A downgrade waits out the program's grace period (`grace_until`)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tier_proposals")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="proposals")
    evaluation = models.ForeignKey(
        Evaluation, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    from_tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    to_tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    proposed_at = models.DateTimeField()
    effective_on = models.DateField()
    grace_until = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PROPOSED,
        db_index=True,
    )
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.partner}: {self.from_tier or 'no tier'} → {self.to_tier or 'no tier'}"

    @property
    def is_downgrade(self) -> bool:
        return self.grace_until is not None
