"""Lead routing and referral pages, to be included under /cosell/."""

from __future__ import annotations

from django.urls import path

from mutualist.cosell import views_routing as views

urlpatterns = [
    path("offers/", views.offer_list, name="lead-offers"),
    path("offers/<int:offer_id>/", views.offer_details, name="lead-offer"),
    path("leads/<int:lead_id>/route/", views.route_lead, name="lead-route"),
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/new/", views.referral_new, name="referral-new"),
    path("referrals/<int:referral_id>/", views.referral_details, name="referral"),
]
