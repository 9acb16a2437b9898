"""Every write to account mapping: opt-in, mode and key, populations, sharing rules, partner
lists and company resolution. Each validates, writes in one transaction and is audited."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mutualist.accounts.models import User
from mutualist.audit.log import record, snapshot
from mutualist.crm.models import Account
from mutualist.lib import validate
from mutualist.lib.countries import country_code
from mutualist.lib.errors import ValidationFailed
from mutualist.matching.records import AccountFileError
from mutualist.overlaps import access, lists, resolution, review
from mutualist.overlaps.choices import (
    DEFAULT_FIELDS,
    MIN_COUNT_FLOOR,
    SHAREABLE_FIELDS,
    Base,
    Level,
    Mode,
    Side,
)
from mutualist.overlaps.models import (
    AccountList,
    AccountResolution,
    BlindToken,
    PartnerAccount,
    Partnership,
    Population,
    SharingRule,
)
from mutualist.overlaps.populations import STANDARD
from mutualist.partners.models import Partner


def partnership_for(partner: Partner) -> Partnership:
    """The partner's mapping record and both sides' standard populations, created on first use."""
    partnership, created = Partnership.objects.get_or_create(partner=partner)
    if created:
        record(None, "mapping.partnership.create", partnership, after={"partner_id": partner.pk})
    _ensure_standard(Side.VENDOR, None)
    _ensure_standard(Side.PARTNER, partner)
    return partnership


def _ensure_standard(side: Side, partner: Partner | None) -> None:
    """The three standard populations of one side, created (and audited) on first use."""
    owner = partner if side == Side.PARTNER else None
    for base, key, name in STANDARD:
        population, created = Population.objects.get_or_create(
            side=side,
            partner=owner,
            key=key,
            defaults={"name": name, "base": base, "is_standard": True},
        )
        if created:
            record(None, "mapping.population.create", population, after=snapshot(population))


@transaction.atomic
def set_opt_in(actor: User, partner: Partner, side: Side, opted_in: bool) -> Partnership:
    access.require_can_manage(actor, partner, side)
    partnership = Partnership.objects.select_for_update(of=("self",)).get(
        pk=partnership_for(partner).pk
    )
    before = snapshot(partnership, ["vendor_opted_in_at", "partner_opted_in_at"])
    at = timezone.now() if opted_in else None
    if side == Side.VENDOR:
        partnership.vendor_opted_in_at, partnership.vendor_opted_in_by = at, actor if at else None
    else:
        partnership.partner_opted_in_at, partnership.partner_opted_in_by = at, actor if at else None
    partnership.save()
    after = snapshot(partnership, ["vendor_opted_in_at", "partner_opted_in_at"])
    record(
        actor,
        f"mapping.{'opt_in' if opted_in else 'opt_out'}",
        partnership,
        before=before,
        after=after,
    )
    return partnership


@transaction.atomic
def set_settings(
    actor: User, partner: Partner, *, mode: str | None = None, min_count: int | None = None
) -> Partnership:
    """The vendor decides the mode (open or blind) and the minimum count shown."""
    access.require_can_manage(actor, partner, Side.VENDOR)
    errors = {}
    if mode is not None and mode not in Mode.values:
        errors["mode"] = f"unknown mode {mode!r}; use one of: {', '.join(Mode.values)}"
    if min_count is not None and not MIN_COUNT_FLOOR <= min_count <= 1000:
        errors["min_count"] = f"must be between {MIN_COUNT_FLOOR} and 1000"
    if errors:
        raise ValidationFailed(errors)
    partnership = Partnership.objects.select_for_update(of=("self",)).get(
        pk=partnership_for(partner).pk
    )
    before = snapshot(partnership, ["mode", "min_count"])
    if min_count is not None:
        partnership.min_count = min_count
    if mode is not None and mode != partnership.mode:
        partnership.mode = mode
        _void_partner_lists(partnership)
        if mode == Mode.BLIND and not partnership.blind_key:
            _new_key(partnership)
    partnership.save()
    record(
        actor,
        "mapping.settings",
        partnership,
        before=before,
        after=snapshot(partnership, ["mode", "min_count"]),
    )
    return partnership


def _new_key(partnership: Partnership) -> None:
    partnership.blind_key = secrets.token_bytes(32).hex()
    partnership.key_rotated_at = timezone.now()


def _void_partner_lists(partnership: Partnership) -> None:
    """A change of mode or key makes the partner's current list meaningless: drop it."""
    PartnerAccount.objects.filter(partner=partnership.partner).delete()


@transaction.atomic
def rotate_key(actor: User, partner: Partner) -> Partnership:
    """Either side may ask for a new key; the partner's blind list must then be uploaded again."""
    partnership = Partnership.objects.select_for_update(of=("self",)).get(
        pk=partnership_for(partner).pk
    )
    access.require_can_manage(actor, partner, access.side_of(actor))
    if partnership.mode != Mode.BLIND:
        raise ValidationFailed({"mode": "only a blind-mode partnership has a key to rotate"})
    _new_key(partnership)
    _void_partner_lists(partnership)
    partnership.save()
    record(
        actor,
        "mapping.rotate_key",
        partnership,
        after={"key_rotated_at": partnership.key_rotated_at},
    )
    return partnership


@transaction.atomic
def create_population(
    actor: User, partner: Partner, side: Side, data: Mapping[str, Any]
) -> Population:
    """A custom population: a standard one narrowed by country and/or industry."""
    access.require_can_manage(actor, partner, side)
    name = str(data.get("name") or "").strip()
    base = str(data.get("base") or "")
    country_raw = str(data.get("country") or "").strip()
    industry = str(data.get("industry") or "").strip()
    errors = {}
    if message := validate.text_error(name, 80, required=True):
        errors["name"] = message
    if base not in Base.values:
        errors["base"] = f"choose one of: {', '.join(Base.values)}"
    country = country_code(country_raw) if country_raw else ""
    if country_raw and not country:
        errors["country"] = f"{country_raw!r} is not a country; use an ISO code such as DE"
    if not country and not industry:
        errors["country"] = (
            "a custom population narrows a standard one: give a country or an industry"
        )
    owner = partner if side == Side.PARTNER else None
    key = slugify(name)[:48] or "population"
    if Population.objects.filter(side=side, partner=owner, key=key).exists():
        errors["name"] = f"a population called {name!r} exists already"
    if errors:
        raise ValidationFailed(errors)
    population = Population.objects.create(
        side=side,
        partner=owner,
        key=key,
        name=name,
        base=base,
        country=country or "",
        industry=industry,
    )
    record(actor, "mapping.population.create", population, after=snapshot(population))
    return population


@transaction.atomic
def delete_population(actor: User, partner: Partner, population: Population) -> None:
    side = Side(population.side)
    access.require_can_manage(actor, partner, side)
    if population.is_standard:
        raise ValidationFailed(
            {"population": "standard populations cannot be deleted; hide them instead"}
        )
    record(actor, "mapping.population.delete", population, before=snapshot(population))
    population.delete()


@transaction.atomic
def set_rule(
    actor: User,
    partner: Partner,
    population: Population,
    level: str,
    fields: Sequence[str] | None = None,
) -> SharingRule:
    """What the other side sees of `population` (one of the actor's side's populations)."""
    side = Side(population.side)
    access.require_can_manage(actor, partner, side)
    if side == Side.PARTNER and population.partner_id != partner.pk:
        raise ValidationFailed({"population": "that population belongs to another partner"})
    chosen = list(DEFAULT_FIELDS if fields is None else fields)
    errors = {}
    if level not in Level.values:
        errors["level"] = f"unknown level {level!r}; use one of: {', '.join(Level.values)}"
    unknown = [f for f in chosen if f not in SHAREABLE_FIELDS[side]]
    if unknown:
        errors["fields"] = (
            f"cannot share {', '.join(unknown)}; shareable: {', '.join(SHAREABLE_FIELDS[side])}"
        )
    if level in (Level.FULL, Level.OVERLAPS) and "name" not in chosen and "domain" not in chosen:
        errors["fields"] = "sharing records needs at least the name or the domain"
    if errors:
        raise ValidationFailed(errors)
    partnership = partnership_for(partner)
    rule, _ = SharingRule.objects.select_for_update(of=("self",)).get_or_create(
        partnership=partnership, population=population
    )
    before = snapshot(rule, ["level", "fields"])
    rule.level, rule.fields, rule.updated_by = level, chosen, actor
    rule.save()
    record(
        actor,
        "mapping.rule",
        rule,
        object_label=f"{partner} · {population}",
        before=before,
        after=snapshot(rule, ["level", "fields"]),
    )
    return rule


# --- partner account lists ------------------------------------------------------------


def queue_account_list(
    actor: User, partner: Partner, file_name: str, content: bytes, *, background: bool = True
) -> AccountList:
    """Save the uploaded list and process it in the background (matching a large list takes a
    while); the list page shows the stage and progress. `background=False` leaves the processing
    to the caller (the demo loader, which runs it at once)."""
    access.require_can_upload(actor, partner)
    partnership = partnership_for(partner)
    if not file_name.lower().endswith(".csv"):
        raise ValidationFailed(
            {"file": f"{file_name} is not a .csv file; export your accounts as CSV"}
        )
    if not content.strip():
        raise ValidationFailed(
            {"file": f"{file_name} is empty; it needs a header row and one row per account"}
        )
    folder = Path(settings.UPLOAD_DIR) / "mapping" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / "accounts.csv"
    path.write_bytes(content)
    with transaction.atomic():
        account_list = AccountList.objects.create(
            partner=partner,
            uploaded_by=actor,
            file_name=Path(file_name).name[:255],
            sha256=hashlib.sha256(content).hexdigest(),
            is_blind=partnership.mode == Mode.BLIND,
            upload_path=str(path),
        )
        record(
            actor,
            "mapping.list.queue",
            account_list,
            after={"file": account_list.file_name, "sha256": account_list.sha256},
        )

        def enqueue() -> None:
            from mutualist.overlaps.tasks import process_account_list

            process_account_list.enqueue(account_list.pk)

        if background:
            transaction.on_commit(enqueue)
    return account_list


def _progress(account_list: AccountList, stage: str, fraction: float) -> None:
    AccountList.objects.filter(pk=account_list.pk).update(
        stage=stage[:64], progress=round(fraction, 3)
    )


def process_account_list(list_id: int) -> AccountList:
    """Read, match and store a partner's list: all of it replaces the current list, or nothing
    changes. Matching runs before the write transaction, reporting its progress."""
    account_list = AccountList.objects.select_related("partner", "uploaded_by").get(pk=list_id)
    if account_list.status != AccountList.Status.QUEUED:
        return account_list  # a task delivered twice does the work once
    partnership = partnership_for(account_list.partner)
    AccountList.objects.filter(pk=list_id).update(
        status=AccountList.Status.RUNNING, stage="reading"
    )
    path = Path(account_list.upload_path)
    try:
        if account_list.is_blind != (partnership.mode == Mode.BLIND):
            raise AccountFileError(
                "The partnership's mode changed after this upload; upload the list again."
            )
        reader = lists.read_token_list if account_list.is_blind else lists.read_partner_list
        parsed = reader(path, account_list.file_name)
        _progress(account_list, "matching", 0.1)
        if account_list.is_blind:
            key = bytes.fromhex(partnership.blind_key)
            links = resolution.match_blind(resolution.vendor_tokens(key), parsed.identities)
        else:
            links = resolution.match_to_registry(
                parsed.identities,
                resolution.registry_table(),
                progress=lambda stage, f: _progress(account_list, stage, 0.1 + 0.8 * f),
            )
        _progress(account_list, "storing", 0.9)
        _store_list(account_list, parsed, links)
    except (AccountFileError, ValueError, OSError) as exc:
        AccountList.objects.filter(pk=list_id).update(
            status=AccountList.Status.FAILED,
            message=str(exc)[:2000],
            finished_at=timezone.now(),
            stage="",
        )
    finally:
        path.unlink(missing_ok=True)
    account_list.refresh_from_db()
    return account_list


@transaction.atomic
def _store_list(
    account_list: AccountList, parsed: lists.PartnerList, links: Mapping[str, resolution.Link]
) -> None:
    partner = account_list.partner
    links = review.apply_decisions(partner.pk, links)
    PartnerAccount.objects.filter(partner=partner).delete()
    accounts = []
    for row in parsed.rows:
        link = links.get(row.external_id)
        accounts.append(
            PartnerAccount(
                partner=partner,
                account_list=account_list,
                external_id=row.external_id[:128],
                name=row.name,
                domain=row.domain,
                country=row.country,
                industry=row.industry,
                registration_id=row.registration_id,
                status=row.status,
                company_id=link.company_id if link else None,
                confidence=link.confidence if link else "",
                reason=link.reason[:300] if link else "",
            )
        )
    PartnerAccount.objects.bulk_create(accounts, batch_size=5000)
    if account_list.is_blind:
        ids = dict(PartnerAccount.objects.filter(partner=partner).values_list("external_id", "pk"))
        table = parsed.identities
        BlindToken.objects.bulk_create(
            [
                BlindToken(account_id=ids[i], kind=k, token=t)
                for i, k, t in zip(
                    table.column("id").to_pylist(),
                    table.column("kind").to_pylist(),
                    table.column("token").to_pylist(),
                    strict=True,
                )
            ],
            batch_size=5000,
        )
    matched = sum(1 for a in accounts if a.company_id is not None)
    AccountList.objects.filter(pk=account_list.pk).update(
        status=AccountList.Status.SUCCEEDED,
        stage="",
        progress=1.0,
        row_count=len(accounts),
        matched_count=matched,
        message=" ".join(parsed.notes),
        finished_at=timezone.now(),
    )
    record(
        account_list.uploaded_by,
        "mapping.list.store",
        account_list,
        after={"accounts": len(accounts), "matched": matched, "sha256": account_list.sha256},
    )


# --- vendor accounts to companies --------------------------------------------------------


@dataclass
class ResolveSummary:
    accounts: int = 0
    matched: int = 0
    new_companies: int = 0
    by_confidence: dict[str, int] = field(default_factory=dict)


def resolve_vendor_accounts(
    actor: User | None = None, progress: resolution.Progress | None = None
) -> ResolveSummary:
    """Resolve every account without a company: match it to the registry or add a company.
    Then match the partners' unmatched accounts against the new companies."""
    unresolved = list(
        Account.objects.filter(resolution__isnull=True).only("pk", "name", "domain", "country")
    )
    summary = ResolveSummary(accounts=len(unresolved))
    if not unresolved:
        return summary
    records = resolution.accounts_table(
        (str(a.pk), a.name, a.domain, a.country, "") for a in unresolved
    )
    links = resolution.match_to_registry(records, resolution.registry_table(), progress)
    with transaction.atomic():
        unmatched = [a for a in unresolved if str(a.pk) not in links]
        new = resolution.new_companies_for(unmatched)
        rows = []
        for account in unresolved:
            link = links.get(str(account.pk))
            if link:
                rows.append(
                    AccountResolution(
                        account=account,
                        company_id=link.company_id,
                        confidence=link.confidence,
                        reason=link.reason[:300],
                    )
                )
                summary.by_confidence[link.confidence] = (
                    summary.by_confidence.get(link.confidence, 0) + 1
                )
            else:
                rows.append(
                    AccountResolution(
                        account=account, company=new[account.pk], reason="new company"
                    )
                )
        AccountResolution.objects.bulk_create(rows, batch_size=5000)
        summary.matched = len(links)
        summary.new_companies = len({id(c) for c in new.values()})
        record(
            actor,
            "mapping.resolve",
            object_type="overlaps.Company",
            object_label="vendor accounts",
            after=summary.__dict__,
        )
        new_ids = sorted({c.pk for c in new.values()})
    if new_ids:
        rematch_partner_accounts(new_ids)
    return summary


def rematch_partner_accounts(company_ids: Sequence[int]) -> int:
    """Partner accounts that matched nothing may match companies that arrived since: open lists
    against the new companies, blind lists from their stored tokens."""
    found = 0
    partner_ids = PartnerAccount.objects.filter(company__isnull=True).values_list(
        "partner_id", flat=True
    )
    for partnership in Partnership.objects.filter(partner_id__in=partner_ids.distinct()):
        unmatched = PartnerAccount.objects.filter(partner=partnership.partner, company__isnull=True)
        if partnership.mode == Mode.BLIND:
            tokens = BlindToken.objects.filter(account__in=unmatched).values_list(
                "account__external_id", "kind", "token"
            )
            ids, kinds, values = (
                (list(c) for c in zip(*tokens, strict=True)) if tokens else ([], [], [])
            )
            partner_tokens = pa.table(
                {
                    "id": pa.array(ids, pa.string()),
                    "kind": pa.array(kinds, pa.string()),
                    "token": pa.array(values, pa.string()),
                }
            )
            by_external = resolution.match_blind(
                resolution.vendor_tokens(bytes.fromhex(partnership.blind_key)), partner_tokens
            )
            pk_of = dict(unmatched.values_list("external_id", "pk"))
            links = {str(pk_of[e]): link for e, link in by_external.items() if e in pk_of}
        else:
            records = resolution.accounts_table(
                (str(a.pk), a.name, a.domain, a.country, a.registration_id)
                for a in unmatched.iterator()
            )
            links = resolution.match_to_registry(records, resolution.registry_table(company_ids))
        external_of = dict(unmatched.values_list("pk", "external_id"))
        pk_of = {external: pk for pk, external in external_of.items()}
        decided = review.apply_decisions(
            partnership.partner_id, {external_of[int(pk)]: link for pk, link in links.items()}
        )
        links = {str(pk_of[external]): link for external, link in decided.items()}
        with transaction.atomic():
            for account_id, link in links.items():
                PartnerAccount.objects.filter(pk=int(account_id), company__isnull=True).update(
                    company_id=link.company_id, confidence=link.confidence, reason=link.reason[:300]
                )
        found += len(links)
    return found
