"""What one side of a partnership sees of the other's accounts: the one policy layer that every
page, export and API endpoint of account mapping goes through.

- Nothing is shown until both sides have opted in.
- A side's rule for one of its populations decides what the other side sees of it: full records
  (overlapping accounts and the rest, "greenfield"), overlapping records only, counts only, or
  nothing (the population is not even listed). No rule means counts only.
- Record-level sharing shows only the fields the rule names.
- Counts of a counts-only population are suppressed under the partnership's minimum: a count
  below it reads "fewer than N" (zero included, so a count cannot tell absence from presence),
  and a population smaller than the minimum shows no counts at all. That way a population of
  one account, on either side, cannot be used to test whether the other side has that account.
- A viewer always sees its own side's records in full: they are its own data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import Http404

from mutualist.crm.models import Account, Opportunity
from mutualist.lib.errors import NotAllowed
from mutualist.overlaps.choices import DEFAULT_FIELDS, Base, Level, Side
from mutualist.overlaps.models import PartnerAccount, Partnership, Population, SharingRule
from mutualist.overlaps.populations import companies, members, populations_of

SHARED_LEVELS = (Level.FULL, Level.OVERLAPS)
SHARED_CONFIDENCE = ("exact", "high")


def other(side: Side) -> Side:
    return Side.PARTNER if side == Side.VENDOR else Side.VENDOR


@dataclass(frozen=True)
class Rule:
    level: str
    fields: tuple[str, ...]


def rules_of(partnership: Partnership) -> dict[int, Rule]:
    return {
        r.population_id: Rule(r.level, tuple(r.fields))
        for r in SharingRule.objects.filter(partnership=partnership)
    }


def rule_for(rules: dict[int, Rule], population: Population) -> Rule:
    return rules.get(population.pk, Rule(Level.COUNTS, DEFAULT_FIELDS))


@dataclass(frozen=True)
class Column:
    population: Population
    rule: Rule
    size_label: str
    counts_hidden: bool  # counts-only population smaller than the minimum


@dataclass(frozen=True)
class Cell:
    mine: Population
    theirs: Population
    count: int | None  # None when suppressed
    label: str
    can_drill: bool


@dataclass
class Matrix:
    partnership: Partnership
    viewer: Side
    state: str  # active | waiting_vendor | waiting_partner | waiting_both
    rows: list[Population] = field(default_factory=list)
    row_sizes: dict[int, int] = field(default_factory=dict)
    columns: list[Column] = field(default_factory=list)
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)

    def cell(self, row: Population, column: Column) -> Cell:
        return self.cells[(row.pk, column.population.pk)]


def state_of(partnership: Partnership) -> str:
    vendor, partner = partnership.vendor_opted_in_at, partnership.partner_opted_in_at
    if vendor and partner:
        return "active"
    if vendor:
        return "waiting_partner"
    if partner:
        return "waiting_vendor"
    return "waiting_both"


def overlap_companies(vendor_pop: Population, partner_pop: Population) -> QuerySet[Any]:
    """The company ids in both populations (one SQL query, never a fuzzy match). Only exact and
    high-confidence links count: a medium-confidence match is a candidate, never shared."""
    return (
        members(partner_pop)
        .filter(
            company__isnull=False,
            company__in=companies(vendor_pop),
            confidence__in=SHARED_CONFIDENCE,
        )
        .values_list("company", flat=True)
        .distinct()
    )


def _pair(mine: Population, theirs: Population) -> tuple[Population, Population]:
    return (mine, theirs) if mine.side == Side.VENDOR else (theirs, mine)


def _label(count: int, minimum: int, suppress: bool) -> tuple[int | None, str]:
    if suppress and count < minimum:
        return None, f"fewer than {minimum}"
    return count, f"{count:,}"


def matrix_for(partnership: Partnership, viewer: Side) -> Matrix:
    matrix = Matrix(partnership, viewer, state_of(partnership))
    partner = partnership.partner
    matrix.rows = populations_of(viewer, partner)
    matrix.row_sizes = {p.pk: members(p).count() for p in matrix.rows}
    if matrix.state != "active":
        return matrix
    rules = rules_of(partnership)
    minimum = partnership.min_count
    for population in populations_of(other(viewer), partner):
        rule = rule_for(rules, population)
        if rule.level == Level.HIDDEN:
            continue
        size = members(population).count()
        counts_only = rule.level == Level.COUNTS
        too_small = counts_only and size < minimum
        size_label = _label(size, minimum, counts_only)[1]
        column = Column(population, rule, size_label, too_small)
        matrix.columns.append(column)
        for row in matrix.rows:
            if too_small or (counts_only and matrix.row_sizes[row.pk] < minimum):
                matrix.cells[(row.pk, population.pk)] = Cell(
                    row, population, None, "not shown", False
                )
                continue
            vendor_pop, partner_pop = _pair(row, population)
            count, label = _label(
                overlap_companies(vendor_pop, partner_pop).count(), minimum, counts_only
            )
            matrix.cells[(row.pk, population.pk)] = Cell(
                row, population, count, label, rule.level in SHARED_LEVELS
            )
    return matrix


def get_population(partnership: Partnership, population_id: int) -> Population:
    """A population of this partnership (the vendor's or this partner's); a 404 otherwise."""
    owned = Q(side=Side.VENDOR) | Q(side=Side.PARTNER, partner=partnership.partner)
    try:
        return Population.objects.filter(owned).get(pk=population_id)
    except Population.DoesNotExist:
        raise Http404("No such population.") from None


def _require_shared(partnership: Partnership, theirs: Population, viewer: Side) -> Rule:
    if theirs.side != other(viewer):
        raise Http404("No such population.")
    if state_of(partnership) != "active":
        raise NotAllowed("Both sides must opt in to account mapping before anything is shared.")
    rule = rule_for(rules_of(partnership), theirs)
    if rule.level == Level.HIDDEN:
        raise Http404("No such population.")
    if rule.level == Level.COUNTS:
        raise NotAllowed(f"{theirs.name} is shared as counts only; ask them to share records.")
    return rule


# --- records ------------------------------------------------------------------------------


def _vendor_record(account: Account, open_amount: Decimal | None) -> dict[str, Any]:
    return {
        "id": account.pk,
        "name": account.name,
        "domain": account.domain,
        "country": account.country,
        "industry": account.industry,
        "size_band": account.size_band,
        "open_amount": open_amount,
    }


def _partner_record(account: PartnerAccount) -> dict[str, Any]:
    return {
        "id": account.external_id,
        "name": account.name,
        "domain": account.domain,
        "country": account.country,
        "industry": account.industry,
        "status": account.get_status_display(),
    }


def _open_amounts(account_ids: Iterable[int]) -> dict[int, Decimal]:
    rows = (
        Opportunity.objects.filter(account_id__in=list(account_ids), is_closed=False)
        .values("account_id")
        .annotate(total=Sum("amount"))
    )
    return {r["account_id"]: r["total"] or Decimal(0) for r in rows}


def _records_by_company(
    population: Population, company_ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if population.side == Side.VENDOR:
        accounts = list(
            members(population)
            .filter(resolution__company__in=company_ids)
            .select_related("resolution")
        )
        amounts = _open_amounts(a.pk for a in accounts)
        for account in accounts:
            found[account.resolution.company_id].append(
                _vendor_record(account, amounts.get(account.pk))
            )
    else:
        for pa in members(population).filter(company__in=company_ids):
            found[pa.company_id].append(_partner_record(pa))
    return found


def _only(record: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {name: record.get(name) for name in fields}


@dataclass(frozen=True)
class OverlapRow:
    company_id: int
    mine: list[dict[str, Any]]
    theirs: list[dict[str, Any]]


@dataclass(frozen=True)
class CellView:
    mine: Population
    theirs: Population
    rule: Rule
    company_ids: QuerySet[Any]

    def rows(self, company_ids: list[int]) -> list[OverlapRow]:
        """The records of one page of companies: the viewer's own in full, the other side's
        with only the shared fields."""
        mine = _records_by_company(self.mine, company_ids)
        theirs = _records_by_company(self.theirs, company_ids)
        return [
            OverlapRow(c, mine.get(c, []), [_only(r, self.rule.fields) for r in theirs.get(c, [])])
            for c in company_ids
        ]


def cell_view(
    partnership: Partnership, viewer: Side, mine_id: int, theirs_id: int, search: str = ""
) -> CellView:
    mine = get_population(partnership, mine_id)
    theirs = get_population(partnership, theirs_id)
    if mine.side != viewer:
        raise Http404("No such population.")
    rule = _require_shared(partnership, theirs, viewer)
    vendor_pop, partner_pop = _pair(mine, theirs)
    company_ids = overlap_companies(vendor_pop, partner_pop)
    if search:
        # Search the viewer's own records only, so a search cannot probe hidden fields.
        own = members(mine).filter(name__icontains=search)
        key = "resolution__company" if viewer == Side.VENDOR else "company"
        company_ids = company_ids.filter(company__in=own.values(key))
    return CellView(mine, theirs, rule, company_ids.order_by("company"))


def greenfield(
    partnership: Partnership, viewer: Side, theirs_id: int
) -> tuple[Population, Rule, QuerySet[Any]]:
    """All of the other side's accounts in a population it shares in full."""
    theirs = get_population(partnership, theirs_id)
    rule = _require_shared(partnership, theirs, viewer)
    if rule.level != Level.FULL:
        raise NotAllowed(f"{theirs.name} is shared as overlapping accounts only.")
    return theirs, rule, members(theirs).order_by("name", "pk")


def shared_record(population: Population, record: Any, rule: Rule) -> dict[str, Any]:
    if population.side == Side.VENDOR:
        amount = _open_amounts([record.pk]).get(record.pk) if "open_amount" in rule.fields else None
        return _only(_vendor_record(record, amount), rule.fields)
    return _only(_partner_record(record), rule.fields)


# --- co-selling --------------------------------------------------------------------------

# The plays, in the order a seller acts on them (see the reference's overlap taxonomy).
PLAYS = [
    (Base.OPEN_OPPORTUNITIES, Base.CUSTOMERS, "Our open deal, their customer: ask for help to win"),
    (Base.CUSTOMERS, Base.CUSTOMERS, "Shared customer: co-sell, upsell, retain"),
    (Base.PROSPECTS, Base.CUSTOMERS, "Our prospect, their customer: ask for an introduction"),
    (Base.CUSTOMERS, Base.PROSPECTS, "Our customer, their prospect: introduce them"),
    (Base.OPEN_OPPORTUNITIES, Base.OPEN_OPPORTUNITIES, "Both pursuing: align on the deal"),
]


@dataclass(frozen=True)
class Suggestion:
    play: str
    rank: int
    mine: dict[str, Any]
    theirs: dict[str, Any]
    value: Decimal | None


def co_sell(partnership: Partnership, viewer: Side, limit: int = 200) -> list[Suggestion]:
    """Overlapping accounts worth acting on, best first: by play, then by the open amount at
    stake (the vendor's own figure; a partner sees it only where the vendor shares it)."""
    if state_of(partnership) != "active":
        return []
    rules = rules_of(partnership)
    standard = {
        (p.side, p.base): p
        for p in Population.objects.filter(is_standard=True).filter(
            Q(side=Side.VENDOR) | Q(side=Side.PARTNER, partner=partnership.partner)
        )
    }
    suggestions: list[Suggestion] = []
    seen: set[int] = set()
    for rank, (mine_base, theirs_base, play) in enumerate(PLAYS):
        mine = standard.get((viewer, mine_base))
        theirs = standard.get((other(viewer), theirs_base))
        if mine is None or theirs is None:
            continue
        rule = rule_for(rules, theirs)
        if rule.level not in SHARED_LEVELS:
            continue
        vendor_pop, partner_pop = _pair(mine, theirs)
        company_ids = [
            c for c in overlap_companies(vendor_pop, partner_pop)[:5000] if c not in seen
        ]
        view = CellView(mine, theirs, rule, overlap_companies(vendor_pop, partner_pop))
        for row in view.rows(company_ids):
            if not row.mine or not row.theirs:
                continue
            seen.add(row.company_id)
            vendor_records = row.mine if viewer == Side.VENDOR else _vendor_side(row, rule)
            value = _value(vendor_records)
            suggestions.append(Suggestion(play, rank, row.mine[0], row.theirs[0], value))
    suggestions.sort(key=lambda s: (s.rank, -(s.value or 0), str(s.mine.get("name") or "")))
    return suggestions[:limit]


def _vendor_side(row: OverlapRow, rule: Rule) -> list[dict[str, Any]]:
    return row.theirs if "open_amount" in rule.fields else []


def _value(records: list[dict[str, Any]]) -> Decimal | None:
    amounts = [r["open_amount"] for r in records if r.get("open_amount")]
    return sum(amounts, Decimal(0)) if amounts else None
