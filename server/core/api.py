"""Small helpers for the JSON API controllers."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from server.core.pagination import Page

S = TypeVar("S", bound=msgspec.Struct)


def given(body: msgspec.Struct) -> dict[str, Any]:
    """The fields a body actually carries (UNSET ones are left out), nested Structs as dicts."""
    return {
        f: msgspec.to_builtins(getattr(body, f))
        for f in body.__struct_fields__
        if getattr(body, f) is not msgspec.UNSET
    }


def to(struct: type[S], row: dict) -> S:
    return struct(**{f: row[f] for f in struct.__struct_fields__})


def page_of(struct: type[S], page: Page) -> dict:
    return page.envelope([to(struct, r) for r in page.items])


_pages: dict[type, type[msgspec.Struct]] = {}


def page_type(item: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """The list envelope of `item`s as a Struct (`OrgOut` → `OrgPage`), for a list handler's return
    annotation so that the OpenAPI document describes the items; the handler may return the
    envelope dict (`page_of`, `Page.envelope`)."""
    if item not in _pages:
        _pages[item] = msgspec.defstruct(
            f"{item.__name__.removesuffix('Out')}Page",
            [("items", list[item]), ("total", int), ("page", int), ("page_size", int)],
            module=item.__module__,
        )
    return _pages[item]
