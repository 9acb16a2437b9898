"""Customer / prospect accounts of the vendor's CRM.

Accounts are built in two passes: the profile (name, country, size band) first, because
opportunities are drawn per size band; creation dates and lifecycle last, because they
follow from the opportunities, leads and revenue generated in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import effects as fx
from . import names as nm
from .config import INDUSTRIES, LIFECYCLES, SIZE_BANDS, SynthConfig
from .ids import ACCOUNT_PREFIX, salesforce_ids
from .timeline import DAY, YEAR, Array, Clock, categorical, rng_for, to_datetime


@dataclass
class AccountBase:
    name: Array
    domain: Array
    country: Array  # index into names.COUNTRIES
    industry: Array  # index into INDUSTRIES
    band: Array  # index into SIZE_BANDS
    activity: Array  # relative propensity to have opportunities (lognormal)


def build_account_base(cfg: SynthConfig) -> AccountBase:
    rng = rng_for(cfg.seed, "accounts")
    n = cfg.accounts
    names = nm.account_names(rng, n)
    country = nm.draw_countries(rng, n, partner=False)
    band = rng.choice(len(SIZE_BANDS), size=n, p=np.array(fx.ACCOUNT_BAND_SHARE))
    for b in range(len(SIZE_BANDS)):  # every band needs at least one account to draw from
        if not (band == b).any():
            band[b] = b
    return AccountBase(
        name=names.name,
        domain=nm.domains(names.domain_label, country),
        country=country,
        industry=names.industry,
        band=band,
        activity=rng.lognormal(0.0, 1.0, n),
    )


def finalize_accounts(
    cfg: SynthConfig,
    clock: Clock,
    base: AccountBase,
    opp_account: Array,
    opp_created: Array,
    lead_account: Array,
    lead_converted: Array,
    lifecycle: Array,
) -> dict[str, Array]:
    """The accounts table. ``created_at`` precedes the account's first opportunity and its
    first converted lead; accounts with neither were created at a random earlier date."""
    rng = rng_for(cfg.seed, "accounts.created")
    n = cfg.accounts
    created = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    # Opportunities are sorted by creation time, so np.unique's first index is the earliest.
    accs, first = np.unique(opp_account, return_index=True)
    created[accs] = opp_created[first] - (rng.random(len(accs)) * 45 * DAY).astype(np.int64)
    converted = lead_account >= 0
    np.minimum.at(created, lead_account[converted], lead_converted[converted])
    never = created == np.iinfo(np.int64).max
    lo, hi = clock.start_ts - 2 * YEAR, clock.as_of_ts - DAY
    created[never] = lo + (rng.random(int(never.sum())) * (hi - lo)).astype(np.int64)
    ids = np.arange(n, dtype=np.int64)
    return {
        "id": ids,
        "external_id": salesforce_ids(ACCOUNT_PREFIX, ids + 1),
        "name": base.name,
        "domain": base.domain,
        "country": categorical(nm.COUNTRY_CODES, base.country),
        "industry": categorical(INDUSTRIES, base.industry),
        "size_band": categorical(SIZE_BANDS, base.band),
        "lifecycle": categorical(LIFECYCLES, lifecycle),
        "created_at": to_datetime(created),
    }
