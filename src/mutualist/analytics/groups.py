"""Group labels shared by the metrics: the attribution buckets plus their union."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from .attribution import BUCKETS, INFLUENCED, PARTNER, SOURCED, UNATTRIBUTED

GROUPS: tuple[str, ...] = (SOURCED, INFLUENCED, PARTNER, UNATTRIBUTED)


def with_partner_group(table: ir.Table) -> ir.Table:
    """Rows once under their bucket as ``grp`` and, if sourced/influenced, again as
    ``partner``, so one group-by yields all four groups (medians need real rows)."""
    own = table.mutate(grp=table.bucket)
    partner = table.filter(table.bucket != UNATTRIBUTED).mutate(grp=ibis.literal(PARTNER))
    return own.union(partner)


__all__ = ["BUCKETS", "GROUPS", "PARTNER", "with_partner_group"]
