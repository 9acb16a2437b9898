from __future__ import annotations

from django.http import HttpRequest

from mutualist.cosell.models import Notification


def unread(request: HttpRequest) -> dict[str, object]:
    """The unread-notification count shown in the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()
    }
