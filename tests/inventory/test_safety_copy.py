"""Each stock row's copy of its goods' safety stock (inv_stock.safety_stock), which 【看板】's
低于安全库存 and the stock list's `below_safety=1` read, is the database's: new rows take the
goods' value, a change of the goods' value reaches every row of it, a write of the copy is
replaced; the migration fills the rows already there (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from importlib import import_module

import pytest

from server.inventory import permissions as P
from server.inventory.services import stock
from server.inventory.services.stock import StockFilters
from server.inventory.tables import Stock
from server.masterdata.services import goods, warehouses
from server.masterdata.tables import Goods
from tests.conftest import PG_URL
from tests.inventory.helpers import inbound, world
from tests.masterdata.helpers import make_goods
from tests.system.helpers import service_org, service_user

MIGRATION = "server.inventory.piccolo_migrations.inventory_2026_12_12t09_00_01_000000"
# the triggers of either engine, by table
TRIGGERS = {"inv_stock_safety_insert": "inv_stock", "inv_stock_safety_update": "inv_stock"}
TRIGGERS |= {"inv_stock_safety_copy": "inv_stock", "md_goods_safety_copy": "md_goods"}


async def copies() -> dict[int, int]:
    """Each stock row's copy, by row id."""
    return {r["id"]: r["safety_stock"] for r in await Stock.select(Stock.id, Stock.safety_stock)}


async def goods_values() -> dict[int, int]:
    """Each stock row's goods' safety stock, by row id."""
    rows = await Stock.select(Stock.id, Stock.goods.safety_stock.as_alias("goods_safety"))
    return {r["id"]: r["goods_safety"] for r in rows}


async def short(ctx) -> tuple[int, int, list[int]]:
    """The board's count, the stock list's total with `below_safety=1`, and the board's worst rows."""
    board = await stock.below_safety(ctx)
    listed = await stock.search(ctx, StockFilters(below_safety="1"))
    assert all(r["below_safety"] for r in listed.items)
    assert {r["id"] for r in listed.items} >= {r["stock_id"] for r in board["worst"]}
    return board["count"], listed.total, [r["stock_id"] for r in board["worst"]]


@pytest.fixture
async def branch_world(tenant):
    """The inventory world, a branch holding the 坏品库 with a clerk who receives into it."""
    w = await world(tenant)
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    await warehouses.assign(tenant, [w["defective"]], [branch["id"]])
    clerk = await service_user(tenant, "brclerk", branch["id"], "branch", [*P.INBOUND.values(), *P.STOCK.values()])
    return w | {"branch": branch["id"], "clerk": clerk}


async def test_the_copy_follows_new_rows_and_the_goods(tenant, branch_world):
    w, clerk = branch_world, branch_world["clerk"]
    await inbound(tenant, w["general"], (w["screen"], 3, "10"), (w["battery"], 2, "5"))  # safety 5 and 0
    await inbound(clerk, w["defective"], (w["screen"], 1, "10"), (w["battery"], 1, "5"))
    rows = {(r["org_id"], r["goods"]): r["id"] for r in await Stock.select(Stock.id, Stock.org_id, Stock.goods)}
    hq_screen, hq_battery = rows[(tenant.org_id, w["screen"])], rows[(tenant.org_id, w["battery"])]
    br_screen, br_battery = rows[(w["branch"], w["screen"])], rows[(w["branch"], w["battery"])]
    assert await copies() == {hq_screen: 5, hq_battery: 0, br_screen: 5, br_battery: 0}
    assert await short(tenant) == (2, 2, [br_screen, hq_screen])  # 4 short, then 2
    assert await short(clerk) == (1, 1, [br_screen])  # a branch's board: its subtree's rows

    # the goods' value changed by its service, then by a plain UPDATE (an import, a data repair)
    await goods.update(tenant, w["battery"], {"safety_stock": 9})
    assert await copies() == {hq_screen: 5, hq_battery: 9, br_screen: 5, br_battery: 9}
    assert await short(tenant) == (4, 4, [br_battery, hq_battery, br_screen, hq_screen])  # 8, 7, 4, 2
    assert await short(clerk) == (2, 2, [br_battery, br_screen])
    await Goods.update({Goods.safety_stock: 1}).where(Goods.id == w["screen"])
    assert await copies() == {hq_screen: 1, hq_battery: 9, br_screen: 1, br_battery: 9} == await goods_values()
    assert await short(tenant) == (2, 2, [br_battery, hq_battery])
    assert await short(clerk) == (1, 1, [br_battery])

    # a row the ledger adds later takes its goods' value; other goods' rows are not touched
    case = await make_goods(tenant, "CASE", w["iphone15"], name="iPhone 15 外壳", safety_stock=3)
    await inbound(tenant, w["general"], (case["id"], 1, "10"))
    assert sorted((await copies()).values()) == [1, 1, 3, 9, 9] and await copies() == await goods_values()
    # whatever is written to the copy, or inserted with it, is replaced by the goods' value
    await Stock.update({Stock.safety_stock: 99}).where(Stock.id == hq_screen)
    await Stock.raw(
        'INSERT INTO "inv_stock" ("tenant_id", "org_id", "warehouse", "goods", "qty", "safety_stock", "updated_at") '
        "VALUES ({}, {}, {}, {}, 0, 77, CURRENT_TIMESTAMP)",
        tenant.tenant_id,
        tenant.org_id,
        w["unassigned"],
        w["battery"],
    )
    assert await copies() == await goods_values()
    assert len(await copies()) == 6


async def test_other_tenants_rows_keep_their_own_goods_value(tenant, other_tenant):
    w, ow = await world(tenant), await world(other_tenant)
    await inbound(tenant, w["general"], (w["screen"], 1, "10"))
    await inbound(other_tenant, ow["general"], (ow["screen"], 1, "10"))
    await goods.update(tenant, w["screen"], {"safety_stock": 7})
    assert sorted((await copies()).values()) == [5, 7]
    assert (await short(tenant))[:2] == (1, 1) and (await short(other_tenant))[:2] == (1, 1)


async def test_the_migration_fills_the_rows_already_there(tenant, branch_world):
    """A database from before the copy: the rows hold the column's default (0) and no trigger
    keeps them. The migration's statements fill them and keep them from then on."""
    w = branch_world
    await inbound(tenant, w["general"], (w["screen"], 3, "10"), (w["battery"], 2, "5"))
    await inbound(w["clerk"], w["defective"], (w["screen"], 1, "10"), (w["battery"], 1, "5"))
    engine = Stock._meta.db
    migration = import_module(MIGRATION).statements(engine.engine_type)
    sqlite = engine.engine_type == "sqlite"
    try:
        for trigger, table in TRIGGERS.items():
            await engine.run_ddl(f'DROP TRIGGER IF EXISTS "{trigger}"' + ("" if sqlite else f' ON "{table}"'))
        await Stock.update({Stock.safety_stock: 0}, force=True)
        await Goods.update({Goods.safety_stock: 8}).where(Goods.id == w["battery"])
        assert set((await copies()).values()) == {0}
        assert await short(tenant) == (0, 0, [])
    finally:  # on the test database (PostgreSQL's is the next test's too)
        for statement in migration:
            await engine.run_ddl(statement)
    assert sorted((await copies()).values()) == [5, 5, 8, 8] and await copies() == await goods_values()
    assert (await short(tenant))[:2] == (4, 4) and (await short(w["clerk"]))[:2] == (2, 2)
    await goods.update(tenant, w["battery"], {"safety_stock": 0})  # and the triggers keep them again
    assert await copies() == await goods_values() and (await short(tenant))[:2] == (2, 2)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's row locks: SQLite has one writer at a time")
@pytest.mark.parametrize("first", ["stock row", "goods"])
async def test_a_new_row_and_a_change_of_its_goods_at_once_agree(tenant, database_url, first):
    """Two transactions at once on PostgreSQL: a new stock row (a bulk load's INSERT) and a change
    of its goods' safety stock. Whichever comes first, the second waits for its commit, and the
    row ends with the new value (without the lock the change would miss the uncommitted row)."""
    import asyncpg

    w = await world(tenant)
    insert = (
        'INSERT INTO "inv_stock" ("tenant_id", "org_id", "warehouse", "goods", "qty", "updated_at") '
        "VALUES ($1, $2, $3, $4, 0, now())"
    )
    change = 'UPDATE "md_goods" SET "safety_stock" = 9 WHERE "id" = $1'
    a, b = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        first_tx, second = a.transaction(), b
        await first_tx.start()
        if first == "stock row":
            await a.execute(insert, tenant.tenant_id, tenant.org_id, w["general"], w["screen"])
            waiting = asyncio.create_task(b.execute(change, w["screen"]))
        else:
            await a.execute(change, w["screen"])
            waiting = asyncio.create_task(b.execute(insert, tenant.tenant_id, tenant.org_id, w["general"], w["screen"]))
        pid = second.get_server_pid()
        while not waiting.done():  # until the second statement waits for the first's row lock
            row = await a.fetchrow("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)
            if row["wait_event_type"] == "Lock":
                break
            await asyncio.sleep(0.01)
        assert not waiting.done()
        await first_tx.commit()
        await waiting
    finally:
        await a.close()
        await b.close()
    assert list((await copies()).values()) == [9] and await copies() == await goods_values()
