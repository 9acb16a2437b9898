"""The list page every list shares: filters parsed from the query string, pagination, CSV export.

A view builds a filtered queryset and a list of columns; `render_list` either streams the whole
filtered list as CSV (`?format=csv`) or renders one page of it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from mutualist.lib.errors import ValidationFailed

PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    rows: QuerySet[Any] | list[Any], columns: list[Column], filename: str
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([c.header for c in columns])
        for row in rows if isinstance(rows, list) else rows.iterator(chunk_size=2000):
            yield writer.writerow(["" if (v := c.value(row)) is None else v for c in columns])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def query_params(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip() for name in names}


def page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def render_list(
    request: HttpRequest,
    rows: QuerySet[Any],
    columns: list[Column],
    template: str,
    context: dict[str, Any],
    filename: str,
) -> HttpResponseBase:
    if request.GET.get("format") == "csv":
        return csv_response(rows, columns, filename)
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(page_number(request))
    without_page = request.GET.copy()
    without_page.pop("page", None)
    csv_query = request.GET.copy()
    csv_query.pop("page", None)
    csv_query["format"] = "csv"
    context.update(
        page=page,
        paginator=paginator,
        query_without_page=without_page.urlencode(),
        csv_query=csv_query.urlencode(),
    )
    return render(request, template, context)


def render_filtered_list(
    request: HttpRequest,
    names: tuple[str, ...],
    default_sort: str,
    build: Callable[[dict[str, str]], QuerySet[Any]],
    columns: list[Column],
    template: str,
    ctx: dict[str, Any],
    filename: str,
) -> HttpResponseBase:
    """Parse the filters named `names`, build the rows, and render a page or CSV.

    Unknown filter values come back as a 400 page that names the filter and the allowed values.
    """
    params = query_params(request, names)
    params["sort"] = params.get("sort") or default_sort
    ctx["filters"] = params
    try:
        rows = build(params)
    except ValidationFailed as exc:
        ctx.update(errors=exc.errors, page=None)
        return render(request, template, ctx, status=400)
    return render_list(request, rows, columns, template, ctx, filename)
