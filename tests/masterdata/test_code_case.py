"""Codes are unique per tenant ignoring case and surrounding spaces (issue 15 item 2): `ip15p-bat-t1`
is refused beside `IP15P-BAT-T1`, for goods, warehouses, suppliers, repair codes and fault reasons
(orgs: tests/system/test_orgs.py); a code is stored as typed, trimmed; lookups by code ignore case;
the database holds the rule, so concurrent saves of `abc` and `ABC` cannot both succeed."""

from __future__ import annotations

import pytest

from server.core.errors import Conflict
from server.masterdata.services import codes, goods, goods_io, suppliers, warehouses
from server.masterdata.tables import FaultReason, Goods, RepairCode, Supplier, Warehouse
from tests.api_helpers import concurrently
from tests.masterdata.helpers import basics, error_of, make_goods, refused
from tests.masterdata.test_goods_import import row, upload, xlsx


@pytest.fixture
async def world(tenant) -> dict:
    return await basics(tenant)


def bodies(world: dict) -> dict[str, tuple[str, type, dict]]:
    """Each coded resource: its API, table and a valid body without the code."""
    return {
        "goods": ("/api/v1/goods", Goods, {"name": "电池", "category_id": world["iphone15"]}),
        "warehouse": ("/api/v1/warehouses", Warehouse, {"name": "深圳仓", "type": "general"}),
        "supplier": ("/api/v1/suppliers", Supplier, {"name": "某供应商"}),
        "repair_code": (
            "/api/v1/repair-codes",
            RepairCode,
            {"name": "换电池", "category_id": world["iphone15"], "repair_class_id": world["lcd"]},
        ),
        "fault_reason": (
            "/api/v1/fault-reasons",
            FaultReason,
            {"name": "电池老化", "category_id": world["iphone15"], "fault_class_id": world["battery"]},
        ),
    }


KINDS = ["goods", "warehouse", "supplier", "repair_code", "fault_reason"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_code_differing_only_in_case_is_a_conflict(client, admin, tenant, world, kind):
    url, table, body = bodies(world)[kind]
    made = await client.post(url, json=body | {"code": "  IP15P-BAT-T1 "}, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["code"] == "IP15P-BAT-T1"  # stored as typed, trimmed
    for again in ("ip15p-bat-t1", " Ip15p-Bat-T1", "IP15P-BAT-T1"):
        refusal = error_of(await client.post(url, json=body | {"code": again}, headers=admin), 409, "duplicate_code")
        assert "编码 IP15P-BAT-T1 已存在" in refusal["detail"], refusal
    assert [r["code"] for r in await table.select(table.code)] == ["IP15P-BAT-T1"]


@pytest.mark.parametrize("kind", KINDS)
async def test_the_database_refuses_a_case_twin(tenant, world, kind):
    """The rule lives in a unique index on (tenant_id, lower(code)), not only in the service."""
    _, table, _ = bodies(world)[kind]
    await table.insert(table(tenant_id=tenant.tenant_id, code="Abc"))
    with pytest.raises(Exception, match="(?i)unique"):
        await table.insert(table(tenant_id=tenant.tenant_id, code="aBC"))
    await table.insert(table(tenant_id=tenant.tenant_id + 1, code="aBC"))  # per tenant


async def test_a_save_that_lost_the_race_is_a_409_not_a_500(tenant, world, monkeypatch):
    """Between the service's check and its insert another request may commit the same code: the
    index refuses the second insert, which answers 409 (here the check is made to miss it)."""
    await make_goods(tenant, "RACE", world["iphone15"])
    await warehouses.create(tenant, {"code": "RACE", "name": "仓", "type": "general"})

    async def missed(*args, **kwargs):
        return None

    for module in (goods, warehouses, suppliers, codes):
        monkeypatch.setattr(module, "code_conflict", missed)
    body = {"code": "race", "name": "X", "category_id": world["iphone15"]}
    exc = await refused(goods.create(tenant, body), status=409)
    assert (exc.code, exc.field) == ("duplicate_code", "code") and isinstance(exc, Conflict)
    await refused(warehouses.create(tenant, {"code": "Race", "name": "X", "type": "general"}), "duplicate_code", 409)
    assert await Goods.count() == 1 and await Warehouse.count() == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_concurrent_saves_of_abc_and_ABC_make_one(client, admin, tenant, world, kind):
    url, table, body = bodies(world)[kind]
    requests = [("POST", url, admin, body | {"code": code}) for code in ("abc", "ABC", "Abc", "aBc") * 3]
    responses = await concurrently(client, requests)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 11, [(r.status_code, r.text) for r in responses]
    assert all(r.json()["code"] == "duplicate_code" for r in responses if r.status_code == 409)
    assert await table.count() == 1


async def test_lookups_by_code_ignore_case(client, admin, tenant, world):
    await make_goods(tenant, "IP15P-BAT-T1", world["iphone15"])
    listed = (await client.get("/api/v1/goods", params={"q": "ip15p-bat"}, headers=admin)).json()
    assert [g["code"] for g in listed["items"]] == ["IP15P-BAT-T1"]
    picked, _ = await goods.pick(tenant, q="ip15p-b")
    assert [g["code"] for g in picked] == ["IP15P-BAT-T1"]
    await warehouses.create(tenant, {"code": "SZ01", "name": "深圳仓", "type": "general"})
    assert [w["code"] for w in (await warehouses.search(tenant, q="sz01")).items] == ["SZ01"]
    # the refusal names the code field (a form marks it) and the code as the tenant has it
    exc = await refused(warehouses.create(tenant, {"code": "sz01", "name": "X", "type": "general"}), status=409)
    assert (exc.field, exc.detail) == ("code", "仓库编码 SZ01 已存在（编码不区分大小写）")


async def test_the_goods_import_matches_codes_ignoring_case(client, admin, tenant, world):
    await make_goods(tenant, "IP15P-BAT-T1", world["iphone15"])
    body = error_of(
        await upload(client, admin, xlsx([row("ip15p-bat-t1"), row("AB-1"), row("ab-1")])),
        400,
        "import_invalid",
        extra=("errors",),
    )
    errors = {e["row"]: e["message"] for e in body["errors"]}
    assert "货品编码 IP15P-BAT-T1 已存在" in errors[2], errors
    assert "与第 3 行重复" in errors[4], errors
    assert await Goods.count() == 1
    assert await goods_io._existing_codes(tenant, ["ip15p-bat-t1"]) == {"ip15p-bat-t1": "IP15P-BAT-T1"}
