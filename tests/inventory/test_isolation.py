"""Who sees and uses what in inventory, over the API.

- Another tenant's documents, lines and stock are 404 to read, change or act on, never appear in
  its lists, filters or exports, and cannot be referenced; nothing of ACME changes.
- The org subtree: the head office sees its branches' documents, stock and moves; a branch sees
  neither the head office's nor a sibling's (404), and its stock filter cannot reach above it.
- A document may only use usable references: a warehouse assigned (and enabled) to its own org,
  enabled goods and suppliers; anything else is refused with a clear message and nothing posts.
"""

from __future__ import annotations

import pytest

from server.masterdata.services import goods, suppliers, warehouses
from server.system.services import orgs
from tests.conftest import api_login
from tests.inventory.api_helpers import (
    ALL_INVENTORY,
    URL,
    call,
    create_doc,
    database_state,
    error_of,
    refused,
    sheet,
)
from tests.inventory.helpers import on_hand, world
from tests.masterdata.helpers import warehouse
from tests.system.helpers import user_with


@pytest.fixture
async def acme(client, tenant, admin) -> dict:
    """ACME's inventory: a completed inbound, a submitted outbound and a draft, with stock."""
    w = await world(tenant)
    sup = await suppliers.create(tenant, {"code": "S1", "name": "华强配件"})
    done = await create_doc(client, admin, "inbound", w["general"], (w["screen"], 10, "100"), confirm=True)
    out = await create_doc(client, admin, "outbound", w["general"], (w["screen"], 2), submit=True)
    draft = await create_doc(client, admin, "inbound", w["defective"], (w["battery"], 1, "1"))
    stock = (await call(client, "GET", "/api/v1/stock", admin))["items"]
    return w | {"supplier": sup["id"], "docs": {"inbound": [done, draft], "outbound": [out]}, "stock": stock}


async def test_another_tenants_inventory_is_not_found_and_unchanged(client, tenant, other_tenant, admin, acme):
    other = await api_login(client, "admin@OTHER")
    ow = await world(other_tenant)
    own = await create_doc(client, other, "inbound", ow["general"], (ow["screen"], 1, "1"))
    before = await database_state()
    for kind, docs in acme["docs"].items():
        for doc in docs:
            doc_url, line = f"{URL[kind]}/{doc['id']}", doc["lines"][0]["id"]
            for method, suffix, body in (
                ("GET", "", None),
                ("PATCH", "", {"remark": "被别家改掉"}),
                ("DELETE", "", None),
                ("POST", "/lines", {"goods_id": ow["screen"], "qty": 1, "cost_price": "1"}),
                ("PATCH", f"/lines/{line}", {"qty": 1}),
                ("DELETE", f"/lines/{line}", None),
                ("POST", "/submit", None),
                ("POST", "/confirm", None),
                ("POST", "/confirm", {"line_ids": [line]}),
            ):
                await refused(client, method, doc_url + suffix, other, body, 404, "not_found")
            # an ACME line addressed through OTHER's own document is not found either
            await refused(client, "PATCH", f"{URL['inbound']}/{own['id']}/lines/{line}", other, {"qty": 1}, 404)
            await refused(client, "DELETE", f"{URL['inbound']}/{own['id']}/lines/{line}", other, None, 404)
    for row in acme["stock"]:
        await refused(client, "GET", f"/api/v1/stock/{row['id']}", other, None, 404, "not_found")

    # lists, filters and exports of OTHER never show an ACME row
    acme_inbound = acme["docs"]["inbound"][0]
    assert [d["id"] for d in (await call(client, "GET", URL["inbound"], other))["items"]] == [own["id"]]
    assert (await call(client, "GET", URL["outbound"], other))["total"] == 0
    for params in (
        {},
        {"warehouse_id": acme["general"]},
        {"goods_id": acme["screen"]},
        {"stock_id": acme["stock"][0]["id"]},
        {"doc_no": acme_inbound["no"]},
    ):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        moves = await call(client, "GET", f"/api/v1/stock-moves?{query}", other)
        assert moves["total"] == 0 and moves["items"] == [], params
        if "stock_id" not in params and "doc_no" not in params:
            assert (await call(client, "GET", f"/api/v1/stock?{query}", other))["total"] == 0, params
    for params, code in (({"org_id": tenant.org_id}, "not_found"), ({"category_id": acme["iphone15"]}, None)):
        response = await client.get("/api/v1/stock", params=params, headers=other)
        assert response.status_code in (400, 404), response.text
        error_of(response, response.status_code, code)
    assert len(sheet(await client.get(f"{URL['inbound']}/export", headers=other))) == 1 + 1  # its own line
    assert len(sheet(await client.get(f"{URL['outbound']}/export", headers=other))) == 1
    assert len(sheet(await client.get("/api/v1/stock/export", headers=other))) == 1

    # ACME's warehouse, goods and supplier cannot be referenced
    body = {"type": "purchase", "warehouse_id": acme["general"]}
    await refused(client, "POST", URL["inbound"], other, body, 400, "warehouse_unusable")
    own_url = f"{URL['inbound']}/{own['id']}"
    await refused(client, "PATCH", own_url, other, {"warehouse_id": acme["general"]}, 400, "warehouse_unusable")
    await refused(client, "PATCH", own_url, other, {"supplier_id": acme["supplier"]}, 400, "unknown_supplier")
    line = {"goods_id": acme["screen"], "qty": 1, "cost_price": "1"}
    await refused(client, "POST", f"{own_url}/lines", other, line, 400, "unknown_goods")
    await refused(client, "PATCH", f"{own_url}/lines/{own['lines'][0]['id']}", other, line, 400, "unknown_goods")
    assert await database_state() == before
    # ACME still reads everything as it was
    for kind, docs in acme["docs"].items():
        for doc in docs:
            assert await call(client, "GET", f"{URL[kind]}/{doc['id']}", admin) == doc
    assert await on_hand(tenant.org_id, acme["general"], acme["screen"]) == 10
    # within ACME, an inbound's id is no outbound and the other way round
    inbound, outbound = acme["docs"]["inbound"][0], acme["docs"]["outbound"][0]
    await refused(client, "GET", f"{URL['outbound']}/{inbound['id']}", admin, None, 404, "not_found")
    await refused(client, "POST", f"{URL['outbound']}/{inbound['id']}/confirm", admin, None, 404, "not_found")
    await refused(client, "DELETE", f"{URL['inbound']}/{outbound['id']}", admin, None, 404, "not_found")


async def test_head_office_sees_its_branches_and_a_branch_sees_only_its_own(client, tenant, admin, acme):
    b1 = await orgs.create(tenant, {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id, "level": 2})
    b2 = await orgs.create(tenant, {"code": "B2", "name": "二号网点", "parent_id": tenant.org_id, "level": 2})
    br_wh = await warehouse(tenant, "W-BR")
    await warehouses.assign(tenant, [br_wh["id"]], [b1["id"], b2["id"]])
    _, b1_user = await user_with(client, admin, "b1clerk", b1["id"], "branch", ALL_INVENTORY)
    _, b2_user = await user_with(client, admin, "b2clerk", b2["id"], "branch", ALL_INVENTORY)
    b1_doc = await create_doc(client, b1_user, "inbound", br_wh["id"], (acme["screen"], 4, "50"), confirm=True)
    assert b1_doc["org_id"] == b1["id"]
    b1_out = await create_doc(client, b1_user, "outbound", br_wh["id"], (acme["screen"], 1), submit=True)

    # the head office sees the branch's documents, stock and moves
    hq_inbounds = {d["id"] for d in (await call(client, "GET", URL["inbound"], admin))["items"]}
    assert b1_doc["id"] in hq_inbounds and {d["id"] for d in acme["docs"]["inbound"]} <= hq_inbounds
    assert (await call(client, "GET", f"{URL['outbound']}/{b1_out['id']}", admin))["org_name"] == "一号网点"
    hq_stock = (await call(client, "GET", "/api/v1/stock", admin))["items"]
    b1_row = next(s for s in hq_stock if s["org_id"] == b1["id"])
    assert (b1_row["qty"], b1_row["org_name"]) == (4, "一号网点")
    assert (await call(client, "GET", f"/api/v1/stock/{b1_row['id']}", admin))["qty"] == 4
    assert (await call(client, "GET", f"/api/v1/stock?org_id={b1['id']}", admin))["total"] == 1
    assert (await call(client, "GET", f"/api/v1/stock-moves?doc_no={b1_doc['no']}", admin))["total"] == 1

    # the branch sees only its own: the head office's rows are 404 and absent from its lists
    assert [d["id"] for d in (await call(client, "GET", URL["inbound"], b1_user))["items"]] == [b1_doc["id"]]
    assert [d["id"] for d in (await call(client, "GET", URL["outbound"], b1_user))["items"]] == [b1_out["id"]]
    assert [s["id"] for s in (await call(client, "GET", "/api/v1/stock", b1_user))["items"]] == [b1_row["id"]]
    assert {m["doc_no"] for m in (await call(client, "GET", "/api/v1/stock-moves", b1_user))["items"]} == {b1_doc["no"]}
    hq_doc = acme["docs"]["inbound"][0]
    assert (await call(client, "GET", f"/api/v1/stock-moves?doc_no={hq_doc['no']}", b1_user))["total"] == 0
    before = await database_state()
    for kind, docs in acme["docs"].items():
        for doc in docs:
            doc_url = f"{URL[kind]}/{doc['id']}"
            await refused(client, "GET", doc_url, b1_user, None, 404, "not_found")
            await refused(client, "PATCH", doc_url, b1_user, {"remark": "x"}, 404, "not_found")
            await refused(client, "POST", f"{doc_url}/confirm", b1_user, None, 404, "not_found")
            await refused(client, "DELETE", doc_url, b1_user, None, 404, "not_found")
            await refused(client, "DELETE", f"{doc_url}/lines/{doc['lines'][0]['id']}", b1_user, None, 404)
    for row in acme["stock"]:
        await refused(client, "GET", f"/api/v1/stock/{row['id']}", b1_user, None, 404, "not_found")
    await refused(client, "GET", f"/api/v1/stock?org_id={tenant.org_id}", b1_user, None, 404, "not_found")
    rows = sheet(await client.get("/api/v1/stock/export", headers=b1_user))
    assert [r[0] for r in rows[1:]] == ["一号网点"]
    rows = sheet(await client.get(f"{URL['inbound']}/export", headers=b1_user))
    assert [r[0] for r in rows[1:]] == [b1_doc["no"]]

    # a sibling branch sees nothing of B1
    await refused(client, "GET", f"{URL['inbound']}/{b1_doc['id']}", b2_user, None, 404, "not_found")
    await refused(client, "POST", f"{URL['outbound']}/{b1_out['id']}/confirm", b2_user, None, 404, "not_found")
    await refused(client, "GET", f"/api/v1/stock/{b1_row['id']}", b2_user, None, 404, "not_found")
    assert (await call(client, "GET", "/api/v1/stock", b2_user))["total"] == 0
    await refused(client, "GET", f"/api/v1/stock-moves?org_id={b1['id']}", b2_user, None, 404, "not_found")
    assert await database_state() == before


async def test_a_warehouse_of_another_org_is_refused(client, tenant, admin, acme):
    branch = await orgs.create(tenant, {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id, "level": 2})
    br_wh = await warehouse(tenant, "W-BR")
    await warehouses.assign(tenant, [br_wh["id"]], [branch["id"]])
    _, br_user = await user_with(client, admin, "brclerk", branch["id"], "branch", ALL_INVENTORY)
    draft = acme["docs"]["inbound"][1]
    before = await database_state()
    for kind in URL:
        # the head office uses the branch's warehouse; the branch uses the head office's
        body = {"type": "purchase" if kind == "inbound" else "scrap", "warehouse_id": br_wh["id"]}
        error = await refused(client, "POST", URL[kind], admin, body, 400, "warehouse_unusable")
        assert "未分配给该机构" in error["detail"]
        await refused(client, "POST", URL[kind], br_user, body | {"warehouse_id": acme["general"]}, 400)
        await refused(client, "POST", URL[kind], admin, body | {"warehouse_id": acme["unassigned"]}, 400)
    await refused(
        client,
        "PATCH",
        f"{URL['inbound']}/{draft['id']}",
        admin,
        {"warehouse_id": br_wh["id"]},
        400,
        "warehouse_unusable",
    )
    assert await database_state() == before


async def test_disabled_references_are_refused_with_clear_messages(client, tenant, admin, acme):
    w = acme
    draft = acme["docs"]["inbound"][1]
    draft_url = f"{URL['inbound']}/{draft['id']}"
    submitted = await create_doc(client, admin, "inbound", w["general"], (w["battery"], 3, "1"), submit=True)
    outbound = acme["docs"]["outbound"][0]

    # disabled goods: refused on every line write, at submit, and named in the message
    await goods.update(tenant, w["battery"], {"enabled": False})
    before = await database_state()
    line = {"goods_id": w["battery"], "qty": 1, "cost_price": "1"}
    error = await refused(client, "POST", f"{draft_url}/lines", admin, line, 400, "goods_disabled")
    assert "BAT" in error["detail"] and "停用" in error["detail"]
    body = {"type": "purchase", "warehouse_id": w["general"], "lines": [line]}
    await refused(client, "POST", URL["inbound"], admin, body, 400, "goods_disabled")
    await refused(client, "PATCH", f"{draft_url}/lines/{draft['lines'][0]['id']}", admin, line, 400, "goods_disabled")
    await refused(client, "POST", f"{draft_url}/submit", admin, None, 400, "goods_disabled")  # its line is BAT
    assert await database_state() == before
    await goods.update(tenant, w["battery"], {"enabled": True})

    # a disabled supplier
    await suppliers.update(tenant, w["supplier"], {"enabled": False})
    await refused(client, "PATCH", draft_url, admin, {"supplier_id": w["supplier"]}, 400, "supplier_disabled")

    # a disabled assignment of the head office, then a disabled definition: nothing can use them
    assignment = next(
        a for a in await warehouses.usable_for_org(tenant, tenant.org_id) if a["warehouse_id"] == w["general"]
    )
    await warehouses.set_assignment_enabled(tenant, assignment["id"], False)
    before = await database_state()
    await refused(client, "POST", URL["inbound"], admin, {"type": "purchase", "warehouse_id": w["general"]}, 400)
    await refused(client, "PATCH", draft_url, admin, {"warehouse_id": w["general"]}, 400, "warehouse_unusable")
    await refused(client, "POST", f"{URL['inbound']}/{submitted['id']}/confirm", admin, None, 400, "warehouse_unusable")
    await refused(client, "POST", f"{URL['outbound']}/{outbound['id']}/confirm", admin, None, 400, "warehouse_unusable")
    assert await database_state() == before
    await warehouses.set_assignment_enabled(tenant, assignment["id"], True)
    await warehouses.update(tenant, w["defective"], {"enabled": False})
    before = await database_state()
    await refused(client, "POST", f"{draft_url}/submit", admin, None, 400, "warehouse_unusable")  # draft is in W-BAD
    await refused(client, "POST", URL["outbound"], admin, {"type": "scrap", "warehouse_id": w["defective"]}, 400)
    assert await database_state() == before
    # re-enabled, the same confirmation posts
    await call(client, "POST", f"{URL['inbound']}/{submitted['id']}/confirm", admin)
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 3
