"""Who may call master data, said once on each route: reads (lists, rows, pickers) are open to
every signed-in user of the tenant, exports and writes name their code; the services keep only
the head-office rule."""

from server.core import permissions
from tests.conftest import api_login, page_login
from tests.masterdata.helpers import basics, error_of, make_goods, warehouse
from tests.system.helpers import PASSWORD, service_user

READS = (
    "/api/v1/categories",
    "/api/v1/repair-classes",
    "/api/v1/fault-classes",
    "/api/v1/repair-codes",
    "/api/v1/fault-reasons",
    "/api/v1/goods",
    "/api/v1/goods-types",
    "/api/v1/warehouses",
    "/api/v1/warehouse-assignments",
    "/api/v1/suppliers",
    "/api/v1/dictionaries/payment_method",
)
PICKERS = ("/pickers/categories", "/pickers/repair-classes", "/pickers/goods", "/pickers/orgs", "/pickers/warehouses")


def masterdata_handlers(app) -> list:
    handlers = permissions.handlers(app)
    return [h for h in handlers if getattr(h, "fn", None) and h.fn.__module__.startswith("server.masterdata")]


async def test_every_handler_declares_its_access(app):
    handlers = masterdata_handlers(app)
    assert len(handlers) > 100
    assert permissions.undeclared(handlers) == []
    # a route open to every signed-in user only reads
    assert [h for h in handlers if h.opt.get("signed_in") and h.http_methods != {"GET"}] == []


async def test_a_user_without_permissions_reads_master_data_but_nothing_else(client, tenant):
    ids = await basics(tenant)
    made = await make_goods(tenant, "G1", ids["iphone15"])
    w = await warehouse(tenant, "W1")
    await service_user(tenant, "nobody", tenant.org_id, "hq", [])
    headers = await api_login(client, "nobody@ACME", PASSWORD)
    for url in (*READS, f"/api/v1/goods/{made['id']}", f"/api/v1/warehouses/{w['id']}"):
        assert (await client.get(url, headers=headers)).status_code == 200, url
    for url in ("/api/v1/goods/export", "/api/v1/warehouses/export", "/api/v1/suppliers/export"):
        error_of(await client.get(url, headers=headers), 403, "forbidden")
    error_of(await client.post("/api/v1/suppliers", json={"code": "S1", "name": "X"}, headers=headers), 403)
    error_of(await client.patch(f"/api/v1/warehouses/{w['id']}", json={"name": "X"}, headers=headers), 403)
    error_of(await client.delete(f"/api/v1/goods/{made['id']}", headers=headers), 403)

    client.cookies.clear()
    await page_login(client, "nobody@ACME", PASSWORD)
    for url in PICKERS:
        assert (await client.get(url)).status_code == 200, url
    for url in ("/masterdata/goods", "/masterdata/warehouses", "/masterdata/suppliers", "/masterdata/categories"):
        assert (await client.get(url)).status_code == 403, url
