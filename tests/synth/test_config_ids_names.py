from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from mutualist.synth import SIZES, SynthConfig
from mutualist.synth import names as nm
from mutualist.synth.ids import (
    ACCOUNT_PREFIX,
    PARTNER_RECORD_OFFSET,
    salesforce_id_checksum,
    salesforce_ids,
)


def test_sizes_match_the_brief() -> None:
    assert (SIZES["small"].partners, SIZES["small"].accounts, SIZES["small"].opportunities) == (
        60,
        2_000,
        8_000,
    )
    assert (SIZES["medium"].partners, SIZES["medium"].accounts) == (300, 40_000)
    assert SIZES["medium"].opportunities == 200_000
    assert (SIZES["large"].partners, SIZES["large"].accounts) == (1_000, 150_000)
    assert SIZES["large"].opportunities == 1_000_000
    assert SynthConfig() == SIZES["small"]
    assert SynthConfig().start == dt.date(2022, 1, 1)
    assert SynthConfig().end == dt.date(2026, 10, 31)


def test_config_validates_and_serialises() -> None:
    with pytest.raises(ValueError):
        SynthConfig(accounts=2)
    with pytest.raises(ValueError):
        SynthConfig(end=dt.date(2022, 2, 1))
    assert SynthConfig().to_json() == {
        "partners": 60,
        "accounts": 2000,
        "opportunities": 8000,
        "seed": 7,
        "start": "2022-01-01",
        "end": "2026-10-31",
        "alliance_managers": 4,
        "currency": "USD",
    }


def test_checksum_matches_a_real_salesforce_id() -> None:
    # From the Salesforce sample export in shared/data (Account "Sample Account ...").
    assert salesforce_id_checksum("001Ec00000FzlUd") == "001Ec00000FzlUdIAJ"


def test_vectorised_ids_match_the_scalar_reference() -> None:
    numbers = np.array([0, 1, 61, 62, 3843, 916_132_831, PARTNER_RECORD_OFFSET + 7])
    ids = salesforce_ids(ACCOUNT_PREFIX, numbers).tolist()
    assert all(len(i) == 18 and i.startswith("001") for i in ids)
    assert ids == [salesforce_id_checksum(i[:15]) for i in ids]
    assert len(set(ids)) == len(ids)
    with pytest.raises(ValueError):
        salesforce_ids("01", numbers)


def test_word_stems_concatenate_uniquely() -> None:
    # Unique (head, tail, noun) cells give unique names only if head+tail is injective.
    for heads, tails in (
        (nm._ACCOUNT_HEADS, nm._ACCOUNT_TAILS),
        (nm._PARTNER_HEADS, nm._PARTNER_TAILS),
    ):
        stems = {(h + t).lower() for h in heads for t in tails}
        assert len(stems) == len(heads) * len(tails)


def test_names_stay_unique_beyond_the_word_space() -> None:
    rng = np.random.default_rng(0)
    space = len(nm._PARTNER_HEADS) * len(nm._PARTNER_TAILS) * len(nm._PARTNER_WORDS)
    names = nm.partner_names(rng, space + 50)
    assert len(set(names.name.tolist())) == space + 50
    assert len(set(names.domain_label.tolist())) == space + 50
    accounts = nm.account_names(rng, 5_000)
    assert len(set(accounts.name.tolist())) == 5_000
    assert all(d == d.lower() and " " not in d for d in accounts.domain_label.tolist())
