"""Reading htmx/HTML form posts into plain dicts for the services."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from litestar import Request, Response

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


def saved(message: str, topic: str | None = None, status_code: int = 200) -> Response:
    """Answer a successful form post: htmx closes the dialog, shows `message`, refreshes `topic`."""
    trigger = {"weifu:saved": {"message": message, "topic": topic}}
    return Response("", status_code=status_code, headers={"HX-Trigger": json.dumps(trigger)})


def query_string(filters: dict) -> str:
    """The current filters as a query string for pagination and export links."""
    return urlencode({k: v for k, v in filters.items() if v not in (None, "")})


def list_query(request: Request, *names: str, **defaults: str) -> tuple[dict, PageParams]:
    """A list page's filters from the query string (with defaults such as `status="active"`)
    and its page (20 rows unless asked)."""
    filters = {n: request.query_params.get(n, defaults.get(n, "")) for n in (*names, *defaults)}
    params = PageParams.of(request.query_params.get("page", 1), request.query_params.get("page_size", 20))
    return filters, params
