from __future__ import annotations

from django.urls import path

from mutualist.tiers import views

urlpatterns = [
    path("", views.tier_index, name="tier-index"),
    path("proposals/", views.proposal_list, name="tier-proposals"),
    path("proposals/<int:proposal_id>/", views.proposal_details, name="tier-proposal"),
    path("partners/<int:partner_id>/", views.partner_tier, name="tier-partner"),
]
