"""What a read returns, by column type, on both databases: ints as int, booleans as bool,
timestamps as aware datetimes (issue 14 replaced Piccolo's SQLite INTEGER and BOOLEAN
converters with cheaper ones; the values must not change)."""

from __future__ import annotations

from datetime import datetime

from server.masterdata.tables import Goods, GoodsPrice
from tests.inventory.helpers import world


async def test_a_row_reads_back_with_the_types_it_was_written_with(tenant):
    w = await world(tenant)
    await Goods.update({Goods.enabled: False, Goods.purchase_cost: -12_345_678_901}).where(Goods.id == w["screen"])
    row = await Goods.select().where(Goods.id == w["screen"]).first()
    assert row["enabled"] is False and row["is_intake_item"] is False and row["per_store_pricing"] is False
    assert type(row["id"]) is int and type(row["safety_stock"]) is int and row["safety_stock"] == 5
    assert row["purchase_cost"] == -12_345_678_901 and type(row["purchase_cost"]) is int
    assert isinstance(row["created_at"], datetime) and row["created_at"].tzinfo is not None
    other = await Goods.select(Goods.enabled).where(Goods.id == w["battery"]).first()
    assert other["enabled"] is True
    prices = await GoodsPrice.select(GoodsPrice.level, GoodsPrice.orderable).where(GoodsPrice.goods == w["screen"])
    assert prices and all(type(p["level"]) is int and type(p["orderable"]) is bool for p in prices)
