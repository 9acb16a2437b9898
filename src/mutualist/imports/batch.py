"""What every reader produces: normalised records keyed by the source system's ids, plus the
problems found. No Django here; `imports.actions.apply_batch` writes a Batch to the database.

Readers never resolve ids to database rows: an opportunity names its account by the source
system's account id (`account_ref`), and the apply step joins them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem, precise enough to fix: where (file, row, column), what value, why, and how."""

    file: str
    row: int | None  # 1-based data row (the header is row 0); None for whole-file problems
    column: str
    value: str
    reason: str
    hint: str
    severity: Severity = "error"
    code: str = ""  # stable machine-readable kind, e.g. "close_before_create"

    def describe(self) -> str:
        where = self.file
        if self.row:
            where += f", row {self.row} (line {self.row + 1})"
        elif self.row == 0:
            where += ", header"
        where += f", column {self.column}" if self.column else ""
        value = f" (value {self.value!r})" if self.value else ""
        return f"{where}: {self.reason}{value}. {self.hint}".strip()


@dataclass(frozen=True, slots=True)
class FileInfo:
    name: str
    sha256: str
    rows: int
    kind: str  # what the reader took it for: Account, Opportunity, deals, revenue, …


@dataclass(slots=True)
class PartnerRecord:
    ref: str
    name: str
    domain: str = ""
    country: str = ""
    types: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AccountRecord:
    ref: str
    name: str
    domain: str = ""
    country: str = ""
    industry: str = ""
    size_band: str = ""
    lifecycle: str = "prospect"
    created_at: dt.datetime | None = None


@dataclass(slots=True)
class OpportunityRecord:
    ref: str
    account_ref: str
    name: str
    amount: Decimal | None
    currency: str
    stage: str
    is_closed: bool
    is_won: bool
    created_at: dt.datetime
    closed_at: dt.datetime | None
    type: str = "new_business"
    lead_source: str = ""
    acv: Decimal | None = None


@dataclass(slots=True)
class InvolvementRecord:
    opportunity_ref: str
    partner_ref: str
    role: str
    attached_at: dt.datetime
    is_primary: bool = False


@dataclass(slots=True)
class StageChangeRecord:
    """One OpportunityHistory row: the deal entered `stage` at `changed_at`.

    `file` and `row` say where it was read, so a problem found while applying (its opportunity
    is unknown) can still name the row to fix."""

    ref: str
    opportunity_ref: str
    stage: str
    changed_at: dt.datetime
    amount: Decimal | None = None
    close_date: dt.date | None = None
    probability: Decimal | None = None
    file: str = ""
    row: int | None = None


@dataclass(slots=True)
class LeadRecord:
    ref: str
    company: str
    created_at: dt.datetime
    converted_at: dt.datetime | None
    status: str
    source: str
    partner_ref: str = ""
    account_ref: str = ""


@dataclass(slots=True)
class RevenueRecord:
    account_ref: str
    month: dt.date
    mrr: Decimal
    currency: str


@dataclass(slots=True)
class CostRecord:
    month: dt.date
    category: str
    amount: Decimal
    currency: str
    partner_ref: str = ""
    program: str = ""


@dataclass(frozen=True)
class RateRecord:
    month: dt.date
    currency: str
    rate: Decimal


@dataclass
class Batch:
    """Everything read from a set of files imported together (applied all or nothing)."""

    source_system: str
    files: list[FileInfo] = field(default_factory=list)
    partners: list[PartnerRecord] = field(default_factory=list)
    accounts: list[AccountRecord] = field(default_factory=list)
    opportunities: list[OpportunityRecord] = field(default_factory=list)
    involvements: list[InvolvementRecord] = field(default_factory=list)
    stage_changes: list[StageChangeRecord] = field(default_factory=list)
    leads: list[LeadRecord] = field(default_factory=list)
    revenue: list[RevenueRecord] = field(default_factory=list)
    costs: list[CostRecord] = field(default_factory=list)
    rates: list[RateRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Rows left out on purpose, not by error (e.g. IsDeleted history rows), per record kind;
    # the apply step adds them to that kind's `skipped` count.
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def record_counts(self) -> dict[str, int]:
        return {
            "partners": len(self.partners),
            "accounts": len(self.accounts),
            "opportunities": len(self.opportunities),
            "involvements": len(self.involvements),
            "stage_changes": len(self.stage_changes),
            "leads": len(self.leads),
            "revenue_months": len(self.revenue),
            "costs": len(self.costs),
            "exchange_rates": len(self.rates),
        }
