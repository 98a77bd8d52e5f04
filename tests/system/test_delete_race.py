"""A delete racing the writers that would use the row (issue 15 item 1): between "is the warehouse
(or org) used?" and its soft delete, an inbound for it must not slip in, nor the delete between an
inbound's check and its insert. Each round runs a delete and an inbound at once, with a pause
widened inside each of them exactly where the race lies; afterwards no deleted warehouse or org
holds stock or an open document, and exactly one of the two went through. Meaningful on PostgreSQL (TEST_DATABASE_URL);
on SQLite the write lock already serialises them."""

from __future__ import annotations

import asyncio

from server.core.errors import BusinessError
from server.inventory.tables import Stock, StockDoc
from server.inventory.usage import OPEN
from server.masterdata.services import warehouses
from server.masterdata.tables import Warehouse
from server.system.services import orgs
from server.system.tables import Org
from tests.inventory.api_helpers import ALL_INVENTORY
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import warehouse
from tests.system.helpers import service_org, service_user

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


async def race(entered: list[str], rounds: int, make, delete, write) -> list[tuple[bool, bool]]:
    """`rounds` times: a fresh row (`make(i)`), then `delete(row)` and `write(row)` at once, each
    let in while the other is paused inside its window ("impact" / "require_usable"), in turn.
    Exactly the one inside its window first goes through; the other is refused (BusinessError)."""
    outcomes = []
    for i in range(rounds):
        row = await make(i)
        entered.clear()
        first, then = ("impact", "require_usable") if i % 2 else ("require_usable", "impact")
        calls = {"impact": lambda r=row: delete(r), "require_usable": lambda r=row: write(r)}

        async def after(step: str, call):
            while step not in entered:
                await asyncio.sleep(0.002)
            return await call()

        results = await asyncio.gather(calls[first](), after(first, calls[then]), return_exceptions=True)
        by_step = dict(zip((first, then), results, strict=True))
        for r in results:
            assert not isinstance(r, BaseException) or isinstance(r, BusinessError), r
        deleted, written = (not isinstance(by_step[k], BaseException) for k in ("impact", "require_usable"))
        assert deleted != written and deleted == (first == "impact"), (i, by_step)
        outcomes.append((deleted, written))
    return outcomes


async def test_a_warehouse_delete_and_an_inbound_never_leave_stock_in_a_deleted_warehouse(tenant, monkeypatch):
    w = await world(tenant)
    entered: list[str] = []
    widened(monkeypatch, warehouses, "impact", entered)  # the delete, between its check and its update
    widened(monkeypatch, warehouses, "require_usable", entered)  # the inbound, between its check and its insert

    async def make(i: int) -> int:
        made = await warehouse(tenant, f"RACE{i}")
        await warehouses.assign(tenant, [made["id"]], [tenant.org_id])
        return made["id"]

    outcomes = await race(
        entered,
        ROUNDS,
        make,
        lambda wid: warehouses.delete(tenant, wid),
        lambda wid: inbound(tenant, wid, (w["screen"], 2, "10")),
    )

    gone = [r["id"] for r in await Warehouse.select(Warehouse.id).where(Warehouse.status == "deleted")]
    assert gone, outcomes
    held = await Stock.select(Stock.warehouse, Stock.qty).where(Stock.warehouse.is_in(gone) & (Stock.qty != 0))
    open_docs = await StockDoc.count().where(StockDoc.warehouse.is_in(gone) & StockDoc.status.is_in(OPEN))
    assert held == [] and open_docs == 0, (held, open_docs, outcomes)


async def test_an_org_delete_and_its_clerks_inbound_never_leave_stock_in_a_deleted_org(tenant, monkeypatch):
    w = await world(tenant)
    entered: list[str] = []
    widened(monkeypatch, orgs, "impact", entered)
    widened(monkeypatch, warehouses, "require_usable", entered)
    clerks = {}

    async def make(i: int) -> int:
        branch = await service_org(tenant, f"RB{i}", tenant.org_id)
        await warehouses.assign(tenant, [w["general"]], [branch["id"]])
        clerks[branch["id"]] = await service_user(tenant, f"rb{i}clerk", branch["id"], "branch", ALL_INVENTORY)
        return branch["id"]

    outcomes = await race(
        entered,
        ROUNDS,
        make,
        lambda oid: orgs.delete(tenant, oid),
        lambda oid: inbound(clerks[oid], w["general"], (w["screen"], 2, "10")),
    )

    gone = [r["id"] for r in await Org.select(Org.id).where(Org.status == "deleted")]
    assert gone, outcomes
    held = await Stock.select(Stock.org_id, Stock.qty).where(Stock.org_id.is_in(gone) & (Stock.qty != 0))
    open_docs = await StockDoc.count().where(StockDoc.org_id.is_in(gone) & StockDoc.status.is_in(OPEN))
    assert held == [] and open_docs == 0, (held, open_docs, outcomes)
