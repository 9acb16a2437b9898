from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.overlaps import registry
from mutualist.overlaps.models import (
    AccountList,
    AccountResolution,
    Company,
    CompanyDomain,
    PartnerAccount,
    Partnership,
    Population,
    SharingRule,
)


class CompanyDomainInline(admin.TabularInline[CompanyDomain, Company]):
    """A company's other domains. Added here through `registry.add_domain` (validated, audited,
    waiting partner records re-matched); removed only by merging or deleting the company."""

    model = CompanyDomain
    fields = ("domain", "created_at")
    readonly_fields = ("created_at",)
    extra = 1

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin[Company]):
    list_display = ("name", "domain", "country", "registration_id", "created_at")
    search_fields = ("name", "domain", "registration_id", "aliases__domain")
    inlines = [CompanyDomainInline]
    actions = ["merge_into_oldest"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not CompanyDomain:
            super().save_formset(request, form, formset, change)
            return
        # The admin's change message reads what a formset saved; we save through the registry.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for alias_form in formset.extra_forms:
            domain = alias_form.cleaned_data.get("domain") if alias_form.has_changed() else None
            if domain:
                try:
                    registry.add_domain(request.user, form.instance, domain)
                except (ValidationFailed, NotAllowed) as exc:
                    self.message_user(request, _message(exc), messages.ERROR)

    @admin.action(description="Merge the selected companies into the oldest one")
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet[Company]) -> None:
        keep, *others = queryset.order_by("pk")
        if not others:
            self.message_user(request, "Select at least two companies.", messages.ERROR)
            return
        try:
            with transaction.atomic():  # all of the selection or none
                for other in others:
                    registry.merge_companies(request.user, keep, other)
        except (ValidationFailed, NotAllowed) as exc:
            self.message_user(request, _message(exc), messages.ERROR)
            return
        self.message_user(request, f"Merged {len(others)} companies into {keep.name}.")


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{field} {text}" for field, text in exc.errors.items())
    return str(exc)


@admin.register(AccountResolution)
class AccountResolutionAdmin(admin.ModelAdmin[AccountResolution]):
    list_display = ("account", "company", "confidence", "reason")
    list_filter = ("confidence",)
    raw_id_fields = ("account", "company")


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin[Partnership]):
    list_display = ("partner", "mode", "vendor_opted_in_at", "partner_opted_in_at", "min_count")
    list_filter = ("mode",)
    exclude = ("blind_key",)


@admin.register(Population)
class PopulationAdmin(admin.ModelAdmin[Population]):
    list_display = ("name", "side", "partner", "base", "country", "industry", "is_standard")
    list_filter = ("side", "base", "is_standard")


@admin.register(SharingRule)
class SharingRuleAdmin(admin.ModelAdmin[SharingRule]):
    list_display = ("partnership", "population", "level", "updated_at")
    list_filter = ("level",)


@admin.register(AccountList)
class AccountListAdmin(admin.ModelAdmin[AccountList]):
    list_display = ("partner", "file_name", "status", "row_count", "matched_count", "uploaded_at")
    list_filter = ("status", "is_blind")
    readonly_fields = ("sha256",)


@admin.register(PartnerAccount)
class PartnerAccountAdmin(admin.ModelAdmin[PartnerAccount]):
    list_display = ("external_id", "partner", "name", "domain", "status", "company", "confidence")
    list_filter = ("status", "confidence")
    search_fields = ("name", "domain", "external_id")
    raw_id_fields = ("company", "account_list")
