"""Writes to the CRM side. `load_ecosystem` is the bulk path the demo and synthetic loads use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from django.db import transaction

from mutualist.accounts.models import User
from mutualist.audit.log import record
from mutualist.crm.models import (
    ACCOUNT_DATA_FIELDS,
    OPPORTUNITY_DATA_FIELDS,
    Account,
    Cost,
    Lead,
    Opportunity,
    PartnerInvolvement,
    RevenueMonth,
)
from mutualist.lib import bulk
from mutualist.lib.errors import Conflict
from mutualist.partners.choices import SegmentKind
from mutualist.partners.models import (
    Partner,
    PartnerExternalId,
    Segment,
    StatusChange,
    TierChange,
)

Tables = Mapping[str, Mapping[str, np.ndarray]]
Progress = Callable[[str, int], None]

LOAD_ORDER = [
    "partners",
    "partner_status_history",
    "partner_tier_history",
    "accounts",
    "opportunities",
    "involvements",
    "leads",
    "revenue_months",
    "costs",
]
SEGMENT_COLUMNS = {
    "industries": SegmentKind.INDUSTRY,
    "technologies": SegmentKind.TECHNOLOGY,
    "practices": SegmentKind.PRACTICE,
}


def rows_to_load(tables: Tables) -> int:
    return sum(len(next(iter(tables[name].values()))) for name in LOAD_ORDER if name in tables)


@transaction.atomic
def load_ecosystem(
    actor: User | None,
    tables: Tables,
    *,
    source_system: str,
    owners: Sequence[User],
    progress: Progress | None = None,
) -> dict[str, int]:
    """Load a generated (or converted) ecosystem in one transaction; return rows per table.

    Ids are assigned up front (first free id + generated row index), so foreign keys are array
    arithmetic rather than lookups. Refuses to load the same source system twice.
    """
    if Partner.objects.filter(external_ids__source_system=source_system).exists():
        raise Conflict(
            f"Data from source system {source_system!r} is already loaded. Reset the database "
            "(`mutualist demo --reset`) or load under another source system name."
        )
    tick: Callable[[str], Callable[[int], None]] = lambda step: (  # noqa: E731
        (lambda n: progress(step, n)) if progress else (lambda n: None)
    )
    offsets = {
        "partners": bulk.next_id(Partner),
        "accounts": bulk.next_id(Account),
        "opportunities": bulk.next_id(Opportunity),
    }
    counts = {
        "partners": _load_partners(tables, source_system, owners, offsets["partners"], tick),
        "accounts": _load_accounts(tables["accounts"], source_system, offsets["accounts"], tick),
    }
    counts["opportunities"] = _load_opportunities(
        tables["opportunities"], source_system, offsets, tick
    )
    counts["involvements"] = _load_involvements(tables["involvements"], offsets, tick)
    counts["leads"] = _load_leads(tables["leads"], source_system, offsets, tick)
    counts["revenue_months"] = _load_revenue(tables["revenue_months"], offsets, tick)
    counts["costs"] = _load_costs(tables["costs"], offsets, tick)
    bulk.reset_sequences(
        [
            Partner,
            Account,
            Opportunity,
            Lead,
            PartnerInvolvement,
            RevenueMonth,
            Cost,
            StatusChange,
            TierChange,
            PartnerExternalId,
        ]
    )
    record(
        actor,
        "ecosystem.load",
        object_type="ecosystem",
        object_label=source_system,
        after={"source_system": source_system, "counts": counts},
    )
    return counts


def _load_partners(
    tables: Tables,
    source_system: str,
    owners: Sequence[User],
    offset: int,
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    p = tables["partners"]
    owner_ids = np.array([u.pk for u in owners] or [0], dtype=np.int64)
    owner_col: list[int | None] = (
        owner_ids[p["owner"].astype(np.int64) % len(owner_ids)].tolist()
        if owners
        else [None] * len(p["id"])
    )
    types = [",".join(sorted(t.split(","))) for t in bulk.text_column(p["types"])]
    history = tables["partner_status_history"]
    created = _first_time_per_partner(history["partner_id"], history["changed_at"], len(p["id"]))
    count = bulk.bulk_insert(
        Partner,
        [
            "id",
            "name",
            "legal_name",
            "domain",
            "other_domains",
            "country",
            "region",
            "types",
            "status",
            "status_since",
            "tier",
            "owner",
            "created_at",
            "updated_at",
        ],
        [
            bulk.id_column(p["id"], offset),
            bulk.text_column(p["name"]),
            bulk.text_column(p["legal_name"]),
            bulk.text_column(p["domain"]),
            ["[]"] * len(p["id"]),
            bulk.text_column(p["country"]),
            bulk.text_column(p["region"]),
            [f",{t}," for t in types],
            bulk.text_column(p["status"]),
            bulk.datetime_column(p["status_since"]),
            bulk.text_column(p["tier"]),
            owner_col,
            bulk.datetime_column(created),
            bulk.datetime_column(p["status_since"]),
        ],
        tick("partners"),
    )
    bulk.bulk_insert(
        PartnerExternalId,
        ["partner", "source_system", "external_id"],
        [
            bulk.id_column(p["id"], offset),
            [source_system] * count,
            bulk.text_column(p["external_id"]),
        ],
    )
    _load_partner_segments(p, offset)
    _load_status_history(history, offset, tick)
    tiers = tables["partner_tier_history"]
    bulk.bulk_insert(
        TierChange,
        ["partner", "tier", "effective_from", "reason"],
        [
            bulk.id_column(tiers["partner_id"], offset),
            bulk.text_column(tiers["tier"]),
            bulk.datetime_column(tiers["effective_from"]),
            ["Program review"] * len(tiers["tier"]),
        ],
        tick("partner_tier_history"),
    )
    return count


def _first_time_per_partner(partner_ids: np.ndarray, times: np.ndarray, n: int) -> np.ndarray:
    first = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    order = np.lexsort((times, partner_ids))
    ids_sorted = partner_ids[order]
    _, first_index = np.unique(ids_sorted, return_index=True)
    first[ids_sorted[first_index]] = times[order][first_index]
    return first


def _load_status_history(
    history: Mapping[str, np.ndarray], offset: int, tick: Callable[[str], Callable[[int], None]]
) -> None:
    order = np.lexsort((history["changed_at"], history["partner_id"]))
    partner_ids = history["partner_id"][order]
    statuses = history["status"][order]
    # The status before each change is the previous row of the same partner, "" for the first.
    previous = np.concatenate([[""], statuses[:-1]]).astype(object)
    first_of_partner = np.concatenate([[True], partner_ids[1:] != partner_ids[:-1]])
    previous[first_of_partner] = ""
    bulk.bulk_insert(
        StatusChange,
        ["partner", "from_status", "to_status", "changed_at", "reason"],
        [
            bulk.id_column(partner_ids, offset),
            bulk.text_column(previous),
            bulk.text_column(statuses),
            bulk.datetime_column(history["changed_at"][order]),
            bulk.text_column(history["reason"][order]),
        ],
        tick("partner_status_history"),
    )


def _load_partner_segments(p: Mapping[str, np.ndarray], offset: int) -> None:
    wanted: set[tuple[str, str]] = {
        (SegmentKind.GEOGRAPHY, r) for r in bulk.text_column(p["region"]) if r
    }
    per_partner: list[list[tuple[str, str]]] = []
    for i in range(len(p["id"])):
        pairs = [(SegmentKind.GEOGRAPHY.value, str(p["region"][i]))] if p["region"][i] else []
        for column, kind in SEGMENT_COLUMNS.items():
            pairs += [(kind.value, code) for code in str(p[column][i]).split(",") if code]
        wanted.update(pairs)
        per_partner.append(pairs)
    segment_ids = _ensure_segments(wanted)
    through = Partner.segments.through
    partner_col: list[int] = []
    segment_col: list[int] = []
    for i, pairs in enumerate(per_partner):
        for pair in set(pairs):
            partner_col.append(int(p["id"][i]) + offset)
            segment_col.append(segment_ids[pair])
    bulk.bulk_insert(through, ["partner", "segment"], [partner_col, segment_col])


def _ensure_segments(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    existing = {(s.kind, s.code): s.pk for s in Segment.objects.all()}
    for kind, code in sorted(wanted - set(existing)):
        segment = Segment.objects.create(kind=kind, code=code, name=code.replace("_", " ").title())
        existing[(kind, code)] = segment.pk
    return existing


def _load_accounts(
    a: Mapping[str, np.ndarray],
    source_system: str,
    offset: int,
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    n = len(a["id"])
    return bulk.bulk_insert(
        Account,
        ["id", *ACCOUNT_DATA_FIELDS, "source_system", "external_id"],
        [
            bulk.id_column(a["id"], offset),
            bulk.text_column(a["name"]),
            bulk.text_column(a["domain"]),
            bulk.text_column(a["country"]),
            bulk.text_column(a["industry"]),
            bulk.text_column(a["size_band"]),
            bulk.text_column(a["lifecycle"]),
            bulk.datetime_column(a["created_at"]),
            [source_system] * n,
            bulk.text_column(a["external_id"]),
        ],
        tick("accounts"),
    )


def _load_opportunities(
    o: Mapping[str, np.ndarray],
    source_system: str,
    offsets: Mapping[str, int],
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    n = len(o["id"])
    return bulk.bulk_insert(
        Opportunity,
        ["id", "account", *OPPORTUNITY_DATA_FIELDS, "source_system", "external_id"],
        [
            bulk.id_column(o["id"], offsets["opportunities"]),
            bulk.id_column(o["account_id"], offsets["accounts"]),
            bulk.text_column(o["name"]),
            bulk.money_column(o["amount"]),
            bulk.text_column(o["currency"]),
            bulk.money_column(o["acv"]),
            bulk.text_column(o["stage"]),
            bulk.bool_column(o["is_closed"]),
            bulk.bool_column(o["is_won"]),
            bulk.datetime_column(o["created_at"]),
            bulk.datetime_column(o["closed_at"]),
            bulk.text_column(o["type"]),
            bulk.text_column(o["lead_source"]),
            [source_system] * n,
            bulk.text_column(o["external_id"]),
        ],
        tick("opportunities"),
    )


def _load_involvements(
    i: Mapping[str, np.ndarray],
    offsets: Mapping[str, int],
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    return bulk.bulk_insert(
        PartnerInvolvement,
        ["opportunity", "partner", "role", "attached_at", "is_primary"],
        [
            bulk.id_column(i["opportunity_id"], offsets["opportunities"]),
            bulk.id_column(i["partner_id"], offsets["partners"]),
            bulk.text_column(i["role"]),
            bulk.datetime_column(i["attached_at"]),
            bulk.bool_column(i["is_primary"]),
        ],
        tick("involvements"),
    )


def _load_leads(
    leads: Mapping[str, np.ndarray],
    source_system: str,
    offsets: Mapping[str, int],
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    n = len(leads["id"])
    return bulk.bulk_insert(
        Lead,
        [
            "company",
            "created_at",
            "converted_at",
            "status",
            "source",
            "partner",
            "account",
            "source_system",
            "external_id",
        ],
        [
            bulk.text_column(leads["company"]),
            bulk.datetime_column(leads["created_at"]),
            bulk.datetime_column(leads["converted_at"]),
            bulk.text_column(leads["status"]),
            bulk.text_column(leads["source"]),
            bulk.id_column(leads["partner_id"], offsets["partners"]),
            bulk.id_column(leads["account_id"], offsets["accounts"]),
            [source_system] * n,
            bulk.text_column(leads["external_id"]),
        ],
        tick("leads"),
    )


def _load_revenue(
    r: Mapping[str, np.ndarray],
    offsets: Mapping[str, int],
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    return bulk.bulk_insert(
        RevenueMonth,
        ["account", "month", "mrr", "currency"],
        [
            bulk.id_column(r["account_id"], offsets["accounts"]),
            bulk.date_column(r["month"]),
            bulk.money_column(r["mrr"]),
            bulk.text_column(r["currency"]),
        ],
        tick("revenue_months"),
    )


def _load_costs(
    c: Mapping[str, np.ndarray],
    offsets: Mapping[str, int],
    tick: Callable[[str], Callable[[int], None]],
) -> int:
    return bulk.bulk_insert(
        Cost,
        ["month", "category", "amount", "currency", "partner", "program"],
        [
            bulk.date_column(c["month"]),
            bulk.text_column(c["category"]),
            bulk.money_column(c["amount"]),
            bulk.text_column(c["currency"]),
            bulk.id_column(c["partner_id"], offsets["partners"]),
            bulk.text_column(c["program"]),
        ],
        tick("costs"),
    )
