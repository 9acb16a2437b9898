from __future__ import annotations

from django.urls import path

from mutualist.overlaps import views

urlpatterns = [
    path("", views.index, name="mapping-index"),
    path("resolve/", views.resolve, name="mapping-resolve"),
    path("lists/<int:list_id>/", views.list_status, name="mapping-list"),
    path("<int:partner_id>/", views.partner_matrix, name="mapping-partner"),
    path("<int:partner_id>/cells/<int:mine_id>/<int:theirs_id>/", views.cell, name="mapping-cell"),
    path("<int:partner_id>/shared/<int:theirs_id>/", views.greenfield, name="mapping-greenfield"),
    path("<int:partner_id>/co-sell/", views.co_sell, name="mapping-co-sell"),
    path("<int:partner_id>/sharing/", views.sharing, name="mapping-sharing"),
    path("<int:partner_id>/upload/", views.upload, name="mapping-upload"),
    path("<int:partner_id>/review/", views.review_queue, name="mapping-review"),
    path(
        "<int:partner_id>/review/<int:record_id>/",
        views.review_decide,
        name="mapping-review-decide",
    ),
]
