from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from mutualist.accounts import access, actions
from mutualist.accounts.access import acting_user
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
