from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from mutualist.accounts.roles import PARTNER_ROLES, VENDOR_ROLES, Role


class User(AbstractUser):
    """A person who logs in. Vendor staff hold a vendor role; a partner's people belong to one partner.

    The partner membership is this user's `partner` (set exactly when the role is a partner role):
    a partner user belongs to one partner, and that is what every access rule keys on.
    """

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.ANALYST)
    partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="members",
        help_text="Set for partner administrators and partner users only.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="partner_set_iff_partner_role",
                condition=(
                    models.Q(role__in=sorted(r.value for r in PARTNER_ROLES), partner__isnull=False)
                    | models.Q(role__in=sorted(r.value for r in VENDOR_ROLES), partner__isnull=True)
                ),
                violation_error_message="Partner roles need a partner; vendor roles must have none.",
            )
        ]

    @property
    def is_partner_user(self) -> bool:
        return self.role in PARTNER_ROLES

    @property
    def is_vendor_user(self) -> bool:
        return self.role in VENDOR_ROLES

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 hash is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the key, kept in clear so a user can tell tokens apart.
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
