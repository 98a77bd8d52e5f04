"""What inventory tells master data and system before a goods category, a warehouse or an org is
deleted: the stock on hand and the open documents that use them (registered with core's usage
hooks, so the domains below inventory never read these tables themselves)."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Sum

from server.core import hooks
from server.core.documents import DocStatus
from server.core.hooks import Usage
from server.core.tenancy import Ctx, scoped
from server.inventory.tables import Stock, StockDoc, StockDocLine

OPEN = [DocStatus.DRAFT, DocStatus.SUBMITTED, DocStatus.PARTIAL]  # neither completed nor deleted


async def _on_hand(ctx: Ctx, where: Any) -> int:
    row = await Stock.select(Sum(Stock.qty).as_alias("qty")).where(scoped(ctx, Stock) & where).first()
    return int((row or {}).get("qty") or 0)


def _stock(qty: int) -> Usage:
    return Usage("stock_qty", "库存数量", qty, blocking=True, reason=f"仍有库存 {qty} 件")


def _docs(count: int) -> Usage:
    return Usage("open_docs", "未完成的出入库单", count, blocking=True, reason=f"仍被 {count} 张未完成的出入库单使用")


@hooks.counts_usage("goods")
async def goods_usage(ctx: Ctx, goods_ids: Any) -> list[Usage]:
    lines = StockDocLine.select(StockDocLine.doc).where(scoped(ctx, StockDocLine) & StockDocLine.goods.is_in(goods_ids))
    docs = await StockDoc.count().where(scoped(ctx, StockDoc) & StockDoc.status.is_in(OPEN) & StockDoc.id.is_in(lines))
    return [_stock(await _on_hand(ctx, Stock.goods.is_in(goods_ids))), _docs(docs)]


@hooks.counts_usage("warehouse")
async def warehouse_usage(ctx: Ctx, warehouse_ids: Any) -> list[Usage]:
    docs = await StockDoc.count().where(
        scoped(ctx, StockDoc) & StockDoc.status.is_in(OPEN) & StockDoc.warehouse.is_in(warehouse_ids)
    )
    return [_stock(await _on_hand(ctx, Stock.warehouse.is_in(warehouse_ids))), _docs(docs)]


@hooks.counts_usage("org")
async def org_usage(ctx: Ctx, org_ids: Any) -> list[Usage]:
    docs = await StockDoc.count().where(
        scoped(ctx, StockDoc) & StockDoc.status.is_in(OPEN) & StockDoc.org_id.is_in(org_ids)
    )
    return [_stock(await _on_hand(ctx, Stock.org_id.is_in(org_ids))), _docs(docs)]
