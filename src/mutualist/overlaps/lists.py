"""Reading a partner's uploaded list: accounts (open mode) or keyed hashes (blind mode).

The engine's reader validates identity columns (id, name, domain, country, registration id);
this adds the mapping columns a partner's list may carry: `status` (customer, open_opportunity
or prospect; without the column every account counts as a customer) and `industry`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from mutualist.lib.countries import country_code
from mutualist.matching.records import AccountFileError, read_accounts
from mutualist.overlaps.choices import AccountStatus

MAX_ROWS = 2_000_000
STATUS_ALIASES = {
    "customer": AccountStatus.CUSTOMER,
    "customers": AccountStatus.CUSTOMER,
    "client": AccountStatus.CUSTOMER,
    "open opportunity": AccountStatus.OPEN_OPPORTUNITY,
    "open opportunities": AccountStatus.OPEN_OPPORTUNITY,
    "opportunity": AccountStatus.OPEN_OPPORTUNITY,
    "open": AccountStatus.OPEN_OPPORTUNITY,
    "prospect": AccountStatus.PROSPECT,
    "prospects": AccountStatus.PROSPECT,
    "lead": AccountStatus.PROSPECT,
}
TOKEN_KINDS = ("domain", "name_country", "registration_id")
HEX_TOKEN = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class PartnerRow:
    external_id: str
    name: str
    domain: str
    country: str
    industry: str
    registration_id: str
    status: str


@dataclass
class PartnerList:
    rows: list[PartnerRow]
    identities: pa.Table  # the engine's input (open mode) or the tokens (blind mode)
    notes: list[str]


def _extra_columns(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    return header, list(reader)


def _status(value: str, file: str, row: int) -> str:
    key = " ".join(value.strip().lower().replace("-", " ").replace("_", " ").split())
    status = STATUS_ALIASES.get(key)
    if status is None:
        raise AccountFileError(
            f"{file}, row {row}, column status: {value!r} is not a status; "
            "use customer, open_opportunity or prospect (or leave the column out)."
        )
    return str(status)


def _status_from_type(crm_type: str | None) -> str:
    """A CRM export's account type (Salesforce: "Customer - Direct", "Prospect", ...)."""
    if crm_type is None:
        return AccountStatus.CUSTOMER
    return AccountStatus.CUSTOMER if "customer" in crm_type.lower() else AccountStatus.PROSPECT


def read_partner_list(path: Path, file_name: str) -> PartnerList:
    identities = read_accounts(path, max_rows=MAX_ROWS)
    header, extra = _extra_columns(path)
    notes = []
    if "status" not in header:
        notes.append(
            "The file has no status column: accounts whose CRM type says customer count as "
            "customers, the others as prospects."
            if "type" in header
            else "The file has no status column: every account counts as a customer."
        )
    rows = []
    for number, (identity, more) in enumerate(zip(identities.to_pylist(), extra, strict=False), 2):
        status = (
            _status(more.get("status") or "", file_name, number)
            if "status" in header
            else _status_from_type(more.get("type"))
        )
        rows.append(
            PartnerRow(
                external_id=identity["id"],
                name=identity["name"][:255],
                domain=(identity["domain"] or "")[:253],
                country=country_code(identity["country"] or "") or "",
                industry=(more.get("industry") or "").strip()[:64],
                registration_id=(identity["registration_id"] or "")[:64],
                status=str(status),
            )
        )
    return PartnerList(rows, identities, notes)


def read_token_list(path: Path, file_name: str) -> PartnerList:
    """Blind mode: `id, status, kind, token` rows, one per keyed hash (an account may have
    several), as written by `mutualist blind-tokens`."""
    header, records = _extra_columns(path)
    missing = [c for c in ("id", "kind", "token") if c not in header]
    if missing:
        raise AccountFileError(
            f"{file_name}: missing column(s) {', '.join(missing)}; a blind list has the columns "
            "id, status, kind, token (write it with `mutualist blind-tokens`)."
        )
    if not records:
        raise AccountFileError(f"{file_name}: the file has a header but no rows.")
    if len(records) > MAX_ROWS * len(TOKEN_KINDS):
        raise AccountFileError(f"{file_name}: more than {MAX_ROWS:,} accounts; split the list.")
    statuses: dict[str, str] = {}
    ids, kinds, tokens = [], [], []
    for number, record in enumerate(records, 2):
        account_id = (record.get("id") or "").strip()
        kind = (record.get("kind") or "").strip()
        token = (record.get("token") or "").strip().lower()
        where = f"{file_name}, row {number}"
        if not account_id:
            raise AccountFileError(f"{where}, column id: empty; every row needs the account id.")
        if kind not in TOKEN_KINDS:
            raise AccountFileError(
                f"{where}, column kind: {kind!r} is not one of {', '.join(TOKEN_KINDS)}."
            )
        if not HEX_TOKEN.match(token):
            raise AccountFileError(
                f"{where}, column token: not a 64-character hex HMAC-SHA256; "
                "write the file with `mutualist blind-tokens`."
            )
        status = (
            _status(record.get("status") or "", file_name, number)
            if "status" in header
            else str(AccountStatus.CUSTOMER)
        )
        if statuses.setdefault(account_id, status) != status:
            raise AccountFileError(
                f"{where}, column status: account {account_id} has two statuses "
                f"({statuses[account_id]} and {status}); give each account one."
            )
        ids.append(account_id)
        kinds.append(kind)
        tokens.append(token)
    rows = [PartnerRow(i, "", "", "", "", "", s) for i, s in statuses.items()]
    table = pa.table({"id": ids, "kind": kinds, "token": tokens})
    return PartnerList(rows, table, [])
