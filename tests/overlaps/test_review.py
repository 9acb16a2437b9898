"""The review queue of medium-confidence links: who sees and decides, what a decision does to
the overlap, and that decisions hold when the list is uploaded again."""

from __future__ import annotations

from typing import Any

import pytest

from mutualist.audit.models import AuditEntry
from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.overlaps import resolution, review
from mutualist.overlaps.models import LinkReview, PartnerAccount
from mutualist.overlaps.resolution import Link
from tests.overlaps.conftest import Mapped, acme_csv, upload


def make_medium(m: Mapped, external_id: str, customer: int) -> PartnerAccount:
    """Acme's record linked at medium confidence to our customer's company (as the matcher
    does for similar names without a shared domain)."""
    record = PartnerAccount.objects.get(partner=m.world.acme, external_id=external_id)
    record.company_id = m.customers[customer].resolution.company_id
    record.confidence, record.reason = "medium", "similar name, same country"
    record.save()
    return record


def test_confirming_counts_the_link_and_rejecting_removes_it(mapped: Mapped) -> None:
    hollowmere = make_medium(mapped, "D0", 5)
    ivywood = make_medium(mapped, "D1", 6)
    assert list(review.waiting(mapped.world.acme)) == [hollowmere, ivywood]
    confirmed = review.decide(mapped.world.alice, mapped.world.acme, hollowmere.pk, "confirmed")
    assert confirmed.confidence == "high"
    assert confirmed.reason == "confirmed by alice; similar name, same country"
    rejected = review.decide(mapped.world.cpo, mapped.world.acme, ivywood.pk, "rejected")
    assert (rejected.company_id, rejected.confidence) == (None, "")
    assert rejected.reason == f"rejected by cpo: not {mapped.customers[6].name}"
    assert list(review.waiting(mapped.world.acme)) == []
    assert AuditEntry.objects.filter(action__startswith="mapping.link.").count() == 2
    with pytest.raises(ValidationFailed, match="not waiting for review"):
        review.decide(mapped.world.alice, mapped.world.acme, ivywood.pk, "confirmed")


def test_only_the_vendor_sides_managers_decide(mapped: Mapped) -> None:
    record = make_medium(mapped, "D0", 5)
    for user in (mapped.world.ann, mapped.world.bob):  # analyst; another partner's owner
        with pytest.raises(NotAllowed):
            review.decide(user, mapped.world.acme, record.pk, "confirmed")
    with pytest.raises(ValidationFailed, match="must be one of: confirmed, rejected"):
        review.decide(mapped.world.alice, mapped.world.acme, record.pk, "maybe")
    assert LinkReview.objects.count() == 0


def test_decisions_hold_on_the_next_upload(mapped: Mapped, monkeypatch: Any) -> None:
    companies = [mapped.customers[i].resolution.company_id for i in (5, 6, 7)]
    review.decide(
        mapped.world.alice, mapped.world.acme, make_medium(mapped, "D0", 5).pk, "confirmed"
    )
    review.decide(
        mapped.world.alice, mapped.world.acme, make_medium(mapped, "D1", 6).pk, "rejected"
    )
    review.decide(
        mapped.world.alice, mapped.world.acme, make_medium(mapped, "D2", 7).pk, "rejected"
    )
    fresh = {
        "D0": Link(companies[0], "medium", "similar name"),
        "D1": Link(companies[1], "medium", "similar name"),
        "D2": Link(companies[2], "exact", "same domain"),  # exact evidence outranks a rejection
        "D3": Link(companies[0], "medium", "similar name"),  # undecided: waits again
    }
    monkeypatch.setattr(resolution, "match_to_registry", lambda *a, **k: dict(fresh))
    assert upload(mapped, acme_csv(mapped)).status == "succeeded"
    by_id = {
        a.external_id: (a.company_id, a.confidence)
        for a in PartnerAccount.objects.filter(partner=mapped.world.acme)
    }
    assert by_id["D0"] == (companies[0], "high")
    assert by_id["D1"] == (None, "")
    assert by_id["D2"] == (companies[2], "exact")
    assert by_id["D3"] == (companies[0], "medium")


def test_the_page_and_api_are_the_vendors(mapped: Mapped) -> None:
    record = make_medium(mapped, "D0", 5)
    w = mapped.world
    page = w.client_for(w.alice).get(f"/mapping/{w.acme.pk}/review/").content.decode()
    assert "Hollowmere GmbH" in page and "Same company" in page
    assert "Same company" not in (
        w.client_for(w.ann).get(f"/mapping/{w.acme.pk}/review/").content.decode()
    )
    download = w.client_for(w.ann).get(f"/mapping/{w.acme.pk}/review/?format=csv")
    assert download.content.decode().splitlines()[1].startswith("D0,Hollowmere GmbH,")
    for outsider in (w.acme_admin, w.globex_user):
        assert w.client_for(outsider).get(f"/mapping/{w.acme.pk}/review/").status_code == 404
    listed = w.client_for(w.ann).get(f"/api/v1/mapping/partners/{w.acme.pk}/review").json()
    assert [r["external_id"] for r in listed["items"]] == ["D0"]
    response = w.client_for(w.alice).post(
        f"/mapping/{w.acme.pk}/review/{record.pk}/", {"decision": "rejected"}
    )
    assert response.status_code == 302
    assert PartnerAccount.objects.get(pk=record.pk).company_id is None
