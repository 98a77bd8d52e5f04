"""Reading htmx/HTML form posts into plain dicts for the services."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response

from server.core.errors import BusinessError
from server.core.pagination import PageParams


async def form_data(request: Request, lists: tuple[str, ...] = ()) -> dict:
    """Last value per key (a hidden "0" before a checkbox gives unchecked boxes a value);
    keys in `lists` keep every value. The CSRF field is dropped."""
    form = await request.form()
    data: dict = {}
    for key in form:
        if key == "_csrf_token":
            continue
        values = form.getall(key)
        data[key] = [v for v in values if v != ""] if key in lists else values[-1]
    for key in lists:
        data.setdefault(key, [])
    return data


async def form_rows(request: Request, *names: str, label: str) -> list[dict]:
    """Line items posted as parallel fields (one input of each name a row), read position by
    position so an empty cell stays in its row; rows of unequal length are refused."""
    form = await request.form()
    columns = [form.getall(name, []) for name in names]
    if len({len(c) for c in columns}) > 1:
        raise BusinessError(f"{label}格式不正确", code="invalid_field")
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def saved(message: str, topic: str | None = None, status_code: int = 200) -> Response:
    """Answer a successful form post: htmx closes the dialog, shows `message`, refreshes `topic`."""
    trigger = {"weifu:saved": {"message": message, "topic": topic}}
    return Response("", status_code=status_code, headers={"HX-Trigger": json.dumps(trigger)})


def query_string(filters: Mapping[str, Any] | msgspec.Struct) -> str:
    """The current filters (a dict or a `core.api.Filters`) as a query string for pagination and
    export links."""
    if isinstance(filters, msgspec.Struct):
        filters = msgspec.structs.asdict(filters)
    return urlencode({k: v for k, v in filters.items() if v not in (None, "")})


def page_params(request: Request) -> PageParams:
    """A list page's page (20 rows unless asked)."""
    return PageParams.of(request.query_params.get("page", 1), request.query_params.get("page_size", 20))


def list_query(request: Request, *names: str, **defaults: str) -> tuple[dict, PageParams]:
    """A list page's filters from the query string (with defaults such as `status="active"`)
    and its page (20 rows unless asked)."""
    filters = {n: request.query_params.get(n, defaults.get(n, "")) for n in (*names, *defaults)}
    params = PageParams.of(request.query_params.get("page", 1), request.query_params.get("page_size", 20))
    return filters, params
