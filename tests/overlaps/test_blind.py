"""Blind mode: keyed hashes find the same exact matches as the open mode."""

from __future__ import annotations

import csv
import io

import pytest

from mutualist.lib.errors import ValidationFailed
from mutualist.matching.blind import blind_tokens
from mutualist.matching.records import accounts_from_rows
from mutualist.overlaps import actions
from mutualist.overlaps.models import AccountList, PartnerAccount
from tests.overlaps.conftest import Mapped, acme_csv, upload


def tokens_csv(m: Mapped, key: bytes) -> bytes:
    rows = list(csv.DictReader(io.StringIO(acme_csv(m).decode())))
    status = {r["id"]: r["status"] for r in rows}
    table = blind_tokens(accounts_from_rows(rows), key)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", "kind", "token"])
    for t in table.to_pylist():
        writer.writerow([t["id"], status[t["id"]], t["kind"], t["token"]])
    return out.getvalue().encode()


def test_blind_mode_finds_the_same_exact_matches_as_open_mode(mapped: Mapped) -> None:
    open_links = {
        a.external_id: a.company_id
        for a in PartnerAccount.objects.filter(partner=mapped.world.acme, confidence="exact")
    }
    partnership = actions.set_settings(mapped.world.alice, mapped.world.acme, mode="blind")
    assert (
        PartnerAccount.objects.filter(partner=mapped.world.acme).count() == 0
    )  # the open list is void
    key = bytes.fromhex(partnership.blind_key)
    result = upload(mapped, tokens_csv(mapped, key), name="tokens.csv")
    assert result.status == AccountList.Status.SUCCEEDED, result.message
    blind = PartnerAccount.objects.filter(partner=mapped.world.acme)
    assert blind.count() == 20
    assert set(blind.values_list("name", flat=True)) == {""}  # no names stored
    blind_links = {a.external_id: a.company_id for a in blind if a.confidence == "exact"}
    assert blind_links == open_links
    assert len(open_links) >= 12


def test_tokens_under_another_key_match_nothing_and_rotation_voids_the_list(mapped: Mapped) -> None:
    partnership = actions.set_settings(mapped.world.alice, mapped.world.acme, mode="blind")
    wrong = upload(mapped, tokens_csv(mapped, b"x" * 32), name="tokens.csv")
    assert wrong.status == AccountList.Status.SUCCEEDED and wrong.matched_count == 0
    good = upload(
        mapped, tokens_csv(mapped, bytes.fromhex(partnership.blind_key)), name="tokens.csv"
    )
    assert good.matched_count >= 12
    rotated = actions.rotate_key(mapped.world.acme_admin, mapped.world.acme)
    assert rotated.blind_key != partnership.blind_key
    assert PartnerAccount.objects.filter(partner=mapped.world.acme).count() == 0


def test_a_names_file_in_blind_mode_is_refused_whole(mapped: Mapped) -> None:
    actions.set_settings(mapped.world.alice, mapped.world.acme, mode="blind")
    failed = upload(mapped, acme_csv(mapped))
    assert failed.status == AccountList.Status.FAILED
    assert "kind" in failed.message and "token" in failed.message


def test_only_blind_partnerships_rotate_keys(mapped: Mapped) -> None:
    with pytest.raises(ValidationFailed):
        actions.rotate_key(mapped.world.alice, mapped.world.acme)
