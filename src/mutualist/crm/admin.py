from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from mutualist.crm.models import (
    Account,
    Cost,
    ExchangeRate,
    Lead,
    Opportunity,
    PartnerInvolvement,
    RevenueMonth,
    StageChange,
)

STAGE_CHANGE_FIELDS = ("stage", "changed_at", "amount", "close_date", "probability", "external_id")


class InvolvementInline(admin.TabularInline[PartnerInvolvement, Opportunity]):
    model = PartnerInvolvement
    extra = 0
    autocomplete_fields = ["partner"]


class StageChangeInline(admin.TabularInline[StageChange, Opportunity]):
    """The imported stage history, shown read-only: the next import would overwrite edits."""

    model = StageChange
    extra = 0
    can_delete = False
    fields = STAGE_CHANGE_FIELDS
    readonly_fields = STAGE_CHANGE_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin[Account]):
    list_display = ["name", "domain", "country", "industry", "size_band", "lifecycle"]
    list_filter = ["lifecycle", "size_band", "industry"]
    search_fields = ["name", "domain", "external_id"]


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin[Opportunity]):
    list_display = ["name", "account", "amount", "currency", "stage", "is_won", "created_at"]
    list_filter = ["is_closed", "is_won", "type", "stage"]
    search_fields = ["name", "account__name", "external_id"]
    raw_id_fields = ["account"]
    inlines = [InvolvementInline, StageChangeInline]
    list_select_related = ["account"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin[Lead]):
    list_display = ["company", "status", "source", "partner", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["company", "external_id"]
    raw_id_fields = ["partner", "account"]


@admin.register(RevenueMonth)
class RevenueMonthAdmin(admin.ModelAdmin[RevenueMonth]):
    list_display = ["account", "month", "mrr", "currency"]
    raw_id_fields = ["account"]


@admin.register(Cost)
class CostAdmin(admin.ModelAdmin[Cost]):
    list_display = ["month", "category", "amount", "currency", "partner", "program"]
    list_filter = ["category"]
    raw_id_fields = ["partner"]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin[StageChange]):
    """Read-only: stage history comes from CRM imports, which would overwrite edits made here."""

    list_display = ["opportunity", "stage", "changed_at", "amount", "close_date", "probability"]
    list_filter = ["stage"]
    search_fields = ["opportunity__name", "opportunity__external_id", "external_id"]
    raw_id_fields = ["opportunity"]
    list_select_related = ["opportunity"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StageChange | None = None) -> bool:
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin[ExchangeRate]):
    list_display = ("currency", "month", "rate")
    list_filter = ("currency",)
    date_hierarchy = "month"
