"""Hooks that let a lower domain react to an upper one without the upper importing it
(e.g. master data seeds its dictionaries when system creates a tenant)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

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
