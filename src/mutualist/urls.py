from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from mutualist.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("mutualist.core.urls")),
    path("partners/", include("mutualist.partners.urls")),
    path("crm/", include("mutualist.crm.urls")),
    path("settings/", include("mutualist.accounts.urls")),
    path("imports/", include("mutualist.imports.urls")),
    path("board/", include("mutualist.insights.urls")),
    path("mapping/", include("mutualist.overlaps.urls")),
    path("cosell/", include("mutualist.cosell.urls")),
    path("tiers/", include("mutualist.tiers.urls")),
    path("agreements/", include("mutualist.agreements.urls")),
    path("onboarding/", include("mutualist.onboarding.urls")),
    path("fit/", include("mutualist.fit.urls")),
]
