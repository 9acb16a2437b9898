from __future__ import annotations

from django.contrib import admin

from mutualist.overlaps.models import (
    AccountList,
    AccountResolution,
    Company,
    PartnerAccount,
    Partnership,
    Population,
    SharingRule,
)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin[Company]):
    list_display = ("name", "domain", "country", "registration_id", "created_at")
    search_fields = ("name", "domain", "registration_id")


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
