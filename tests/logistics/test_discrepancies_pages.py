"""The pages of receipt discrepancies: the branch records a short and a damage on 【物流收货】's
receive form, the head office sees them on its shipment page and in 【收货差异】 (with the menu
badge) and answers 确认丢失 / 已确认 in a dialog; refusals answer Chinese text, never a 500, and
orgs outside both subtrees get 404."""

from __future__ import annotations

import json

from tests.conftest import csrf, page_login
from tests.inventory.api_helpers import sheet
from tests.inventory.helpers import on_hand
from tests.logistics.shipment_helpers import assert_conserved, network, shipment
from tests.logistics.test_shipments_pages import ROWS, refused
from tests.system.helpers import PASSWORD


async def post(client, url: str, data: dict | None = None):
    return await client.post(url, data=data or {}, headers=csrf(client))


async def test_record_on_receipt_and_resolve_from_the_list(client, tenant):
    n = await network(tenant)
    doc = await shipment(tenant, "distribution", n["general"], (n["screen"], 5), to_org_id=n["b2"], step="confirm")
    line = doc["lines"][0]["id"]
    await page_login(client, "b2staff@ACME", PASSWORD)
    page = await client.get(f"/logistics/receiving/{doc['id']}")
    assert "登记差异" in page.text and f'name="short_qty_{line}"' in page.text and "破损" in page.text
    url = f"/logistics/receiving/{doc['id']}/receive"
    form = {"warehouse_id": n["good"], "line_ids": str(line), f"short_qty_{line}": "2"}
    refused(await post(client, url, form), 400, "短少原因")
    form |= {f"short_reason_{line}": "箱内少两件", f"damaged_qty_{line}": "1", f"damaged_reason_{line}": "屏幕碎"}
    done = await post(client, url, form)
    assert done.status_code == 200, done.text
    assert await on_hand(n["b2"], n["good"], n["screen"]) == 2 and await on_hand(n["b2"], n["bad"], n["screen"]) == 1
    page = await client.get(f"/logistics/receiving/{doc['id']}")
    assert "短少 2" in page.text and "待发货方处理" in page.text
    refused(await post(client, url, {"warehouse_id": n["good"], "line_ids": str(line)}), 409, "待发货方处理")
    mine = await client.get("/logistics/discrepancies", headers=ROWS)
    assert "箱内少两件" in mine.text and "确认丢失" not in mine.text  # the receiver does not resolve

    client.cookies.clear()
    await page_login(client, "admin@ACME")
    assert (await client.get("/logistics/discrepancies/badge")).text == "2"
    shown = await client.get(f"/logistics/shipments/{doc['id']}")
    assert "短少 2" in shown.text and "箱内少两件" in shown.text
    listed = await client.get("/logistics/discrepancies")
    assert "收货差异" in listed.text and "找到补发" in listed.text and "确认丢失" in listed.text
    found = await client.get(f"/logistics/discrepancies?kind=short&no={doc['no']}", headers=ROWS)
    short_id = int(found.text.split('data-discrepancy="')[1].split('"')[0])
    dialog = await client.get(f"/logistics/discrepancies/{short_id}/resolve?resolution=lost")
    assert dialog.status_code == 200 and "记为丢失" in dialog.text
    answer = await post(client, f"/logistics/discrepancies/{short_id}/resolve", {"resolution": "lost", "remark": "丢"})
    assert (
        answer.status_code == 200 and "确认丢失" in json.loads(answer.headers["hx-trigger"])["weifu:saved"]["message"]
    )
    again = await post(client, f"/logistics/discrepancies/{short_id}/resolve", {"resolution": "lost"})
    refused(again, 409, "已处理")
    assert (await client.get("/logistics/discrepancies/badge")).text == "1"
    everything = await client.get("/logistics/discrepancies?status=", headers=ROWS)
    assert "确认丢失 · " in everything.text
    exported = sheet(await client.get("/logistics/discrepancies/export?status="))
    assert sorted(r[11] or "" for r in exported[1:]) == ["", "确认丢失"]
    await assert_conserved(n["screen"], [n["hq"], n["b2"]], 40)

    client.cookies.clear()
    await page_login(client, "b3staff@ACME", PASSWORD)
    refused(await client.get(f"/logistics/discrepancies/{short_id}/resolve", headers={"hx-request": "true"}), 404)
    assert "箱内少两件" not in (await client.get("/logistics/discrepancies?status=", headers=ROWS)).text
