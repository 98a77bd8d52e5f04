"""Small helpers for the JSON API controllers."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.di import Provide
from litestar.params import FromQuery, QueryParameter

from server.core.errors import BusinessError
from server.core.pagination import Page

S = TypeVar("S", bound=msgspec.Struct)
F = TypeVar("F", bound="Filters")

PageNo = Annotated[int, QueryParameter(ge=1, le=1_000_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


@functools.cache
def _fields(cls: type) -> tuple:
    """A Struct's fields: msgspec works them out from its annotations on every call (a page
    request reads its filters with them)."""
    return msgspec.structs.fields(cls)


class Filters(msgspec.Struct, kw_only=True, frozen=True):
    """A list's filters, declared once as a subclass: the API reads them from the query string
    (`provide()`, which also documents them in OpenAPI), the page from its request
    (`from_query`), and the service takes the Struct itself. Fields default to "no filter"."""

    @classmethod
    def from_query(cls: type[F], query: Mapping[str, Any], **defaults: Any) -> F:
        """The filters a query string asks for. `defaults` apply to names absent from it (a page
        lists active rows unless the user picks 全部, which sends the name empty)."""
        values = dict(defaults)
        for f in _fields(cls):
            if f.name not in query:
                continue
            if query[f.name] in (None, "") and f.type is not str:
                values.pop(f.name, None)
            else:
                values[f.name] = query[f.name]
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as e:
            field = str(e).rpartition("$.")[2].rstrip("`") or "?"
            raise BusinessError(f"筛选条件 {field} 的值无效", code="invalid_filter") from None

    @classmethod
    def provide(cls) -> Provide:
        """The Litestar dependency giving this Struct from the query, one documented parameter
        per field (a list handler and its export share it)."""

        async def filters(**values: Any) -> Any:
            return cls(**values)

        fields = msgspec.structs.fields(cls)
        filters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=FromQuery[f.type]
                )
                for f in fields
            ],
            return_annotation=cls,
        )
        filters.__annotations__ = {f.name: FromQuery[f.type] for f in fields} | {"return": cls}
        return Provide(filters)

    def as_dict(self) -> dict[str, Any]:
        return msgspec.structs.asdict(self)


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
