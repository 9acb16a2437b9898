"""Account mapping in the demo: the vendor's accounts resolved to companies, and the two partners
with logins mapped, one in the open mode and one in the blind mode, with rules that show every
kind of cell (records, counts, suppressed counts)."""

from __future__ import annotations

import csv
import io

import numpy as np

from mutualist.accounts.models import User
from mutualist.crm.models import Account
from mutualist.matching.blind import blind_tokens
from mutualist.matching.records import accounts_from_rows
from mutualist.overlaps import actions
from mutualist.overlaps.choices import Level, Side
from mutualist.overlaps.models import Population
from mutualist.partners.models import Partner

STATUSES = ("customer", "open_opportunity", "prospect")
NEW_WORDS = (
    "Arden",
    "Brisk",
    "Corvid",
    "Delphin",
    "Embark",
    "Fjord",
    "Gantry",
    "Halcyon",
    "Isle",
    "Jovian",
    "Kelp",
    "Lattice",
    "Meridian",
    "Nimbus",
    "Orchard",
    "Parallax",
    "Quorum",
    "Rook",
)
SUFFIXES = ("Inc.", "LLC", "GmbH", "Ltd", "S.A.", "BV", "Corp.", "")


def partner_rows(rng: np.random.Generator, share: float, extra: int) -> list[dict[str, str]]:
    """A partner's CRM export: a share of our accounts written its own way, plus companies we
    do not have."""
    accounts = list(
        Account.objects.order_by("pk").values_list("pk", "name", "domain", "country", "lifecycle")
    )
    chosen = rng.choice(len(accounts), size=int(len(accounts) * share), replace=False)
    rows = []
    for n, index in enumerate(sorted(chosen)):
        _, name, domain, country, lifecycle = accounts[index]
        variant = name.upper() if rng.random() < 0.2 else name
        status = (
            "customer"
            if lifecycle == "customer" and rng.random() < 0.6
            else str(rng.choice(STATUSES))
        )
        rows.append(
            {
                "id": f"P-{n:05d}",
                "name": variant,
                "domain": "" if rng.random() < 0.3 else f"https://www.{domain}/",
                "country": country,
                "status": status,
            }
        )
    for n in range(extra):
        words = rng.choice(NEW_WORDS, size=2, replace=False)
        name = f"{words[0]} {words[1]} {n}"
        rows.append(
            {
                "id": f"Q-{n:05d}",
                "name": f"{name} {rng.choice(SUFFIXES)}".strip(),
                "domain": f"{words[0].lower()}{words[1].lower()}{n}.io",
                "country": str(rng.choice(["US", "GB", "DE", "FR"])),
                "status": str(rng.choice(STATUSES)),
            }
        )
    return rows


def _csv(rows: list[dict[str, str]], header: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _tokens_csv(rows: list[dict[str, str]], key: bytes) -> bytes:
    status = {r["id"]: r["status"] for r in rows}
    tokens = blind_tokens(accounts_from_rows(rows), key).to_pylist()
    return _csv(
        [{**t, "status": status[t["id"]]} for t in tokens], ["id", "status", "kind", "token"]
    )


def _upload(admin: User, partner: Partner, name: str, content: bytes) -> None:
    account_list = actions.queue_account_list(admin, partner, name, content, background=False)
    actions.process_account_list(account_list.pk)


def load(seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    actions.resolve_vendor_accounts()
    cpo = User.objects.get(username="cpo")
    for number, blind in ((1, False), (2, True)):
        admin = (
            User.objects.filter(username=f"partner{number}-admin").select_related("partner").first()
        )
        if admin is None or admin.partner is None:
            continue
        partner = admin.partner
        actions.partnership_for(partner)
        vendor = {p.key: p for p in Population.objects.filter(side=Side.VENDOR)}
        theirs = {p.key: p for p in Population.objects.filter(side=Side.PARTNER, partner=partner)}
        if blind:
            actions.set_settings(cpo, partner, mode="blind")
        actions.set_opt_in(cpo, partner, Side.VENDOR, True)
        actions.set_opt_in(admin, partner, Side.PARTNER, True)
        actions.set_rule(
            cpo, partner, vendor["customers"], Level.OVERLAPS, ["name", "domain", "country"]
        )
        actions.set_rule(
            cpo, partner, vendor["open-opportunities"], Level.OVERLAPS, ["name", "open_amount"]
        )
        actions.set_rule(
            admin, partner, theirs["customers"], Level.OVERLAPS, ["name", "domain", "status"]
        )
        actions.set_rule(
            admin, partner, theirs["open-opportunities"], Level.FULL, ["name", "domain"]
        )
        rows = partner_rows(rng, share=0.3, extra=400)
        if blind:
            key = bytes.fromhex(actions.partnership_for(partner).blind_key)
            _upload(admin, partner, "tokens.csv", _tokens_csv(rows, key))
        else:
            _upload(
                admin,
                partner,
                "accounts.csv",
                _csv(rows, ["id", "name", "domain", "country", "status"]),
            )
