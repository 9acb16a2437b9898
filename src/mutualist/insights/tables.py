"""The app database as the analytics schema: ORM rows → Arrow tables → Ibis on DuckDB.

This is the only place the Django side meets `mutualist.analytics`: it reads the seven tables
(through the ORM, so SQLite and PostgreSQL behave the same), hands them over as Arrow, and
the metrics never see Django. DuckDB cannot attach a SQLite file offline, hence Arrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
from django.db.models import Max

from mutualist.analytics import tables_from_arrow
from mutualist.analytics.schema import arrow_schema
from mutualist.audit.models import AuditEntry
from mutualist.crm.models import Account, Cost, Lead, Opportunity, PartnerInvolvement, RevenueMonth
from mutualist.insights.currency import Rates, current_rates
from mutualist.partners.models import Partner


def _to_float(values: Iterable[Any]) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def _arrow(name: str, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    schema = arrow_schema(name)
    arrays = []
    for field in schema:
        values = columns[field.name]
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, type=pa.timestamp("us", tz="UTC")))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(
        arrays,
        schema=pa.schema(
            [
                pa.field(f.name, pa.timestamp("us", tz="UTC"))
                if pa.types.is_timestamp(f.type)
                else f
                for f in schema
            ]
        ),
    )


def _columns(rows: list[tuple[Any, ...]], names: list[str]) -> dict[str, list[Any]]:
    if not rows:
        return {name: [] for name in names}
    return {name: list(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)}


def _partners() -> pa.Table:
    names = [
        "partner_id",
        "name",
        "types",
        "status",
        "tier",
        "region",
        "industries",
        "technologies",
        "practices",
    ]
    segments: dict[int, dict[str, list[str]]] = {}
    through = Partner.segments.through.objects.select_related("segment")
    for link in through.all():
        kinds = segments.setdefault(link.partner_id, {})
        kinds.setdefault(link.segment.kind, []).append(link.segment.code)
    rows = []
    for p in Partner.objects.values_list("id", "name", "types", "status", "tier", "region"):
        kinds = segments.get(p[0], {})
        rows.append(
            (
                p[0],
                p[1],
                p[2].strip(","),
                p[3],
                p[4],
                p[5],
                ",".join(sorted(kinds.get("industry", []))),
                ",".join(sorted(kinds.get("technology", []))),
                ",".join(sorted(kinds.get("practice", []))),
            )
        )
    return _arrow("partners", _columns(rows, names))


def _opportunities(rates: Rates) -> pa.Table:
    names = [
        "opportunity_id",
        "account_id",
        "amount",
        "currency",
        "acv",
        "stage",
        "is_closed",
        "is_won",
        "created_at",
        "closed_at",
        "type",
        "lead_source",
    ]
    columns = _columns(
        list(
            Opportunity.objects.order_by().values_list(
                "id",
                "account_id",
                "amount",
                "currency",
                "acv",
                "stage",
                "is_closed",
                "is_won",
                "created_at",
                "closed_at",
                "type",
                "lead_source",
            )
        ),
        names,
    )
    columns["amount"] = _to_float(columns["amount"])
    columns["acv"] = _to_float(columns["acv"])
    _convert(
        columns,
        ("amount", "acv"),
        # closed deals at their close month's rate, open ones at the newest
        [c.date() if c is not None else None for c in columns["closed_at"]],
        rates,
    )
    return _arrow("opportunities", columns)


def _convert(
    columns: dict[str, list[Any]], amounts: Sequence[str], when: Sequence[Any], rates: Rates
) -> None:
    """Amount columns into the reporting currency where a rate exists (see `currency`)."""
    if not rates.months:
        return  # no rates imported: amounts stay as recorded (and mixed ones are flagged)
    for i, (currency, day) in enumerate(zip(columns["currency"], when, strict=True)):
        rate = rates.factor(currency, day)
        if rate is None:
            continue  # no rate: left in its own currency, which the board flags
        for name in amounts:
            if columns[name][i] is not None:
                columns[name][i] *= rate
        columns["currency"][i] = rates.base


def arrow_tables() -> dict[str, pa.Table]:
    """The app's data in the analytics schema, amounts in the reporting currency."""
    rates = current_rates()
    accounts = _columns(
        list(
            Account.objects.order_by().values_list(
                "id", "name", "country", "industry", "size_band", "lifecycle"
            )
        ),
        ["account_id", "name", "country", "industry", "size_band", "lifecycle"],
    )
    involvements = _columns(
        list(
            PartnerInvolvement.objects.order_by().values_list(
                "opportunity_id", "partner_id", "role", "attached_at", "is_primary"
            )
        ),
        ["opportunity_id", "partner_id", "role", "attached_at", "is_primary"],
    )
    leads = _columns(
        list(
            Lead.objects.order_by().values_list(
                "id", "created_at", "converted_at", "status", "source", "partner_id"
            )
        ),
        ["lead_id", "created_at", "converted_at", "status", "source", "partner_id"],
    )
    revenue = _columns(
        list(RevenueMonth.objects.order_by().values_list("account_id", "month", "mrr", "currency")),
        ["account_id", "month", "mrr", "currency"],
    )
    revenue["mrr"] = _to_float(revenue["mrr"])
    _convert(revenue, ("mrr",), revenue["month"], rates)
    revenue["month"] = [_midnight(m) for m in revenue["month"]]
    costs = _columns(
        list(
            Cost.objects.order_by().values_list(
                "month", "category", "amount", "currency", "partner_id", "program"
            )
        ),
        ["month", "category", "amount", "currency", "partner_id", "program"],
    )
    costs["amount"] = _to_float(costs["amount"])
    _convert(costs, ("amount",), costs["month"], rates)
    costs["month"] = [_midnight(m) for m in costs["month"]]
    return {
        "partners": _partners(),
        "accounts": _arrow("accounts", accounts),
        "opportunities": _opportunities(rates),
        "involvements": _arrow("involvements", involvements),
        "leads": _arrow("leads", leads),
        "revenue_months": _arrow("revenue_months", revenue),
        "costs": _arrow("costs", costs),
    }


def _midnight(day: Any) -> Any:
    import datetime as dt

    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def app_tables() -> dict[str, ir.Table]:
    return tables_from_arrow(arrow_tables())


def data_version() -> int:
    """Changes whenever anything is written: every write records an audit entry."""
    return int(AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0)
