"""The inventory JSON API (/api/v1/inbounds, /outbounds, /stock, /stock-moves and their exports):
every endpoint, the response shapes of ARCHITECTURE.md (list envelope, embedded lines, money as
strings with 4 decimals), the error shape and statuses, the life-cycle conflicts, and bad input
that answers 400/404 in Chinese without changing a row (never a 500)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from server.inventory.services import stock
from server.masterdata.services import suppliers
from server.system.services import orgs
from tests.inventory.api_helpers import (
    MONEY,
    URL,
    call,
    create_doc,
    database_state,
    error_of,
    refused,
    sheet,
)
from tests.inventory.helpers import on_hand, world
from tests.masterdata.helpers import LONG, make_goods
from tests.system.helpers import user_with

HUGE = 10**20
UNKNOWN = 999_999

DOC_FIELDS = {
    "id", "kind", "no", "type", "type_name", "status", "status_name", "org_id", "org_name", "warehouse_id",
    "warehouse_code", "warehouse_name", "supplier_id", "supplier_name", "remark", "created_by", "created_by_name",
    "created_at", "submitted_at", "completed_at", "total_qty", "total_amount", "lines",
}  # fmt: skip
LINE_FIELDS = {
    "id", "goods_id", "goods_code", "goods_name", "unit", "spec", "qty", "price", "amount", "confirmed",
    "confirmed_at", "confirmed_by_name",
}  # fmt: skip
STOCK_FIELDS = {
    "id", "org_id", "org_name", "warehouse_id", "warehouse_code", "warehouse_name", "goods_id", "goods_code",
    "goods_name", "unit", "category_id", "category_path", "qty", "in_transit", "safety_stock", "below_safety",
    "avg_cost", "value", "updated_at",
}  # fmt: skip
MOVE_FIELDS = {
    "id", "stock_id", "org_id", "warehouse_id", "goods_id", "delta", "qty_after", "doc_type", "doc_id", "doc_no",
    "line_id", "user_id", "user_name", "created_at",
}  # fmt: skip


@pytest.fixture
async def w(tenant) -> dict:
    """The inventory world of helpers.world plus an enabled supplier."""
    sup = await suppliers.create(tenant, {"code": "S1", "name": "华强配件"})
    return await world(tenant) | {"supplier": sup["id"]}


def assert_doc_shape(doc: dict, kind: str) -> None:
    price = "cost_price" if kind == "inbound" else "unit_price"
    assert set(doc) == DOC_FIELDS, set(doc) ^ DOC_FIELDS
    assert doc["kind"] == kind and MONEY.match(doc["total_amount"]), doc
    datetime.fromisoformat(doc["created_at"]).utcoffset()  # ISO 8601 with an offset
    for line in doc["lines"]:
        assert set(line) == LINE_FIELDS | {price}, line
        assert MONEY.match(line[price]) and line[price] == line["price"] and MONEY.match(line["amount"]), line
        assert isinstance(line["qty"], int) and isinstance(line["confirmed"], bool)


def assert_envelope(body: dict, page: int = 1, page_size: int = 50) -> list:
    assert set(body) == {"items", "total", "page", "page_size"}, body.keys()
    assert (body["page"], body["page_size"]) == (page, page_size)
    assert body["total"] >= len(body["items"])
    return body["items"]


async def test_inbound_over_the_api_every_endpoint(client, tenant, admin, w):
    url = URL["inbound"]
    body = {
        "type": "purchase",
        "warehouse_id": w["general"],
        "supplier_id": w["supplier"],
        "remark": "首批",
        "lines": [
            {"goods_id": w["screen"], "qty": 10, "cost_price": "100"},
            {"goods_id": w["battery"], "qty": 4, "cost_price": "0.1"},
        ],
    }
    doc = await call(client, "POST", url, admin, body, 201)
    assert_doc_shape(doc, "inbound")
    assert doc["status"] == "draft" and doc["no"].startswith("RK") and doc["type_name"] == "采购入库"
    assert (doc["supplier_name"], doc["remark"], doc["org_id"]) == ("华强配件", "首批", tenant.org_id)
    assert [(li["goods_id"], li["qty"], li["cost_price"]) for li in doc["lines"]] == [
        (w["screen"], 10, "100.0000"),
        (w["battery"], 4, "0.1000"),
    ]
    assert (doc["total_qty"], doc["total_amount"], doc["lines"][1]["amount"]) == (14, "1000.4000", "0.4000")
    doc_url = f"{url}/{doc['id']}"
    assert await call(client, "GET", doc_url, admin) == doc

    patched = await call(
        client, "PATCH", doc_url, admin, {"remark": "改", "supplier_id": None, "warehouse_id": w["defective"]}
    )
    assert (patched["remark"], patched["supplier_id"], patched["warehouse_id"]) == ("改", None, w["defective"])
    assert patched["lines"] == doc["lines"]
    await call(client, "PATCH", doc_url, admin, {"warehouse_id": w["general"], "type": "claim"})

    added = await call(
        client, "POST", f"{doc_url}/lines", admin, {"goods_id": w["screen"], "qty": 2, "cost_price": "7.5"}, 201
    )
    assert_doc_shape(added, "inbound")
    extra = added["lines"][-1]
    assert (extra["qty"], extra["cost_price"], added["type"]) == (2, "7.5000", "claim")
    line_url = f"{doc_url}/lines/{extra['id']}"
    changed = await call(client, "PATCH", line_url, admin, {"qty": 3})
    assert (changed["lines"][-1]["qty"], changed["lines"][-1]["cost_price"]) == (3, "7.5000")
    changed = await call(client, "PATCH", line_url, admin, {"cost_price": "8", "goods_id": w["battery"]})
    assert (changed["lines"][-1]["goods_id"], changed["lines"][-1]["cost_price"]) == (w["battery"], "8.0000")
    remaining = await call(client, "DELETE", line_url, admin)
    assert [li["id"] for li in remaining["lines"]] == [li["id"] for li in doc["lines"]]

    submitted = await call(client, "POST", f"{doc_url}/submit", admin)
    assert submitted["status"] == "submitted" and submitted["submitted_at"]
    first, second = (li["id"] for li in submitted["lines"])
    partial = await call(client, "POST", f"{doc_url}/confirm", admin, {"line_ids": [first]})
    assert partial["status"] == "partial" and [li["confirmed"] for li in partial["lines"]] == [True, False]
    assert partial["lines"][0]["confirmed_by_name"] and partial["completed_at"] is None
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 10
    done = await call(client, "POST", f"{doc_url}/confirm", admin)  # no body: every line left
    assert done["status"] == "completed" and done["completed_at"] and all(li["confirmed"] for li in done["lines"])
    assert await on_hand(tenant.org_id, w["general"], w["battery"]) == 4

    stock = assert_envelope(await call(client, "GET", "/api/v1/stock", admin, None))
    assert {(s["goods_id"], s["qty"]) for s in stock} == {(w["screen"], 10), (w["battery"], 4)}
    row = next(s for s in stock if s["goods_id"] == w["screen"])
    assert set(row) == STOCK_FIELDS and MONEY.match(row["avg_cost"]) and MONEY.match(row["value"])
    assert (row["avg_cost"], row["value"], row["category_path"]) == (
        "100.0000",
        "1000.0000",
        "Apple / iPhone / iPhone 15",
    )
    assert (row["safety_stock"], row["below_safety"], row["warehouse_code"]) == (5, False, "W-GEN")
    assert await call(client, "GET", f"/api/v1/stock/{row['id']}", admin) == row

    moves = assert_envelope(await call(client, "GET", f"/api/v1/stock-moves?doc_no={doc['no']}", admin))
    assert all(set(m) == MOVE_FIELDS for m in moves)
    assert sorted((m["line_id"], m["delta"], m["qty_after"], m["doc_type"], m["doc_id"]) for m in moves) == [
        (first, 10, 10, "inbound", doc["id"]),
        (second, 4, 4, "inbound", doc["id"]),
    ]
    of_row = assert_envelope(await call(client, "GET", f"/api/v1/stock-moves?stock_id={row['id']}", admin))
    assert [m["line_id"] for m in of_row] == [first]

    # confirm's body may also be empty with a JSON content type, or an object without line_ids
    for content in (b"", b"{}"):
        doc = await create_doc(client, admin, "inbound", w["general"], (w["screen"], 1, "1"), submit=True)
        headers = admin | {"content-type": "application/json"}
        response = await client.post(f"{url}/{doc['id']}/confirm", content=content, headers=headers)
        assert response.status_code == 200 and response.json()["status"] == "completed", response.text


async def test_outbound_over_the_api_prices_shortages_and_the_authoritative_confirm(client, tenant, admin, w):
    await create_doc(client, admin, "inbound", w["general"], (w["screen"], 10, "100"), confirm=True)
    url = URL["outbound"]
    doc = await call(client, "POST", url, admin, {"type": "scrap", "warehouse_id": w["general"]}, 201)
    doc_url = f"{url}/{doc['id']}"
    doc = await call(client, "POST", f"{doc_url}/lines", admin, {"goods_id": w["screen"], "qty": 3}, 201)
    assert_doc_shape(doc, "outbound")
    assert doc["no"].startswith("CK") and doc["lines"][0]["unit_price"] == "100.0000"  # price_for, level 1
    body = await refused(
        client, "POST", f"{doc_url}/lines", admin, {"goods_id": w["screen"], "qty": 8}, 409, "insufficient_stock"
    )
    assert "需要 11，库存 10" in body["detail"]
    body = await refused(
        client, "PATCH", f"{doc_url}/lines/{doc['lines'][0]['id']}", admin, {"qty": 11}, 409, "insufficient_stock"
    )
    assert "需要 11，库存 10" in body["detail"]
    priced = await call(client, "PATCH", f"{doc_url}/lines/{doc['lines'][0]['id']}", admin, {"unit_price": "12.3456"})
    assert priced["lines"][0]["unit_price"] == "12.3456" and priced["total_amount"] == "37.0368"
    body = {"type": "scrap", "warehouse_id": w["general"], "lines": [{"goods_id": w["battery"], "qty": 1}]}
    await refused(client, "POST", url, admin, body, 409, "insufficient_stock")

    await call(client, "POST", f"{doc_url}/submit", admin)
    rival = await create_doc(client, admin, "outbound", w["general"], (w["screen"], 9), submit=True)
    await call(client, "POST", f"{URL['outbound']}/{rival['id']}/confirm", admin)
    body = await refused(client, "POST", f"{doc_url}/confirm", admin, None, 409, "insufficient_stock")
    assert "需要 3，库存 1" in body["detail"]
    again = await call(client, "GET", doc_url, admin)
    assert again["status"] == "submitted" and not again["lines"][0]["confirmed"]
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 1


async def test_submitted_documents_are_read_only_except_confirm_and_delete(client, admin, w):
    for kind in ("inbound", "outbound"):
        if kind == "outbound":
            await create_doc(client, admin, "inbound", w["general"], (w["screen"], 20, "1"), confirm=True)
        price = {"cost_price": "1"} if kind == "inbound" else {}
        doc = await create_doc(
            client, admin, kind, w["general"], (w["screen"], 2, "1"), (w["screen"], 3, "1"), submit=True
        )
        doc_url = f"{URL[kind]}/{doc['id']}"
        first, second = (li["id"] for li in doc["lines"])
        before = await database_state()
        await refused(client, "PATCH", doc_url, admin, {"remark": "改"}, 409, "not_draft")
        await refused(
            client, "POST", f"{doc_url}/lines", admin, {"goods_id": w["screen"], "qty": 1} | price, 409, "not_draft"
        )
        await refused(client, "PATCH", f"{doc_url}/lines/{first}", admin, {"qty": 1}, 409, "not_draft")
        await refused(client, "DELETE", f"{doc_url}/lines/{first}", admin, None, 409, "not_draft")
        await refused(client, "POST", f"{doc_url}/submit", admin, None, 409, "not_draft")
        assert await database_state() == before

        await call(client, "POST", f"{doc_url}/confirm", admin, {"line_ids": [first]})
        before = await database_state()
        await refused(client, "DELETE", f"{doc_url}/lines/{first}", admin, None, 409, "not_draft")  # confirmed line
        await refused(client, "DELETE", doc_url, admin, None, 409, "confirmed")  # partly confirmed
        await refused(client, "POST", f"{doc_url}/confirm", admin, {"line_ids": [first]}, 409, "already_confirmed")
        await refused(
            client, "POST", f"{doc_url}/confirm", admin, {"line_ids": [first, second]}, 409, "already_confirmed"
        )
        assert await database_state() == before  # the second line was not posted either
        await call(client, "POST", f"{doc_url}/confirm", admin, {"line_ids": [second]})
        await refused(client, "POST", f"{doc_url}/confirm", admin, None, 409, "already_confirmed")
        await refused(client, "DELETE", doc_url, admin, None, 409, "confirmed")

        draft = await create_doc(client, admin, kind, w["general"], (w["screen"], 1, "1"))
        await refused(client, "POST", f"{URL[kind]}/{draft['id']}/confirm", admin, None, 409, "not_submitted")
        for status in ("draft", "submitted"):
            victim = await create_doc(
                client, admin, kind, w["general"], (w["screen"], 1, "1"), submit=status == "submitted"
            )
            victim_url = f"{URL[kind]}/{victim['id']}"
            deleted = await call(client, "DELETE", victim_url, admin)
            assert deleted["status"] == "deleted" and deleted["id"] == victim["id"]
            for method, suffix, body in (
                ("GET", "", None),
                ("PATCH", "", {"remark": "x"}),
                ("DELETE", "", None),
                ("POST", "/lines", {"goods_id": w["screen"], "qty": 1} | price),
                ("DELETE", f"/lines/{victim['lines'][0]['id']}", None),
                ("POST", "/submit", None),
                ("POST", "/confirm", None),
            ):
                await refused(client, method, victim_url + suffix, admin, body, 404, "not_found")
    await refused(client, "POST", f"{URL['inbound']}/{UNKNOWN}/confirm", admin, None, 404, "not_found")


async def test_document_lists_filter_and_page(client, tenant, admin, w):
    clerk, clerk_headers = await user_with(
        client, admin, "clerk", tenant.org_id, "hq", ["inventory.inbound.view", "inventory.inbound.create"]
    )
    a = await create_doc(client, admin, "inbound", w["general"], (w["screen"], 1, "1"), confirm=True)
    b = await create_doc(client, admin, "inbound", w["defective"], (w["battery"], 2, "1"), submit=True)
    c = await create_doc(client, clerk_headers, "inbound", w["general"], (w["battery"], 3, "1"))
    await call(
        client, "PATCH", f"{URL['inbound']}/{c['id']}", clerk_headers, {"type": "claim", "supplier_id": w["supplier"]}
    )
    d = await create_doc(client, admin, "inbound", w["general"])
    await call(client, "DELETE", f"{URL['inbound']}/{d['id']}", admin)

    async def nos(**params) -> list[str]:
        body = await call(client, "GET", URL["inbound"] + "?" + "&".join(f"{k}={v}" for k, v in params.items()), admin)
        return [i["no"] for i in assert_envelope(body, int(params.get("page", 1)), int(params.get("page_size", 50)))]

    everything = await nos()
    assert everything == [c["no"], b["no"], a["no"]]  # newest first, the deleted one left out
    items = (await call(client, "GET", URL["inbound"], admin))["items"]
    assert all(len(i["lines"]) == 1 for i in items) and items[0]["lines"][0]["qty"] == 3
    assert await nos(status="completed") == [a["no"]]
    assert await nos(status="deleted") == [d["no"]]
    assert await nos(warehouse_id=w["defective"]) == [b["no"]]
    assert await nos(type="claim") == [c["no"]]
    assert await nos(supplier_id=w["supplier"]) == [c["no"]]
    assert await nos(created_by=clerk["id"]) == [c["no"]]
    assert await nos(no=a["no"][-4:]) == [a["no"]]
    today = datetime.now().date()
    assert await nos(date_from=str(today - timedelta(days=1)), date_to=str(today + timedelta(days=1))) == everything
    assert await nos(date_from=str(today + timedelta(days=2))) == []
    assert await nos(page=2, page_size=2) == [a["no"]]
    body = await call(client, "GET", URL["inbound"] + "?page=2&page_size=2", admin)
    assert body["total"] == 3
    assert (await call(client, "GET", URL["outbound"], admin))["items"] == []  # inbounds are not outbounds


async def test_stock_and_move_filters(client, tenant, admin, w):
    branch = await orgs.create(tenant, {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id, "level": 2})
    from server.masterdata.services import warehouses

    await warehouses.assign(tenant, [w["general"]], [branch["id"]])
    _, branch_headers = await user_with(
        client,
        admin,
        "brclerk",
        branch["id"],
        "branch",
        ["inventory.inbound.create", "inventory.inbound.confirm", "inventory.inbound.view"],
    )
    ipad = await make_goods(tenant, "IPAD", w["ipad"], name="iPad 屏幕", safety_stock=1)
    hq_doc = await create_doc(
        client, admin, "inbound", w["general"], (w["screen"], 3, "10"), (w["battery"], 8, "2"), confirm=True
    )
    await create_doc(client, admin, "inbound", w["defective"], (ipad["id"], 1, "5"), confirm=True)
    br_doc = await create_doc(client, branch_headers, "inbound", w["general"], (w["screen"], 6, "20"), confirm=True)

    async def rows(url: str = "/api/v1/stock", **params) -> set[tuple]:
        body = await call(client, "GET", url + "?" + "&".join(f"{k}={v}" for k, v in params.items()), admin)
        items = assert_envelope(body)
        assert body["total"] == len(items)
        key = "delta" if "moves" in url else "qty"
        return {(i["org_id"], i["warehouse_id"], i["goods_id"], i[key]) for i in items}

    hq, br = tenant.org_id, branch["id"]
    everything = {
        (hq, w["general"], w["screen"], 3),
        (hq, w["general"], w["battery"], 8),
        (hq, w["defective"], ipad["id"], 1),
        (br, w["general"], w["screen"], 6),
    }
    assert await rows() == everything
    assert await rows(org_id=hq) == everything  # an org and its descendants
    assert await rows(org_id=br) == {(br, w["general"], w["screen"], 6)}
    assert await rows(warehouse_id=w["defective"]) == {(hq, w["defective"], ipad["id"], 1)}
    assert await rows(goods_id=w["screen"]) == {(hq, w["general"], w["screen"], 3), (br, w["general"], w["screen"], 6)}
    assert await rows(category_id=w["iphone"]) == everything - {(hq, w["defective"], ipad["id"], 1)}
    assert await rows(category_id=w["ipad"]) == {(hq, w["defective"], ipad["id"], 1)}
    assert await rows(below_safety="true") == {(hq, w["general"], w["screen"], 3)}  # 3 < safety stock 5
    assert await rows(below_safety="false") == everything
    assert await rows(org_id=br, goods_id=w["battery"]) == set()
    page = await call(client, "GET", "/api/v1/stock?page=2&page_size=3", admin)
    assert (len(assert_envelope(page, 2, 3)), page["total"]) == (1, 4)

    moves = "/api/v1/stock-moves"
    assert await rows(moves) == everything
    assert await rows(moves, org_id=br) == {(br, w["general"], w["screen"], 6)}
    assert await rows(moves, warehouse_id=w["defective"], goods_id=ipad["id"]) == {(hq, w["defective"], ipad["id"], 1)}
    assert await rows(moves, category_id=w["ipad"]) == {(hq, w["defective"], ipad["id"], 1)}
    assert await rows(moves, below_safety="1") == {(hq, w["general"], w["screen"], 3)}
    assert await rows(moves, doc_no=hq_doc["no"]) == {
        (hq, w["general"], w["screen"], 3),
        (hq, w["general"], w["battery"], 8),
    }
    assert await rows(moves, doc_no=br_doc["no"], org_id=hq) == {(br, w["general"], w["screen"], 6)}
    assert await rows(moves, doc_no="CK20000101-0001") == set()
    stock_id = (await call(client, "GET", f"/api/v1/stock?org_id={br}", admin))["items"][0]["id"]
    assert await rows(moves, stock_id=stock_id) == {(br, w["general"], w["screen"], 6)}


async def test_exports_hold_the_filtered_rows(client, tenant, admin, w):
    await create_doc(
        client, admin, "inbound", w["general"], (w["screen"], 3, "10"), (w["battery"], 8, "2"), confirm=True
    )
    draft = await create_doc(client, admin, "inbound", w["defective"], (w["battery"], 1, "2"))
    out = await create_doc(client, admin, "outbound", w["general"], (w["battery"], 5, "3"), submit=True)

    rows = sheet(await client.get(f"{URL['inbound']}/export", headers=admin))
    assert rows[0][:2] == ("单号", "类型") and "成本价" in rows[0]
    assert len(rows) == 1 + 3  # one row per line
    rows = sheet(await client.get(f"{URL['inbound']}/export", params={"status": "draft"}, headers=admin))
    assert [(r[0], r[8], r[11]) for r in rows[1:]] == [(draft["no"], "BAT", 1)]
    rows = sheet(await client.get(f"{URL['outbound']}/export", headers=admin))
    assert "单价" in rows[0] and [(r[0], r[11], r[12], r[13]) for r in rows[1:]] == [
        (out["no"], 5, Decimal("3"), Decimal("15"))
    ]
    rows = sheet(await client.get("/api/v1/stock/export", params={"goods_id": w["screen"]}, headers=admin))
    assert rows[0][:3] == ("机构", "仓库", "货品编码")
    assert rows[0][6:8] == ("库存数量", "在途")
    assert [(r[2], r[6], r[7], r[8], r[9], r[11]) for r in rows[1:]] == [
        ("SCR", 3, 0, Decimal("10"), Decimal("30"), "是")
    ]
    rows = sheet(
        await client.get("/api/v1/stock/export", params={"below_safety": "1", "goods_id": w["battery"]}, headers=admin)
    )
    assert rows[1:] == []
    error_of(await client.get("/api/v1/stock/export", params={"warehouse_id": "abc"}, headers=admin), 400)
    error_of(await client.get(f"{URL['inbound']}/export", params={"status": "gone"}, headers=admin), 400)


async def test_permissions_are_enforced_per_action(client, tenant, admin, w):
    doc = await create_doc(client, admin, "inbound", w["general"], (w["screen"], 5, "1"), submit=True)
    _, viewer = await user_with(client, admin, "viewer", tenant.org_id, "hq", ["inventory.inbound.view"])
    before = await database_state()
    url, doc_url = URL["inbound"], f"{URL['inbound']}/{doc['id']}"
    assert (await call(client, "GET", doc_url, viewer))["no"] == doc["no"]
    line = {"goods_id": w["screen"], "qty": 1, "cost_price": "1"}
    for method, target, body in (
        ("POST", url, {"type": "purchase", "warehouse_id": w["general"]}),
        ("PATCH", doc_url, {"remark": "x"}),
        ("POST", f"{doc_url}/lines", line),
        ("PATCH", f"{doc_url}/lines/{doc['lines'][0]['id']}", {"qty": 2}),
        ("DELETE", f"{doc_url}/lines/{doc['lines'][0]['id']}", None),
        ("POST", f"{doc_url}/submit", None),
        ("POST", f"{doc_url}/confirm", None),
        ("DELETE", doc_url, None),
        ("GET", f"{url}/export", None),
        ("GET", URL["outbound"], None),
        ("GET", "/api/v1/stock", None),
        ("GET", "/api/v1/stock-moves", None),
        ("GET", "/api/v1/stock/export", None),
    ):
        await refused(client, method, target, viewer, body, 403, "forbidden")
    assert await database_state() == before
    _, nobody = await user_with(client, admin, "nobody", tenant.org_id, "hq", [])
    await refused(client, "GET", doc_url, nobody, None, 403, "forbidden")
    error_of(await client.get(url), 401, "unauthorized")


# --- bad input ------------------------------------------------------------------------------------


def header_cases(w: dict, kind: str) -> list[tuple[str, dict, tuple[int, ...]]]:
    """(label, change of a valid header, allowed statuses) for every way a header can be broken."""
    cases = [
        ("type unknown", {"type": "nope"}, (400,)),
        ("type of the other kind", {"type": "scrap" if kind == "inbound" else "purchase"}, (400,)),
        ("type too long", {"type": LONG}, (400,)),
        ("type null", {"type": None}, (400,)),
        ("remark too long", {"remark": LONG}, (400,)),
        ("warehouse unassigned", {"warehouse_id": w["unassigned"]}, (400,)),
        ("warehouse unknown", {"warehouse_id": UNKNOWN}, (400, 404)),
        ("supplier unknown", {"supplier_id": UNKNOWN}, (400, 404)),
    ]
    for key in ("warehouse_id", "supplier_id"):
        cases += [(f"{key} {v!r}", {key: v}, (400,)) for v in ("abc", "1x", 1.5, True, -1, 0, HUGE, 2**31, [1])]
    cases += [(f"{key} wrong type {v!r}", {key: v}, (400,)) for key in ("type", "remark") for v in (12345, [1], True)]
    return cases


def line_cases(w: dict, kind: str) -> list[tuple[str, dict, tuple[int, ...]]]:
    price = "cost_price" if kind == "inbound" else "unit_price"
    cases = [(f"qty {v!r}", {"qty": v}, (400,)) for v in (0, -1, 1.5, "1.5", "abc", "", True, HUGE, 2**31, 10**7)]
    cases += [(f"goods_id {v!r}", {"goods_id": v}, (400,)) for v in ("abc", 1.5, True, -1, 0, HUGE, 2**31, None)]
    cases += [("goods unknown", {"goods_id": UNKNOWN}, (400, 404))]
    cases += [
        (f"{price} {v!r}", {price: v}, (400,))
        for v in ("1.00001", "1e-5", "-1", "abc", "1e20", "NaN", "Infinity", "1" * 40, 1.5, 12, True, [1])
    ]
    return cases


async def _docs_for_bad_input(client, admin, w) -> dict:
    await create_doc(
        client, admin, "inbound", w["general"], (w["screen"], 50, "1"), (w["battery"], 50, "1"), confirm=True
    )
    drafts = {k: await create_doc(client, admin, k, w["general"], (w["screen"], 1, "1")) for k in URL}
    submitted = {k: await create_doc(client, admin, k, w["general"], (w["screen"], 1, "1"), submit=True) for k in URL}
    return {"draft": drafts, "submitted": submitted}


@pytest.mark.parametrize("kind", ["inbound", "outbound"])
async def test_bad_bodies_are_refused_in_chinese_and_change_nothing(client, admin, w, kind):
    docs = await _docs_for_bad_input(client, admin, w)
    draft, submitted = docs["draft"][kind], docs["submitted"][kind]
    url, price = URL[kind], "cost_price" if kind == "inbound" else "unit_price"
    draft_url, line_url = f"{url}/{draft['id']}", f"{url}/{draft['id']}/lines/{draft['lines'][0]['id']}"
    header = {
        "type": "purchase" if kind == "inbound" else "scrap",
        "warehouse_id": w["general"],
        "supplier_id": w["supplier"],
        "remark": "ok",
    }
    line = {"goods_id": w["battery"], "qty": 2, price: "3"}
    raw = [b"{not json", b"", b"null", b"[]", b'"text"', b"1"]

    cases: list[tuple[str, str, str, object, tuple[int, ...]]] = []
    for label, change, allowed in header_cases(w, kind):
        cases.append(("create " + label, "POST", url, header | change, allowed))
        cases.append(("patch " + label, "PATCH", draft_url, change, allowed))
    for key in ("type", "warehouse_id"):
        cases.append((f"create missing {key}", "POST", url, {k: v for k, v in header.items() if k != key}, (400,)))
    for label, change, allowed in line_cases(w, kind):
        cases.append(("embedded line " + label, "POST", url, header | {"lines": [line | change]}, allowed))
        cases.append(("add line " + label, "POST", f"{draft_url}/lines", line | change, allowed))
        if change.get("goods_id", 1) is not None:
            cases.append(("patch line " + label, "PATCH", line_url, change, allowed))
    for key in ("goods_id", "qty"):
        cases.append(
            (
                f"add line missing {key}",
                "POST",
                f"{draft_url}/lines",
                {k: v for k, v in line.items() if k != key},
                (400,),
            )
        )
    cases += [
        ("lines not a list", "POST", url, header | {"lines": "x"}, (400,)),
        ("lines of strings", "POST", url, header | {"lines": ["x"]}, (400,)),
        ("501 lines", "POST", url, header | {"lines": [line] * 501}, (400,)),
        ("second line bad", "POST", url, header | {"lines": [line, line | {"qty": 0}]}, (400,)),
        (
            "patch line of another document",
            "PATCH",
            f"{url}/{submitted['id']}/lines/{draft['lines'][0]['id']}",
            {"qty": 1},
            (404, 409),
        ),
        ("line of another document", "PATCH", f"{draft_url}/lines/{submitted['lines'][0]['id']}", {"qty": 1}, (404,)),
        ("unknown line", "PATCH", f"{draft_url}/lines/{UNKNOWN}", {"qty": 1}, (404,)),
        ("unknown line delete", "DELETE", f"{draft_url}/lines/{UNKNOWN}", None, (404,)),
        ("huge line id", "DELETE", f"{draft_url}/lines/{HUGE}", None, (400, 404)),
        ("huge document id", "GET", f"{url}/{HUGE}", None, (400, 404)),
        ("huge document id patch", "PATCH", f"{url}/{HUGE}", {"remark": "x"}, (400, 404)),
        ("huge document id confirm", "POST", f"{url}/{HUGE}/confirm", None, (400, 404)),
        ("string document id", "GET", f"{url}/abc", None, (400, 404)),
        ("unknown document", "DELETE", f"{url}/{UNKNOWN}", None, (404,)),
    ]
    submitted_url = f"{url}/{submitted['id']}/confirm"
    for value in ("abc", 5, [None], ["abc"], [1.5], [True], [-1], [0], [HUGE], [], list(range(1, 600)), {"a": 1}):
        cases.append((f"confirm line_ids {value!r:.40}", "POST", submitted_url, {"line_ids": value}, (400,)))
    cases += [
        ("confirm unknown line", "POST", submitted_url, {"line_ids": [UNKNOWN]}, (404,)),
        ("confirm another document's line", "POST", submitted_url, {"line_ids": [draft["lines"][0]["id"]]}, (404,)),
        ("confirm draft", "POST", f"{draft_url}/confirm", {"line_ids": [draft["lines"][0]["id"]]}, (409,)),
    ]
    for target in (url, draft_url, f"{draft_url}/lines", line_url, submitted_url):
        method = "PATCH" if target in (draft_url, line_url) else "POST"
        cases += [
            (f"raw {body!r} to {target}", method, target, body, (400,))
            for body in raw
            if target != submitted_url or body not in (b"", b"null")
        ]

    before = await database_state()
    failures = []
    for label, method, target, body, allowed in cases:
        if isinstance(body, bytes):
            response = await client.request(
                method, target, content=body, headers=admin | {"content-type": "application/json"}
            )
        else:
            response = await client.request(method, target, json=body, headers=admin)
        try:
            error_of(response, response.status_code)
            assert response.status_code in allowed
        except (AssertionError, ValueError):
            failures.append(f"{label}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    assert await database_state() == before
    # the undamaged bodies are accepted, so every refusal above came from the damage
    await call(client, "POST", url, admin, header | {"lines": [line]}, 201)
    await call(client, "PATCH", draft_url, admin, header)
    await call(client, "POST", f"{draft_url}/lines", admin, line, 201)
    await call(client, "PATCH", line_url, admin, line)
    await call(client, "POST", submitted_url, admin, {"line_ids": [submitted["lines"][0]["id"]]})


BAD_QUERIES = [
    (URL["inbound"], {"page": "abc"}),
    (URL["inbound"], {"page": "0"}),
    (URL["outbound"], {"page_size": "1000"}),
    (URL["inbound"], {"status": "gone"}),
    (URL["inbound"], {"warehouse_id": "abc"}),
    (URL["outbound"], {"supplier_id": str(HUGE)}),
    (URL["inbound"], {"created_by": "-1"}),
    (URL["inbound"], {"date_from": "yesterday"}),
    (URL["outbound"], {"date_to": "2026-13-40"}),
    (URL["inbound"], {"no": "x" * 100}),
    (URL["inbound"], {"type": "x" * 100}),
    (URL["inbound"] + "/export", {"date_from": "x"}),
    ("/api/v1/stock", {"org_id": "abc"}),
    ("/api/v1/stock", {"org_id": str(UNKNOWN)}),
    ("/api/v1/stock", {"warehouse_id": "1.5"}),
    ("/api/v1/stock", {"goods_id": str(HUGE)}),
    ("/api/v1/stock", {"category_id": "abc"}),
    ("/api/v1/stock", {"category_id": str(UNKNOWN)}),
    ("/api/v1/stock", {"below_safety": "maybe"}),
    ("/api/v1/stock", {"q": "x" * 100}),
    ("/api/v1/stock", {"page_size": "0"}),
    ("/api/v1/stock-moves", {"stock_id": "abc"}),
    ("/api/v1/stock-moves", {"doc_no": "x" * 100}),
    ("/api/v1/stock-moves", {"org_id": "-5"}),
    ("/api/v1/stock-moves", {"below_safety": "2"}),
    ("/api/v1/stock-moves", {"page": "-1"}),
    ("/api/v1/stock/export", {"category_id": "x"}),
    (f"/api/v1/stock/{HUGE}", {}),
    (f"/api/v1/stock/{UNKNOWN}", {}),
    ("/api/v1/stock/abc", {}),
    ("/api/v1/stock/-1", {}),
]


async def test_bad_query_parameters_are_refused_in_chinese(client, admin, w):
    failures = []
    for path, params in BAD_QUERIES:
        response = await client.get(path, params=params, headers=admin)
        try:
            assert response.status_code in (400, 404)
            error_of(response, response.status_code)
        except (AssertionError, ValueError):
            failures.append(f"{path} {params}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


async def test_the_largest_prices_and_quantities_never_overflow(client, tenant, admin, w):
    """A line of the largest price and quantity the rules allow keeps the moving average exact on
    both engines; beyond the limits the answer is a clear refusal, never a 500."""
    top, qty = "99999999.9999", 1_000_000
    for price in (top, "0.0001", top):
        await create_doc(client, admin, "inbound", w["general"], (w["screen"], qty, price), confirm=True)
    row = (await call(client, "GET", f"/api/v1/stock?goods_id={w['screen']}", admin))["items"][0]
    total = (Decimal(top) * 2 + Decimal("0.0001")) * qty
    assert row["qty"] == 3 * qty
    assert row["avg_cost"] == str((total / (3 * qty)).quantize(Decimal("0.0001"), ROUND_HALF_UP))
    assert row["value"] == str(total)  # exact, not the rounded average × quantity
    draft = await create_doc(client, admin, "inbound", w["general"])
    line = {"goods_id": w["screen"], "qty": qty, "cost_price": "100000000"}
    body = await refused(client, "POST", f"{URL['inbound']}/{draft['id']}/lines", admin, line, 400, "invalid_money")
    assert top in body["detail"]
    line = {"goods_id": w["screen"], "qty": qty + 1, "cost_price": "1"}
    await refused(client, "POST", f"{URL['inbound']}/{draft['id']}/lines", admin, line, 400, "out_of_range")

    # an org holds at most MAX_ON_HAND of a goods (PostgreSQL's INTEGER would overflow further on)
    fill = stock.MAX_ON_HAND - 3 * qty - 5  # at cost 0: at the average, its value would pass MAX_VALUE
    await stock.post_moves(
        tenant, [stock.Move(tenant.org_id, w["defective"], w["screen"], fill, "inbound", 0, "X", cost=0)], ""
    )
    doc = await create_doc(client, admin, "inbound", w["defective"], (w["screen"], 6, "1"), submit=True)
    before = await database_state()
    body = await refused(client, "POST", f"{URL['inbound']}/{doc['id']}/confirm", admin, None, 409, "stock_limit")
    assert str(stock.MAX_ON_HAND) in body["detail"]
    assert await database_state() == before
    await call(client, "DELETE", f"{URL['inbound']}/{doc['id']}", admin)
    await create_doc(client, admin, "inbound", w["defective"], (w["screen"], 5, "1"), confirm=True)
    assert await on_hand(tenant.org_id, w["defective"], w["screen"]) == fill + 5
