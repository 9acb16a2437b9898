from __future__ import annotations

from django.urls import path

from mutualist.accounts import views

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="token-revoke"),
    path("people/", views.people, name="people"),
]
