"""Page parameters and the list envelope `{"items", "total", "page", "page_size"}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.core.errors import BusinessError

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    page_size: int = 50

    @classmethod
    def of(cls, page: Any = 1, page_size: Any = 50) -> PageParams:
        try:
            p = 1 if page in (None, "") else int(page)
            s = 50 if page_size in (None, "") else int(page_size)
        except (TypeError, ValueError):
            raise BusinessError("分页参数必须是整数", code="invalid_page") from None
        if p < 1 or p > 1_000_000 or s < 1 or s > MAX_PAGE_SIZE:
            raise BusinessError(f"分页参数超出范围（每页 1–{MAX_PAGE_SIZE} 条）", code="invalid_page")
        return cls(p, s)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def with_items(self, items: list) -> Page:
        return Page(items, self.total, self.page, self.page_size)

    def envelope(self, items: list | None = None) -> dict:
        return {
            "items": self.items if items is None else items,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
        }


async def paginate(select, count, params: PageParams) -> Page:
    """Run a Piccolo select (already filtered and ordered) and, unless the rows already tell the
    total (a short page that is not past the end), its matching count query: a search with few
    hits, on a large table, then scans once instead of twice."""
    items = await select.limit(params.page_size).offset(params.offset)
    if len(items) < params.page_size and (items or not params.offset):
        return Page(items, params.offset + len(items), params.page, params.page_size)
    return Page(items, await count, params.page, params.page_size)
