"""Repair codes (SPEC 2.3) and fault reasons (SPEC 2.4): unique immutable codes, filed under a
usable category and class, labor fee as 4-decimal money, disabled or deleted ones unusable."""

from __future__ import annotations

import pytest

from server.masterdata.services import codes, trees
from server.masterdata.tables import FaultReason, RepairCode
from tests.masterdata.helpers import LONG, basics, branch_api_user, error_of, refused
from tests.system.helpers import service_org

KINDS = [
    ("repair_code", "/api/v1/repair-codes", "repair_class_id", RepairCode),
    ("fault_reason", "/api/v1/fault-reasons", "fault_class_id", FaultReason),
]


def body_for(kind: str, b: dict, code: str = "C001", **fields) -> dict:
    if kind == "repair_code":
        return {"code": code, "name": "更换屏幕", "category_id": b["iphone15"], "repair_class_id": b["lcd"]} | fields
    return {"code": code, "name": "电池老化", "category_id": b["iphone15"], "fault_class_id": b["battery"]} | fields


def class_of(kind: str, b: dict) -> tuple[int, int]:
    """(sub class, main class) of the kind's tree."""
    return (b["lcd"], b["screen"]) if kind == "repair_code" else (b["battery"], b["power"])


async def rows(table) -> list[dict]:
    return await table.select().order_by(table.id)


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_create_read_and_list(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    response = await client.post(url, json=body_for(kind, b), headers=admin)
    assert response.status_code == 201, response.text
    item = response.json()
    assert item["code"] == "C001" and item["enabled"] is True and item["status"] == "active"
    assert (item["category_id"], item["category_name"]) == (b["iphone15"], "iPhone 15")
    sub, _ = class_of(kind, b)
    assert item[class_key] == sub
    assert item[class_key.replace("_id", "_name")] in ("换屏", "电池")
    assert (await client.get(f"{url}/{item['id']}", headers=admin)).json() == item
    listed = (await client.get(url, headers=admin)).json()
    assert listed == {"items": [item], "total": 1, "page": 1, "page_size": 50}


async def test_repair_code_money_and_material_flag(client, admin, tenant):
    b = await basics(tenant)
    url = "/api/v1/repair-codes"
    made = await client.post(
        url, json=body_for("repair_code", b, labor_fee="0.1000", uses_material=True), headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.json()["labor_fee"] == "0.1000" and made.json()["uses_material"] is True
    assert (await client.get(f"{url}/{made.json()['id']}", headers=admin)).json()["labor_fee"] == "0.1000"
    assert (await codes.get(tenant, "repair_code", made.json()["id"]))["labor_fee"] == 1000  # ten-thousandths
    for fee, expected in (("12", "12.0000"), ("12.5", "12.5000"), ("0", "0.0000"), ("99999999.9999", "99999999.9999")):
        item = await client.patch(f"{url}/{made.json()['id']}", json={"labor_fee": fee}, headers=admin)
        assert item.status_code == 200 and item.json()["labor_fee"] == expected, item.text
    before = await rows(RepairCode)
    for fee in ("1.23456", "-1", "-0.0001", "abc", "", "1e20", "NaN", "Infinity", LONG):
        error_of(await client.patch(f"{url}/{made.json()['id']}", json={"labor_fee": fee}, headers=admin), 400)
        error_of(await client.post(url, json=body_for("repair_code", b, "C9", labor_fee=fee), headers=admin), 400)
    error_of(await client.post(url, json=body_for("repair_code", b, "C9", labor_fee=1.5), headers=admin), 400)
    assert await rows(RepairCode) == before


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_duplicate_code_is_a_conflict(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    assert (await client.post(url, json=body_for(kind, b), headers=admin)).status_code == 201
    error_of(await client.post(url, json=body_for(kind, b, name="另一个"), headers=admin), 409, "duplicate_code")
    await codes.delete(tenant, kind, (await rows(table))[0]["id"])
    # a deleted code still holds its code: documents keep referring to it
    error_of(await client.post(url, json=body_for(kind, b), headers=admin), 409, "duplicate_code")
    assert len(await rows(table)) == 1


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_code_is_immutable_and_other_fields_edit(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    item = (await client.post(url, json=body_for(kind, b), headers=admin)).json()
    before = await rows(table)
    error_of(
        await client.patch(f"{url}/{item['id']}", json={"code": "C002", "name": "改名"}, headers=admin),
        400,
        "immutable",
    )
    await refused(codes.update(tenant, kind, item["id"], {"code": "c001"}), "immutable")
    assert await rows(table) == before
    # the same code is no change; category and class may move to other usable nodes
    sub, main = class_of(kind, b)
    changed = await client.patch(
        f"{url}/{item['id']}",
        json={"code": "C001", "name": "新名称", "category_id": b["ipad"], class_key: main, "enabled": False},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    got = changed.json()
    assert (got["code"], got["name"], got["category_id"], got[class_key], got["enabled"]) == (
        "C001",
        "新名称",
        b["ipad"],
        main,
        False,
    )


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_disabled_and_deleted_codes_cannot_be_chosen(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    live = await codes.create(tenant, kind, body_for(kind, b, "LIVE"))
    off = await codes.create(tenant, kind, body_for(kind, b, "OFF", enabled=False))
    gone = await codes.create(tenant, kind, body_for(kind, b, "GONE"))
    deleted = await client.delete(f"{url}/{gone['id']}", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"

    assert (await codes.usable(tenant, kind, live["id"], "code"))["id"] == live["id"]
    for item in (off, gone):
        await refused(codes.usable(tenant, kind, item["id"], "code"), "code_disabled")
    await refused(codes.usable(tenant, kind, 999_999, "code"), "unknown_code")
    await refused(codes.usable(tenant, kind, "x", "code"), "invalid_field")
    picker = await codes.search(tenant, kind, usable_only=True)
    assert [i["code"] for i in picker.items] == ["LIVE"]
    # enabling again makes it usable
    await codes.update(tenant, kind, off["id"], {"enabled": True})
    assert (await codes.usable(tenant, kind, off["id"], "code"))["code"] == "OFF"
    # a deleted code can be neither edited nor deleted again
    error_of(await client.patch(f"{url}/{gone['id']}", json={"name": "X"}, headers=admin), 409, "deleted")
    error_of(await client.delete(f"{url}/{gone['id']}", headers=admin), 409, "already_deleted")


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_filters_by_category_class_status_and_text(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    sub, main = class_of(kind, b)
    other_main = await trees.create(
        tenant, "repair_class" if kind == "repair_code" else "fault_class", {"name": "其他"}
    )
    await codes.create(tenant, kind, body_for(kind, b, "A1", name="苹果十五"))
    await codes.create(tenant, kind, body_for(kind, b, "A2", category_id=b["ipad"], enabled=False))
    await codes.create(tenant, kind, body_for(kind, b, "B1", category_id=b["apple"], **{class_key: other_main["id"]}))

    async def listed(**params) -> list[str]:
        response = await client.get(url, params=params, headers=admin)
        assert response.status_code == 200, response.text
        return [i["code"] for i in response.json()["items"]]

    assert await listed() == ["A1", "A2", "B1"]
    assert await listed(category_id=b["apple"]) == ["A1", "A2", "B1"]  # the whole subtree
    assert await listed(category_id=b["iphone"]) == ["A1"]
    assert await listed(class_id=main) == ["A1", "A2"]
    assert await listed(**{class_key: other_main["id"]}) == ["B1"]
    assert await listed(enabled="false") == ["A2"]
    assert await listed(enabled="true", category_id=b["apple"]) == ["A1", "B1"]
    assert await listed(q="十五") == ["A1"]
    assert await listed(q="b1") == ["B1"]
    assert await listed(status="deleted") == []
    assert await listed(page_size=2, page=2) == ["B1"]
    for params in ({"category_id": "abc"}, {"status": "gone"}, {"enabled": "maybe"}, {"page_size": 1000}):
        error_of(await client.get(url, params=params, headers=admin), 400)
    error_of(await client.get(url, params={"category_id": 999_999}, headers=admin), 404)


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_bad_input_changes_nothing(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    item = (await client.post(url, json=body_for(kind, b), headers=admin)).json()
    before = await rows(table)
    for body, status in (
        ({"code": LONG}, 400),
        ({"code": "含中文"}, 400),
        ({"code": "a b"}, 400),
        ({"code": ""}, 400),
        ({"name": LONG}, 400),
        ({"name": ""}, 400),
        ({"category_id": 999_999}, 400),
        ({"category_id": 10**20}, 400),
        ({"category_id": "x"}, 400),
        ({class_key: b["apple"]}, 400),  # a category is not a class
        ({"category_id": b["lcd"]}, 400),  # nor a class a category
        ({"enabled": "maybe"}, 400),
        ({"enabled": None}, 400),
    ):
        full = body_for(kind, b, "NEW") | body
        error_of(await client.post(url, json=full, headers=admin), status)
        if "code" not in body:
            error_of(await client.patch(f"{url}/{item['id']}", json=body, headers=admin), status)
    for missing in ("code", "name", "category_id", class_key):
        body = body_for(kind, b, "NEW")
        del body[missing]
        error_of(await client.post(url, json=body, headers=admin), 400)
    error_of(await client.patch(f"{url}/999999", json={"name": "X"}, headers=admin), 404, "not_found")
    error_of(await client.delete(f"{url}/999999", headers=admin), 404, "not_found")
    assert await rows(table) == before


@pytest.mark.parametrize(("kind", "url", "class_key", "table"), KINDS)
async def test_branch_users_read_but_never_write(client, admin, tenant, kind, url, class_key, table):
    b = await basics(tenant)
    item = await codes.create(tenant, kind, body_for(kind, b))
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    headers = await branch_api_user(client, admin, branch["id"])
    before = await rows(table)
    assert (await client.get(url, headers=headers)).json()["total"] == 1
    assert (await client.get(f"{url}/{item['id']}", headers=headers)).status_code == 200
    error_of(await client.post(url, json=body_for(kind, b, "BR1"), headers=headers), 403, "forbidden")
    error_of(await client.patch(f"{url}/{item['id']}", json={"name": "X"}, headers=headers), 403)
    error_of(await client.delete(f"{url}/{item['id']}", headers=headers), 403)
    assert await rows(table) == before
