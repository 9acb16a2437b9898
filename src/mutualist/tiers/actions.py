"""Every write of tier governance: programs and their levels, rules and benefits (the CPO),
recorded facts, and deciding and applying proposals. Each validates, then writes in one
transaction with an audit entry. Also the two dated reads: `tier_on` and `benefits_on`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.audit.log import record, snapshot
from mutualist.lib import validate
from mutualist.lib.errors import Conflict, ValidationFailed
from mutualist.partners import actions as partner_actions
from mutualist.partners.models import Partner, TierChange
from mutualist.tiers import access
from mutualist.tiers.choices import LEVEL_TIERS, BenefitKind, Operator, ProposalStatus
from mutualist.tiers.metrics import FACT_KEYS, METRICS
from mutualist.tiers.models import Benefit, Level, PartnerFact, Program, Proposal, Rule

MAX_GRACE_DAYS = 730


# Parsing helpers: each returns the clean value and puts a message in `errors` when wrong.


def _decimal(value: Any, field: str, errors: dict[str, str]) -> Decimal:
    number = validate.decimal_number(value, field, errors, example="250000 or 0.35")
    return Decimal(0) if number is None else number  # the error stops the caller


def _day(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = f"{value!r} is not a date; use YYYY-MM-DD"
        return None


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


# Programs, levels, rules, benefits: the CPO's.


@transaction.atomic
def create_program(actor: User, data: Mapping[str, Any]) -> Program:
    """A new program. `grace_days` (default 90) is how long a downgrade waits."""
    access.require_can_manage_programs(actor)
    errors: dict[str, str] = {}
    name = str(data.get("name", "")).strip()
    if msg := validate.text_error(name, 200, required=True):
        errors["name"] = msg
    elif Program.objects.filter(name__iexact=name).exists():
        errors["name"] = f"a program called {name!r} exists already; choose another name"
    grace = validate.whole_number(
        data.get("grace_days", 90), "grace_days", errors, 0, MAX_GRACE_DAYS
    )
    _raise(errors)
    program = Program.objects.create(
        name=name,
        grace_days=grace,
        active=bool(data.get("active", True)),
        created_by=actor,
        created_at=timezone.now(),
    )
    record(actor, "tiers.program.create", program, after=snapshot(program))
    return program


@transaction.atomic
def update_program(actor: User, program: Program, data: Mapping[str, Any]) -> Program:
    access.require_can_manage_programs(actor)
    errors: dict[str, str] = {}
    before = snapshot(program, ["name", "active", "grace_days"])
    if "name" in data:
        name = str(data["name"]).strip()
        if msg := validate.text_error(name, 200, required=True):
            errors["name"] = msg
        program.name = name
    if "grace_days" in data:
        program.grace_days = validate.whole_number(
            data["grace_days"], "grace_days", errors, 0, MAX_GRACE_DAYS
        )
    if "active" in data:
        program.active = bool(data["active"])
    _raise(errors)
    program.save(update_fields=["name", "active", "grace_days"])
    record(actor, "tiers.program.update", program, before=before, after=snapshot(program))
    return program


def _clean_rules(rules: Sequence[Mapping[str, Any]], prefix: str) -> list[dict[str, Any]]:
    errors: dict[str, str] = {}
    cleaned = []
    for i, rule in enumerate(rules):
        field = f"{prefix}[{i}]" if prefix else ""
        name = f"{field}.metric" if field else "metric"
        metric = str(rule.get("metric", "")).strip()
        if metric not in METRICS:
            errors[name] = f"{metric!r} is not a known metric; use one of: {', '.join(METRICS)}"
        op_field = f"{field}.operator" if field else "operator"
        operator = str(rule.get("operator", Operator.AT_LEAST))
        if msg := validate.choice_error(operator, Operator.values, "operator"):
            errors[op_field] = msg
        threshold_field = f"{field}.threshold" if field else "threshold"
        threshold = _decimal(rule.get("threshold", ""), threshold_field, errors)
        note = str(rule.get("note", "")).strip()[:300]
        cleaned.append(
            {"metric": metric, "operator": operator, "threshold": threshold, "note": note}
        )
    _raise(errors)
    return cleaned


def _clean_level(program: Program, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    tier = str(data.get("tier", "")).strip()
    if msg := validate.choice_error(tier, LEVEL_TIERS, "tier"):
        errors["tier"] = msg
    elif program.levels.filter(tier=tier).exists():
        errors["tier"] = f"the program has a {tier} level already; change that one"
    rank = validate.whole_number(data.get("rank", ""), "rank", errors, 0, 100)
    if "rank" not in errors and program.levels.filter(rank=rank).exists():
        errors["rank"] = f"another level has rank {rank}; ranks order the levels, so use another"
    name = str(data.get("name", "") or tier.title()).strip()
    if msg := validate.text_error(name, 100, required=True):
        errors["name"] = msg
    try:
        rules = _clean_rules(data.get("rules", []), "rules")
    except ValidationFailed as exc:
        errors.update(exc.errors)
        rules = []
    _raise(errors)
    return {"tier": tier, "rank": rank, "name": name, "rules": rules}


@transaction.atomic
def add_level(actor: User, program: Program, data: Mapping[str, Any]) -> Level:
    """A level with its rules (`rules`: [{metric, operator, threshold, note}]), all or nothing."""
    access.require_can_manage_programs(actor)
    cleaned = _clean_level(program, data)
    rules = cleaned.pop("rules")
    level = Level.objects.create(program=program, **cleaned)
    Rule.objects.bulk_create([Rule(level=level, **r) for r in rules])
    record(actor, "tiers.level.create", level, after={**snapshot(level), "rules": rules})
    return level


@transaction.atomic
def add_rule(actor: User, level: Level, data: Mapping[str, Any]) -> Rule:
    """One more rule on a level. An unknown metric is refused and nothing is stored."""
    access.require_can_manage_programs(actor)
    cleaned = _clean_rules([data], "")[0]
    rule = Rule.objects.create(level=level, **cleaned)
    record(actor, "tiers.rule.create", rule, after=snapshot(rule))
    return rule


@transaction.atomic
def replace_rules(actor: User, level: Level, rules: Sequence[Mapping[str, Any]]) -> list[Rule]:
    """Set a level's rules to exactly `rules`. Every rule is checked before any is written."""
    access.require_can_manage_programs(actor)
    cleaned = _clean_rules(rules, "rules")
    before = [snapshot(r) for r in level.rules.all()]
    level.rules.all().delete()
    created = Rule.objects.bulk_create([Rule(level=level, **r) for r in cleaned])
    record(actor, "tiers.rules.replace", level, before={"rules": before}, after={"rules": cleaned})
    return created


@transaction.atomic
def delete_rule(actor: User, rule: Rule) -> None:
    access.require_can_manage_programs(actor)
    before = snapshot(rule)
    record(actor, "tiers.rule.delete", rule, before=before)
    rule.delete()


@transaction.atomic
def add_benefit(actor: User, level: Level, data: Mapping[str, Any]) -> Benefit:
    """A benefit of a level from `valid_from` to `valid_to` (inclusive; open-ended if empty)."""
    access.require_can_manage_programs(actor)
    errors: dict[str, str] = {}
    kind = str(data.get("kind", "")).strip()
    if msg := validate.choice_error(kind, BenefitKind.values, "benefit kind"):
        errors["kind"] = msg
    value = _decimal(data.get("value", ""), "value", errors)
    valid_from = _day(data.get("valid_from"), "valid_from", errors)
    if valid_from is None and "valid_from" not in errors:
        errors["valid_from"] = "is required; give the first day the benefit applies (YYYY-MM-DD)"
    valid_to = _day(data.get("valid_to"), "valid_to", errors)
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = f"{valid_to} is before valid_from {valid_from}; swap them"
    _raise(errors)
    assert valid_from is not None
    benefit = Benefit.objects.create(
        level=level, kind=kind, value=value, valid_from=valid_from, valid_to=valid_to
    )
    record(actor, "tiers.benefit.create", benefit, after=snapshot(benefit))
    return benefit


@transaction.atomic
def record_fact(
    actor: User, partner: Partner, key: str, value: Any, as_of: Any, note: str = ""
) -> PartnerFact:
    """A hand-recorded measure (certifications, csat) by the partner's owner or the CPO."""
    access.require_can_decide(actor, partner)
    errors: dict[str, str] = {}
    if msg := validate.choice_error(key, FACT_KEYS, "recorded fact"):
        errors["key"] = msg
    number = _decimal(value, "value", errors)
    day = _day(as_of, "as_of", errors) or timezone.now().date()
    _raise(errors)
    fact = PartnerFact.objects.create(
        partner=partner,
        key=key,
        value=number,
        as_of=day,
        note=note.strip()[:300],
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    record(actor, "tiers.fact.record", fact, after=snapshot(fact))
    return fact


# Proposals: decided by the partner's owner or the CPO, applied on their effective day.


def _locked(proposal: Proposal) -> Proposal:
    """The proposal re-read under a row lock, so two deciders cannot both act on it."""
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=proposal.pk)
    )


@transaction.atomic
def approve(actor: User, proposal: Proposal, note: str = "", now: Any = None) -> Proposal:
    """Approve a proposed change. It takes effect on its effective day (today if that day has
    already passed), and is applied at once when that day has come."""
    access.require_can_decide(actor, proposal.partner)
    now = now or timezone.now()
    current = _locked(proposal)
    if current.status != ProposalStatus.PROPOSED:
        raise Conflict(f"This proposal is {current.get_status_display().lower()} already.")
    current.status = ProposalStatus.APPROVED
    current.decided_by, current.decided_at = actor, now
    current.decision_note = note.strip()[:500]
    current.effective_on = max(current.effective_on, now.date())
    current.save(
        update_fields=["status", "decided_by", "decided_at", "decision_note", "effective_on"]
    )
    record(
        actor,
        "tiers.proposal.approve",
        current,
        after={"status": current.status, "effective_on": current.effective_on, "note": note},
    )
    if current.effective_on <= now.date():
        _apply(current, now)
    proposal.refresh_from_db()
    return proposal


@transaction.atomic
def reject(actor: User, proposal: Proposal, note: str, now: Any = None) -> Proposal:
    access.require_can_decide(actor, proposal.partner)
    if msg := validate.text_error(note.strip(), 500, required=True):
        raise ValidationFailed({"note": f"{msg}: say why, the partner's owner reads it"})
    current = _locked(proposal)
    if current.status != ProposalStatus.PROPOSED:
        raise Conflict(f"This proposal is {current.get_status_display().lower()} already.")
    current.status = ProposalStatus.REJECTED
    current.decided_by, current.decided_at = actor, now or timezone.now()
    current.decision_note = note.strip()
    current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    record(actor, "tiers.proposal.reject", current, after={"status": current.status, "note": note})
    proposal.refresh_from_db()
    return proposal


def _tier_writer(proposal: Proposal) -> User | None:
    """The approver writes the tier (`change_tier` lets the partner's owner apply a proposal it
    approved); None when the approver can no longer act, so the proposal waits."""
    approver = proposal.decided_by
    return approver if approver is not None and approver.is_active else None


def _apply(proposal: Proposal, now: dt.datetime) -> bool:
    partner = Partner.objects.select_for_update(of=("self",)).get(pk=proposal.partner_id)
    if partner.tier != proposal.from_tier:
        proposal.status = ProposalStatus.SUPERSEDED
        proposal.decision_note = (
            f"{proposal.decision_note} (not applied: the tier changed to "
            f"{partner.tier or 'no tier'} in the meantime)"
        ).strip()[:500]
        proposal.save(update_fields=["status", "decision_note"])
        record(None, "tiers.proposal.supersede", proposal, after={"status": proposal.status})
        return False
    writer = _tier_writer(proposal)
    if writer is None:
        return False  # stays approved; the next run applies it once a CPO exists
    approver = proposal.decided_by.get_username() if proposal.decided_by else "?"
    when = dt.datetime.combine(proposal.effective_on, dt.time.min, tzinfo=dt.UTC)
    partner_actions.change_tier(
        writer,
        partner,
        proposal.to_tier,
        f"Tier proposal {proposal.pk} ({proposal.program.name}) approved by {approver}",
        effective_from=when,
        approved_proposal=True,
    )
    proposal.status, proposal.applied_at = ProposalStatus.APPLIED, now
    proposal.save(update_fields=["status", "applied_at"])
    record(
        proposal.decided_by,
        "tiers.proposal.apply",
        proposal,
        after={"tier": proposal.to_tier, "effective_from": when, "written_by": writer.pk},
    )
    return True


def apply_due(now: Any = None) -> int:
    """Apply every approved proposal whose effective day has come; returns how many were.
    Each is its own transaction, so one that fails leaves the others applied."""
    now = now or timezone.now()
    due = Proposal.objects.filter(
        status=ProposalStatus.APPROVED, effective_on__lte=now.date()
    ).order_by("effective_on", "pk")
    applied = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(of=("self",))
                .select_related("program")
                .get(pk=pk)
            )
            if proposal.status == ProposalStatus.APPROVED:
                applied += _apply(proposal, now)
    return applied


# Dated reads.


def tier_on(partner: Partner, day: dt.date) -> str:
    """The partner's tier on `day` from the dated history ('' = no tier). A partner with no
    recorded history has had its current tier throughout; before its first record, none."""
    end = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    changes = TierChange.objects.filter(partner=partner)
    latest = changes.filter(effective_from__lte=end).order_by("-effective_from", "-id").first()
    if latest is not None:
        return latest.tier
    return "" if changes.exists() else partner.tier


def benefits_on(partner: Partner, day: dt.date, program: Program | None = None) -> list[Benefit]:
    """The benefits the partner's tier on `day` gives in `program` (default: active programs),
    counting only benefits valid on that day."""
    tier = tier_on(partner, day)
    if not tier:
        return []
    programs = Q(level__program=program) if program else Q(level__program__active=True)
    return list(
        Benefit.objects.filter(programs, level__tier=tier, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .select_related("level", "level__program")
        .order_by("level__program__name", "kind", "valid_from")
    )
