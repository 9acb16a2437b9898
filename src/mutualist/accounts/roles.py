"""The roles a user can hold. Vendor roles see the vendor's data; partner roles see one partner's."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    CPO = "cpo", "Chief Partner Officer"
    ALLIANCE_MANAGER = "alliance_manager", "Alliance manager"
    ANALYST = "analyst", "Analyst"
    APPROVER_LEGAL = "approver_legal", "Approver (legal)"
    APPROVER_FINANCE = "approver_finance", "Approver (finance)"
    APPROVER_OPS = "approver_ops", "Approver (operations)"
    PARTNER_ADMIN = "partner_admin", "Partner administrator"
    PARTNER_USER = "partner_user", "Partner user"


PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_USER})
VENDOR_ROLES = frozenset(set(Role) - PARTNER_ROLES)
# Who may create and edit partner records and CRM data through the app.
PARTNER_EDITORS = frozenset({Role.CPO, Role.ALLIANCE_MANAGER})
