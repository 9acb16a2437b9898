from __future__ import annotations

from django.urls import include, path

from mutualist.cosell import views

urlpatterns = [
    path("registrations/", views.registration_list, name="registration-list"),
    path("registrations/new/", views.registration_new, name="registration-new"),
    path(
        "registrations/<int:registration_id>/",
        views.registration_details,
        name="registration-details",
    ),
    path(
        "registrations/<int:registration_id>/<slug:action>/",
        views.registration_act,
        name="registration-act",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path("announcements/", views.announcement_list, name="announcements"),
    path("", include("mutualist.cosell.routing_urls")),
]
