"""`mutualist synth --out DIR` then `mutualist import salesforce DIR` gives the same database
content as loading the generated ecosystem directly, for every field the Salesforce format
carries (it has no ACV, and CloseDate is a date, so close times compare by day)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from mutualist.crm.actions import load_ecosystem
from mutualist.crm.models import Account, Cost, Lead, Opportunity, PartnerInvolvement, RevenueMonth
from mutualist.imports.actions import run_import
from mutualist.imports.readers.salesforce import read_salesforce
from mutualist.partners.models import Partner
from mutualist.synth import SIZES, generate, write_salesforce_csv

CONFIG = dataclasses.replace(SIZES["small"], partners=25, accounts=300, opportunities=1200, seed=11)


def snapshot() -> dict[str, Any]:
    partner_ext = {p.pk: p.external_ids.get().external_id for p in Partner.objects.all()}
    account_ext = dict(Account.objects.values_list("pk", "external_id"))
    opp_ext = dict(Opportunity.objects.values_list("pk", "external_id"))
    return {
        "partners": {
            partner_ext[p.pk]: (p.name, p.domain, p.country) for p in Partner.objects.all()
        },
        "accounts": {
            a.external_id: (
                a.name,
                a.domain,
                a.country,
                a.industry,
                a.size_band,
                a.lifecycle,
                a.created_at,
            )
            for a in Account.objects.all()
        },
        "opportunities": {
            o.external_id: (
                account_ext[o.account_id],
                o.name,
                o.amount,
                o.currency,
                o.stage,
                o.is_closed,
                o.is_won,
                o.created_at,
                o.closed_at.date() if o.closed_at else None,
                o.type,
                o.lead_source,
            )
            for o in Opportunity.objects.all()
        },
        "involvements": {
            (
                opp_ext[i.opportunity_id],
                partner_ext[i.partner_id],
                i.role,
                i.attached_at,
                i.is_primary,
            )
            for i in PartnerInvolvement.objects.all()
        },
        "leads": {
            lead.external_id: (
                lead.company,
                lead.created_at,
                lead.converted_at.date() if lead.converted_at else None,
                lead.status,
                lead.source,
                partner_ext.get(lead.partner_id),
                account_ext.get(lead.account_id),
            )
            for lead in Lead.objects.all()
        },
        "revenue": {
            (account_ext[r.account_id], r.month, r.mrr, r.currency)
            for r in RevenueMonth.objects.all()
        },
        "costs": sorted(
            (c.month, c.category, c.amount, c.currency, partner_ext.get(c.partner_id), c.program)
            for c in Cost.objects.all()
        ),
    }


def wipe() -> None:
    for model in (PartnerInvolvement, RevenueMonth, Lead, Opportunity, Cost, Account, Partner):
        model.objects.all().delete()


@pytest.mark.django_db
def test_synth_csv_import_equals_direct_load(tmp_path: Path) -> None:
    eco = generate(CONFIG)
    write_salesforce_csv(eco, tmp_path)
    load_ecosystem(None, eco.tables, source_system="salesforce", owners=[])
    direct = snapshot()
    wipe()
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    assert run.status == "succeeded", run.message
    assert run.error_count == 0
    imported = snapshot()
    for table in direct:
        assert len(direct[table]) > 0, table
        assert imported[table] == direct[table], table
    lifecycles = {values[5] for values in direct["accounts"].values()}
    assert lifecycles == {"prospect", "customer", "churned"}
