"""Sharing-rule enforcement for every level, and the minimum-count suppression."""

from __future__ import annotations

import pytest
from django.http import Http404

from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.overlaps import actions, policy
from mutualist.overlaps.choices import Level, Side
from tests.overlaps.conftest import Mapped, opt_in_both


def labels(m: Mapped, viewer: Side) -> dict[tuple[str, str], str]:
    matrix = policy.matrix_for(m.partnership, viewer)
    return {(c.mine.key, c.theirs.key): c.label for c in matrix.cells.values()}


def test_nothing_is_shown_until_both_sides_opt_in(mapped: Mapped) -> None:
    actions.set_opt_in(mapped.world.alice, mapped.world.acme, Side.VENDOR, True)
    matrix = policy.matrix_for(mapped.partnership, Side.VENDOR)
    assert matrix.state == "waiting_partner"
    assert matrix.columns == [] and matrix.cells == {}
    with pytest.raises(NotAllowed):
        policy.cell_view(
            mapped.partnership,
            Side.VENDOR,
            mapped.vendor["customers"].pk,
            mapped.acme["customers"].pk,
        )


def test_counts_only_by_default_with_small_counts_suppressed(mapped: Mapped) -> None:
    opt_in_both(mapped)
    seen = labels(mapped, Side.VENDOR)
    assert seen[("customers", "customers")] == "8"
    assert seen[("open-opportunities", "customers")] == "fewer than 5"  # 4 really
    assert (
        seen[("prospects", "customers")] == "fewer than 5"
    )  # 0 really: absence looks like presence
    # Acme's prospects (4 accounts) and open opportunities (0) are below the minimum: no counts.
    assert seen[("prospects", "prospects")] == "not shown"
    assert seen[("customers", "open-opportunities")] == "not shown"
    matrix = policy.matrix_for(mapped.partnership, Side.VENDOR)
    sizes = {c.population.key: c.size_label for c in matrix.columns}
    assert sizes == {
        "customers": "16",
        "open-opportunities": "fewer than 5",
        "prospects": "fewer than 5",
    }


def test_a_one_account_population_cannot_probe_counts(mapped: Mapped) -> None:
    opt_in_both(mapped)
    probe = actions.create_population(
        mapped.world.alice,
        mapped.world.acme,
        Side.VENDOR,
        {"name": "Probe", "base": "customers", "industry": "retail"},
    )
    assert policy.matrix_for(mapped.partnership, Side.VENDOR).row_sizes[probe.pk] == 1  # Initech
    assert labels(mapped, Side.VENDOR)[("probe", "customers")] == "not shown"


def test_hidden_population_is_not_listed_and_its_records_are_404(mapped: Mapped) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin, mapped.world.acme, mapped.acme["customers"], Level.HIDDEN
    )
    matrix = policy.matrix_for(mapped.partnership, Side.VENDOR)
    assert "customers" not in {c.population.key for c in matrix.columns}
    with pytest.raises(Http404):
        policy.cell_view(
            mapped.partnership,
            Side.VENDOR,
            mapped.vendor["customers"].pk,
            mapped.acme["customers"].pk,
        )


def test_counts_only_cell_has_no_records(mapped: Mapped) -> None:
    opt_in_both(mapped)
    with pytest.raises(NotAllowed, match="counts only"):
        policy.cell_view(
            mapped.partnership,
            Side.VENDOR,
            mapped.vendor["customers"].pk,
            mapped.acme["customers"].pk,
        )


def test_overlaps_level_shows_only_the_chosen_fields_of_overlapping_accounts(
    mapped: Mapped,
) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin,
        mapped.world.acme,
        mapped.acme["customers"],
        Level.OVERLAPS,
        ["name", "status"],
    )
    matrix = policy.matrix_for(mapped.partnership, Side.VENDOR)
    cell = matrix.cells[(mapped.vendor["open-opportunities"].pk, mapped.acme["customers"].pk)]
    assert (cell.count, cell.label, cell.can_drill) == (
        4,
        "4",
        True,
    )  # exact: records are shared anyway
    view = policy.cell_view(
        mapped.partnership, Side.VENDOR, mapped.vendor["customers"].pk, mapped.acme["customers"].pk
    )
    rows = view.rows(list(view.company_ids))
    assert len(rows) == 8
    assert all(set(r.theirs[0]) == {"name", "status"} for r in rows)
    ours = sorted(r.mine[0]["name"] for r in rows)
    assert ours == sorted(a.name for a in mapped.customers[:8])
    assert {r.theirs[0]["name"] for r in rows} >= {"Aldercrest Limited"}
    with pytest.raises(NotAllowed, match="overlapping accounts only"):
        policy.greenfield(mapped.partnership, Side.VENDOR, mapped.acme["customers"].pk)


def test_full_level_shows_accounts_we_do_not_have(mapped: Mapped) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin,
        mapped.world.acme,
        mapped.acme["customers"],
        Level.FULL,
        ["name", "domain"],
    )
    theirs, rule, records = policy.greenfield(
        mapped.partnership, Side.VENDOR, mapped.acme["customers"].pk
    )
    shared = [policy.shared_record(theirs, r, rule) for r in records]
    assert len(shared) == 16
    assert {"name": "Hollowmere GmbH", "domain": "hollowmere.de"} in shared


def test_partner_sees_the_vendor_side_through_the_vendor_rules(mapped: Mapped) -> None:
    opt_in_both(mapped)
    seen = labels(mapped, Side.PARTNER)
    assert seen[("customers", "customers")] == "8"
    assert seen[("customers", "open-opportunities")] == "fewer than 5"
    actions.set_rule(
        mapped.world.alice,
        mapped.world.acme,
        mapped.vendor["open-opportunities"],
        Level.OVERLAPS,
        ["name", "open_amount"],
    )
    view = policy.cell_view(
        mapped.partnership,
        Side.PARTNER,
        mapped.acme["customers"].pk,
        mapped.vendor["open-opportunities"].pk,
    )
    rows = view.rows(list(view.company_ids))
    assert sorted(r.theirs[0]["open_amount"] for r in rows) == [1000, 2000, 3000, 4000]
    assert all(set(r.theirs[0]) == {"name", "open_amount"} for r in rows)
    # The vendor's customers stay counts only: the partner cannot list them.
    with pytest.raises(NotAllowed):
        policy.cell_view(
            mapped.partnership,
            Side.PARTNER,
            mapped.acme["customers"].pk,
            mapped.vendor["customers"].pk,
        )


def test_a_viewer_cannot_drill_from_the_other_sides_row(mapped: Mapped) -> None:
    opt_in_both(mapped)
    with pytest.raises(Http404):
        policy.cell_view(
            mapped.partnership,
            Side.PARTNER,
            mapped.vendor["customers"].pk,
            mapped.acme["customers"].pk,
        )


def test_co_sell_ranks_our_open_deals_with_their_customers_first_by_amount(mapped: Mapped) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin, mapped.world.acme, mapped.acme["customers"], Level.OVERLAPS
    )
    suggestions = policy.co_sell(mapped.partnership, Side.VENDOR)
    first = suggestions[:4]
    assert [s.value for s in first] == [4000, 3000, 2000, 1000]
    assert all("open deal" in s.play for s in first)
    assert len(suggestions) == 12  # 4 open deals + 8 shared customers; prospects are counts only
    assert all(s.play.startswith("Shared customer") for s in suggestions[4:])


def test_rule_validation(mapped: Mapped) -> None:
    with pytest.raises(ValidationFailed) as bad_level:
        actions.set_rule(
            mapped.world.alice, mapped.world.acme, mapped.vendor["customers"], "everything"
        )
    assert "level" in bad_level.value.errors
    with pytest.raises(ValidationFailed) as bad_field:
        actions.set_rule(
            mapped.world.alice,
            mapped.world.acme,
            mapped.vendor["customers"],
            Level.FULL,
            ["name", "revenue"],
        )
    assert "revenue" in bad_field.value.errors["fields"]
    with pytest.raises(ValidationFailed):
        actions.set_rule(
            mapped.world.alice,
            mapped.world.acme,
            mapped.vendor["customers"],
            Level.FULL,
            ["country"],
        )


def test_each_side_changes_only_its_own_rules(mapped: Mapped) -> None:
    with pytest.raises(NotAllowed):
        actions.set_rule(
            mapped.world.acme_admin, mapped.world.acme, mapped.vendor["customers"], Level.FULL
        )
    with pytest.raises(NotAllowed):
        actions.set_rule(
            mapped.world.alice, mapped.world.acme, mapped.acme["customers"], Level.FULL
        )
    with pytest.raises(NotAllowed):
        actions.set_rule(
            mapped.world.acme_user, mapped.world.acme, mapped.acme["customers"], Level.FULL
        )
    with pytest.raises(NotAllowed):  # bob does not own Acme
        actions.set_rule(
            mapped.world.bob, mapped.world.acme, mapped.vendor["customers"], Level.FULL
        )
    with pytest.raises(Http404):  # Globex's people do not even see Acme
        actions.set_rule(
            mapped.world.globex_user, mapped.world.acme, mapped.acme["customers"], Level.FULL
        )


def test_a_medium_confidence_match_is_never_counted_or_shared(mapped: Mapped) -> None:
    from mutualist.overlaps.models import PartnerAccount

    opt_in_both(mapped)
    PartnerAccount.objects.filter(partner=mapped.world.acme, external_id="A0").update(
        confidence="medium"
    )
    assert labels(mapped, Side.VENDOR)[("customers", "customers")] == "7"
    actions.set_rule(
        mapped.world.acme_admin, mapped.world.acme, mapped.acme["customers"], Level.OVERLAPS
    )
    view = policy.cell_view(
        mapped.partnership, Side.VENDOR, mapped.vendor["customers"].pk, mapped.acme["customers"].pk
    )
    names = {r.mine[0]["name"] for r in view.rows(list(view.company_ids))}
    assert mapped.customers[0].name not in names and len(names) == 7
