from __future__ import annotations

from django.urls import path

from mutualist.onboarding import views

urlpatterns = [
    path("", views.index, name="onboarding-index"),
    path("start/", views.start, name="onboarding-start"),
    path("journeys/<int:journey_id>/", views.journey_details, name="onboarding-journey"),
    path("tasks/<int:task_id>/", views.task_act, name="onboarding-task"),
    path(
        "templates/<int:journey_template_id>/", views.template_details, name="onboarding-template"
    ),
]
