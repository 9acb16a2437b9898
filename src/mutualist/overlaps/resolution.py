"""Resolving accounts to the company registry, once, with the matching engine.

The registry holds the vendor's companies. New vendor accounts are matched against it; the ones
that match nothing become new companies (accounts sharing a registrable domain become one). A
partner's list is matched against the same registry, so the overlap of the vendor and any
partner is a join on the company id, not a fresh fuzzy match. Partner data never creates
companies: the registry holds nothing a partner sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from mutualist.crm.models import Account
from mutualist.matching.blind import blind_tokens, match_tokens
from mutualist.matching.domains import normalize_domain
from mutualist.matching.match import match_accounts
from mutualist.matching.records import ACCOUNT_COLUMNS
from mutualist.overlaps.keys import name_key
from mutualist.overlaps.models import AccountResolution, Company, CompanyDomain

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class Link:
    company_id: int
    confidence: str
    reason: str


def accounts_table(rows: Iterable[tuple[str, str, str, str, str]]) -> pa.Table:
    """(id, name, domain, country, registration_id) tuples → the engine's input table."""
    columns: list[list[str | None]] = [[] for _ in ACCOUNT_COLUMNS]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value or None)
    return pa.table(
        {
            name: pa.array(col, pa.string())
            for name, col in zip(ACCOUNT_COLUMNS, columns, strict=True)
        }
    )


def registry_table(company_ids: Iterable[int] | None = None) -> pa.Table:
    companies = Company.objects.all()
    if company_ids is not None:
        companies = companies.filter(pk__in=list(company_ids))
    rows = companies.values_list("pk", "name", "domain", "country", "registration_id")
    return accounts_table((str(pk), n, d, c, r) for pk, n, d, c, r in rows.iterator())


def alias_index() -> dict[str, int]:
    """Every recorded other domain of a company → the company id (extra exact keys)."""
    return dict(CompanyDomain.objects.values_list("domain", "company_id"))


def alias_links(records: pa.Table) -> dict[str, Link]:
    """Records whose registrable domain is another domain of a registry company: that company,
    exactly (the matcher sees one domain per company)."""
    aliases = alias_index()
    if not aliases:
        return {}
    links: dict[str, Link] = {}
    for record_id, raw in zip(
        records["id"].to_pylist(), records["domain"].to_pylist(), strict=True
    ):
        domain = normalize_domain(raw)
        if domain in aliases:
            reason = f"domain {domain} is another domain of the company"
            links[record_id] = Link(aliases[domain], "exact", reason)
    return links


def match_to_registry(
    records: pa.Table, registry: pa.Table, progress: Progress | None = None
) -> dict[str, Link]:
    """Each record id that matches a company → the company, the tier and the reason."""
    if records.num_rows == 0:
        return {}
    links = alias_links(records)
    if links:
        records = records.filter(pc.invert(pc.is_in(records["id"], pa.array(list(links)))))
    if records.num_rows == 0 or registry.num_rows == 0:
        return links
    pairs = match_accounts(registry, records, progress=progress).to_pylist()
    rank = {"exact": 0, "high": 1, "medium": 2}
    for pair in sorted(pairs, key=lambda p: (rank.get(p["confidence"], 9), -p["score"])):
        links.setdefault(
            pair["their_id"], Link(int(pair["our_id"]), pair["confidence"], pair["reason"])
        )
    return links


def match_blind(vendor_tokens: pa.Table, partner_tokens: pa.Table) -> dict[str, Link]:
    """Blind mode: partner ids → the company of the vendor account whose keyed hash is equal."""
    pairs = match_tokens(vendor_tokens, partner_tokens).to_pylist()
    company_of = dict(
        AccountResolution.objects.filter(
            account_id__in=[int(p["our_id"]) for p in pairs], company__isnull=False
        ).values_list("account_id", "company_id")
    )
    links: dict[str, Link] = {}
    for pair in pairs:
        company = company_of.get(int(pair["our_id"]))
        if company is not None:
            links.setdefault(pair["their_id"], Link(company, pair["confidence"], pair["reason"]))
    return links


def vendor_tokens(key: bytes) -> pa.Table:
    rows = Account.objects.values_list("pk", "name", "domain", "country", "industry")
    table = accounts_table((str(pk), n, d, c, "") for pk, n, d, c, _ in rows.iterator())
    return blind_tokens(table, key)


def new_companies_for(unmatched: list[Account]) -> dict[int, Company]:
    """Unmatched accounts become companies; accounts with one registrable domain share one."""
    by_domain: dict[str, Company] = {}
    company_of: dict[int, Company] = {}
    for account in unmatched:
        domain = normalize_domain(account.domain) or ""
        if domain and domain in by_domain:
            company_of[account.pk] = by_domain[domain]
            continue
        company = Company(
            name=account.name,
            name_key=name_key(account.name),
            domain=domain,
            country=account.country,
            registration_id="",
        )
        company_of[account.pk] = company
        if domain:
            by_domain[domain] = company
    Company.objects.bulk_create(list({id(c): c for c in company_of.values()}.values()))
    return company_of
