"""Deterministic 18-character Salesforce-style record Ids.

A real Id is a 3-character key prefix (``001`` Account, ``006`` Opportunity, ...), a
2-character pod, a reserved ``0`` and a 9-digit base-62 record number: 15 case-sensitive
characters. The 18-character form appends a 3-character checksum that encodes which of the
15 characters are upper case, so the Id survives case-insensitive tools (Excel, VLOOKUP).
We build the same shape from the row id, vectorised over whole columns.
"""

from __future__ import annotations

import numpy as np

from .timeline import Array

ACCOUNT_PREFIX = "001"
OPPORTUNITY_PREFIX = "006"
LEAD_PREFIX = "00Q"
OPPORTUNITY_PARTNER_PREFIX = "00u"
POD = "Sy"  # fixed "instance" characters; real orgs have e.g. "Ec", "5g"
# Partners and customers are both Accounts in Salesforce and must not share an Id; partner
# record numbers start here, far above any account row id.
PARTNER_RECORD_OFFSET = 1_000_000_000

_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)
_CHECKSUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", dtype=np.uint8)
_RECORD_DIGITS = 9


def salesforce_ids(prefix: str, record_numbers: Array) -> Array:
    """18-character Ids (object array of ``str``) for the given non-negative record numbers."""
    if len(prefix) != 3:
        raise ValueError("key prefix must be 3 characters")
    numbers = np.asarray(record_numbers, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 62**_RECORD_DIGITS):
        raise ValueError("record number out of range")
    n = len(numbers)
    buf = np.empty((n, 18), dtype=np.uint8)
    buf[:, :6] = np.frombuffer((prefix + POD + "0").encode(), dtype=np.uint8)
    rest = numbers.copy()
    for pos in range(14, 5, -1):  # least significant digit last
        buf[:, pos] = _BASE62[rest % 62]
        rest //= 62
    # Checksum: each 5-character chunk gives a 5-bit mask of its upper-case positions.
    upper = (buf[:, :15] >= ord("A")) & (buf[:, :15] <= ord("Z"))
    bits = upper.reshape(n, 3, 5).astype(np.int64) @ (1 << np.arange(5))
    buf[:, 15:] = _CHECKSUM[bits]
    return buf.view("S18").ravel().astype("U18").astype(object)


def salesforce_id_checksum(id15: str) -> str:
    """Reference (scalar) 15→18 conversion, used to test the vectorised version."""
    suffix = ""
    for chunk in range(3):
        flags = sum(1 << i for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[flags]
    return id15 + suffix
