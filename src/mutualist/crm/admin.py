from __future__ import annotations

from django.contrib import admin

from mutualist.crm.models import (
    Account,
    Cost,
    Lead,
    Opportunity,
    PartnerInvolvement,
    RevenueMonth,
)


class InvolvementInline(admin.TabularInline[PartnerInvolvement, Opportunity]):
    model = PartnerInvolvement
    extra = 0
    autocomplete_fields = ["partner"]


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
    inlines = [InvolvementInline]
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
