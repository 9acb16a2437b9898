from __future__ import annotations

from django.urls import path

from mutualist.crm import views

urlpatterns = [
    path("accounts/", views.account_list, name="account-list"),
    path("accounts/<int:account_id>/", views.account_details, name="account-details"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path(
        "opportunities/<int:opportunity_id>/", views.opportunity_details, name="opportunity-details"
    ),
    path("leads/", views.lead_list, name="lead-list"),
]
