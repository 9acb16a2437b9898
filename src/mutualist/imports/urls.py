from __future__ import annotations

from django.urls import path

from mutualist.imports import views

urlpatterns = [
    path("", views.run_list, name="import-list"),
    path("new/", views.upload, name="import-upload"),
    path("<int:run_id>/", views.details, name="import-details"),
    path("<int:run_id>/problems.csv", views.report, name="import-report"),
]
