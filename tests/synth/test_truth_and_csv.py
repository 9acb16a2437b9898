"""truth.json and the Salesforce-format CSV export."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mutualist.synth import Ecosystem, attribution_buckets, write_salesforce_csv, write_truth
from mutualist.synth.config import BUCKETS

from .conftest import SMALL

REQUIRED_TRUTH_KEYS = {
    "config", "counts", "attribution", "win_rate", "confounding", "acv", "cycle_days",
    "churn", "nrr", "lead_conversion_days", "partner_growth", "post_close_attachments",
}  # fmt: skip
HEADERS = {
    "Account.csv": "Id,Name,Type,IsPartner,Website,BillingCountry,Industry,NumberOfEmployees,CreatedDate",
    "Opportunity.csv": (
        "Id,AccountId,Name,StageName,Amount,CurrencyIsoCode,CloseDate,CreatedDate,IsClosed,"
        "IsWon,Type,LeadSource,PartnerAccountId"
    ),
    "OpportunityPartner.csv": "Id,OpportunityId,AccountToId,Role,IsPrimary,CreatedDate",
    "Lead.csv": (
        "Id,Company,Status,LeadSource,IsConverted,ConvertedDate,ConvertedAccountId,"
        "PartnerAccountId,CreatedDate"
    ),
    "revenue.csv": "account_id,month,mrr,currency",
    "costs.csv": "period,category,amount,currency,partner_id,program",
}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONEY = re.compile(r"^\d+\.\d{2}$")
PERIOD = re.compile(r"^\d{4}-\d{2}$")


def _plain_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_truth_has_required_keys_and_plain_types(small: Ecosystem) -> None:
    assert set(small.truth) >= REQUIRED_TRUTH_KEYS
    assert _plain_json(small.truth)
    assert small.truth["config"] == SMALL.to_json()
    assert set(small.truth["attribution"]["counts"]) == set(BUCKETS)
    assert isinstance(small.truth["post_close_attachments"], int)
    for band in small.truth["win_rate"]["planted"].values():
        assert band["unattributed"] < band["influenced"] < band["sourced"]


def test_truth_json_round_trips(small: Ecosystem, tmp_path: Path) -> None:
    path = tmp_path / "out" / "truth.json"
    write_truth(small, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == small.truth
    assert text == json.dumps(small.truth, indent=2, sort_keys=True) + "\n"


@pytest.fixture(scope="module")
def exported(
    small: Ecosystem, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict[str, str]]]:
    out = tmp_path_factory.mktemp("sf")
    paths = write_salesforce_csv(small, out)
    assert sorted(p.name for p in paths) == sorted(HEADERS)
    rows = {}
    for p in paths:
        raw = p.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
        assert b"\r\n" not in raw  # LF line endings
        header = raw[3:].split(b"\n", 1)[0].decode()
        assert header == HEADERS[p.name]
        with p.open(encoding="utf-8-sig", newline="") as fh:
            rows[p.name] = list(csv.DictReader(fh))
    return rows


def _ids(rows: list[dict[str, str]], col: str, prefix: str) -> None:
    for r in rows:
        assert len(r[col]) == 18 and r[col].startswith(prefix), r[col]


def test_row_counts_match_tables(
    small: Ecosystem, exported: dict[str, list[dict[str, str]]]
) -> None:
    t = small.tables
    assert len(exported["Account.csv"]) == len(t["partners"]["id"]) + len(t["accounts"]["id"])
    assert len(exported["Opportunity.csv"]) == len(t["opportunities"]["id"])
    assert len(exported["OpportunityPartner.csv"]) == len(t["involvements"]["id"])
    assert len(exported["Lead.csv"]) == len(t["leads"]["id"])
    assert len(exported["revenue.csv"]) == len(t["revenue_months"]["mrr"])
    assert len(exported["costs.csv"]) == len(t["costs"]["amount"])


def test_accounts_csv(small: Ecosystem, exported: dict[str, list[dict[str, str]]]) -> None:
    rows = exported["Account.csv"]
    _ids(rows, "Id", "001")
    partner_ids = set(small.tables["partners"]["external_id"].tolist())
    partners = [r for r in rows if r["IsPartner"] == "1"]
    customers = [r for r in rows if r["IsPartner"] == ""]
    assert len(partners) + len(customers) == len(rows)
    assert {r["Id"] for r in partners} == partner_ids
    assert {r["Type"] for r in partners} <= {
        "Channel Partner / Reseller", "Technology Partner", "Installation Partner",
    }  # fmt: skip
    assert {r["Type"] for r in customers} == {"Customer - Direct", "Customer - Channel", "Prospect"}
    assert all(DATETIME.match(r["CreatedDate"]) for r in rows)
    assert all(r["Website"].startswith("www.") and r["NumberOfEmployees"].isdigit() for r in rows)
    assert [r["Id"] for r in customers] == small.tables["accounts"]["external_id"].tolist()


def test_opportunities_csv(small: Ecosystem, exported: dict[str, list[dict[str, str]]]) -> None:
    rows = exported["Opportunity.csv"]
    opp = small.tables["opportunities"]
    _ids(rows, "Id", "006")
    _ids(rows, "AccountId", "001")
    assert [r["Id"] for r in rows] == opp["external_id"].tolist()
    assert {r["IsClosed"] for r in rows} == {"1", ""}
    assert {r["IsWon"] for r in rows} == {"1", ""}
    assert [r["IsWon"] == "1" for r in rows] == opp["is_won"].tolist()
    assert {r["Type"] for r in rows} == {"New Business", "Existing Business", "Renewal"}
    assert all(MONEY.match(r["Amount"]) for r in rows)
    assert np.allclose([float(r["Amount"]) for r in rows], opp["amount"])
    assert all(DATETIME.match(r["CreatedDate"]) and DATE.match(r["CloseDate"]) for r in rows)
    closed = [r for r in rows if r["IsClosed"] == "1"]
    assert all(r["CloseDate"] >= r["CreatedDate"][:10] for r in closed)
    # PartnerAccountId: the sourcing partner, only on sourced deals.
    bucket = attribution_buckets(small.tables)
    with_partner = np.array([r["PartnerAccountId"] != "" for r in rows])
    assert not (with_partner & (bucket != 2)).any()
    assert with_partner[bucket == 2].mean() > 0.9
    partner_ids = set(small.tables["partners"]["external_id"].tolist())
    assert {r["PartnerAccountId"] for r in rows if r["PartnerAccountId"]} <= partner_ids


def test_opportunity_partners_csv(
    small: Ecosystem, exported: dict[str, list[dict[str, str]]]
) -> None:
    rows = exported["OpportunityPartner.csv"]
    _ids(rows, "Id", "00u")
    _ids(rows, "OpportunityId", "006")
    _ids(rows, "AccountToId", "001")
    assert {r["IsPrimary"] for r in rows} == {"1", ""}
    assert {r["Role"] for r in rows} <= {
        "Reseller", "Referral", "Influencer", "Co-Sell", "System Integrator", "Technology Partner",
    }  # fmt: skip
    assert all(DATETIME.match(r["CreatedDate"]) for r in rows)
    primaries: dict[str, int] = {}
    for r in rows:
        primaries[r["OpportunityId"]] = primaries.get(r["OpportunityId"], 0) + (
            r["IsPrimary"] == "1"
        )
    assert set(primaries.values()) == {1}


def test_leads_csv(small: Ecosystem, exported: dict[str, list[dict[str, str]]]) -> None:
    rows = exported["Lead.csv"]
    _ids(rows, "Id", "00Q")
    assert {r["IsConverted"] for r in rows} == {"1", ""}
    for r in rows:
        converted = r["IsConverted"] == "1"
        assert (r["Status"] == "Closed - Converted") == converted
        assert bool(DATE.match(r["ConvertedDate"])) == converted == bool(r["ConvertedAccountId"])
        assert (r["LeadSource"] == "Partner Referral") == bool(r["PartnerAccountId"])
        assert DATETIME.match(r["CreatedDate"])


def test_revenue_and_costs_csv(small: Ecosystem, exported: dict[str, list[dict[str, str]]]) -> None:
    rev, costs = exported["revenue.csv"], exported["costs.csv"]
    _ids(rev, "account_id", "001")
    assert all(PERIOD.match(r["month"]) and MONEY.match(r["mrr"]) for r in rev)
    assert all(PERIOD.match(r["period"]) and MONEY.match(r["amount"]) for r in costs)
    assert {r["currency"] for r in rev + costs} == {"USD"}
    with_partner = [r for r in costs if r["partner_id"]]
    assert with_partner and all(len(r["partner_id"]) == 18 for r in with_partner)
    assert (
        abs(sum(float(r["mrr"]) for r in rev) - small.tables["revenue_months"]["mrr"].sum()) < 1.0
    )
