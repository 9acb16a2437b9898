from __future__ import annotations

from django.contrib import admin

from mutualist.partners.models import Partner, PartnerExternalId, Segment, StatusChange, TierChange


class StatusChangeInline(admin.TabularInline[StatusChange, Partner]):
    model = StatusChange
    extra = 0
    readonly_fields = ["from_status", "to_status", "changed_at", "reason", "actor"]


class TierChangeInline(admin.TabularInline[TierChange, Partner]):
    model = TierChange
    extra = 0


class ExternalIdInline(admin.TabularInline[PartnerExternalId, Partner]):
    model = PartnerExternalId
    extra = 0


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin[Partner]):
    list_display = ["name", "types", "status", "tier", "country", "owner"]
    list_filter = ["status", "tier", "region"]
    search_fields = ["name", "legal_name", "domain"]
    filter_horizontal = ["segments"]
    inlines = [StatusChangeInline, TierChangeInline, ExternalIdInline]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin[Segment]):
    list_display = ["kind", "code", "name"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
