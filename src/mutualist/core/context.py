from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from mutualist import __version__


def site(request: HttpRequest) -> dict[str, object]:
    return {"mutualist_version": __version__, "mutualist_mode": settings.MODE}
