from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from mutualist.accounts import access, actions
from mutualist.accounts import people as partner_people
from mutualist.accounts.access import acting_user
from mutualist.accounts.models import User
from mutualist.lib.errors import ValidationFailed


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    ctx: dict[str, object] = {}
    status = 200
    if request.method == "POST":
        try:
            user = acting_user(request)
            _, key = actions.create_api_token(user, user, request.POST.get("name", ""))
            ctx["new_key"] = key
        except ValidationFailed as exc:
            ctx["errors"] = exc.errors
            status = 400
    ctx["tokens"] = access.tokens_visible_to(request.user)
    return render(request, "accounts/tokens.html", ctx, status=status)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = access.get_token_for(request.user, token_id)
    actions.revoke_api_token(acting_user(request), token)
    return redirect("tokens")


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """The partner's own people (partner portal)."""
    user = acting_user(request)
    if user.partner is None:
        raise Http404("Vendor staff manage users in the admin.")
    partner = user.partner
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") in ("activate", "deactivate"):
                person = get_object_or_404(User, pk=request.POST.get("user") or 0, partner=partner)
                partner_people.set_active(
                    user, partner, person, request.POST["action"] == "activate"
                )
            else:
                partner_people.add_person(user, partner, request.POST)
            return redirect("people")
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = {
        "partner": partner,
        "people": partner_people.people_of(user, partner),
        "can_manage": partner_people.can_manage_people(user, partner),
        "errors": errors,
        "values": request.POST if errors else {},
    }
    return render(request, "accounts/people.html", ctx, status=400 if errors else 200)
