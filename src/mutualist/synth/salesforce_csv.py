"""Write an ecosystem as a Salesforce-style export (plus revenue and cost sheets).

Quirks copied from real Salesforce exports (see shared/data/salesforce-sample): UTF-8 with
a byte-order mark, LF line endings, API-name headers, fields quoted only when needed,
booleans as ``1`` or blank, datetimes ``2024-01-22T16:14:25.000+0000``, dates
``YYYY-MM-DD``, 18-character Ids. Also realistic: ``Website`` carries a ``www.`` prefix,
``BillingCountry`` is the English country name, ``Industry`` uses the standard picklist,
and open opportunities carry an *expected* ``CloseDate`` (Salesforce requires one), so an
importer must read ``IsClosed`` before trusting ``CloseDate``.

Columns are formatted vectorised (object arrays), then streamed through ``csv.writer`` in
chunks so memory stays bounded at a million rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import effects as fx
from .config import SIZE_BANDS
from .names import COUNTRIES
from .timeline import DAY, NAT, Array, categorical, rng_for, str_array
from .truth import attribution_buckets, partner_attached_accounts

if TYPE_CHECKING:
    from .generate import Ecosystem

CHUNK = 200_000
ACCOUNT_HEADER = (
    "Id", "Name", "Type", "IsPartner", "Website", "BillingCountry", "Industry",
    "NumberOfEmployees", "CreatedDate",
)  # fmt: skip
OPPORTUNITY_HEADER = (
    "Id", "AccountId", "Name", "StageName", "Amount", "CurrencyIsoCode", "CloseDate",
    "CreatedDate", "IsClosed", "IsWon", "Type", "LeadSource", "PartnerAccountId",
)  # fmt: skip
OPPORTUNITY_PARTNER_HEADER = (
    "Id",
    "OpportunityId",
    "AccountToId",
    "Role",
    "IsPrimary",
    "CreatedDate",
)
LEAD_HEADER = (
    "Id", "Company", "Status", "LeadSource", "IsConverted", "ConvertedDate",
    "ConvertedAccountId", "PartnerAccountId", "CreatedDate",
)  # fmt: skip
REVENUE_HEADER = ("account_id", "month", "mrr", "currency")
COSTS_HEADER = ("period", "category", "amount", "currency", "partner_id", "program")

PARTNER_ACCOUNT_TYPE = {
    "reseller": "Channel Partner / Reseller",
    "distributor": "Channel Partner / Reseller",
    "msp": "Channel Partner / Reseller",
    "referral": "Channel Partner / Reseller",
    "affiliate": "Channel Partner / Reseller",
    "system_integrator": "Installation Partner",
    "isv": "Technology Partner",
    "strategic_alliance": "Technology Partner",
}
INDUSTRY_PICKLIST = {
    "financial_services": "Finance",
    "healthcare": "Healthcare",
    "manufacturing": "Manufacturing",
    "retail": "Retail",
    "public_sector": "Government",
    "technology": "Technology",
    "energy": "Energy",
    "media": "Media",
}
OPPORTUNITY_TYPE = {
    "new_business": "New Business",
    "expansion": "Existing Business",
    "renewal": "Renewal",
}
PARTNER_ROLE = {
    "sourced": "Reseller",
    "referral": "Referral",
    "influenced": "Influencer",
    "co_sell": "Co-Sell",
    "delivery": "System Integrator",
    "technology": "Technology Partner",
}
LEAD_STATUS = {
    "open": "Open - Not Contacted",
    "working": "Working - Contacted",
    "converted": "Closed - Converted",
    "disqualified": "Closed - Not Converted",
}
LEAD_SOURCE = {
    "partner_referral": "Partner Referral",
    "inbound": "Web",
    "cold_outbound": "Cold Call",
    "event": "Trade Show",
}
COUNTRY_NAME = {
    "US": "United States", "CA": "Canada", "GB": "United Kingdom", "DE": "Germany",
    "FR": "France", "NL": "Netherlands", "ES": "Spain", "IT": "Italy", "SE": "Sweden",
    "CH": "Switzerland", "PL": "Poland", "IE": "Ireland", "AE": "United Arab Emirates",
    "ZA": "South Africa", "AU": "Australia", "NZ": "New Zealand", "JP": "Japan",
    "SG": "Singapore", "IN": "India", "KR": "South Korea", "BR": "Brazil", "MX": "Mexico",
    "AR": "Argentina", "CO": "Colombia", "CL": "Chile",
}  # fmt: skip
assert set(COUNTRY_NAME) == {c[0] for c in COUNTRIES}
# Employee ranges per size band (log-uniform) and for partners.
EMPLOYEES = {"smb": (10, 200), "mid_market": (200, 2_000), "enterprise": (2_000, 50_000)}
PARTNER_EMPLOYEES = (5, 5_000)
_CENTS = str_array([f".{i:02d}" for i in range(100)])


def write_salesforce_csv(eco: Ecosystem, out_dir: Path) -> list[Path]:
    """Write Account, Opportunity, OpportunityPartner, Lead, revenue and costs CSVs."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t = eco.tables
    partner_id = t["partners"]["external_id"]
    account_id = t["accounts"]["external_id"]
    bucket = attribution_buckets(t)
    files = [
        ("Account.csv", ACCOUNT_HEADER, _account_rows(eco, bucket)),
        ("Opportunity.csv", OPPORTUNITY_HEADER, _opportunity_rows(eco, bucket)),
        ("OpportunityPartner.csv", OPPORTUNITY_PARTNER_HEADER, _opportunity_partner_rows(eco)),
        ("Lead.csv", LEAD_HEADER, _lead_rows(eco)),
        ("revenue.csv", REVENUE_HEADER, _revenue_rows(eco, account_id)),
        ("costs.csv", COSTS_HEADER, _cost_rows(eco, partner_id)),
    ]
    paths = []
    for name, header, chunks in files:
        path = out / name
        _write(path, header, chunks)
        paths.append(path)
    return paths


ColumnChunks = Iterable[Sequence[Array]]


def _write(path: Path, header: Sequence[str], chunks: ColumnChunks) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        for columns in chunks:
            writer.writerows(zip(*(c.tolist() for c in columns), strict=True))


def _chunks(n: int) -> Iterable[slice]:
    for lo in range(0, n, CHUNK):
        yield slice(lo, min(lo + CHUNK, n))


# --- value formatting (vectorised) ----------------------------------------------------------


def _ts(col: Array) -> Array:
    return np.asarray(col).astype("datetime64[s]").view(np.int64)


def sf_datetime(col: Array) -> Array:
    """``2024-01-22T16:14:25.000+0000``; blank for NaT."""
    text = np.datetime_as_string(np.asarray(col).astype("datetime64[s]"), unit="s").astype(object)
    out = text + ".000+0000"
    out[_ts(col) == NAT] = ""
    return out


def sf_date(col: Array) -> Array:
    """``YYYY-MM-DD``; blank for NaT."""
    out = np.datetime_as_string(np.asarray(col).astype("datetime64[D]")).astype(object)
    out[_ts(col) == NAT] = ""
    return out


def year_month(col: Array) -> Array:
    return np.datetime_as_string(np.asarray(col).astype("datetime64[M]")).astype(object)


def money(x: Array) -> Array:
    """Two decimals, no exponent, no thousands separator ("1234.50"); x >= 0."""
    cents = np.round(np.asarray(x, dtype=float) * 100).astype(np.int64)
    whole, frac = np.divmod(cents, 100)
    return whole.astype(str).astype(object) + _CENTS[frac]


def flag(b: Array) -> Array:
    """Salesforce boolean: ``1`` or blank."""
    return np.where(np.asarray(b, dtype=bool), "1", "").astype(object)


def _lookup(col: Array, mapping: dict[str, str]) -> Array:
    keys = list(mapping)
    codes = np.zeros(len(col), dtype=np.int64)
    for i, k in enumerate(keys):
        codes[col == k] = i
    return categorical([mapping[k] for k in keys], codes)


def _ref(ids: Array, idx: Array) -> Array:
    """Referenced Id, blank where the index is -1."""
    idx = np.asarray(idx)
    out = ids[np.maximum(idx, 0)].copy()
    out[idx < 0] = ""
    return out


# --- objects ----------------------------------------------------------------------------------


def _employees(rng: np.random.Generator, lo: Array, hi: Array) -> Array:
    return np.exp(rng.uniform(np.log(lo), np.log(hi))).astype(np.int64).astype(str).astype(object)


def _account_rows(eco: Ecosystem, bucket: Array) -> ColumnChunks:
    rng = rng_for(eco.config.seed, "salesforce.employees")
    p, a = eco.tables["partners"], eco.tables["accounts"]
    first_type = np.array([t.split(",")[0] for t in p["types"].tolist()], dtype=object)
    hist = eco.tables["partner_status_history"]
    first_seen = np.full(len(p["id"]), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_seen, hist["partner_id"], _ts(hist["changed_at"]))
    n_p = len(p["id"])
    consulting = np.isin(first_type, ["system_integrator", "msp"])
    yield (
        p["external_id"],
        p["name"],
        _lookup(first_type, PARTNER_ACCOUNT_TYPE),
        flag(np.ones(n_p, dtype=bool)),
        "www." + p["domain"],
        _lookup(p["country"], COUNTRY_NAME),
        np.where(consulting, "Consulting", "Technology").astype(object),
        _employees(rng, np.full(n_p, PARTNER_EMPLOYEES[0]), np.full(n_p, PARTNER_EMPLOYEES[1])),
        sf_datetime(first_seen.view("datetime64[s]")),
    )
    channel = partner_attached_accounts(eco.tables, bucket)
    kind = np.where(
        a["lifecycle"] == "prospect",
        "Prospect",
        np.where(channel, "Customer - Channel", "Customer - Direct"),
    ).astype(object)
    band = np.zeros(len(a["id"]), dtype=np.int64)
    for i, b in enumerate(SIZE_BANDS):
        band[a["size_band"] == b] = i
    lo = np.array([EMPLOYEES[b][0] for b in SIZE_BANDS])[band]
    hi = np.array([EMPLOYEES[b][1] for b in SIZE_BANDS])[band]
    employees = _employees(rng, lo, hi)
    for s in _chunks(len(a["id"])):
        yield (
            a["external_id"][s],
            a["name"][s],
            kind[s],
            flag(np.zeros(s.stop - s.start, dtype=bool)),
            "www." + a["domain"][s],
            _lookup(a["country"][s], COUNTRY_NAME),
            _lookup(a["industry"][s], INDUSTRY_PICKLIST),
            employees[s],
            sf_datetime(a["created_at"][s]),
        )


def _sourcing_partner(eco: Ecosystem, bucket: Array) -> Array:
    """Per opportunity: the primary partner whose involvement makes it sourced, else -1."""
    opp, inv = eco.tables["opportunities"], eco.tables["involvements"]
    o = inv["opportunity_id"]
    created, closed = _ts(opp["created_at"])[o], _ts(opp["closed_at"])[o]
    at = _ts(inv["attached_at"])
    sourcing = (
        inv["is_primary"]
        & np.isin(inv["role"], ["sourced", "referral"])
        & (at <= created + fx.ATTRIBUTION_WINDOW_DAYS * DAY)
        & ((closed == NAT) | (at <= closed))
    )
    out = np.full(len(bucket), -1, dtype=np.int64)
    out[o[sourcing]] = inv["partner_id"][sourcing]
    out[bucket != 2] = -1
    return out


def _opportunity_rows(eco: Ecosystem, bucket: Array) -> ColumnChunks:
    opp = eco.tables["opportunities"]
    acc = eco.tables["accounts"]
    partner_ids = eco.tables["partners"]["external_id"]
    sourcing = _sourcing_partner(eco, bucket)
    # Open deals: the expected close date entered at creation (band median cycle); for
    # stale deals it lies in the past, as in real pipelines nobody cleaned up.
    band = np.zeros(len(acc["id"]), dtype=np.int64)
    for i, b in enumerate(SIZE_BANDS):
        band[acc["size_band"] == b] = i
    median = np.array([fx.CYCLE_MEDIAN_DAYS[b] for b in SIZE_BANDS])[band[opp["account_id"]]]
    created = _ts(opp["created_at"])
    expected = created + (median * DAY).astype(np.int64)
    close = np.where(opp["is_closed"], _ts(opp["closed_at"]), expected)
    for s in _chunks(len(opp["id"])):
        yield (
            opp["external_id"][s],
            acc["external_id"][opp["account_id"][s]],
            opp["name"][s],
            opp["stage"][s],
            money(opp["amount"][s]),
            opp["currency"][s],
            sf_date(close[s].view("datetime64[s]")),
            sf_datetime(opp["created_at"][s]),
            flag(opp["is_closed"][s]),
            flag(opp["is_won"][s]),
            _lookup(opp["type"][s], OPPORTUNITY_TYPE),
            opp["lead_source"][s],
            _ref(partner_ids, sourcing[s]),
        )


def _opportunity_partner_rows(eco: Ecosystem) -> ColumnChunks:
    inv = eco.tables["involvements"]
    opp_ids = eco.tables["opportunities"]["external_id"]
    partner_ids = eco.tables["partners"]["external_id"]
    for s in _chunks(len(inv["id"])):
        yield (
            inv["external_id"][s],
            opp_ids[inv["opportunity_id"][s]],
            partner_ids[inv["partner_id"][s]],
            _lookup(inv["role"][s], PARTNER_ROLE),
            flag(inv["is_primary"][s]),
            sf_datetime(inv["attached_at"][s]),
        )


def _lead_rows(eco: Ecosystem) -> ColumnChunks:
    leads = eco.tables["leads"]
    account_ids = eco.tables["accounts"]["external_id"]
    partner_ids = eco.tables["partners"]["external_id"]
    for s in _chunks(len(leads["id"])):
        converted = _ts(leads["converted_at"][s]) != NAT
        yield (
            leads["external_id"][s],
            leads["company"][s],
            _lookup(leads["status"][s], LEAD_STATUS),
            _lookup(leads["source"][s], LEAD_SOURCE),
            flag(converted),
            sf_date(leads["converted_at"][s]),
            _ref(account_ids, leads["account_id"][s]),
            _ref(partner_ids, leads["partner_id"][s]),
            sf_datetime(leads["created_at"][s]),
        )


def _revenue_rows(eco: Ecosystem, account_ids: Array) -> ColumnChunks:
    rev = eco.tables["revenue_months"]
    for s in _chunks(len(rev["mrr"])):
        yield (
            account_ids[rev["account_id"][s]],
            year_month(rev["month"][s]),
            money(rev["mrr"][s]),
            rev["currency"][s],
        )


def _cost_rows(eco: Ecosystem, partner_ids: Array) -> ColumnChunks:
    costs = eco.tables["costs"]
    for s in _chunks(len(costs["amount"])):
        yield (
            year_month(costs["month"][s]),
            costs["category"][s],
            money(costs["amount"][s]),
            costs["currency"][s],
            _ref(partner_ids, costs["partner_id"][s]),
            costs["program"][s],
        )
