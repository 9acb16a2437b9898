"""Applying an import: all or nothing, upserting on (source system, external id).

`run_import` records an ImportRun whatever happens. Reader errors (or, with `strict`, any
warning) stop the run before anything is written. Otherwise every record is created, updated
(with an audit entry showing before/after) or counted unchanged, inside one transaction; a
dry run does the same work and rolls it back, so its counts are exactly what a real run would
do. A second run of the same files changes nothing and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.audit.log import record, record_many
from mutualist.crm.models import (
    ACCOUNT_DATA_FIELDS,
    OPPORTUNITY_DATA_FIELDS,
    Account,
    Cost,
    ExchangeRate,
    Lead,
    Opportunity,
    PartnerInvolvement,
    RevenueMonth,
    StageChange,
)
from mutualist.imports.batch import Batch, Problem
from mutualist.imports.mapping import STAGES
from mutualist.imports.models import ImportRun
from mutualist.lib import bulk
from mutualist.lib.collector import paused_collector
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner, PartnerExternalId, StatusChange, join_types

Progress = Callable[[str, int], None]
# Rows given column-wise: {field: [value of row 0, value of row 1, …]}.
Columns = dict[str, list[Any]]
CHUNK = 5000
# Above this many ids, reading all of a source's rows beats asking for them in IN lists.
SCAN_ABOVE = 20_000
MAX_STORED_PROBLEMS = 5000
# How far a deal's CloseDate may sit from the day its stage history says it closed before the
# import says so: a few days is normal bookkeeping, weeks mean CloseDate was edited afterwards.
CLOSE_DATE_TOLERANCE_DAYS = 7
DEFAULT_CLOSED_STAGES = frozenset(stage for stage, outcome in STAGES.items() if outcome != "open")


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


class _Rollback(Exception):
    """Raised inside the transaction to undo it (strict mode found new warnings)."""


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_import(
    actor: User | None,
    kind: str,
    batch: Batch,
    *,
    dry_run: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
    run: ImportRun | None = None,
) -> ImportRun:
    run = run or ImportRun(kind=kind, started_by=actor)
    run.source_system, run.dry_run, run.strict = batch.source_system, dry_run, strict
    run.status = ImportRun.Status.RUNNING
    run.files = [asdict(f) for f in batch.files]
    run.progress_total = sum(batch.record_counts().values())
    run.save()
    problems = list(batch.problems)
    blocking = [p for p in problems if p.severity == "error" or strict]
    if blocking:
        return _finish(
            run,
            ImportRun.Status.FAILED,
            problems,
            {},
            f"{len(blocking)} problem(s) must be fixed first; nothing was written.",
        )
    try:
        with transaction.atomic(), paused_collector():
            applier = _Applier(actor, batch.source_system, progress, run)
            counts = applier.apply(batch)
            problems += applier.problems
            if strict and applier.problems:
                raise _Rollback
            changed = sum(c.created + c.updated for c in counts.values())
            summary = {name: asdict(c) for name, c in counts.items()}
            record(
                actor,
                "import.run",
                run,
                after={"kind": kind, "counts": summary, "dry_run": dry_run},
            )
            if dry_run:
                transaction.set_rollback(True)
    except _Rollback:
        return _finish(
            run,
            ImportRun.Status.FAILED,
            problems,
            {},
            "--strict: warnings found while applying; nothing was written.",
        )
    except Exception as exc:  # any failure mid-load: the transaction is already rolled back
        return _finish(
            run,
            ImportRun.Status.FAILED,
            problems,
            {},
            f"The import failed and nothing was written: {exc!r}",
        )
    if dry_run:
        status, message = ImportRun.Status.DRY_RUN, "Dry run: this is what would change."
    elif changed == 0:
        status, message = ImportRun.Status.NO_CHANGES, "Every record was already up to date."
    else:
        status, message = ImportRun.Status.SUCCEEDED, f"{changed:,} records created or updated."
        if summary.get("accounts", {}).get("created"):
            _resolve_new_accounts_later()
    return _finish(run, status, problems, summary, message)


def _resolve_new_accounts_later() -> None:
    """New accounts are resolved to companies once, in the background, for account mapping."""
    from mutualist.overlaps.tasks import resolve_vendor_accounts

    transaction.on_commit(resolve_vendor_accounts.enqueue)


def _finish(
    run: ImportRun, status: str, problems: list[Problem], counts: dict[str, Any], message: str
) -> ImportRun:
    run.status = status
    run.counts = counts
    run.problems = [asdict(p) for p in problems[:MAX_STORED_PROBLEMS]]
    run.error_count = sum(p.severity == "error" for p in problems)
    run.warning_count = sum(p.severity == "warning" for p in problems)
    run.message = message
    run.finished_at = timezone.now()
    run.progress_done = run.progress_total
    run.save()
    return run


class _Applier:
    def __init__(
        self, actor: User | None, source: str, progress: Progress | None, run: ImportRun
    ) -> None:
        self.actor, self.source, self.progress, self.run = actor, source, progress, run
        self.problems: list[Problem] = []
        self.done = 0

    def tick(self, step: str, n: int) -> None:
        # Not on the run row: other sessions cannot see it while the import's transaction is
        # open, and a query during a COPY would block it. The CLI draws a bar; an upload's
        # worker writes a progress file the run page reads (`imports.live`).
        self.done += n
        if self.progress:
            self.progress(step, n)

    def orphan(
        self,
        what: str,
        ref: str,
        target: str,
        target_ref: str,
        *,
        file: str = "",
        row: int | None = None,
        column: str = "",
    ) -> None:
        """Warn that a record points at one we cannot find; readers that kept where the record
        was read pass its file, row and column so the warning names the cell to fix."""
        self.problems.append(
            Problem(
                file or what,
                row,
                column or target,
                target_ref,
                f"{what} {ref} refers to {target} {target_ref}, which is neither in this import nor "
                "already in mutualist",
                "The row is skipped; include the referenced file in the same import.",
                "warning",
                "orphan",
            )
        )

    def apply(self, batch: Batch) -> dict[str, Counts]:
        counts: dict[str, Counts] = {}
        partner_ids, counts["partners"] = self.partners(batch)
        accounts = batch.accounts
        account_ids, counts["accounts"] = self.upsert_external(
            Account,
            [a.ref for a in accounts],
            _columns(accounts, *ACCOUNT_DATA_FIELDS),
            "accounts",
            # An export without CreatedDate: new accounts get the import time, and a re-import
            # does not count as a change.
            when_missing={"created_at": timezone.now()},
        )
        account_ids.update(
            self.lookup_external(
                Account,
                _refs_missing(
                    [o.account_ref for o in batch.opportunities]
                    + [r.account_ref for r in batch.revenue]
                    + [lead.account_ref for lead in batch.leads if lead.account_ref],
                    account_ids,
                ),
            )
        )
        opportunities, accounts_of = [], []
        for o in batch.opportunities:
            if (account := account_ids.get(o.account_ref)) is None:
                self.orphan("Opportunity", o.ref, "Account", o.account_ref)
                continue
            opportunities.append(o)
            accounts_of.append(account)
        opportunity_ids, counts["opportunities"] = self.upsert_external(
            Opportunity,
            [o.ref for o in opportunities],
            {"account_id": accounts_of} | _columns(opportunities, *OPPORTUNITY_DATA_FIELDS),
            "opportunities",
        )
        counts["opportunities"].skipped = len(batch.opportunities) - len(opportunities)
        opportunity_ids.update(
            self.lookup_external(
                Opportunity,
                _refs_missing(
                    [i.opportunity_ref for i in batch.involvements]
                    + [c.opportunity_ref for c in batch.stage_changes],
                    opportunity_ids,
                ),
            )
        )
        partner_ids.update(
            self.lookup_partners(
                _refs_missing(
                    [i.partner_ref for i in batch.involvements]
                    + [lead.partner_ref for lead in batch.leads if lead.partner_ref]
                    + [c.partner_ref for c in batch.costs if c.partner_ref],
                    partner_ids,
                )
            )
        )
        counts["involvements"] = self.involvements(batch, opportunity_ids, partner_ids)
        counts["stage_changes"] = self.stage_changes(batch, opportunity_ids)
        self.check_close_dates(batch, opportunity_ids)
        counts["leads"] = self.leads(batch, partner_ids, account_ids)
        counts["revenue_months"] = self.revenue(batch, account_ids)
        counts["costs"] = self.costs(batch, partner_ids)
        counts["exchange_rates"] = self.rates(batch)
        return counts

    # Partners: few rows, each with an external-id row and a first status entry.
    def partners(self, batch: Batch) -> tuple[dict[str, int], Counts]:
        counts = Counts()
        existing = {
            e.external_id: e.partner
            for chunk in _chunks([p.ref for p in batch.partners])
            for e in PartnerExternalId.objects.select_related("partner").filter(
                source_system=self.source, external_id__in=chunk
            )
        }
        ids: dict[str, int] = {}
        now = timezone.now()
        new: dict[str, Partner] = {}
        for rec in batch.partners:
            fields = {
                "name": rec.name[:200],
                "domain": rec.domain,
                "country": rec.country,
                "types": join_types(rec.types),
            }
            partner = existing.get(rec.ref)
            if partner is None:
                new[rec.ref] = Partner(
                    **fields, status=Status.ACTIVE, status_since=now, created_at=now
                )
                counts.created += 1
            else:
                diff = {
                    k: [getattr(partner, k), v]
                    for k, v in fields.items()
                    if getattr(partner, k) != v
                }
                if diff:
                    for k, (_, v) in diff.items():
                        setattr(partner, k, v)
                    partner.save()
                    record_many(
                        self.actor,
                        "partner.import_update",
                        "partners.Partner",
                        [(str(partner.pk), partner.name, diff)],
                    )
                    counts.updated += 1
                else:
                    counts.unchanged += 1
                ids[rec.ref] = partner.pk
        ids.update(self.create_partners(new, now))
        self.tick("partners", len(batch.partners))
        return ids, counts

    def create_partners(self, new: dict[str, Partner], now: dt.datetime) -> dict[str, int]:
        """New partners with their external id and first status entry, a query per table."""
        Partner.objects.bulk_create(new.values(), batch_size=1000)
        PartnerExternalId.objects.bulk_create(
            [
                PartnerExternalId(partner=p, source_system=self.source, external_id=ref)
                for ref, p in new.items()
            ],
            batch_size=1000,
        )
        StatusChange.objects.bulk_create(
            [
                StatusChange(
                    partner=p,
                    from_status="",
                    to_status=Status.ACTIVE,
                    changed_at=now,
                    reason=f"Imported from {self.source}",
                )
                for p in new.values()
            ],
            batch_size=1000,
        )
        return {ref: p.pk for ref, p in new.items()}

    def lookup_partners(self, refs: list[str]) -> dict[str, int]:
        return {
            ref: pid
            for chunk in _chunks(refs)
            for ref, pid in PartnerExternalId.objects.filter(
                source_system=self.source, external_id__in=chunk
            ).values_list("external_id", "partner_id")
        }

    def lookup_external(self, model: type[models.Model], refs: list[str]) -> dict[str, int]:
        return {ref: row["id"] for ref, row in self.existing_rows(model, refs, ["id"]).items()}

    def existing_rows(
        self, model: type[models.Model], refs: list[str], fields: list[str]
    ) -> dict[str, dict[str, Any]]:
        """The rows of this source system among `refs`, by external id, with `fields`.

        A large import reads the source's rows in one pass instead of thousands of IN lists
        (Django spent 9 s of a million-deal import compiling them); a first import finds the
        source empty and reads nothing."""
        manager = model._default_manager
        mine = manager.filter(source_system=self.source)
        if not refs or not mine.exists():
            return {}
        if len(refs) > SCAN_ABOVE:
            wanted = set(refs)
            return {
                row["external_id"]: row
                for row in mine.values("external_id", *fields).iterator(chunk_size=20_000)
                if row["external_id"] in wanted
            }
        return {
            row["external_id"]: row
            for chunk in _chunks(refs)
            for row in mine.filter(external_id__in=chunk).values("external_id", *fields)
        }

    def upsert_external(
        self,
        model: type[models.Model],
        refs: list[str],
        columns: Columns,
        step: str,
        when_missing: Mapping[str, Any] = MappingProxyType({}),
    ) -> tuple[dict[str, int], Counts]:
        """Create, update or leave each row of a model keyed by external id: row i is
        `refs[i]` with `columns[field][i]` for each field. Column-wise because a large first
        import creates every row, and a dict per row cost more than writing the row.

        A None in a field of `when_missing` is a value the source does not carry: a new row
        gets the value given there, an existing row keeps its own."""
        counts = Counts()
        if not refs:
            return {}, counts
        fields = list(columns)
        existing = self.existing_rows(model, refs, ["id", *fields])
        ids: dict[str, int] = {}
        new: list[int] = []
        updates: list[tuple[int, str, dict[str, Any], dict[str, list[Any]]]] = []
        for at, ref in enumerate(refs):
            old = existing.get(ref)
            if old is None:
                new.append(at)
                continue
            ids[ref] = old["id"]
            values = {f: columns[f][at] for f in fields}
            kept = {f for f in when_missing if values[f] is None}
            diff = {f: [old[f], values[f]] for f in fields if f not in kept and old[f] != values[f]}
            if diff:
                merged = {f: old[f] if f in kept else values[f] for f in fields}
                updates.append((old["id"], ref, merged, diff))
            else:
                counts.unchanged += 1
        if len(new) < len(refs):
            refs = [refs[at] for at in new]
            columns = {f: [column[at] for at in new] for f, column in columns.items()}
        columns = columns | {
            f: [value if v is None else v for v in columns[f]] for f, value in when_missing.items()
        }
        ids.update(self._create(model, refs, columns, step))
        counts.created = len(new)
        self._update(model, updates, fields)
        counts.updated = len(updates)
        self.tick(step, counts.unchanged + counts.updated)
        return ids, counts

    def _create(
        self, model: type[models.Model], refs: list[str], columns: Columns, step: str
    ) -> dict[str, int]:
        if not refs:
            return {}
        first = bulk.next_id(model)
        ids = dict(zip(refs, range(first, first + len(refs)), strict=True))
        names = ["id", "source_system", "external_id", *columns]
        values: list[list[Any]] = [
            list(range(first, first + len(refs))),
            [self.source] * len(refs),
            refs,
        ]
        for name, column in columns.items():
            values.append(bulk.adapt_column(model, _field_name(name), column))
        bulk.bulk_insert(
            model, [_field_name(n) for n in names], values, lambda n: self.tick(step, n)
        )
        bulk.reset_sequences([model])
        return ids

    def _update(
        self,
        model: type[models.Model],
        updates: list[tuple[int, str, dict[str, Any], dict[str, list[Any]]]],
        fields: list[str],
    ) -> None:
        if not updates:
            return
        objects = []
        changed_fields = sorted({f for *_, diff in updates for f in diff})
        for pk, _, values, _diff in updates:
            obj = model(pk=pk)
            for name in changed_fields:
                setattr(obj, name, values[name])
            objects.append(obj)
        model._default_manager.bulk_update(objects, changed_fields, batch_size=500)
        record_many(
            self.actor,
            f"{model._meta.model_name}.import_update",
            model._meta.label,
            [(str(pk), ref, diff) for pk, ref, _, diff in updates],
        )

    def involvements(
        self, batch: Batch, opportunity_ids: dict[str, int], partner_ids: dict[str, int]
    ) -> Counts:
        counts = Counts()
        wanted: dict[tuple[int, int, str], tuple[Any, bool]] = {}
        for inv in batch.involvements:
            opp, partner = (
                opportunity_ids.get(inv.opportunity_ref),
                partner_ids.get(inv.partner_ref),
            )
            if opp is None:
                self.orphan(
                    "OpportunityPartner", inv.opportunity_ref, "Opportunity", inv.opportunity_ref
                )
            elif partner is None:
                self.orphan(
                    "OpportunityPartner", inv.opportunity_ref, "partner Account", inv.partner_ref
                )
            if opp is None or partner is None:
                counts.skipped += 1
                continue
            wanted[(opp, partner, inv.role)] = (inv.attached_at, inv.is_primary)
        existing = {
            (i.opportunity_id, i.partner_id, i.role): i
            for i in self.existing_involvements({k[0] for k in wanted})
        }
        creates = {} if existing else wanted  # a first import creates them all
        changed = []
        for key, (attached, primary) in wanted.items() if existing else ():
            old = existing.get(key)
            if old is None:
                creates[key] = (attached, primary)
            elif old.attached_at != attached or old.is_primary != primary:
                diff = {
                    "attached_at": [old.attached_at, attached],
                    "is_primary": [old.is_primary, primary],
                }
                old.attached_at, old.is_primary = attached, primary
                changed.append((old, diff))
            else:
                counts.unchanged += 1
        if creates:
            opportunities, partners, roles = map(list, zip(*creates, strict=True))
            attached_times, primaries = map(list, zip(*creates.values(), strict=True))
            bulk.bulk_insert(
                PartnerInvolvement,
                ["opportunity", "partner", "role", "attached_at", "is_primary"],
                [
                    opportunities,
                    partners,
                    roles,
                    bulk.adapt_column(PartnerInvolvement, "attached_at", attached_times),
                    primaries,
                ],
            )
        if changed:
            PartnerInvolvement.objects.bulk_update(
                [o for o, _ in changed], ["attached_at", "is_primary"], batch_size=500
            )
            record_many(
                self.actor,
                "involvement.import_update",
                "crm.PartnerInvolvement",
                [(str(o.pk), str(o.pk), d) for o, d in changed],
            )
        counts.created, counts.updated = len(creates), len(changed)
        self.tick("involvements", len(batch.involvements))
        return counts

    def existing_involvements(self, opportunities: set[int]) -> Iterable[PartnerInvolvement]:
        """Involvements already on `opportunities` (one pass over this source's when many)."""
        involvements = PartnerInvolvement.objects.filter(opportunity__source_system=self.source)
        if not opportunities or not involvements.exists():
            return []
        if len(opportunities) > SCAN_ABOVE:
            return (
                i
                for i in involvements.iterator(chunk_size=20_000)
                if i.opportunity_id in opportunities
            )
        return (
            i
            for chunk in _chunks(sorted(opportunities))
            for i in PartnerInvolvement.objects.filter(opportunity_id__in=chunk)
        )

    def stage_changes(self, batch: Batch, opportunity_ids: dict[str, int]) -> Counts:
        changes, opportunities = [], []
        skipped = batch.skipped.get("stage_changes", 0)  # deleted in Salesforce
        for change in batch.stage_changes:
            opportunity = opportunity_ids.get(change.opportunity_ref)
            if opportunity is None:
                self.orphan(
                    "OpportunityHistory",
                    change.ref,
                    "Opportunity",
                    change.opportunity_ref,
                    file=change.file,
                    row=change.row,
                    column="OpportunityId",
                )
                skipped += 1
                continue
            changes.append(change)
            opportunities.append(opportunity)
        _, counts = self.upsert_external(
            StageChange,
            [c.ref for c in changes],
            {"opportunity_id": opportunities}
            | _columns(changes, "stage", "amount", "close_date", "probability", "changed_at"),
            "stage_changes",
        )
        counts.skipped = skipped
        return counts

    def check_close_dates(self, batch: Batch, opportunity_ids: dict[str, int]) -> None:
        """Warn where a closed deal's CloseDate is more than a week from the day its stage
        history first enters a closed stage. CloseDate is editable and the history is not, so
        metrics should prefer the history; the opportunity itself is left as exported.

        Runs on the database state inside the transaction, so history imported earlier is
        checked against opportunities imported now and the other way round."""
        if not StageChange.objects.filter(source_system=self.source).exists():
            return
        touched = {opportunity_ids[o.ref] for o in batch.opportunities if o.ref in opportunity_ids}
        touched |= {
            opportunity_ids[c.opportunity_ref]
            for c in batch.stage_changes
            if c.opportunity_ref in opportunity_ids
        }
        if not touched:
            return
        closed = _closed_opportunities(touched)
        read_at = {c.ref: (c.file, c.row) for c in batch.stage_changes}
        for opp, (stage, at, history_ref) in sorted(_first_closed_entries(closed).items()):
            opportunity_ref, _, close_day = closed[opp]
            days = abs((at.date() - close_day).days)
            if days <= CLOSE_DATE_TOLERANCE_DAYS:
                continue
            file, row = read_at.get(history_ref, ("OpportunityHistory", None))
            self.problems.append(
                Problem(
                    file,
                    row,
                    "CreatedDate",
                    at.isoformat(),
                    f"is when opportunity {opportunity_ref} first entered the closed stage "
                    f"{stage!r}, {days} days from its CloseDate {close_day.isoformat()}",
                    "The opportunity keeps its CloseDate as exported; the stage history is "
                    "usually right, so check whether CloseDate was edited after the deal closed.",
                    "warning",
                    "close_date_differs_from_history",
                )
            )

    def leads(
        self, batch: Batch, partner_ids: dict[str, int], account_ids: dict[str, int]
    ) -> Counts:
        leads = batch.leads
        partners = [
            partner_ids.get(lead.partner_ref) if lead.partner_ref else None for lead in leads
        ]
        for lead, partner in zip(leads, partners, strict=True):
            if lead.partner_ref and partner is None:
                self.orphan("Lead", lead.ref, "partner Account", lead.partner_ref)
        _, counts = self.upsert_external(
            Lead,
            [lead.ref for lead in leads],
            {"company": [lead.company[:255] for lead in leads]}
            | _columns(leads, "created_at", "converted_at", "status", "source")
            | {
                "partner_id": partners,
                "account_id": [account_ids.get(lead.account_ref) for lead in leads],
            },
            "leads",
        )
        return counts

    def revenue(self, batch: Batch, account_ids: dict[str, int]) -> Counts:
        counts = Counts()
        wanted: dict[tuple[int, Any], tuple[Any, str]] = {}
        for r in batch.revenue:
            account = account_ids.get(r.account_ref)
            if account is None:
                self.orphan("Revenue", r.account_ref, "Account", r.account_ref)
                counts.skipped += 1
                continue
            wanted[(account, r.month)] = (r.mrr, r.currency)
        existing = {
            (m.account_id, m.month): m
            for chunk in _chunks(sorted({k[0] for k in wanted}))
            for m in RevenueMonth.objects.filter(account_id__in=chunk)
        }
        creates, changed = [], []
        for key, (mrr, currency) in wanted.items():
            old = existing.get(key)
            if old is None:
                creates.append((key, mrr, currency))
            elif old.mrr != mrr or old.currency != currency:
                diff = {"mrr": [old.mrr, mrr], "currency": [old.currency, currency]}
                old.mrr, old.currency = mrr, currency
                changed.append((old, diff))
            else:
                counts.unchanged += 1
        bulk.bulk_insert(
            RevenueMonth,
            ["account", "month", "mrr", "currency"],
            [
                [k[0] for k, _, _ in creates],
                bulk.adapt_column(RevenueMonth, "month", [k[1] for k, _, _ in creates]),
                bulk.adapt_column(RevenueMonth, "mrr", [m for _, m, _ in creates]),
                [c for _, _, c in creates],
            ],
        )
        if changed:
            RevenueMonth.objects.bulk_update(
                [o for o, _ in changed], ["mrr", "currency"], batch_size=500
            )
            record_many(
                self.actor,
                "revenue.import_update",
                "crm.RevenueMonth",
                [(str(o.pk), str(o), d) for o, d in changed],
            )
        counts.created, counts.updated = len(creates), len(changed)
        self.tick("revenue_months", len(batch.revenue))
        return counts

    def costs(self, batch: Batch, partner_ids: dict[str, int]) -> Counts:
        """Costs have no ids: (month, category, currency, partner, program) is the key."""
        rows = []
        for c in batch.costs:
            partner = partner_ids.get(c.partner_ref) if c.partner_ref else None
            if c.partner_ref and partner is None:
                self.orphan("Cost", c.partner_ref, "partner Account", c.partner_ref)
            rows.append(
                {
                    "month": c.month,
                    "category": c.category,
                    "currency": c.currency,
                    "partner_id": partner,
                    "program": c.program,
                    "amount": c.amount,
                }
            )
        return self.upsert_by_key(Cost, rows, "amount", "cost", "costs")

    def rates(self, batch: Batch) -> Counts:
        """Exchange rates upsert on (month, currency)."""
        rows = [{"month": r.month, "currency": r.currency, "rate": r.rate} for r in batch.rates]
        return self.upsert_by_key(ExchangeRate, rows, "rate", "exchange_rate", "exchange_rates")

    def upsert_by_key(
        self,
        model: type[models.Model],
        rows: list[dict[str, Any]],
        value: str,
        action: str,
        step: str,
    ) -> Counts:
        """Rows of a small table without source ids: every field but `value` is the key (the
        first one a month, to narrow the lookup); a changed value is updated and audited."""
        counts = Counts()
        if not rows:
            return counts
        key = [f for f in rows[0] if f != value]
        months = {row[key[0]] for row in rows}
        existing = {
            tuple(getattr(o, f) for f in key): o
            for o in model._default_manager.filter(**{f"{key[0]}__in": months})
        }
        creates: list[models.Model] = []
        for row in rows:
            wanted = tuple(row[f] for f in key)
            old = existing.get(wanted)
            if old is None:
                existing[wanted] = model(**row)
                creates.append(existing[wanted])
            elif getattr(old, value) != row[value]:
                diff = {value: [getattr(old, value), row[value]]}
                setattr(old, value, row[value])
                old.save(update_fields=[value])
                record_many(
                    self.actor,
                    f"{action}.import_update",
                    model._meta.label,
                    [(str(old.pk), str(old), diff)],
                )
                counts.updated += 1
            else:
                counts.unchanged += 1
        model._default_manager.bulk_create(creates, batch_size=2000)
        counts.created = len(creates)
        self.tick(step, len(rows))
        return counts


def _closed_opportunities(ids: set[int]) -> dict[int, tuple[str, str, dt.date]]:
    """Closed deals among `ids`: pk -> (external id, stage, CloseDate)."""
    return {
        pk: (ref, stage, closed_at.date())
        for chunk in _chunks(sorted(ids))
        for pk, ref, stage, closed_at in Opportunity.objects.filter(
            pk__in=chunk, is_closed=True
        ).values_list("pk", "external_id", "stage", "closed_at")
        if closed_at is not None
    }


def _first_closed_entries(
    closed: dict[int, tuple[str, str, dt.date]],
) -> dict[int, tuple[str, dt.datetime, str]]:
    """For each closed deal, its first history entry into a closed stage: (stage, when, id).

    Which stages close a deal is org-specific: the standard ones, and any stage a closed deal
    sits in (the Opportunity export's IsClosed said so)."""
    closed_stages = DEFAULT_CLOSED_STAGES | {stage.lower() for _, stage, _ in closed.values()}
    first: dict[int, tuple[str, dt.datetime, str]] = {}
    for chunk in _chunks(sorted(closed)):
        for opp, stage, at, ref in (
            StageChange.objects.filter(opportunity_id__in=chunk)
            .order_by("changed_at", "id")
            .values_list("opportunity_id", "stage", "changed_at", "external_id")
        ):
            if opp not in first and stage.lower() in closed_stages:
                first[opp] = (stage, at, ref)
    return first


def _columns(records: Sequence[Any], *attributes: str) -> Columns:
    """{attribute: [each record's value]}: the column-wise rows `upsert_external` takes."""
    return {name: list(map(attrgetter(name), records)) for name in attributes}


def _field_name(name: str) -> str:
    return (
        name.removesuffix("_id") if name in ("account_id", "partner_id", "opportunity_id") else name
    )


def _refs_missing(refs: Iterable[str], known: dict[str, int]) -> list[str]:
    return sorted(set(refs).difference(known, ("",)))


def queue_import(
    actor: User,
    kind: str,
    files: Sequence[tuple[str, bytes]],
    *,
    dry_run: bool = False,
    strict: bool = False,
    config: bytes | None = None,
    mapping: bytes | None = None,
) -> ImportRun:
    """Save uploaded files and queue the import as a background task; return the run."""
    import uuid

    from django.conf import settings

    from mutualist.imports.sources import KINDS
    from mutualist.lib.errors import ValidationFailed

    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = f"unknown import kind {kind!r}; use one of: {', '.join(KINDS)}"
    if not files:
        errors["files"] = "choose at least one CSV file"
    bad = [name for name, _ in files if not name.lower().endswith(".csv")]
    if bad:
        errors["files"] = f"{bad[0]} is not a .csv file; export CSV from the CRM"
    if kind == "csv" and not mapping:
        errors["mapping"] = "a generic CSV import needs its mapping TOML file"
    if errors:
        raise ValidationFailed(errors)
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    for name, content in files:
        (folder / Path(name).name).write_bytes(content)
    options: dict[str, Any] = {}
    if config:
        (folder / "config.toml").write_bytes(config)
    if mapping:
        (folder / "mapping.toml.txt").write_bytes(mapping)
        options["mapping"] = str(folder / "mapping.toml.txt")
    run = ImportRun.objects.create(
        kind=kind,
        started_by=actor,
        dry_run=dry_run,
        strict=strict,
        upload_dir=str(folder),
        options=options,
    )
    record(actor, "import.queue", run, after={"kind": kind, "files": [n for n, _ in files]})

    def enqueue() -> None:
        from mutualist.imports.tasks import run_uploaded_import

        run_uploaded_import.enqueue(run.pk)

    transaction.on_commit(enqueue)
    return run
