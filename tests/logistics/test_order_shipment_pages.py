"""【物流发货】 of an order through the pages (issue 17): the type 订单 offers the children's
approved orders (newest first, with branch and open quantity), fixes the receiving org to the
order's branch and prefills the lines with what is open (editable down, 0 leaves a line out,
never above open: 409); the order page offers 【发货】 opening the form with the order chosen.
Orders not shippable, of a grandchild or of another tenant are refused or not found."""

from __future__ import annotations

import re

import pytest

from server.logistics.services import orders, shipments
from tests.conftest import page_login
from tests.credit.helpers import recharge
from tests.logistics.helpers import APPLICANT
from tests.logistics.shipment_helpers import network
from tests.logistics.test_shipments_pages import location, post, refused
from tests.system.helpers import PASSWORD, service_user

NEW = "/logistics/shipments/new"


def error_page(response, status: int, text: str = "") -> None:
    """A page opened in the browser that cannot be shown: the error page with its message."""
    assert response.status_code == status and text in response.text, (response.status_code, response.text)


@pytest.fixture
async def n(tenant) -> dict:
    n = await network(tenant)
    await recharge(tenant, (n["b2"], "5000.0000"))
    n["applicant"] = await service_user(tenant, "b2buyer", n["b2"], "branch", APPLICANT)
    return n


async def approved(tenant, n: dict, *lines: tuple[int, int]) -> dict:
    body = {"lines": [{"goods_id": g, "qty": q} for g, q in lines]}
    doc = await orders.create(n["applicant"], "order", body)
    await orders.submit(n["applicant"], "order", doc["id"])
    return await orders.approve(tenant, doc["id"])


async def test_an_order_shipped_from_its_page_with_prefilled_lines(client, tenant, n):
    older = await approved(tenant, n, (n["battery"], 1))
    order = await approved(tenant, n, (n["screen"], 3), (n["battery"], 2))
    await page_login(client, "admin@ACME")

    form = await client.get(NEW)
    assert form.status_code == 200 and 'value="order"' in form.text
    assert form.text.index(order["no"]) < form.text.index(older["no"])  # newest first
    assert f"{order['no']} · B2网点 · 未发 5" in form.text and f"{older['no']} · B2网点 · 未发 1" in form.text

    # 【发货】 on the order page opens the form with the order chosen and its open lines
    page = await client.get(f"/logistics/order-reviews/{order['id']}")
    assert f'href="{NEW}?order_id={order["id"]}"' in page.text
    form = await client.get(NEW, params={"order_id": order["id"]})
    assert form.status_code == 200
    assert f'name="to_org_id" value="{n["b2"]}"' in form.text
    line_ids = re.findall(r'name="order_line_id" value="(\d+)"', form.text)
    assert len(line_ids) == 2 and 'max="3" step="1" value="3"' in form.text

    header = {"type": "order", "order_id": order["id"], "to_org_id": n["b2"], "warehouse_id": n["general"]}
    # above what is open: refused, nothing saved
    too_many = header | {"order_line_id": line_ids, "qty": ["4", "2"]}
    refused(await post(client, "/logistics/shipments", too_many), 409, "超过订单未发数量")
    assert (await shipments.search(tenant)).total == 0
    # 2 of 3 screens, no battery this time
    url = location(await post(client, "/logistics/shipments", header | {"order_line_id": line_ids, "qty": ["2", "0"]}))
    doc = await shipments.get(tenant, "shipment", int(url.rsplit("/", 1)[1]))
    assert (doc["to_org_id"], doc["order_id"]) == (n["b2"], order["id"])
    assert [(li["goods_id"], li["qty"], li["price"]) for li in doc["lines"]] == [(n["screen"], 2, "110.0000")]

    # the line dialog of an order shipment offers the order's open lines; above open is refused
    dialog = await client.get(f"{url}/lines/new")
    assert dialog.status_code == 200 and "iPhone 15 电池 · 未发 2" in dialog.text
    refused(await post(client, f"{url}/lines", {"order_line_id": line_ids[1], "qty": 3}), 409, "超过订单未发数量")
    assert (await post(client, f"{url}/lines", {"order_line_id": line_ids[1], "qty": 2})).status_code == 201
    refused(await post(client, f"{url}/lines/{doc['lines'][0]['id']}", {"qty": 4}), 409, "超过订单未发数量")

    await shipments.submit(tenant, "shipment", doc["id"])
    await shipments.confirm(tenant, "shipment", doc["id"])
    # the order is partly shipped: still offered, with 1 open
    flow = await client.get(f"{NEW}/flow", params={"order_id": order["id"]})
    assert flow.status_code == 200 and 'max="1"' in flow.text and 'name="to_org_id"' in flow.text
    assert f"{order['no']} · B2网点 · 未发 1" in (await client.get(NEW)).text


async def test_orders_that_cannot_be_shipped_are_refused(client, tenant, other_tenant, n):
    submitted = await orders.create(n["applicant"], "order", {"lines": [{"goods_id": n["screen"], "qty": 1}]})
    await orders.submit(n["applicant"], "order", submitted["id"])
    order = await approved(tenant, n, (n["screen"], 2))
    await page_login(client, "admin@ACME")
    form = await client.get(NEW)
    assert order["no"] in form.text and submitted["no"] not in form.text  # not approved: not offered
    error_page(await client.get(NEW, params={"order_id": submitted["id"]}), 409, "不能发货")
    bad = await client.get(f"{NEW}/flow", params={"order_id": "abc"}, headers={"hx-request": "true"})
    refused(bad, 400)
    page = await client.get(f"/logistics/order-reviews/{submitted['id']}")
    assert "/logistics/shipments/new?order_id" not in page.text
    header = {"type": "order", "warehouse_id": n["general"], "to_org_id": n["b2"]}
    refused(await post(client, "/logistics/shipments", header), 400, "请选择订单")
    # the order fixes the receiving org
    wrong = header | {"order_id": order["id"], "to_org_id": n["s2"]}
    refused(await post(client, "/logistics/shipments", wrong), 400, "订单不是收货机构的订单")

    # B2's own order is no order B2 may ship (its parent does): 403; other tenants see nothing
    await orders.close(tenant, order["id"])
    error_page(await client.get(NEW, params={"order_id": order["id"]}), 409, "已关闭")
    await page_login(client, "b2staff@ACME", PASSWORD)
    error_page(await client.get(NEW, params={"order_id": submitted["id"]}), 403, "只能审核或发货直属下级机构的订货单")
    await page_login(client, "admin@OTHER")
    error_page(await client.get(NEW, params={"order_id": submitted["id"]}), 404)
