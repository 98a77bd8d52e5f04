"""Demo stock: purchases into the head office's and 上海旗舰店's 通用库, a scrap outbound partly
confirmed, and a draft, so 【库存查询】 and the document lists have something to show."""

from __future__ import annotations

from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.inventory.services import documents
from server.masterdata.services import goods, warehouses
from server.system.services import auth, users


async def _warehouse(ctx: Ctx, code: str) -> int:
    return next(w["id"] for w in (await warehouses.search(ctx, q=code)).items if w["code"] == code)


async def _parts(ctx: Ctx, count: int) -> list[dict]:
    return (await goods.search(ctx, is_intake_item=False, enabled=True, params=PageParams(1, count))).items


async def _purchase(ctx: Ctx, warehouse_id: int, parts: list[dict], qty, confirm: bool = True) -> dict:
    body = {
        "type": "purchase",
        "warehouse_id": warehouse_id,
        "remark": "演示数据",
        "lines": [{"goods_id": p["id"], "qty": qty(i), "cost_price": p["purchase_cost"]} for i, p in enumerate(parts)],
    }
    doc = await documents.create(ctx, "inbound", body)
    if confirm:
        doc = await documents.submit(ctx, "inbound", doc["id"])
        doc = await documents.confirm(ctx, "inbound", doc["id"])
    return doc


async def load(ctx: Ctx) -> None:
    if (await documents.search(ctx, "inbound")).total:
        return
    general = await _warehouse(ctx, "WH-GEN")
    parts = await _parts(ctx, 40)
    await _purchase(ctx, general, parts[:30], lambda i: 20 + (i * 7) % 30)
    await _purchase(ctx, general, parts[30:], lambda i: 10, confirm=False)

    scrap = await documents.create(
        ctx,
        "outbound",
        {
            "type": "scrap",
            "warehouse_id": general,
            "remark": "演示：来料损坏报废",
            "lines": [{"goods_id": p["id"], "qty": 2} for p in parts[:3]],
        },
    )
    scrap = await documents.submit(ctx, "outbound", scrap["id"])
    await documents.confirm(ctx, "outbound", scrap["id"], [scrap["lines"][0]["id"]])

    keeper = next(u for u in (await users.search(ctx, q="sh.wh")).items if u["account"] == "sh.wh")
    branch = await auth.ctx_for(keeper["id"], ctx.tenant_id)
    if branch is not None:
        # a few parts under safety stock (5), so the marker shows
        await _purchase(branch, general, parts[:12], lambda i: 3 if i % 4 == 0 else 8)
