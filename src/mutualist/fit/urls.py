from __future__ import annotations

from django.urls import path

from mutualist.fit import views

urlpatterns = [
    path("", views.fit_index, name="fit-index"),
    path("partners/<int:partner_id>/", views.fit_partner, name="fit-partner"),
    path("compare/", views.fit_compare, name="fit-compare"),
    path("scorecards/<int:scorecard_id>/", views.fit_scorecard, name="fit-scorecard"),
]
