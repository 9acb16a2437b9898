"""Structure and integrity of the generated tables (small config)."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mutualist.synth
from mutualist.synth import Ecosystem, SynthConfig, generate
from mutualist.synth.config import (
    INDUSTRIES,
    OPEN_STAGES,
    PARTNER_STATUSES,
    PARTNER_TYPES,
    PRACTICES,
    TECHNOLOGIES,
    TIERS,
)
from mutualist.synth.names import COUNTRY_REGION

from .conftest import SMALL

NAT = np.iinfo(np.int64).min

COLUMNS: dict[str, dict[str, str]] = {
    "partners": {
        "id": "i", "external_id": "O", "name": "O", "legal_name": "O", "domain": "O",
        "country": "O", "region": "O", "types": "O", "industries": "O", "technologies": "O",
        "practices": "O", "status": "O", "tier": "O", "joined_at": "M", "status_since": "M",
        "owner": "i",
    },
    "partner_status_history": {"partner_id": "i", "status": "O", "changed_at": "M", "reason": "O"},
    "partner_tier_history": {"partner_id": "i", "tier": "O", "effective_from": "M"},
    "accounts": {
        "id": "i", "external_id": "O", "name": "O", "domain": "O", "country": "O",
        "industry": "O", "size_band": "O", "lifecycle": "O", "created_at": "M",
    },
    "opportunities": {
        "id": "i", "external_id": "O", "account_id": "i", "name": "O", "amount": "f",
        "currency": "O", "acv": "f", "stage": "O", "is_closed": "b", "is_won": "b",
        "created_at": "M", "closed_at": "M", "type": "O", "lead_source": "O",
    },
    "involvements": {
        "id": "i", "external_id": "O", "opportunity_id": "i", "partner_id": "i", "role": "O",
        "attached_at": "M", "is_primary": "b",
    },
    "leads": {
        "id": "i", "external_id": "O", "company": "O", "created_at": "M",
        "converted_at": "M", "status": "O", "source": "O", "partner_id": "i",
        "account_id": "i",
    },
    "revenue_months": {"account_id": "i", "month": "M", "mrr": "f", "currency": "O"},
    "costs": {
        "month": "M", "category": "O", "amount": "f", "currency": "O", "partner_id": "i",
        "program": "O",
    },
}  # fmt: skip


def ts(col: Any) -> np.ndarray:
    return np.asarray(col).astype("datetime64[s]").view(np.int64)


def tables_equal(a: Ecosystem, b: Ecosystem) -> bool:
    if a.tables.keys() != b.tables.keys():
        return False
    for name, cols in a.tables.items():
        if cols.keys() != b.tables[name].keys():
            return False
        for col, values in cols.items():
            other = b.tables[name][col]
            if values.dtype.kind == "M":
                values, other = values.view(np.int64), other.view(np.int64)
            if values.dtype != other.dtype or not np.array_equal(values, other):
                return False
    return True


def test_same_seed_gives_identical_tables_and_truth(small: Ecosystem) -> None:
    again = generate(SMALL)
    assert tables_equal(small, again)
    assert again.truth == small.truth


def test_different_seed_gives_different_tables(small: Ecosystem) -> None:
    other = generate(SynthConfig(partners=40, accounts=800, opportunities=3_000, seed=12))
    assert not tables_equal(small, other)
    assert small.tables["partners"]["name"].tolist() != other.tables["partners"]["name"].tolist()


def test_progress_is_reported_per_step() -> None:
    calls: list[tuple[str, int, int]] = []
    generate(
        SynthConfig(partners=20, accounts=100, opportunities=300),
        progress=lambda *a: calls.append(a),
    )
    assert [c[1] for c in calls] == list(range(1, len(calls) + 1))
    assert all(c[2] == len(calls) for c in calls)
    assert calls[-1][0] == "truth"


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_columns_names_dtypes_and_lengths(small: Ecosystem, table: str) -> None:
    cols = small.tables[table]
    assert set(cols) == set(COLUMNS[table])
    lengths = {len(v) for v in cols.values()}
    assert len(lengths) == 1
    for name, kind in COLUMNS[table].items():
        arr = cols[name]
        assert arr.ndim == 1
        assert arr.dtype.kind == kind, (table, name, arr.dtype)
        if kind == "i":
            assert arr.dtype == np.int64
        if kind == "M":
            assert arr.dtype == np.dtype("datetime64[s]")
        if kind == "O":
            assert all(type(v) is str for v in arr.tolist())
    if "id" in cols:
        assert np.array_equal(cols["id"], np.arange(len(cols["id"])))
    assert small.truth["counts"][table] == lengths.pop()


def test_external_ids_are_salesforce_ids(small: Ecosystem) -> None:
    prefixes = {
        "partners": "001",
        "accounts": "001",
        "opportunities": "006",
        "leads": "00Q",
        "involvements": "00u",
    }
    seen: set[str] = set()
    for table, prefix in prefixes.items():
        ids = small.tables[table]["external_id"].tolist()
        assert all(len(i) == 18 and i.startswith(prefix) for i in ids)
        assert len(set(ids)) == len(ids)
        assert seen.isdisjoint(ids)  # partners and accounts are both Accounts
        seen.update(ids)


def test_foreign_keys_in_range(small: Ecosystem) -> None:
    t = small.tables
    n_p, n_a, n_o = (
        len(t["partners"]["id"]),
        len(t["accounts"]["id"]),
        len(t["opportunities"]["id"]),
    )

    def in_range(x: np.ndarray, n: int, allow_none: bool = False) -> bool:
        lo = -1 if allow_none else 0
        return bool(((x >= lo) & (x < n)).all())

    assert in_range(t["opportunities"]["account_id"], n_a)
    assert in_range(t["involvements"]["opportunity_id"], n_o)
    assert in_range(t["involvements"]["partner_id"], n_p)
    assert in_range(t["leads"]["partner_id"], n_p, allow_none=True)
    assert in_range(t["leads"]["account_id"], n_a, allow_none=True)
    assert in_range(t["revenue_months"]["account_id"], n_a)
    assert in_range(t["costs"]["partner_id"], n_p, allow_none=True)
    assert in_range(t["partner_status_history"]["partner_id"], n_p)
    assert in_range(t["partner_tier_history"]["partner_id"], n_p)
    assert in_range(t["partners"]["owner"], SMALL.alliance_managers)


def test_partner_profile(small: Ecosystem) -> None:
    p = small.tables["partners"]
    assert len(set(p["name"].tolist())) == len(p["name"])
    assert len(set(p["domain"].tolist())) == len(p["domain"])
    for name, legal, domain, country, region in zip(
        p["name"].tolist(), p["legal_name"].tolist(), p["domain"].tolist(),
        p["country"].tolist(), p["region"].tolist(), strict=True,
    ):  # fmt: skip
        assert legal.startswith(name + " ") and len(legal) > len(name) + 1
        assert domain == domain.lower() and "." in domain
        assert COUNTRY_REGION[country] == region
    types = [t.split(",") for t in p["types"].tolist()]
    assert all(1 <= len(t) <= 2 and set(t) <= set(PARTNER_TYPES) for t in types)
    assert {x for t in types for x in t} == set(PARTNER_TYPES)  # >= 16 partners
    for col, vocab in (
        ("industries", INDUSTRIES),
        ("technologies", TECHNOLOGIES),
        ("practices", PRACTICES),
    ):
        values = [v.split(",") for v in p[col].tolist()]
        assert all(v and set(v) <= set(vocab) and len(set(v)) == len(v) for v in values)


def test_partner_status_mix(small: Ecosystem) -> None:
    status = small.tables["partners"]["status"]
    n = len(status)
    counts = {s: int((status == s).sum()) for s in PARTNER_STATUSES}
    assert counts["active"] > n / 2
    assert 0.08 <= counts["inactive"] / n <= 0.16
    assert all(counts[s] >= 1 for s in PARTNER_STATUSES)


def test_partner_status_history_is_a_valid_path(small: Ecosystem) -> None:
    p, h = small.tables["partners"], small.tables["partner_status_history"]
    allowed = {
        ("prospect", "evaluating"), ("evaluating", "negotiating"), ("negotiating", "onboarding"),
        ("onboarding", "active"), ("active", "inactive"), ("inactive", "active"),
        ("inactive", "exited"),
    }  # fmt: skip
    pid, at = h["partner_id"], ts(h["changed_at"])
    for i in range(len(p["id"])):
        rows = np.flatnonzero(pid == i)
        statuses = h["status"][rows].tolist()
        assert statuses[0] == "prospect"
        assert statuses[-1] == p["status"][i]
        assert all(pair in allowed for pair in itertools.pairwise(statuses))
        assert (np.diff(at[rows]) > 0).all()
        assert at[rows][-1] == ts(p["status_since"])[i]
        joined = ts(p["joined_at"])[i]
        if "onboarding" in statuses:
            assert joined == at[rows][statuses.index("onboarding")]
        else:
            assert joined == NAT
    assert all(r for r in h["reason"].tolist())


def test_partner_tiers(small: Ecosystem) -> None:
    p, h = small.tables["partners"], small.tables["partner_tier_history"]
    early = np.isin(p["status"], ["prospect", "evaluating", "negotiating"])
    assert (p["tier"][early] == "").all()
    assert set(p["tier"][~early].tolist()) <= set(TIERS)
    for i in range(len(p["id"])):
        rows = np.flatnonzero(h["partner_id"] == i)
        if early[i]:
            assert len(rows) == 0
            continue
        tiers = h["tier"][rows].tolist()
        assert tiers[0] == "registered" and tiers[-1] == p["tier"][i]
        assert [TIERS.index(t) for t in tiers] == list(range(len(tiers)))  # upgrades only
        assert (np.diff(ts(h["effective_from"])[rows]) >= 0).all()


def test_accounts(small: Ecosystem) -> None:
    a, o = small.tables["accounts"], small.tables["opportunities"]
    assert len(set(a["name"].tolist())) == len(a["name"])
    assert len(set(a["domain"].tolist())) == len(a["domain"])
    assert set(a["size_band"].tolist()) == {"smb", "mid_market", "enterprise"}
    assert set(a["industry"].tolist()) <= set(INDUSTRIES)
    first_opp = np.full(len(a["id"]), np.iinfo(np.int64).max)
    np.minimum.at(first_opp, o["account_id"], ts(o["created_at"]))
    assert (ts(a["created_at"]) <= first_opp).all()


def test_opportunities(small: Ecosystem) -> None:
    o = small.tables["opportunities"]
    created, closed = ts(o["created_at"]), ts(o["closed_at"])
    start = np.datetime64(SMALL.start.isoformat(), "s").astype(np.int64)
    as_of = np.datetime64(SMALL.end.isoformat(), "s").astype(np.int64) + 86_400
    assert (created >= start).all() and (created < as_of).all()
    assert np.array_equal(closed == NAT, ~o["is_closed"])
    assert (closed[o["is_closed"]] > created[o["is_closed"]]).all()
    assert (closed[o["is_closed"]] < as_of).all()
    assert not (o["is_won"] & ~o["is_closed"]).any()
    stage = o["stage"]
    assert np.array_equal(stage == "Closed Won", o["is_won"])
    assert np.array_equal(stage == "Closed Lost", o["is_closed"] & ~o["is_won"])
    assert set(stage[~o["is_closed"]].tolist()) <= set(OPEN_STAGES)
    assert (o["amount"] > 0).all()
    assert np.allclose(o["amount"], np.round(o["amount"], 2))
    term = o["amount"] / o["acv"]
    assert np.allclose(term, np.round(term), atol=1e-3)
    assert set(np.round(term).astype(int).tolist()) == {1, 2, 3}
    assert set(o["type"].tolist()) == {"new_business", "expansion", "renewal"}
    # Open deals are mostly recent, but a few stale ones (> 1 year old) exist.
    open_age_days = (as_of - created[~o["is_closed"]]) / 86_400
    assert np.median(open_age_days) < 120
    assert 0 < (open_age_days > 365).sum() < 0.05 * len(open_age_days)
    assert np.array_equal(np.sort(created), created)  # ids in creation order


def test_new_business_precedes_first_win(small: Ecosystem) -> None:
    o = small.tables["opportunities"]
    first_win = np.full(len(small.tables["accounts"]["id"]), np.iinfo(np.int64).max)
    np.minimum.at(first_win, o["account_id"][o["is_won"]], ts(o["closed_at"])[o["is_won"]])
    after = ts(o["created_at"]) > first_win[o["account_id"]]
    assert np.array_equal(after, o["type"] != "new_business")


def test_involvements(small: Ecosystem) -> None:
    t = small.tables
    inv, p = t["involvements"], t["partners"]
    opp = inv["opportunity_id"]
    primaries = np.bincount(opp[inv["is_primary"]], minlength=len(t["opportunities"]["id"]))
    involved = np.bincount(opp, minlength=len(primaries)) > 0
    assert (primaries[involved] == 1).all() and (primaries[~involved] == 0).all()
    status = p["status"][inv["partner_id"]]
    assert set(status.tolist()) <= {"active", "inactive", "exited"}
    # Attached only after the partner first became active ...
    h = t["partner_status_history"]
    first_active = np.full(len(p["id"]), np.iinfo(np.int64).max)
    act = h["status"] == "active"
    np.minimum.at(first_active, h["partner_id"][act], ts(h["changed_at"])[act])
    attached = ts(inv["attached_at"])
    assert (attached >= first_active[inv["partner_id"]]).all()
    # ... and never while the partner was inactive (lapsed for good, or between a lapse
    # and a reactivation).
    changed = ts(h["changed_at"])
    for i in range(len(p["id"])):
        rows = np.flatnonzero(h["partner_id"] == i)
        mine = attached[inv["partner_id"] == i]
        for k in rows[h["status"][rows] == "inactive"].tolist():
            nxt = rows[rows > k]
            back = changed[nxt[0]] if len(nxt) and h["status"][nxt[0]] == "active" else np.inf
            assert not ((mine >= changed[k]) & (mine < back)).any()
    assert (np.diff(attached) >= 0).all()  # chronological ids
    as_of = np.datetime64(SMALL.end.isoformat(), "s").astype(np.int64) + 86_400
    assert (attached < as_of).all()


def test_leads(small: Ecosystem) -> None:
    leads = small.tables["leads"]
    created, converted = ts(leads["created_at"]), ts(leads["converted_at"])
    is_conv = converted != NAT
    assert np.array_equal(is_conv, leads["status"] == "converted")
    assert np.array_equal(is_conv, leads["account_id"] >= 0)
    assert (converted[is_conv] > created[is_conv]).all()
    assert np.array_equal(leads["partner_id"] >= 0, leads["source"] == "partner_referral")
    assert set(leads["status"].tolist()) == {"open", "working", "converted", "disqualified"}
    names = small.tables["accounts"]["name"]
    assert (leads["company"][is_conv] == names[leads["account_id"][is_conv]]).all()


def test_revenue_and_lifecycle(small: Ecosystem) -> None:
    t = small.tables
    rev, o, a = t["revenue_months"], t["opportunities"], t["accounts"]
    month = rev["month"]
    assert (month.astype("datetime64[M]").astype("datetime64[s]") == month).all()
    assert (rev["mrr"] > 0).all()
    assert np.allclose(rev["mrr"], np.round(rev["mrr"], 2))
    keys = rev["account_id"] * 10_000 + month.astype("datetime64[M]").astype(np.int64)
    assert len(np.unique(keys)) == len(keys)
    # Revenue starts the month after the first won deal closes.
    first_win = np.full(len(a["id"]), np.iinfo(np.int64).max)
    np.minimum.at(first_win, o["account_id"][o["is_won"]], ts(o["closed_at"])[o["is_won"]])
    win_month = first_win[rev["account_id"]].astype("datetime64[s]").astype("datetime64[M]")
    assert (month.astype("datetime64[M]") > win_month).all()
    has_won = first_win < np.iinfo(np.int64).max
    life = a["lifecycle"]
    assert np.array_equal(has_won, life != "prospect")
    last_month = np.datetime64(SMALL.end.isoformat(), "M")
    billed_now = np.zeros(len(a["id"]), dtype=bool)
    billed_now[rev["account_id"][month.astype("datetime64[M]") == last_month]] = True
    assert not (billed_now & (life == "churned")).any()
    ever_billed = np.bincount(rev["account_id"], minlength=len(a["id"])) > 0
    assert (ever_billed[life == "churned"]).all()
    assert {"customer", "churned", "prospect"} == set(life.tolist())


def test_costs(small: Ecosystem) -> None:
    c = small.tables["costs"]
    assert set(c["category"].tolist()) == {
        "sales",
        "marketing",
        "partner_team",
        "mdf",
        "commissions",
        "tooling",
    }
    assert (c["amount"] > 0).all()
    with_partner = c["partner_id"] >= 0
    assert set(c["category"][with_partner].tolist()) == {"mdf", "commissions"}
    assert all(p.endswith("Program") for p in c["program"][with_partner].tolist())
    assert (c["program"][~with_partner] == "").all()
    months = np.unique(c["month"])
    assert len(months) == 58  # Jan 2022 .. Oct 2026
    total_cost = c["amount"].sum()
    total_revenue = small.tables["revenue_months"]["mrr"].sum()
    assert 0.1 < total_cost / total_revenue < 2.0


@pytest.mark.parametrize(
    "cfg",
    [
        SynthConfig(partners=1, accounts=3, opportunities=1),
        SynthConfig(partners=3, accounts=10, opportunities=50, seed=1),
        SynthConfig(
            partners=30,
            accounts=200,
            opportunities=1_500,
            start=dt.date(2026, 6, 15),
            end=dt.date(2026, 10, 31),
            currency="EUR",
        ),
    ],
    ids=["one-partner", "tiny", "short-range"],
)
def test_odd_configs_stay_consistent(cfg: SynthConfig) -> None:
    eco = generate(cfg)
    for cols in eco.tables.values():
        assert len({len(c) for c in cols.values()}) == 1
    o, inv = eco.tables["opportunities"], eco.tables["involvements"]
    closed = o["is_closed"]
    assert (ts(o["closed_at"])[closed] > ts(o["created_at"])[closed]).all()
    assert (ts(o["created_at"]) >= ts(np.datetime64(cfg.start.isoformat(), "s"))).all()
    primaries = np.bincount(inv["opportunity_id"][inv["is_primary"]], minlength=len(o["id"]))
    involved = np.bincount(inv["opportunity_id"], minlength=len(o["id"])) > 0
    assert np.array_equal(primaries, involved.astype(int))
    assert set(o["currency"].tolist()) <= {cfg.currency}
    assert sum(eco.truth["attribution"]["counts"].values()) == cfg.opportunities


def test_synth_never_imports_django() -> None:
    code = "import sys, mutualist.synth; sys.exit(any(m.startswith('django') for m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(Path(mutualist.synth.__file__).parents[2])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0


def test_a_partner_holds_each_role_on_a_deal_once(moderate: Ecosystem) -> None:
    # The database has a unique (opportunity, partner, role) constraint; the medium demo once
    # failed to load because a helper partner was re-added after close in the same role.
    inv = moderate.tables["involvements"]
    keys = list(
        zip(
            inv["opportunity_id"].tolist(),
            inv["partner_id"].tolist(),
            inv["role"].tolist(),
            strict=True,
        )
    )
    assert len(keys) == len(set(keys))
    primaries = inv["opportunity_id"][inv["is_primary"]].tolist()
    assert len(primaries) == len(set(primaries))
