"""What shipments ask of orders (【订货申请】/【订单审核】). The orders half of logistics provides
these; until it is merged they refuse, and the shipment tests stand in for them."""

from __future__ import annotations

from decimal import Decimal

from server.core.tenancy import Ctx


async def open_lines(ctx: Ctx, order_id: int) -> list[dict]:
    """The approved order's lines still open (id, goods_id, open_qty, unit_price …)."""
    raise NotImplementedError


async def record_shipped(ctx: Ctx, order_id: int, qty_by_line: dict[int, Decimal]) -> None:
    """At 【确认出库】: shipped quantities up, their value from freeze to usage."""
    raise NotImplementedError


async def record_recalled(ctx: Ctx, order_id: int, qty_by_line: dict[int, Decimal]) -> None:
    """At 【撤回】 of a confirmed shipment: the reverse of `record_shipped`."""
    raise NotImplementedError


async def record_received(ctx: Ctx, order_id: int, qty_by_line: dict[int, Decimal]) -> None:
    """At 【确认收货】: received quantities up."""
    raise NotImplementedError
