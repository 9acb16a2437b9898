"""A mapping world on top of the shared personas: the vendor's accounts in all three standard
populations and Acme's list with known overlaps.

Vendor populations: customers = 12 + Initech (13); open opportunities = 8 + Initech + Umbrella
(10); prospects = 10. Acme's list: 8 of our customers and 4 of our open-opportunity accounts as
its customers, 2 of our prospects as its prospects, plus 6 companies we do not have (4
customers, 2 prospects). So Acme has 16 customers, 4 prospects and no open opportunities.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from mutualist.crm.models import Account
from mutualist.overlaps import actions
from mutualist.overlaps.choices import Side
from mutualist.overlaps.models import AccountList, Population
from tests.conftest import T0, World, make_opportunity

WORDS = [
    "Aldercrest",
    "Brightwave",
    "Cobaltine",
    "Dunmore",
    "Everpeak",
    "Foxhollow",
    "Glimmerlake",
    "Harborview",
    "Ironbark",
    "Juniperline",
    "Kestrelworks",
    "Lumenfield",
    "Moorgate",
    "Northwind",
    "Oakhurst",
    "Pinecrest",
    "Quillstone",
    "Redfern",
    "Silverbirch",
    "Thornbury",
    "Umberlight",
    "Valemont",
    "Westbrook",
    "Yarrowfield",
    "Zephyrine",
    "Ashcombe",
    "Bellhaven",
    "Cindermoor",
    "Driftwood",
    "Elmstead",
    "Fernhill",
    "Greystone",
]
OTHERS = ["Hollowmere", "Ivywood", "Jasperton", "Kingsreach", "Larkspur", "Maplethorpe"]


@dataclass
class Mapped:
    world: World
    customers: list[Account]
    open_accounts: list[Account]
    prospects: list[Account]
    vendor: dict[str, Population]
    acme: dict[str, Population]

    @property
    def partnership(self) -> Any:
        return actions.partnership_for(self.world.acme)


def _account(name: str, lifecycle: str) -> Account:
    return Account.objects.create(
        name=f"{name} Ltd",
        domain=f"{name.lower()}.com",
        created_at=T0,
        lifecycle=lifecycle,
        country="GB",
    )


def acme_csv(m: Mapped) -> bytes:
    lines = ["id,name,domain,country,status,industry"]
    for i, a in enumerate(m.customers[:8]):
        lines.append(
            f"A{i},{a.name.removesuffix(' Ltd')} Limited,https://www.{a.domain}/,UK,customer,retail"
        )
    for i, a in enumerate(m.open_accounts[:4]):
        lines.append(f"B{i},{a.name.upper()},{a.domain},GB,customer,")
    for i, a in enumerate(m.prospects[:2]):
        lines.append(f"C{i},{a.name},{a.domain},,prospect,")
    for i, name in enumerate(OTHERS):
        status = "customer" if i < 4 else "prospect"
        lines.append(f"D{i},{name} GmbH,{name.lower()}.de,DE,{status},")
    return ("\n".join(lines) + "\n").encode()


def upload(m: Mapped, content: bytes, user: Any = None, name: str = "acme.csv") -> AccountList:
    account_list = actions.queue_account_list(
        user or m.world.acme_admin, m.world.acme, name, content
    )
    return actions.process_account_list(account_list.pk)


def opt_in_both(m: Mapped) -> None:
    actions.set_opt_in(m.world.alice, m.world.acme, Side.VENDOR, True)
    actions.set_opt_in(m.world.acme_admin, m.world.acme, Side.PARTNER, True)


@pytest.fixture
def mapped(world: World, settings: Any, tmp_path: Any) -> Mapped:
    settings.UPLOAD_DIR = tmp_path / "uploads"
    customers = [_account(n, "customer") for n in WORDS[:12]]
    open_accounts = [_account(n, "prospect") for n in WORDS[12:20]]
    for i, account in enumerate(open_accounts):
        make_opportunity(account, f"{account.name} deal", amount=Decimal(1000 * (i + 1)))
    prospects = [_account(n, "prospect") for n in WORDS[20:30]]
    actions.resolve_vendor_accounts()
    actions.partnership_for(world.acme)
    vendor = {p.key: p for p in Population.objects.filter(side=Side.VENDOR)}
    acme = {p.key: p for p in Population.objects.filter(side=Side.PARTNER, partner=world.acme)}
    m = Mapped(world, customers, open_accounts, prospects, vendor, acme)
    finished = upload(m, acme_csv(m))
    assert finished.status == AccountList.Status.SUCCEEDED, finished.message
    return m
