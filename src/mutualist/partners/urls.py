from __future__ import annotations

from django.urls import path

from mutualist.partners import views

urlpatterns = [
    path("", views.directory, name="partner-directory"),
    path("<int:partner_id>/", views.details, name="partner-details"),
]
