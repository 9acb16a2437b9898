from __future__ import annotations

from django.urls import path

from mutualist.partners import views

urlpatterns = [
    path("", views.directory, name="partner-directory"),
    path("new/", views.create, name="partner-create"),
    path("board/", views.lifecycle_board, name="partner-board"),
    path("<int:partner_id>/", views.details, name="partner-details"),
    path("<int:partner_id>/edit/", views.edit, name="partner-edit"),
    path("<int:partner_id>/status/", views.change_status, name="partner-status"),
]
