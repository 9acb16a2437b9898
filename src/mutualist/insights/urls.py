from __future__ import annotations

from django.urls import path

from mutualist.insights import views

urlpatterns = [
    path("", views.board_page, name="board"),
    path("scorecard/<int:partner_id>/", views.scorecard_fragment, name="partner-scorecard"),
]
