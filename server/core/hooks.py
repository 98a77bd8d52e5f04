"""Hooks that let a lower domain call into an upper one without importing it: master data seeds
its dictionaries when system creates a tenant; inventory says what uses the goods and warehouses
master data is asked to delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from server.core.tenancy import Ctx

TenantHook = Callable[[Ctx], Awaitable[None]]
_tenant_created: list[TenantHook] = []


def on_tenant_created(fn: TenantHook) -> TenantHook:
    _tenant_created.append(fn)
    return fn


async def tenant_created(ctx: Ctx) -> None:
    """Run inside the tenant's creating transaction: a failing hook leaves no half tenant."""
    for fn in _tenant_created:
        await fn(ctx)


# --- what uses a master data row ---------------------------------------------------------------
# Master data sits below inventory (and later repair orders): it cannot read their tables, yet a
# delete must say what still uses the rows it removes and refuse while stock or open documents do.
# An upper domain registers a counter per subject at import; master data asks `usage`.


@dataclass(frozen=True)
class Usage:
    """One count of what uses some rows. A `blocking` count above zero refuses their delete, and
    `reason` says why in the refusal ("仍有库存 12 件")."""

    key: str
    label: str
    count: int
    blocking: bool = False
    reason: str = ""


# (ctx, ids) → counts; `ids` is a list of row ids or a one-column sub-select of them
UsageCounter = Callable[[Ctx, Any], Awaitable[list[Usage]]]
_usage: dict[str, list[UsageCounter]] = {}


def counts_usage(subject: str) -> Callable[[UsageCounter], UsageCounter]:
    """Register a counter of what uses rows of `subject` ("goods", "warehouse")."""

    def register(fn: UsageCounter) -> UsageCounter:
        _usage.setdefault(subject, []).append(fn)
        return fn

    return register


async def usage(ctx: Ctx, subject: str, ids: Any) -> list[Usage]:
    """Every registered count of what uses the rows `ids` of `subject`, in registration order."""
    found: list[Usage] = []
    for fn in _usage.get(subject, []):
        found += await fn(ctx, ids)
    return found
