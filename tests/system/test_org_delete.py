"""Issue 15 item 1 for orgs: the delete says what hangs under the org (sub-orgs, users, warehouses
assigned, stock on hand, open documents, its credit line) and is refused while sub-orgs, stock or
open documents use it; 【恢复】 brings it back. Stock and documents are upper domains': system hears
of them through the usage hooks they register."""

from __future__ import annotations

import pytest

from server.core.errors import BusinessError
from server.inventory.services import documents
from server.masterdata.services import warehouses
from server.system.services import orgs
from tests.conftest import csrf, page_login
from tests.inventory.api_helpers import ALL_INVENTORY
from tests.inventory.helpers import inbound, outbound, world
from tests.system.helpers import error_of, service_org, service_user


def counts(found: dict) -> dict[str, int]:
    return {u.key: u.count for u in found["counts"]}


async def branch_with_stock(tenant) -> dict:
    """Branch B1 (with sub-branch B11 and a clerk) holding 3 screens in its 通用库."""
    w = await world(tenant)
    b1 = await service_org(tenant, "B1", tenant.org_id)
    b11 = await service_org(tenant, "B11", b1["id"])
    await warehouses.assign(tenant, [w["general"]], [b1["id"]])
    clerk = await service_user(tenant, "b1clerk", b1["id"], "branch", ALL_INVENTORY)
    await inbound(clerk, w["general"], (w["screen"], 3, "10"))
    return w | {"b1": b1["id"], "b11": b11["id"], "clerk": clerk}


async def test_the_delete_counts_what_hangs_under_the_org_and_refuses_while_it_is_used(client, admin, tenant):
    w = await branch_with_stock(tenant)
    found = await orgs.impact(tenant, w["b1"])
    assert list(counts(found).items()) == [  # in the dialog's order
        ("children", 1),
        ("users", 1),
        ("warehouses", 1),
        ("stock_qty", 3),
        ("open_docs", 0),
        ("credit_account", 0),
        ("open_credit_docs", 0),
    ]
    assert found["refusal"] == "机构【B1网点】还有 1 个未删除的下级机构、仍有库存 3 件，不能删除"
    error_of(await client.delete(f"/api/v1/orgs/{w['b1']}", headers=admin), 409, "has_children")

    assert (await client.delete(f"/api/v1/orgs/{w['b11']}", headers=admin)).status_code == 200
    body = error_of(await client.delete(f"/api/v1/orgs/{w['b1']}", headers=admin), 409, "in_use")
    assert body["detail"] == "机构【B1网点】仍有库存 3 件，不能删除"

    # the stock leaves; a draft left behind still holds the org
    out = await outbound(w["clerk"], w["general"], (w["screen"], 3))
    await documents.confirm(w["clerk"], "outbound", out["id"])
    draft = await documents.create(
        w["clerk"],
        "inbound",
        {
            "type": "purchase",
            "warehouse_id": w["general"],
            "lines": [{"goods_id": w["screen"], "qty": 1, "cost_price": "1"}],
        },
    )
    body = error_of(await client.delete(f"/api/v1/orgs/{w['b1']}", headers=admin), 409, "in_use")
    assert body["detail"] == "机构【B1网点】仍被 1 张未完成的出入库单使用，不能删除"

    await documents.delete(w["clerk"], "inbound", draft["id"])
    assert (await orgs.impact(tenant, w["b1"]))["refusal"] == ""
    gone = await client.delete(f"/api/v1/orgs/{w['b1']}", headers=admin)
    assert gone.status_code == 200 and gone.json()["status"] == "deleted"
    # its warehouse cannot be used by it any more, even by a session that was already open
    with pytest.raises(BusinessError) as refused:
        await documents.create(w["clerk"], "inbound", {"type": "purchase", "warehouse_id": w["general"]})
    assert refused.value.code == "org_deleted"
    back = await client.post(f"/api/v1/orgs/{w['b1']}/restore", headers=admin)
    assert back.status_code == 200 and back.json()["status"] == "active"


async def test_the_dialog_says_what_hangs_under_the_org(client, tenant):
    w = await branch_with_stock(tenant)
    await page_login(client, "admin@ACME")
    dialog = await client.get(f"/system/orgs/{w['b1']}/impact", headers={"hx-request": "true"})
    assert dialog.status_code == 200 and "<dialog" in dialog.text and "<html" not in dialog.text
    text = dialog.text
    assert "删除机构【B1网点】" in text and "确认删除" not in text  # refused: only 关闭
    assert "还有 1 个未删除的下级机构、仍有库存 3 件，不能删除" in text
    for key, label in (
        ("children", "下级机构"),
        ("users", "用户（删除后不能登录）"),
        ("warehouses", "已套用的仓库"),
        ("stock_qty", "库存数量"),
        ("open_docs", "未完成的出入库单"),
        ("credit_account", "额度账户"),
    ):
        assert f'<tr data-key="{key}"><th scope="row">{label}</th>' in text, key
    refused_post = await client.post(f"/system/orgs/{w['b1']}/delete", headers=csrf(client))
    assert refused_post.status_code == 409 and "不能删除" in refused_post.text
    assert (await orgs.get(tenant, w["b1"]))["status"] == "active"

    # a leaf without stock: the dialog asks, and the delete goes through
    leaf = (await client.get(f"/system/orgs/{w['b11']}/impact", headers={"hx-request": "true"})).text
    assert "确认删除" in leaf and "删除后该机构从所有选择列表中消失" in leaf
    assert (await orgs.get(tenant, w["b11"]))["status"] == "active"  # asking deleted nothing
    assert (await client.post(f"/system/orgs/{w['b11']}/delete", headers=csrf(client))).status_code == 200
    assert (await orgs.get(tenant, w["b11"]))["status"] == "deleted"
    listed = (await client.get("/system/orgs")).text
    assert f'hx-get="/system/orgs/{w["b1"]}/impact"' in listed and "hx-confirm" not in listed


async def test_another_tenant_cannot_ask_what_hangs_under_an_org(client, tenant, other_tenant):
    w = await branch_with_stock(tenant)
    await page_login(client, "admin@OTHER")
    assert (await client.get(f"/system/orgs/{w['b1']}/impact", headers={"hx-request": "true"})).status_code == 404
