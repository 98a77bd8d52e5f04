"""The pages of 【物流发货】, 【物流收货】 and 【在途库存】: a distribution drafted, its lines added,
edited and deleted, submitted, partly confirmed, received by the branch into its 良品库 with the
menu badge counting what waits; the packing list, the exports, the shipping-org filter enabled
once a type is chosen; refusals answer Chinese messages (never a 500) and other orgs get 404."""

from __future__ import annotations

import json
import re

from tests.conftest import csrf, page_login
from tests.inventory.api_helpers import sheet
from tests.inventory.helpers import on_hand
from tests.logistics.shipment_helpers import network, shipment
from tests.masterdata.helpers import CJK
from tests.system.helpers import PASSWORD

ROWS = {"hx-request": "true", "hx-target": "rows"}


def location(response) -> str:
    assert response.status_code in (200, 201), response.text
    return json.loads(response.headers["hx-location"])["path"]


async def post(client, url: str, data: dict | None = None):
    return await client.post(url, data=data or {}, headers=csrf(client))


def refused(response, status: int, text: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    assert CJK.search(response.text) and "<html" not in response.text, response.text
    if text is not None:
        assert text in response.text, response.text


async def test_ship_and_receive_through_the_pages(client, tenant):
    n = await network(tenant)
    await page_login(client, "admin@ACME")
    page = await client.get("/logistics/shipments/new")
    assert page.status_code == 200 and "添加物流发货" in page.text and "B2网点" in page.text
    assert 'value="write_off"' not in page.text  # the head office has no parent to send back to
    form = {"type": "distribution", "to_org_id": n["b2"], "warehouse_id": n["general"], "carrier": "顺丰"}
    url = location(await post(client, "/logistics/shipments", form))
    doc_id = int(url.rsplit("/", 1)[1])
    assert (await post(client, f"{url}/lines", {"goods_id": n["screen"], "qty": 3})).status_code == 201
    assert (await post(client, f"{url}/lines", {"goods_id": n["battery"], "qty": 9})).status_code == 201
    refused(await post(client, f"{url}/lines", {"goods_id": n["battery"], "qty": 99}), 409, "库存不足")
    page = await client.get(url)
    line_ids = [int(i) for i in re.findall(r'name="line_ids" value="(\d+)"', page.text)]
    assert (await post(client, f"{url}/lines/{line_ids[1]}", {"qty": 2})).status_code == 200
    form = await client.get(f"{url}/lines/{line_ids[0]}/edit")
    assert form.status_code == 200 and "修改货品" in form.text
    assert (await post(client, f"{url}/lines/delete", {"line_ids": str(line_ids[1])})).status_code == 200
    assert (await post(client, f"{url}/submit", {"carrier": "顺丰", "tracking_no": "SF9"})).status_code == 200
    page = await client.get(url)
    assert "确认出库" in page.text and "SF9" in page.text
    assert location(await post(client, f"{url}/confirm", {"line_ids": str(line_ids[0])})) == url
    assert await on_hand(n["hq"], n["general"], n["screen"]) == 17
    rows = await client.get("/logistics/shipments", headers=ROWS)
    assert "已出库" in rows.text and "<html" not in rows.text
    printed = await client.get(f"{url}/print")
    assert printed.status_code == 200 and "装箱单" in printed.text and "顺丰" in printed.text
    assert sheet(await client.get("/logistics/shipments/export"))[1][0].startswith("WL")

    # the branch: the badge counts it, the list shows it, it receives into its 良品库
    client.cookies.clear()
    await page_login(client, "b2staff@ACME", PASSWORD)
    assert (await client.get("/logistics/receiving/badge")).text == "1"
    home = await client.get("/logistics/receiving")
    assert "物流收货" in home.text and 'hx-get="/logistics/receiving/badge"' in home.text
    assert 'id="filter-sender"' in home.text and "disabled" in home.text.split('id="filter-sender"')[1][:80]
    senders = await client.get("/logistics/receiving/senders?type=distribution")
    assert "艾克米维修总部" in senders.text and "disabled" not in senders.text
    rows = await client.get("/logistics/receiving?type=distribution", headers=ROWS)
    assert re.findall(r'data-no="([^"]+)"', rows.text)
    receipt = await client.get(f"/logistics/receiving/{doc_id}")
    assert "确认收货" in receipt.text and "W-GOOD仓" in receipt.text and "W-BAD仓" not in receipt.text
    refused(await post(client, f"/logistics/receiving/{doc_id}/receive", {"warehouse_id": n["good"]}), 400, "请勾选")
    done = await post(
        client, f"/logistics/receiving/{doc_id}/receive", {"warehouse_id": n["good"], "line_ids": str(line_ids[0])}
    )
    assert location(done) == f"/logistics/receiving/{doc_id}"
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 3
    assert (await client.get("/logistics/receiving/badge")).text == ""
    refused(
        await post(
            client, f"/logistics/receiving/{doc_id}/receive", {"warehouse_id": n["good"], "line_ids": str(line_ids[0])}
        ),
        409,
    )
    transit = await client.get("/logistics/in-transit")
    assert transit.status_code == 200 and "没有在途的货品" in transit.text


async def test_in_transit_page_and_isolation(client, tenant):
    n = await network(tenant)
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 4), to_org_id=n["b2"], step="confirm")
    await page_login(client, "admin@ACME")
    rows = await client.get("/logistics/in-transit?goods=SCR", headers=ROWS)
    assert doc["no"] in rows.text and "B2网点" in rows.text
    assert sheet(await client.get("/logistics/in-transit/export"))[1][7] == 4
    client.cookies.clear()
    await page_login(client, "b3staff@ACME", PASSWORD)
    refused(await client.get(f"/logistics/receiving/{doc['id']}", headers={"hx-request": "true"}), 404)
    refused(await client.get(f"/logistics/shipments/{doc['id']}", headers={"hx-request": "true"}), 404)
    assert doc["no"] not in (await client.get("/logistics/in-transit", headers=ROWS)).text
