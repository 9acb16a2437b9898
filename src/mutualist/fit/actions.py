"""Every write of partner fit: scorecards and their versions (the CPO), the import that the CLI
uses, and assessments (alliance managers and the CPO). Each validates everything first, then
writes in one transaction with an audit entry: a bad input changes nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from mutualist.accounts.models import User
from mutualist.audit.log import record
from mutualist.fit import access
from mutualist.fit.models import (
    WEIGHT_TOTAL,
    Assessment,
    Criterion,
    CriterionKind,
    Scorecard,
    ScorecardVersion,
)
from mutualist.lib import validate
from mutualist.lib.errors import Conflict, ValidationFailed
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner, Segment

ASSESSABLE = (Status.PROSPECT, Status.EVALUATING, Status.NEGOTIATING)
MAX_SCALE = 100
MAX_EVIDENCE = 2000


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


def segment_labels() -> dict[str, str]:
    """Every segment as "kind:code" -> its name."""
    return {f"{s.kind}:{s.code}": s.name for s in Segment.objects.all()}


def clean_definition(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Check a version's definition: {target_segments: ["kind:code"], criteria: [{key, name,
    kind, scale_max, weight, evidence_required, full_at}], gates: [{criterion, min}]}. Returns
    the clean definition or raises with every problem, each named by its field."""
    errors: dict[str, str] = {}
    known = segment_labels()
    targets = data.get("target_segments") or []
    if not isinstance(targets, list):
        errors[f"{prefix}target_segments"] = 'give a list of segments such as ["industry:retail"]'
        targets = []
    for i, code in enumerate(targets):
        if str(code) not in known:
            errors[f"{prefix}target_segments[{i}]"] = (
                f"{code!r} is not a known segment; use kind:code, one of: "
                + ", ".join(sorted(known)[:20])
            )
    raw = data.get("criteria") or []
    if not isinstance(raw, list) or not raw:
        errors[f"{prefix}criteria"] = "give at least one criterion"
        raw = []
    criteria: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        at = f"{prefix}criteria[{i}]"
        if not isinstance(item, Mapping):
            errors[at] = "each criterion is an object with key, name, kind, scale_max and weight"
            continue
        name = str(item.get("name", "")).strip()
        key = str(item.get("key") or slugify(name).replace("-", "_")).strip()
        if msg := validate.text_error(name, 100, required=True):
            errors[f"{at}.name"] = msg
        if not key or slugify(key).replace("-", "_") != key or len(key) > 40:
            errors[f"{at}.key"] = (
                f"{key!r} is not a key; use lower-case letters, digits and _ (at most 40)"
            )
        elif any(c["key"] == key for c in criteria):
            errors[f"{at}.key"] = f"{key!r} is used by another criterion; keys must differ"
        kind = str(item.get("kind", CriterionKind.MANUAL))
        if msg := validate.choice_error(kind, CriterionKind.values, "criterion kind"):
            errors[f"{at}.kind"] = msg
        criteria.append(
            {
                "key": key,
                "name": name,
                "kind": kind,
                "scale_max": validate.whole_number(
                    item.get("scale_max", 5), f"{at}.scale_max", errors, 1, 100
                ),
                "weight": validate.whole_number(
                    item.get("weight", ""), f"{at}.weight", errors, 0, WEIGHT_TOTAL
                ),
                "evidence_required": bool(item.get("evidence_required", False)),
                "full_at": validate.whole_number(
                    item.get("full_at", 1), f"{at}.full_at", errors, 1, 10**6
                ),
                "gate_min": None,
            }
        )
    if criteria and not any(".weight" in f for f in errors):
        total = sum(c["weight"] for c in criteria)
        if total != WEIGHT_TOTAL:
            errors[f"{prefix}weights"] = (
                f"the weights sum to {total}; they must sum to {WEIGHT_TOTAL}"
            )
    gates = data.get("gates") or []
    if not isinstance(gates, list):
        errors[f"{prefix}gates"] = 'give a list of gates such as [{"criterion": "key", "min": 3}]'
        gates = []
    by_key = {c["key"]: c for c in criteria}
    for i, gate in enumerate(gates):
        at = f"{prefix}gates[{i}]"
        key = str(gate.get("criterion", "")) if isinstance(gate, Mapping) else ""
        if key not in by_key:
            errors[f"{at}.criterion"] = (
                f"{key!r} is not a criterion of this version; a gate needs one of: "
                + ", ".join(by_key)
            )
            continue
        minimum = validate.decimal_number(gate.get("min", ""), f"{at}.min", errors)
        if minimum is None:
            continue
        if not 0 <= minimum <= by_key[key]["scale_max"]:
            errors[f"{at}.min"] = (
                f"{minimum} is outside {key}'s scale; give a number from 0 to "
                f"{by_key[key]['scale_max']}"
            )
        elif by_key[key]["gate_min"] is not None:
            errors[f"{at}.criterion"] = f"{key!r} has a gate already; give one gate per criterion"
        else:
            by_key[key]["gate_min"] = minimum
    _raise(errors)
    return {"target_segments": [str(t) for t in targets], "criteria": criteria}


def definition_of(version: ScorecardVersion) -> dict[str, Any]:
    """The version as the definition `clean_definition` accepts (what export writes)."""
    criteria = list(version.criteria.all())
    return {
        "target_segments": list(version.target_segments),
        "criteria": [
            {
                "key": c.key,
                "name": c.name,
                "kind": c.kind,
                "scale_max": c.scale_max,
                "weight": c.weight,
                "evidence_required": c.evidence_required,
                "full_at": c.full_at,
            }
            for c in criteria
        ],
        "gates": [
            {"criterion": c.key, "min": float(c.gate_min)}
            for c in criteria
            if c.gate_min is not None
        ],
    }


def _key_of(row: Mapping[str, Any]) -> str:
    return str(row.get("key") or slugify(str(row.get("name", ""))).replace("-", "_")).strip()


def definition_from_table(
    target_segments: Any, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[int]]:
    """A definition from a criteria table (the page and the API), whose rows carry their own
    `gate_min`; also each gate's row, to name a gate's errors by its row."""
    criteria: list[dict[str, Any]] = []
    gates: list[dict[str, Any]] = []
    gate_rows: list[int] = []
    for i, row in enumerate(rows):
        criteria.append({k: v for k, v in row.items() if k != "gate_min"})
        gate = row.get("gate_min")
        if gate is not None and str(gate).strip() != "":
            gates.append({"criterion": _key_of(row), "min": gate})
            gate_rows.append(i)
    definition = {"target_segments": target_segments, "criteria": criteria, "gates": gates}
    return definition, gate_rows


def _table_errors(errors: Mapping[str, str], gate_rows: list[int]) -> dict[str, str]:
    """Name a gate's errors by its criterion's row: `criteria[2].gate_min`."""
    out: dict[str, str] = {}
    for field, msg in errors.items():
        if match := re.fullmatch(r"gates\[(\d+)\]\.\w+", field):
            field = f"criteria[{gate_rows[int(match[1])]}].gate_min"
        out[field] = msg
    return out


def create_scorecard_from_table(
    actor: User, name: str, target_segments: Any, rows: Sequence[Mapping[str, Any]]
) -> ScorecardVersion:
    """`create_scorecard` with a criteria table (a gate minimum on each row)."""
    definition, gate_rows = definition_from_table(target_segments, rows)
    try:
        return create_scorecard(actor, name, definition)
    except ValidationFailed as exc:
        raise ValidationFailed(_table_errors(exc.errors, gate_rows)) from None


def set_criteria_table(
    actor: User, version: ScorecardVersion, target_segments: Any, rows: Sequence[Mapping[str, Any]]
) -> ScorecardVersion:
    """`set_criteria` with a criteria table (a gate minimum on each row): replaces them all."""
    definition, gate_rows = definition_from_table(target_segments, rows)
    try:
        return set_criteria(actor, version, definition)
    except ValidationFailed as exc:
        raise ValidationFailed(_table_errors(exc.errors, gate_rows)) from None


def _store_criteria(version: ScorecardVersion, definition: Mapping[str, Any]) -> None:
    version.criteria.all().delete()
    version.target_segments = list(definition["target_segments"])
    version.save(update_fields=["target_segments"])
    Criterion.objects.bulk_create(
        Criterion(version=version, position=i, **c) for i, c in enumerate(definition["criteria"])
    )


def _new_version(scorecard: Scorecard) -> ScorecardVersion:
    latest = scorecard.versions.aggregate(n=Max("number"))["n"] or 0
    return ScorecardVersion.objects.create(
        scorecard=scorecard, number=latest + 1, created_at=timezone.now()
    )


@transaction.atomic
def create_scorecard(actor: User, name: str, definition: Mapping[str, Any]) -> ScorecardVersion:
    """A new scorecard with its first version, a draft."""
    access.require_can_manage_scorecards(actor)
    errors: dict[str, str] = {}
    name = name.strip()
    if msg := validate.text_error(name, 200, required=True):
        errors["name"] = msg
    elif Scorecard.objects.filter(name__iexact=name).exists():
        errors["name"] = f"a scorecard called {name!r} exists already; choose another name"
    try:
        clean = clean_definition(definition)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    _raise(errors)
    scorecard = Scorecard.objects.create(name=name, created_by=actor, created_at=timezone.now())
    version = _new_version(scorecard)
    _store_criteria(version, clean)
    record(actor, "fit.scorecard.create", version, after=definition_of(version))
    return version


@transaction.atomic
def new_version(actor: User, scorecard: Scorecard) -> ScorecardVersion:
    """A draft copying the newest version, to change. One draft at a time."""
    access.require_can_manage_scorecards(actor)
    latest = scorecard.versions.order_by("-number").first()
    if latest is not None and not latest.published:
        raise Conflict(f"Version {latest.number} is still a draft; change that one.")
    version = _new_version(scorecard)
    if latest is not None:
        _store_criteria(version, definition_of(latest) | {"gates": []})
        for c in latest.criteria.exclude(gate_min=None):
            version.criteria.filter(key=c.key).update(gate_min=c.gate_min)
    record(actor, "fit.version.create", version, after=definition_of(version))
    return version


@transaction.atomic
def set_criteria(
    actor: User, version: ScorecardVersion, definition: Mapping[str, Any]
) -> ScorecardVersion:
    """Replace a draft's target segments, criteria and gates."""
    access.require_can_manage_scorecards(actor)
    version = ScorecardVersion.objects.select_for_update(of=("self",)).get(pk=version.pk)
    if version.published:
        raise Conflict(
            f"{version} is published and cannot change; make a new version to change it."
        )
    clean = clean_definition(definition)
    before = definition_of(version)
    _store_criteria(version, clean)
    record(actor, "fit.version.update", version, before=before, after=definition_of(version))
    return version


@transaction.atomic
def publish(actor: User, version: ScorecardVersion) -> ScorecardVersion:
    """Freeze a draft and make it the one prospects are scored against."""
    access.require_can_manage_scorecards(actor)
    version = ScorecardVersion.objects.select_for_update(of=("self",)).get(pk=version.pk)
    if version.published:
        raise Conflict(f"{version} is published already.")
    clean_definition(definition_of(version))
    version.published_at = timezone.now()
    version.published_by = actor
    version.save(update_fields=["published_at", "published_by"])
    record(actor, "fit.version.publish", version, after={"published_at": version.published_at})
    return version


def export_scorecards() -> dict[str, Any]:
    """The newest version of every scorecard, in the shape `import_scorecards` reads."""
    out = []
    for scorecard in Scorecard.objects.order_by("name"):
        version = scorecard.versions.order_by("-number").first()
        if version is not None:
            out.append(
                {"name": scorecard.name, "version": version.number, **definition_of(version)}
            )
    return {"scorecards": out}


@transaction.atomic
def import_scorecards(actor: User | None, data: Any) -> list[ScorecardVersion]:
    """Each scorecard of `data` becomes a new draft version (a new scorecard if the name is new).
    Everything is checked first; on any error nothing is stored."""
    errors: dict[str, str] = {}
    cards = data.get("scorecards") if isinstance(data, Mapping) else None
    if not isinstance(cards, list) or not cards:
        raise ValidationFailed({"scorecards": 'give {"scorecards": [{name, criteria, ...}]}'})
    clean: list[tuple[str, dict[str, Any]]] = []
    for i, card in enumerate(cards):
        at = f"scorecards[{i}]"
        if not isinstance(card, Mapping):
            errors[at] = "each scorecard is an object with name and criteria"
            continue
        name = str(card.get("name", "")).strip()
        if msg := validate.text_error(name, 200, required=True):
            errors[f"{at}.name"] = msg
        elif any(n.lower() == name.lower() for n, _ in clean):
            errors[f"{at}.name"] = f"{name!r} appears twice; give each scorecard once"
        try:
            clean.append((name, clean_definition(card, prefix=f"{at}.")))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    _raise(errors)
    versions = []
    for name, definition in clean:
        scorecard = Scorecard.objects.filter(name__iexact=name).first()
        if scorecard is None:
            scorecard = Scorecard.objects.create(
                name=name, created_by=actor, created_at=timezone.now()
            )
        version = _new_version(scorecard)
        _store_criteria(version, definition)
        record(actor, "fit.version.import", version, after=definition_of(version))
        versions.append(version)
    return versions


def _published(version: ScorecardVersion | None) -> ScorecardVersion:
    if version is None:
        raise Conflict("No scorecard is published yet; the CPO publishes one first.")
    if not version.published:
        raise Conflict(f"{version} is a draft; assess against a published version.")
    return version


@transaction.atomic
def submit_assessment(
    actor: User,
    partner: Partner,
    version: ScorecardVersion | None,
    scores: Mapping[str, Mapping[str, Any]],
) -> Assessment:
    """Record (or replace) `actor`'s scores of `partner`: {criterion key: {value, evidence}} for
    every manually scored criterion of the version."""
    access.require_can_assess(actor)
    version = _published(version)
    if partner.status not in ASSESSABLE:
        raise Conflict(
            f"{partner.name} is {partner.get_status_display().lower()}; only prospects and "
            "partners being evaluated or negotiated with are assessed."
        )
    errors: dict[str, str] = {}
    manual = {c.key: c for c in version.criteria.all() if not c.computed}
    for key in scores:
        if key not in manual:
            errors[f"scores.{key}"] = (
                f"{key!r} is not a manually scored criterion of {version}; use: "
                + ", ".join(manual)
            )
    clean: dict[str, dict[str, Any]] = {}
    for key, criterion in manual.items():
        given = scores.get(key) or {}
        raw = given.get("value")
        if raw in (None, ""):
            errors[f"scores.{key}"] = (
                f"score {criterion.name} from 0 to {criterion.scale_max}; it is missing"
            )
            continue
        value = validate.decimal_number(raw, f"scores.{key}", errors)
        if value is None:
            continue
        if not 0 <= value <= criterion.scale_max:
            errors[f"scores.{key}"] = (
                f"{value} is outside the scale; give a number from 0 to {criterion.scale_max}"
            )
        evidence = str(given.get("evidence") or "").strip()
        if msg := validate.text_error(evidence, MAX_EVIDENCE):
            errors[f"scores.{key}.evidence"] = msg
        clean[key] = {"value": float(value), "evidence": evidence}
    _raise(errors)
    now = timezone.now()
    assessment, created = Assessment.objects.select_for_update(of=("self",)).get_or_create(
        partner=partner,
        version=version,
        reviewer=actor,
        defaults={"scores": clean, "created_at": now, "updated_at": now},
    )
    before = None if created else {"scores": assessment.scores}
    if not created:
        assessment.scores = clean
        assessment.updated_at = now
        assessment.save(update_fields=["scores", "updated_at"])
    record(
        actor,
        "fit.assessment.submit",
        assessment,
        before=before,
        after={"version": version.pk, "scores": clean},
    )
    return assessment
