from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from mutualist.partners.choices import PartnerType, Region, Status
from mutualist.partners.models import Partner


class PartnerOut(Schema):
    id: int
    name: str
    legal_name: str
    domain: str
    other_domains: list[str]
    country: str
    region: str
    types: list[str]
    segments: list[str]
    status: str
    status_since: datetime
    tier: str
    owner_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_types(obj: Partner) -> list[str]:
        return obj.type_list

    @staticmethod
    def resolve_segments(obj: Partner) -> list[str]:
        return sorted(s.code for s in obj.segments.all())


class PartnerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    legal_name: str = Field("", max_length=300)
    domain: str = Field("", max_length=253, description="Main web domain; URLs are accepted")
    other_domains: list[str] = []
    country: str = Field("", max_length=2, description="ISO 3166-1 alpha-2")
    region: Region | Literal[""] = ""
    types: list[PartnerType] = Field(..., min_length=1)
    segments: list[str] = Field([], description="Segment codes, see GET /segments")
    owner: int | None = Field(None, description="User id of the owning alliance manager")


class PartnerPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    legal_name: str | None = Field(None, max_length=300)
    domain: str | None = Field(None, max_length=253)
    other_domains: list[str] | None = None
    country: str | None = Field(None, max_length=2)
    region: Region | Literal[""] | None = None
    types: list[PartnerType] | None = Field(None, min_length=1)
    segments: list[str] | None = None
    owner: int | None = None


class StatusChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: str = Field(..., min_length=1, max_length=500)


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    changed_at: datetime
    reason: str


class SegmentOut(Schema):
    kind: str
    code: str
    name: str
