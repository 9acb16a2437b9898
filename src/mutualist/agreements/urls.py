from __future__ import annotations

from django.urls import path

from mutualist.agreements import views

urlpatterns = [
    path("", views.agreement_list, name="agreement-list"),
    path("templates/", views.template_list, name="agreement-templates"),
    path("templates/<int:template_id>/", views.template_details, name="agreement-template"),
    path("targets/<int:target_id>/", views.target_details, name="agreement-target"),
    path("partner/<int:partner_id>/", views.partner_panel, name="agreement-partner-panel"),
    path("<int:agreement_id>/", views.agreement_details, name="agreement-details"),
    path("<int:agreement_id>/print/", views.agreement_print, name="agreement-print"),
    path("<int:agreement_id>/<slug:action>/", views.agreement_act, name="agreement-act"),
]
