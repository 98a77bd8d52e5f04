"""A delete racing the writers that would use the row (issue 15 item 1): between "is the warehouse
used?" and its soft delete, an inbound for it must not slip in, nor the delete between an inbound's
check and its insert. Each round runs a delete and an inbound at once, with a pause widened inside
each of them exactly where the race lies; afterwards no deleted warehouse holds stock or an open
document, and exactly one of the two went through. Meaningful on PostgreSQL (TEST_DATABASE_URL);
on SQLite the write lock already serialises them."""

from __future__ import annotations

import asyncio

from server.core.errors import BusinessError
from server.inventory.tables import Stock, StockDoc
from server.inventory.usage import OPEN
from server.masterdata.services import warehouses
from server.masterdata.tables import Warehouse
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import warehouse

ROUNDS = 8


def widened(monkeypatch, module, name: str, entered: list[str]) -> None:
    """`module.name` pauses once it is done: the other side of the race runs meanwhile."""
    real = getattr(module, name)

    async def paused(*args, **kwargs):
        result = await real(*args, **kwargs)
        entered.append(name)
        await asyncio.sleep(0.02)
        return result

    monkeypatch.setattr(module, name, paused)


async def test_a_warehouse_delete_and_an_inbound_never_leave_stock_in_a_deleted_warehouse(tenant, monkeypatch):
    w = await world(tenant)
    entered: list[str] = []
    widened(monkeypatch, warehouses, "impact", entered)  # the delete, between its check and its update
    widened(monkeypatch, warehouses, "require_usable", entered)  # the inbound, between its check and its insert
    outcomes = []
    for i in range(ROUNDS):
        made = await warehouse(tenant, f"RACE{i}")
        await warehouses.assign(tenant, [made["id"]], [tenant.org_id])
        entered.clear()
        # odd rounds: the delete is inside its window when the inbound starts; even: the reverse
        first, then = ("impact", "require_usable") if i % 2 else ("require_usable", "impact")
        calls = {
            "impact": lambda wid=made["id"]: warehouses.delete(tenant, wid),
            "require_usable": lambda wid=made["id"]: inbound(tenant, wid, (w["screen"], 2, "10")),
        }

        async def after(step: str, call):
            while step not in entered:
                await asyncio.sleep(0.002)
            return await call()

        results = dict(
            zip(
                (first, then),
                await asyncio.gather(calls[first](), after(first, calls[then]), return_exceptions=True),
                strict=True,
            )
        )
        for r in results.values():
            assert not isinstance(r, BaseException) or isinstance(r, BusinessError), r
        deleted, stocked = (not isinstance(results[k], BaseException) for k in ("impact", "require_usable"))
        outcomes.append((first, deleted, stocked))
        # exactly one goes through, the one that was first inside its window; the other is told why
        assert deleted != stocked and deleted == (first == "impact"), (i, results)

    gone = [r["id"] for r in await Warehouse.select(Warehouse.id).where(Warehouse.status == "deleted")]
    assert gone, outcomes
    held = await Stock.select(Stock.warehouse, Stock.qty).where(Stock.warehouse.is_in(gone) & (Stock.qty != 0))
    open_docs = await StockDoc.count().where(StockDoc.warehouse.is_in(gone) & StockDoc.status.is_in(OPEN))
    assert held == [] and open_docs == 0, (held, open_docs, outcomes)
