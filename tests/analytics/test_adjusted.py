"""Adjusted partner comparisons for retention, cycle time and lead conversion.

Tables with a planted confounder (partners concentrated in a slow / high-churn segment,
while within every segment partners do better) must give a naive comparison of one sign,
an adjusted one of the other, and a Simpson warning on both. Values are checked by hand
or against statsmodels called directly on the same rows; thin data must give "not enough
data" with a reason. The table-based tests run on every engine (``make_tables``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.duration.hazard_regression import PHReg

from mutualist import analytics as an
from mutualist.analytics import stats
from mutualist.analytics.survival import SurvivalCell, cox_hazard_ratio
from mutualist.synth import Ecosystem

from .conftest import MakeTables, Tables, day, opp

PERIOD = an.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
AS_OF = "2025-12-31"
START_MONTH, END_MONTH = "2024-12-01", "2025-12-01"  # the retention window of PERIOD
Z = stats.z_value()


def _account(aid: int, band: str, industry: str = "retail") -> dict[str, Any]:
    return {
        "account_id": aid,
        "name": f"acc{aid}",
        "country": "US",
        "industry": industry,
        "size_band": band,
        "lifecycle": "customer",
    }


def _mrr(aid: int, month: str, mrr: float) -> dict[str, Any]:
    return {"account_id": aid, "month": day(month), "mrr": mrr, "currency": "USD"}


# --- retention ------------------------------------------------------------------------------

# Per size band and per starting-MRR tertile (every third of a band is identical, so the
# within-band tertiles are the same stratum three times): (attached, attached churned,
# unattached, unattached churned). Enterprise churns more and holds most attached accounts;
# within each band attached accounts churn 25 points less.
THIRD = {"enterprise": (16, 8, 4, 3), "smb": (4, 0, 16, 4)}
START_MRR = {"enterprise": 1000.0, "smb": 100.0}


@dataclasses.dataclass
class Cohort:
    band: list[str]
    attached: list[bool]
    churned: list[bool]
    start: list[float]


def _cohort() -> Cohort:
    c = Cohort([], [], [], [])
    for band, (a, ac, u, uc) in THIRD.items():
        for _ in range(3):  # thirds: equal MRR, so ntile cuts by account id, a block each
            for attached, n, churn in ((True, a, ac), (False, u, uc)):
                for i in range(n):
                    c.band.append(band)
                    c.attached.append(attached)
                    c.churned.append(i < churn)
                    c.start.append(START_MRR[band])
    return c


def _retention_tables(make_tables: MakeTables, c: Cohort) -> Tables:
    accounts, revenue, deals = [], [], []
    for aid, band in enumerate(c.band, start=1):
        accounts.append(_account(aid, band))
        revenue.append(_mrr(aid, START_MONTH, c.start[aid - 1]))
        if not c.churned[aid - 1]:
            revenue.append(_mrr(aid, END_MONTH, c.start[aid - 1]))
        if c.attached[aid - 1]:  # a partner-sourced deal before the cohort start
            deals.append(opp(aid, "2024-06-01", account=aid, lead_source="Partner Referral"))
    return make_tables(accounts=accounts, revenue_months=revenue, opportunities=deals)


def _churn_expected() -> tuple[float, float]:
    """Hand computation: within every stratum the difference is -0.25; the Wald variance
    sums w^2 (p1 q1 / n1 + p0 q0 / n0) over the six strata, w = attached share."""
    n1 = sum(3 * a for a, _, _, _ in THIRD.values())
    var = 0.0
    for a, ac, u, uc in THIRD.values():
        p1, p0 = ac / a, uc / u
        var += 3 * (a / n1) ** 2 * (p1 * (1 - p1) / a + p0 * (1 - p0) / u)
    return -0.25, var


def test_logo_churn_adjusted_reverses_the_naive_sign(make_tables: MakeTables) -> None:
    res = an.retention(_retention_tables(make_tables, _cohort()), PERIOD, AS_OF)
    churn = res["logo_churn"]
    assert churn["stratified_by"] == ["size_band", "start_mrr_tertile"]
    cmp = churn["partner_attached_vs_unattached"]
    naive, adjusted = cmp["difference"], cmp["adjusted"]
    # Naive: 24/60 attached vs 21/60 unattached churned, attached look worse.
    assert naive.value == pytest.approx(24 / 60 - 21 / 60)
    value, var = _churn_expected()
    assert adjusted.value == pytest.approx(value)
    assert (adjusted.low, adjusted.high) == pytest.approx(
        (value - Z * math.sqrt(var), value + Z * math.sqrt(var))
    )
    for est in (naive, adjusted):
        assert "Simpson's paradox" in (est.warning or "")
        assert "observational" in (est.note or "")


def test_churn_odds_ratio_matches_statsmodels_logit(make_tables: MakeTables) -> None:
    c = _cohort()
    res = an.retention(_retention_tables(make_tables, c), PERIOD, AS_OF)
    got = res["logo_churn"]["partner_attached_vs_unattached"]["adjusted_odds_ratio"]
    # The same model on one row per account; tertiles as the engine cuts them (equal MRR
    # within a band, so by account id: each band's rows in thirds).
    tertile = []
    for band in THIRD:
        n = c.band.count(band)
        tertile += [1 + i * 3 // n for i in range(n)]
    rows = pd.DataFrame(
        {
            "churned": np.array(c.churned, dtype=float),
            "attached": np.array(c.attached, dtype=float),
            "band": c.band,
            "tertile": tertile,
        }
    )
    ref = smf.logit("churned ~ attached + C(band) + C(tertile)", rows).fit(disp=0)
    beta, se = ref.params["attached"], ref.bse["attached"]
    assert got.value == pytest.approx(math.exp(beta), rel=1e-6)
    assert (got.low, got.high) == pytest.approx(
        (math.exp(beta - Z * se), math.exp(beta + Z * se)), rel=1e-6
    )
    assert got.value < 1  # attached accounts have lower odds of churning within strata
    assert got.count == sum(c.churned) and got.n == len(c.churned)


def _delta_ratio(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Ratio of sums and its delta-method variance, straight from per-account values."""
    r = y.sum() / x.sum()
    n = len(x)
    return r, float(((y - r * x) ** 2).sum() / (n * (n - 1)) / x.mean() ** 2)


def test_nrr_adjusted_is_the_mrr_weighted_within_stratum_difference(
    make_tables: MakeTables,
) -> None:
    c = _cohort()
    res = an.retention(_retention_tables(make_tables, c), PERIOD, AS_OF)
    got = res["nrr"]["partner_attached_vs_unattached"]["adjusted"]
    # Hand computation over the six strata (band x third), weights = attached start MRR.
    start = np.array(c.start)
    end = np.where(np.array(c.churned), 0.0, start)
    attached = np.array(c.attached)
    band = np.array(c.band)
    third = np.concatenate([np.repeat([0, 1, 2], c.band.count(b) // 3) for b in THIRD])
    value = var = 0.0
    total = start[attached].sum()
    for b in THIRD:
        for t in range(3):
            s = (band == b) & (third == t)
            r1, v1 = _delta_ratio(end[s & attached], start[s & attached])
            r0, v0 = _delta_ratio(end[s & ~attached], start[s & ~attached])
            w = start[s & attached].sum() / total
            value, var = value + w * (r1 - r0), var + w * w * (v1 + v0)
    assert got.value == pytest.approx(value) and got.value == pytest.approx(0.25)
    assert (got.low, got.high) == pytest.approx(
        (value - Z * math.sqrt(var), value + Z * math.sqrt(var))
    )
    assert "observational" in (got.note or "")
    assert got.warning is None  # naive and adjusted agree in sign here


def test_thin_retention_data_is_not_enough_data(make_tables: MakeTables) -> None:
    # Eight accounts: the attached ones all enterprise, the unattached all smb.
    c = Cohort(
        band=["enterprise"] * 4 + ["smb"] * 4,
        attached=[True] * 4 + [False] * 4,
        churned=[True, False, False, False, True, True, False, False],
        start=[1000.0] * 4 + [100.0] * 4,
    )
    res = an.retention(_retention_tables(make_tables, c), PERIOD, AS_OF)
    for metric in ("nrr", "grr", "logo_churn"):
        cmp = res[metric]["partner_attached_vs_unattached"]
        assert cmp["difference"].value is not None  # the naive one still exists
        assert cmp["adjusted"].value is None
        assert cmp["adjusted"].note.startswith("not enough data")
    ratio = res["logo_churn"]["partner_attached_vs_unattached"]["adjusted_odds_ratio"]
    assert ratio.value is None
    assert "not enough data: " in ratio.note and "events" in ratio.note


# --- cycle time -----------------------------------------------------------------------------

# Days to close per (band, partner?): enterprise deals are slow and mostly partner deals;
# within each band partner deals close 20 days sooner. Each list is one deal per entry;
# None = still open at the as-of date (censored).
CYCLES: dict[tuple[str, bool], list[int | None]] = {
    ("enterprise", True): [*range(80, 160, 2), None, None, None, None],
    ("enterprise", False): [*range(100, 180, 8), None],
    ("smb", True): [*range(10, 50, 4), None],
    ("smb", False): [*range(30, 70), None, None, None, None],
}
CREATED = dt.datetime(2025, 2, 1)


def _cycle_tables(make_tables: MakeTables) -> tuple[Tables, list[tuple[float, bool, bool, str]]]:
    """The tables, and per deal (days, closed, partner, stratum) for the reference fit."""
    accounts = [_account(1, "enterprise"), _account(2, "smb", "media")]
    deals, ref, oid = [], [], 0
    for (band, partner), cycle in CYCLES.items():
        for days in cycle:
            oid += 1
            closed = None if days is None else (CREATED + dt.timedelta(days=days)).isoformat()
            source = "Partner Referral" if partner else "Web"
            account = 1 if band == "enterprise" else 2
            won = oid % 2 == 0
            deals.append(
                opp(oid, CREATED.isoformat(), closed, won, account=account, lead_source=source)
            )
            end = (dt.datetime(2025, 12, 31) - CREATED).days if days is None else days
            stratum = "enterprise|retail" if band == "enterprise" else "smb|media"
            ref.append((float(end), days is not None, partner, stratum))
    return make_tables(accounts=accounts, opportunities=deals), ref


def _phreg(ref: list[tuple[float, bool, bool, str]], stratified: bool) -> tuple[float, float]:
    time = np.array([r[0] for r in ref])
    status = np.array([float(r[1]) for r in ref])
    exog = np.array([[float(r[2])] for r in ref])
    strata = np.array([r[3] for r in ref]) if stratified else None
    res = PHReg(time, exog, status=status, strata=strata, ties="efron").fit()
    return float(res.params[0]), float(res.bse[0])


def _assert_hr(est: an.Estimate, beta: float, se: float) -> None:
    assert est.value == pytest.approx(math.exp(beta), rel=1e-9)
    assert (est.low, est.high) == pytest.approx(
        (math.exp(beta - Z * se), math.exp(beta + Z * se)), rel=1e-9
    )


def test_cycle_hazard_ratios_reverse_and_match_phreg(make_tables: MakeTables) -> None:
    tables, ref = _cycle_tables(make_tables)
    res = an.cycle_days(tables, PERIOD, AS_OF)
    cmp = res["partner_vs_unattributed"]
    naive, adjusted = cmp["hazard_ratio"], cmp["adjusted_hazard_ratio"]
    _assert_hr(naive, *_phreg(ref, stratified=False))
    _assert_hr(adjusted, *_phreg(ref, stratified=True))
    # Naive: partner deals look slower (HR < 1); within each band they close sooner.
    assert naive.high < 1 < adjusted.low
    assert res["partner"]["median"].value > res["unattributed"]["median"].value
    for est in (naive, adjusted):
        assert "Simpson's paradox" in (est.warning or "")
        assert "observational" in (est.note or "")
    assert adjusted.n == len(ref) and adjusted.count == sum(r[1] for r in ref)
    assert res["stratified_by"] == ["size_band", "industry"]


def test_cycle_with_too_few_partner_closes_is_not_enough_data(make_tables: MakeTables) -> None:
    deals = [opp(i, "2025-02-01", f"2025-03-{i + 1:02d}", account=2) for i in range(1, 21)]
    deals += [
        opp(100 + i, "2025-02-01", "2025-04-01", account=1, lead_source="Partner Referral")
        for i in range(3)
    ]
    res = an.cycle_days(make_tables(opportunities=deals), PERIOD, AS_OF)
    for key in ("hazard_ratio", "adjusted_hazard_ratio"):
        est = res["partner_vs_unattributed"][key]
        assert est.value is None
        assert est.note.startswith("not enough data: partner: 3 events")


def test_cox_separation_is_not_enough_data() -> None:
    # Every exposed subject has the event before any control: the likelihood keeps
    # rising with the coefficient, so there is no finite estimate to report.
    cells = [SurvivalCell(True, "", float(d), True, 1) for d in range(1, 9)]
    cells += [SurvivalCell(False, "", float(d), True, 1) for d in range(20, 30)]
    est = cox_hazard_ratio(cells, stratified=False)
    assert est.value is None
    assert est.note.startswith("not enough data: ")
    assert "converge" in est.note or "separation" in est.note


def test_cox_on_aggregated_cells_equals_phreg_on_rows() -> None:
    rng = np.random.default_rng(3)
    n = 400
    exposed = rng.random(n) < 0.4
    stratum = rng.choice(["a", "b", "c"], n)
    time = np.round(rng.exponential(30, n) * np.where(exposed, 0.7, 1.0))
    event = rng.random(n) < 0.8
    counts: dict[tuple[bool, str, float, bool], int] = {}
    for key in zip(exposed.tolist(), stratum.tolist(), time.tolist(), event.tolist(), strict=True):
        counts[key] = counts.get(key, 0) + 1
    cells = [SurvivalCell(*k, count=v) for k, v in counts.items()]
    est = cox_hazard_ratio(cells, stratified=True)
    exog = exposed[:, None].astype(float)
    ref = PHReg(time, exog, status=event.astype(float), strata=stratum, ties="efron").fit()
    _assert_hr(est, float(ref.params[0]), float(ref.bse[0]))


def test_synthetic_cycle_effect_is_recovered(moderate_eco: Ecosystem, moderate: Tables) -> None:
    """The generator makes partner deals 20 % shorter within a size band and puts them on
    large, slow deals: the naive hazard ratio says slower, the adjusted one faster."""
    end = moderate_eco.config.end
    res = an.cycle_days(moderate, an.Period.trailing_year(end), end)
    cmp = res["partner_vs_unattributed"]
    assert cmp["hazard_ratio"].high < 1 < cmp["adjusted_hazard_ratio"].low
    assert "Simpson's paradox" in cmp["adjusted_hazard_ratio"].warning


# --- lead conversion ------------------------------------------------------------------------


def _lead(lid: int, source: str, days: int | None) -> dict[str, Any]:
    created = dt.datetime(2025, 3, 1)
    return {
        "lead_id": lid,
        "created_at": created,
        "converted_at": None if days is None else created + dt.timedelta(days=days),
        "status": "open" if days is None else "converted",
        "source": source,
        "partner_id": 7 if source == "partner_referral" else None,
    }


def test_lead_hazard_ratio_matches_phreg_and_says_no_adjustment(make_tables: MakeTables) -> None:
    plan = {
        "partner_referral": [*range(5, 65, 3), *[None] * 20],
        "cold_outbound": [*range(20, 120, 10), *[None] * 50],
    }
    leads, ref = [], []
    censor = (dt.datetime(2025, 12, 31) - dt.datetime(2025, 3, 1)).days
    for source, days_list in plan.items():
        for days in days_list:
            leads.append(_lead(len(leads) + 1, source, days))
            time = float(censor if days is None else days)
            ref.append((time, days is not None, source == "partner_referral", ""))
    res = an.lead_conversion(make_tables(leads=leads), PERIOD, AS_OF)
    cmp = res["partner_referral_vs_cold_outbound"]
    _assert_hr(cmp["hazard_ratio"], *_phreg(ref, stratified=False))
    assert cmp["hazard_ratio"].low > 1  # partner referrals convert sooner
    assert "observational" in cmp["hazard_ratio"].note
    assert "observational" in cmp["conversion_rate_difference"].note
    adjusted = cmp["adjusted_hazard_ratio"]
    assert adjusted.value is None and adjusted.n == len(ref)
    assert adjusted.note.startswith("not enough data: no adjustment possible")


def test_thin_leads_are_not_enough_data(make_tables: MakeTables) -> None:
    leads = [_lead(1, "partner_referral", 10), _lead(2, "cold_outbound", 40)]
    leads += [_lead(3 + i, "cold_outbound", None) for i in range(10)]
    res = an.lead_conversion(make_tables(leads=leads), PERIOD, AS_OF)
    est = res["partner_referral_vs_cold_outbound"]["hazard_ratio"]
    assert est.value is None and est.note.startswith("not enough data: partner_referral: 1 events")


# --- the helpers on their own ---------------------------------------------------------------


def test_simpson_warning_uses_the_null_value() -> None:
    def est(v: float) -> an.Estimate:
        return an.Estimate(v)

    assert stats.simpson_warning(est(0.8), est(1.2), "x-adjusted", null=1.0, what="ratios")
    assert stats.simpson_warning(est(0.8), est(0.9), null=1.0) is None
    assert stats.simpson_warning(est(0.1), est(-0.2)) == (
        "Simpson's paradox: the naive and the size-band-adjusted differences point in "
        "opposite directions; the deal mix drives the naive number"
    )
    assert stats.simpson_warning(est(0.1), an.Estimate.missing()) is None


def test_standardized_ratio_difference_by_hand() -> None:
    # Stratum a: exposed 2 units (x=10, y=12), (x=30, y=30); control (10, 5), (10, 10).
    # Stratum b: exposed (20, 20), (20, 30); control (40, 40), (60, 50).
    def sums(pairs: list[tuple[float, float]]) -> stats.RatioSums:
        return stats.RatioSums(
            len(pairs),
            sum(y for _, y in pairs),
            sum(x for x, _ in pairs),
            sum(y * y for _, y in pairs),
            sum(x * x for x, _ in pairs),
            sum(x * y for x, y in pairs),
        )

    a1, a0 = [(10.0, 12.0), (30.0, 30.0)], [(10.0, 5.0), (10.0, 10.0)]
    b1, b0 = [(20.0, 20.0), (20.0, 30.0)], [(40.0, 40.0), (60.0, 50.0)]
    strata = [
        stats.RatioStratum("a", sums(a1), sums(a0)),
        stats.RatioStratum("b", sums(b1), sums(b0)),
    ]
    est = stats.standardized_ratio_difference(strata)
    # Weights: exposed denominators 40 and 40 -> 1/2 each. Ratios: a 42/40 - 15/20 = 0.3,
    # b 50/40 - 90/100 = 0.35 -> 0.325.
    assert est.value == pytest.approx(0.325)
    var = sum(
        0.25 * (_delta_ratio(*_yx(e))[1] + _delta_ratio(*_yx(c))[1])
        for e, c in ((a1, a0), (b1, b0))
    )
    assert est.high - est.value == pytest.approx(Z * math.sqrt(var))
    # A third stratum with a single exposed unit cannot give a variance: left out, named.
    thin = stats.RatioStratum("c", sums([(5.0, 5.0)]), sums(b0))
    assert "['c']" in (stats.standardized_ratio_difference([*strata, thin]).note or "")
    # ... and if it held most of the exposed denominator, there is no honest answer.
    big = stats.RatioStratum("c", sums([(500.0, 5.0)]), sums(b0))
    assert stats.standardized_ratio_difference([*strata, big]).value is None


def _yx(pairs: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([y for _, y in pairs]), np.array([x for x, _ in pairs])


def test_logistic_drops_constant_levels_without_changing_the_estimate() -> None:
    cells = [
        stats.BinomialCell(True, ("a",), 12, 40),
        stats.BinomialCell(False, ("a",), 20, 40),
        stats.BinomialCell(True, ("b",), 6, 30),
        stats.BinomialCell(False, ("b",), 15, 35),
    ]
    base = stats.logistic_odds_ratio(cells, ("seg",))
    # A level where nobody churned: its coefficient would run off to -infinity.
    extra = [
        *cells,
        stats.BinomialCell(True, ("c",), 0, 9),
        stats.BinomialCell(False, ("c",), 0, 4),
    ]
    est = stats.logistic_odds_ratio(extra, ("seg",))
    assert est.value == pytest.approx(base.value) and est.low == pytest.approx(base.low)
    assert "seg=c" in (est.note or "")
