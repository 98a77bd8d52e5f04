"""【工单受理】 page: opened from the queue counter with the phone filled, a known phone fills the
customer, the serial shows the device history with the repeat flag, saving goes through the
service and opens the printable receipt."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from server.workorders import permissions as P
from server.workorders.services import orders, settings
from server.workorders.tables import WorkOrder
from tests.conftest import page_login
from tests.inventory.helpers import inbound, on_hand
from tests.system.helpers import PASSWORD, service_org, service_user
from tests.workorders.helpers import intake_body, repairing, wo_world


async def test_intake_form_lookup_save_and_receipt(client, tenant, admin):
    w = await wo_world(tenant)
    old = await orders.intake(tenant, intake_body(w, phone="13800001111"))
    await page_login(client, "admin@ACME")
    from tests.conftest import csrf

    page = await client.get("/workorders/intake?phone=13800001111")
    assert page.status_code == 200
    assert 'name="customer.phone" value="13800001111"' in page.text and 'value="张三"' in page.text
    assert 'id="intake-known"' in page.text
    # 是否领用货品 shows one goods row, and the template 【添加一行】 copies
    assert 'data-shows="#intake-issued"' in page.text and page.text.count('name="line_goods_id"') == 2

    part = await client.get("/workorders/intake/customer?customer.phone=13800001111", headers={"hx-request": "true"})
    assert 'value="张三"' in part.text and "<html" not in part.text
    unknown = await client.get("/workorders/intake/customer?customer.phone=13999999999", headers={"hx-request": "true"})
    assert 'name="customer.name" value=""' in unknown.text

    device = await client.get("/workorders/intake/device?serial_no=SN001", headers={"hx-request": "true"})
    assert old["no"] in device.text and 'id="intake-repeat"' not in device.text  # not closed yet

    form = {
        "customer.phone": "13800002222",
        "customer.name": "新客户",
        "customer.address": "",
        "customer.customer_type": "personal",
        "goods_id": str(w["phone"]),
        "category_id": "",
        "serial_no": "SN-NEW",
        "service_type": "in_warranty",
        "fault_description": "不开机",
        "appearance_items": ["划痕", "磕碰"],
        "appearance_text": "背面掉漆",
        "accessory_items": ["充电器"],
        "accessories_text": "",
        "issue_goods": "1",
        "line_warehouse_id": [str(w["general"]), "", str(w["general"])],
        "line_goods_id": [str(w["battery"]), "", str(w["screen"])],
        "line_qty": ["2", "", ""],
    }
    saved = await client.post("/workorders/intake", data=form, headers=csrf(client) | {"hx-request": "true"})
    assert saved.status_code == 200, saved.text
    target = saved.headers["hx-redirect"]
    order = await WorkOrder.select().where(WorkOrder.serial_no == "SN-NEW").first()
    assert target == f"/workorders/{order['id']}/receipt?from=intake"
    assert order["appearance"] == "划痕、磕碰；背面掉漆" and order["accessories"] == "充电器"
    full = await orders.get(tenant, order["id"])
    issued = [(ln["kind"], ln["goods_id"], ln["qty"]) for ln in full["lines"]]
    assert issued == [("issued", w["battery"], 2), ("issued", w["screen"], 1)]  # the empty row is skipped
    receipt = await client.get(target)
    assert receipt.status_code == 200 and order["no"] in receipt.text and "新客户" in receipt.text
    # the bar (screen only) leads on to the next intake and back to the order
    assert 'id="pr-continue" href="/workorders/intake">继续受理<' in receipt.text
    assert f'id="pr-back" href="/workorders/{order["id"]}">' in receipt.text

    bad = await client.post(
        "/workorders/intake",
        data=form | {"customer.name": "", "service_type": ""},
        headers=csrf(client) | {"hx-request": "true"},
    )
    assert bad.status_code == 400 and "请填写客户姓名" in bad.text
    assert "customer.name" in bad.headers.get("x-field-errors", "").replace("%2E", ".")

    # 是否领用货品 unticked: the rows (typed, then hidden again) are not taken
    unticked = {k: v for k, v in form.items() if k != "issue_goods"} | {"serial_no": "SN-NO-GOODS"}
    saved = await client.post("/workorders/intake", data=unticked, headers=csrf(client) | {"hx-request": "true"})
    assert saved.status_code == 200, saved.text
    order = await WorkOrder.select().where(WorkOrder.serial_no == "SN-NO-GOODS").first()
    assert (await orders.get(tenant, order["id"]))["lines"] == []
    # a refused goods row is marked in its own row on the page (the empty middle row counts)
    bad_rows = form | {"line_qty": ["2", "", "0"], "line_goods_id": ["999999", "", str(w["screen"])]}
    refused = await client.post("/workorders/intake", data=bad_rows, headers=csrf(client) | {"hx-request": "true"})
    assert refused.status_code == 400
    marked = {e["field"] for e in json.loads(unquote(refused.headers["x-field-errors"]))}
    assert marked == {"line_goods_id#0", "line_qty#2"}
    short = form | {"line_warehouse_id": [str(w["general"])], "line_goods_id": [], "line_qty": ["1"]}
    assert (await client.post("/workorders/intake", data=short, headers=csrf(client))).status_code == 400


async def test_intake_needs_the_intake_permission(client, tenant):
    await service_user(tenant, "clerk", tenant.org_id, "hq", ["queue.counter.view"])
    await service_user(tenant, "desk", tenant.org_id, "hq", [P.INTAKE_VIEW])
    await page_login(client, "clerk@ACME", PASSWORD)
    assert (await client.get("/workorders/intake")).status_code == 403
    client.cookies.clear()
    await page_login(client, "desk@ACME", PASSWORD)
    page = await client.get("/workorders/intake")
    assert page.status_code == 200 and re.search(r"保存并打印受理单", page.text)
    assert (await client.get("/workorders/intake?queue_ticket_id=99999999")).status_code == 404
    assert (await client.get("/workorders/intake?queue_ticket_id=abc")).status_code == 400


async def test_list_and_detail_pages(client, tenant, admin):
    w = await wo_world(tenant)
    closed = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    await orders.complete(tenant, closed["id"], {"repair_result": "repaired"})
    await orders.close(tenant, closed["id"], {"closing_method": "mail", "carrier": "顺丰", "tracking_no": "SF9"})
    fresh = await orders.intake(tenant, intake_body(w, phone="13811112222"))
    await page_login(client, "admin@ACME")
    page = await client.get("/workorders")
    assert page.status_code == 200 and re.findall(r'data-no="([^"]+)"', page.text) == [fresh["no"], closed["no"]]
    assert 'href="/workorders"' in page.text  # the menu links 【工单处理】
    rows = await client.get("/workorders?status=closed", headers={"hx-request": "true", "hx-target": "rows"})
    assert re.findall(r'data-no="([^"]+)"', rows.text) == [closed["no"]] and "<html" not in rows.text
    assert re.findall(r'data-no="([^"]+)"', (await client.get("/workorders?q=13811112222")).text) == [fresh["no"]]
    assert (await client.get("/workorders?status=nope")).status_code == 400

    detail = await client.get(f"/workorders/{closed['id']}")
    assert detail.status_code == 200 and "SF9" in detail.text and 'id="wo-total">200.0000' in detail.text
    assert detail.text.count("<li><strong>") == 4  # 受理 维修中 维修完毕 已结单
    # a closed order still names each line's warehouse (its forms, and their choices, are gone)
    assert 'data-label="仓库">W-GEN ' in detail.text and "仓库 #" not in detail.text
    assert fresh["no"] in detail.text  # the device's other order
    assert (await client.get("/workorders/999999")).status_code == 404


async def test_export_follows_the_filters(client, tenant, admin):
    from io import BytesIO

    from openpyxl import load_workbook

    w = await wo_world(tenant)
    done = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    await orders.complete(tenant, done["id"], {"repair_result": "repaired"})
    await orders.intake(tenant, intake_body(w, phone="13811112222"))
    response = await client.get("/api/v1/work-orders/export?status=repaired", headers=admin)
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "工单号" and [r[0] for r in rows[1:]] == [done["no"]]
    assert rows[1][13] == 200 and rows[1][10] == "已修复"
    await page_login(client, "admin@ACME")
    page = await client.get("/workorders/export?q=13811112222")
    assert page.status_code == 200 and len(list(load_workbook(BytesIO(page.content)).active.iter_rows())) == 2


async def test_the_detail_pages_forms_run_the_life_cycle(client, tenant, other_tenant, admin):
    w = await wo_world(tenant)
    order = await orders.intake(tenant, intake_body(w))
    await page_login(client, "admin@ACME")
    from tests.conftest import csrf

    url = f"/workorders/{order['id']}"
    hx = csrf(client) | {"hx-request": "true"}

    async def post(path: str, data: dict, status: int = 200):
        response = await client.post(f"{url}/{path}", data=data, headers=hx)
        assert response.status_code == status, response.text
        return response

    page = await client.get(url)
    assert (
        'id="wo-repair-form"' in page.text
        and 'id="wo-cancel-form"' in page.text
        and 'id="wo-line-form"' not in page.text
    )
    assert f'name="fault_reason_ids" value="{w["reason"]}"' in page.text and "故障IPADR" not in page.text
    await post(
        "start-repair",
        {
            "final_service_type": "in_warranty",
            "fault_reason_ids": [str(w["reason"])],
            "defective_warehouse_id": str(w["defective"]),
        },
    )
    page = await client.get(url)
    assert 'id="wo-line-form"' in page.text and "LCD 维修LCD（用料）" in page.text and "IPAD 维修IPAD" not in page.text
    refusal = await post(
        "lines", {"repair_code_id": str(w["lcd_code"]), "warehouse_id": "", "goods_id": "", "qty": "1"}, 400
    )
    assert "需要用料" in refusal.text
    await post(
        "lines",
        {
            "repair_code_id": str(w["lcd_code"]),
            "warehouse_id": str(w["general"]),
            "goods_id": str(w["screen"]),
            "qty": "2",
        },
    )
    await post("lines", {"repair_code_id": str(w["diag_code"]), "warehouse_id": "", "goods_id": "", "qty": "1"})
    line = next(ln for ln in (await orders.get(tenant, order["id"]))["lines"] if ln["repair_code_id"] == w["diag_code"])
    lines = (await orders.get(tenant, order["id"]))["lines"]
    screen = next(ln for ln in lines if ln["goods_id"] == w["screen"])
    page = await client.get(url)
    assert f'data-stock="{screen["id"]}">5<' in page.text and f'data-stock="{line["id"]}">—<' in page.text
    await inbound(tenant, w["general"], (w["screen"], 1, "100"))
    order_, timeline, stock = await orders.for_page(tenant, order["id"])
    assert stock == {screen["id"]: 6} and order_["lines"] == lines
    assert timeline == await orders.history(tenant, order["id"])
    deleted = await client.post(f"{url}/lines/{line['id']}/delete", headers=hx)
    assert deleted.status_code == 200 and deleted.headers["hx-redirect"] == url
    await post("complete", {"repair_result": "repaired"})
    assert await on_hand(tenant.org_id, w["defective"], w["screen"]) == 2
    page = await client.get(url)
    assert 'id="wo-close-form"' in page.text and 'id="wo-cancel-form"' not in page.text
    refusal = await post(
        "close",
        {"closing_method": "mail", "amount_received": "350", "carrier": "", "tracking_no": "", "payment_method": ""},
        400,
    )
    assert "请填写快递公司" in refusal.text
    early = await client.get(f"{url}/closing-receipt")
    assert early.status_code == 409 and "不能打印结单单" in early.text
    done = await post(
        "close",
        {
            "closing_method": "mail",
            "amount_received": "350.5",
            "carrier": "顺丰",
            "tracking_no": "SF1",
            "payment_method": "cash",
            "remark": "",
        },
    )
    assert done.headers["hx-redirect"] == f"{url}/closing-receipt"
    closed = await orders.get(tenant, order["id"])
    assert closed["status"] == "closed" and closed["amount_received"] == "350.5000"
    page = await client.get(url)
    assert "wo-close-form" not in page.text and "SF1" in page.text
    assert f'href="{url}/closing-receipt"' in page.text
    receipt = await client.get(f"{url}/closing-receipt")
    assert receipt.status_code == 200 and f'id="receipt-no">{closed["no"]}<' in receipt.text
    assert 'id="receipt-received">350.5000<' in receipt.text and "顺丰" in receipt.text and "SF1" in receipt.text
    assert closed["charges"]["total"] in receipt.text and "LCD 维修LCD" in receipt.text
    assert f'id="pr-back" href="{url}">‹ 返回工单<' in receipt.text and "继续受理" not in receipt.text
    assert (await client.post(f"{url}/cancel", data={"reason": "x"}, headers=hx)).status_code == 409
    client.cookies.clear()
    await page_login(client, "admin@OTHER")
    assert (await client.get(f"{url}/closing-receipt")).status_code == 404


async def test_my_repairs_lists_my_unfinished_orders_most_overdue_first(client, tenant):
    from datetime import timedelta

    w = await wo_world(tenant, stock=0)
    tech = await service_user(tenant, "tech", tenant.org_id, "hq", [P.VIEW, P.REPAIR, P.MINE])
    older = await orders.intake(tenant, intake_body(w, technician_id=tech.user_id))
    newer = await orders.intake(tenant, intake_body(w, technician_id=tech.user_id))
    await orders.intake(tenant, intake_body(w))  # not assigned
    gone = await orders.intake(tenant, intake_body(w, technician_id=tech.user_id))
    await orders.cancel(tenant, gone["id"], {"reason": "不修了"})
    await WorkOrder.update({WorkOrder.status_at: older["status_at"] - timedelta(hours=5)}).where(
        WorkOrder.id == older["id"]
    )
    await page_login(client, "tech@ACME", PASSWORD)
    page = await client.get("/workorders/mine")
    assert page.status_code == 200
    assert re.findall(r'data-no="([^"]+)"', page.text) == [older["no"], newer["no"]]
    assert 'href="/workorders/mine"' in page.text


async def test_settings_page_saves_the_limits_and_marks_every_bad_field(client, tenant, admin):
    from tests.conftest import csrf

    await page_login(client, "admin@ACME")
    assert 'href="/workorders/settings"' in (await client.get("/system/settings")).text
    page = await client.get("/workorders/settings")
    assert page.status_code == 200 and 'name="sla.accepted.green" type="number" min="1" value="60"' in page.text
    form = {"repeat_days": "15"} | {
        f"sla.{s}.{c}": str(v)
        for s, (g, y) in (("accepted", (10, 20)), ("repairing", (30, 40)), ("repaired", (50, 60)))
        for c, v in (("green", g), ("yellow", y))
    }
    ok = await client.post("/workorders/settings", data=form, headers=csrf(client) | {"hx-request": "true"})
    assert ok.status_code == 200, ok.text
    values = await settings.settings(tenant)
    assert values["repeat_days"] == 15 and values["sla"]["repairing"] == {"green": 30, "yellow": 40}

    bad = form | {
        "repeat_days": "abc",
        "sla.accepted.yellow": "10",
        "sla.repaired.green": "-1",
        "sla.repairing.green": "",
    }
    refused = await client.post("/workorders/settings", data=bad, headers=csrf(client) | {"hx-request": "true"})
    assert refused.status_code == 400
    fields = refused.headers.get("x-field-errors", "").replace("%2E", ".")
    for field in ("repeat_days", "sla.accepted.yellow", "sla.repaired.green", "sla.repairing.green"):
        assert field in fields
    assert "返修判定天数必须是整数" in refused.text and "黄色时限必须大于绿色时限" in refused.text
    assert (await settings.settings(tenant))["repeat_days"] == 15  # nothing half-saved


async def test_settings_page_needs_the_settings_permission(client, tenant):
    await service_user(tenant, "front", tenant.org_id, "hq", [P.INTAKE_VIEW])
    await page_login(client, "front@ACME", PASSWORD)
    assert (await client.get("/workorders/settings")).status_code == 403


async def test_the_edit_dialog_changes_the_intake_data_until_repaired(client, tenant, other_tenant, admin):
    w = await wo_world(tenant)
    order = await orders.intake(tenant, intake_body(w))
    await page_login(client, "admin@ACME")
    from tests.conftest import csrf

    url = f"/workorders/{order['id']}"
    hx = csrf(client) | {"hx-request": "true"}
    assert f'hx-get="{url}/edit"' in (await client.get(url)).text
    dialog = await client.get(f"{url}/edit", headers={"hx-request": "true"})
    assert dialog.status_code == 200 and 'id="wo-edit-form"' in dialog.text and 'value="SN001"' in dialog.text
    assert f'name="goods_id" value="{w["phone"]}"' in dialog.text
    form = {
        "customer.phone": "13800001234",
        "customer.name": "张三丰",
        "customer.address": "杭州市",
        "customer_type": "personal",
        "goods_id": str(w["phone"]),
        "service_type": "in_warranty",
        "serial_no": "SN002",
        "barcode": "IMEI9",
        "test_result": "",
        "promised_at": "2026-12-31T10:30",
        "fault_description": "不开机",
        "appearance": "划痕",
        "accessories": "充电器",
        "remark": "",
    }
    saved = await client.post(f"{url}/edit", data=form, headers=hx)
    assert saved.status_code == 200 and saved.headers["hx-redirect"] == url
    changed = await orders.get(tenant, order["id"])
    assert (changed["serial_no"], changed["barcode"], changed["fault_description"]) == ("SN002", "IMEI9", "不开机")
    assert changed["customer"]["name"] == "张三丰" and changed["customer"]["address"] == "杭州市"
    assert 'value="2026-12-31T10:30"' in (await client.get(f"{url}/edit")).text

    bad = await client.post(
        f"{url}/edit",
        data=form | {"customer.name": "", "service_type": "", "promised_at": "明天", "serial_no": "x" * 70},
        headers=hx,
    )
    assert bad.status_code == 400
    marked = {e["field"] for e in json.loads(unquote(bad.headers["x-field-errors"]))}
    assert marked == {"customer.name", "service_type", "promised_at", "serial_no"}
    assert (await orders.get(tenant, order["id"]))["serial_no"] == "SN002"

    await orders.start_repair(
        tenant,
        order["id"],
        {
            "final_service_type": "in_warranty",
            "fault_reason_ids": [w["reason"]],
            "defective_warehouse_id": w["defective"],
        },
    )
    dialog = await client.get(f"{url}/edit")
    assert 'name="goods_id"' not in dialog.text and "不能再更换产品" in dialog.text
    assert (await client.post(f"{url}/edit", data=form | {"serial_no": "SN003"}, headers=hx)).status_code == 200
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    assert 'id="wo-edit"' not in (await client.get(url)).text
    late = await client.post(f"{url}/edit", data=form | {"serial_no": "SN004"}, headers=hx)
    assert late.status_code == 409 and "修改受理信息" in late.text
    assert (await orders.get(tenant, order["id"]))["serial_no"] == "SN003"
    client.cookies.clear()
    await page_login(client, "admin@OTHER")
    hx = csrf(client) | {"hx-request": "true"}
    assert (await client.get(f"{url}/edit")).status_code == 404
    assert (await client.post(f"{url}/edit", data=form, headers=hx)).status_code == 404


async def test_a_repair_lines_quantity_is_edited_in_its_row(client, tenant, other_tenant, admin):
    w = await wo_world(tenant)
    order = await repairing(tenant, w, (w["lcd_code"], w["screen"], 1))
    line = order["lines"][0]
    await page_login(client, "admin@ACME")
    from tests.conftest import csrf

    url = f"/workorders/{order['id']}"
    hx = csrf(client) | {"hx-request": "true"}
    assert f'hx-post="{url}/lines/{line["id"]}"' in (await client.get(url)).text
    done = await client.post(f"{url}/lines/{line['id']}", data={"qty": "3"}, headers=hx)
    assert done.status_code == 200 and done.headers["hx-redirect"] == url
    assert (await orders.get(tenant, order["id"]))["lines"][0]["qty"] == 3
    for qty in ("0", "-2", "abc", ""):
        refused = await client.post(f"{url}/lines/{line['id']}", data={"qty": qty}, headers=hx)
        assert refused.status_code == 400 and "数量" in refused.text, qty
        assert "qty" in refused.headers.get("x-field-errors", "")
    assert (await orders.get(tenant, order["id"]))["lines"][0]["qty"] == 3
    assert (await client.post(f"{url}/lines/999999", data={"qty": "2"}, headers=hx)).status_code == 404
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    assert f'hx-post="{url}/lines/{line["id"]}"' not in (await client.get(url)).text
    assert (await client.post(f"{url}/lines/{line['id']}", data={"qty": "2"}, headers=hx)).status_code == 409
    client.cookies.clear()
    await page_login(client, "admin@OTHER")
    other = csrf(client) | {"hx-request": "true"}
    assert (await client.post(f"{url}/lines/{line['id']}", data={"qty": "2"}, headers=other)).status_code == 404


async def test_the_phone_repair_page_runs_the_repair_from_my_repairs(client, tenant, other_tenant):
    """【我的维修】 opens /workorders/{id}/repair: the key facts first, then 【直接维修】, the lines
    with their stock and 【维修完毕】, posting to the detail page's actions and coming back here."""
    w = await wo_world(tenant, stock=5)
    tech = await service_user(tenant, "tech", tenant.org_id, "hq", [P.VIEW, P.REPAIR, P.MINE])
    order = await orders.intake(tenant, intake_body(w, technician_id=tech.user_id))
    await page_login(client, "tech@ACME", PASSWORD)
    from tests.conftest import csrf

    url = f"/workorders/{order['id']}/repair"
    assert f'href="{url}"' in (await client.get("/workorders/mine")).text
    page = await client.get(url)
    assert page.status_code == 200
    text = page.text
    for fact in (order["no"], "张三", "iPhone 15", "SN001", "屏幕碎裂", 'id="wo-sla"', "受理"):
        assert fact in text, fact
    assert text.index('id="wo-status"') < text.index('id="wo-repair-form"')  # the facts come first
    assert 'data-live="workorders"' in text and "live:my_repairs" in text
    assert "受理信息" not in text and 'id="wo-line-form"' not in text  # no intake section; lines once repairing
    hx = csrf(client) | {"hx-request": "true", "hx-current-url": f"http://test{url}"}
    form = {"final_service_type": "in_warranty", "fault_reason_ids": [str(w["reason"])]}
    started = await client.post(
        f"/workorders/{order['id']}/start-repair",
        data=form | {"defective_warehouse_id": str(w["defective"])},
        headers=hx,
    )
    assert started.status_code == 200 and started.headers["hx-redirect"] == url
    line = {"repair_code_id": str(w["lcd_code"]), "warehouse_id": str(w["general"]), "goods_id": str(w["screen"])}
    added = await client.post(f"/workorders/{order['id']}/lines", data=line | {"qty": "2"}, headers=hx)
    assert added.headers["hx-redirect"] == url
    text = (await client.get(url)).text
    assert 'id="wo-line-form"' in text and 'id="wo-complete-form"' in text
    assert 'data-label="可用库存"' in text and ">5</td>" in text and "W-GEN" in text
    line_id = (await orders.get(tenant, order["id"]))["lines"][0]["id"]
    edited = await client.post(f"/workorders/{order['id']}/lines/{line_id}", data={"qty": "1"}, headers=hx)
    assert edited.headers["hx-redirect"] == url
    # the live region alone
    region = await client.get(url, headers={"hx-request": "true", "hx-target": "wo-repair-live"})
    assert "<html" not in region.text and 'id="wo-lines"' in region.text and 'id="wo-line-form"' not in region.text
    done = await client.post(f"/workorders/{order['id']}/complete", data={"repair_result": "repaired"}, headers=hx)
    assert done.headers["hx-redirect"] == url
    assert await on_hand(tenant.org_id, w["general"], w["screen"]) == 4
    text = (await client.get(url)).text
    assert "维修完毕" in text and 'id="wo-line-form"' not in text and 'id="wo-total"' in text
    # from the detail page the same actions go back to the detail page
    other = await orders.intake(tenant, intake_body(w, technician_id=tech.user_id))
    plain = csrf(client) | {"hx-request": "true", "hx-current-url": f"http://test/workorders/{other['id']}"}
    back = await client.post(f"/workorders/{other['id']}/start-repair", data=form, headers=plain)
    assert back.headers["hx-redirect"] == f"/workorders/{other['id']}"
    client.cookies.clear()
    await page_login(client, "admin@OTHER")
    assert (await client.get(url)).status_code == 404


async def test_the_repair_page_needs_the_repair_permission_and_the_subtree(client, tenant):
    w = await wo_world(tenant, stock=0)
    order = await orders.intake(tenant, intake_body(w))
    await service_user(tenant, "viewer", tenant.org_id, "hq", [P.VIEW, P.MINE])
    branch = await service_org(tenant, "B1", tenant.org_id, level=2)
    await service_user(tenant, "btech", branch["id"], "branch", [P.VIEW, P.REPAIR, P.MINE])
    await page_login(client, "viewer@ACME", PASSWORD)
    assert (await client.get(f"/workorders/{order['id']}/repair")).status_code == 403
    client.cookies.clear()
    await page_login(client, "btech@ACME", PASSWORD)
    assert (await client.get(f"/workorders/{order['id']}/repair")).status_code == 404


async def test_the_edit_dialog_changes_the_category_and_the_issued_goods(client, tenant, admin):
    w = await wo_world(tenant, stock=0)
    order = await orders.intake(
        tenant, intake_body(w, issued_lines=[{"warehouse_id": w["general"], "goods_id": w["battery"], "qty": 2}])
    )
    await page_login(client, "admin@ACME")
    from tests.conftest import csrf

    url = f"/workorders/{order['id']}"
    hx = csrf(client) | {"hx-request": "true"}
    dialog = (await client.get(f"{url}/edit", headers={"hx-request": "true"})).text
    assert 'id="edit-category"' in dialog and 'name="category_id"' in dialog
    assert f'name="line_goods_id" value="{w["battery"]}"' in dialog and "W-GEN" in dialog
    assert 'id="edit-issued-row"' in dialog
    form = {
        "customer.phone": "13800001234",
        "customer.name": "张三",
        "customer_type": "personal",
        "goods_id": "",
        "category_id": str(w["iphone15"]),
        "service_type": "in_warranty",
        "serial_no": "SN001",
        "line_warehouse_id": [str(w["general"]), "", str(w["general"])],
        "line_goods_id": [str(w["screen"]), "", str(w["battery"])],
        "line_qty": ["3", "", ""],
    }
    saved = await client.post(f"{url}/edit", data=form, headers=hx)
    assert saved.status_code == 200, saved.text
    after = await orders.get(tenant, order["id"])
    assert (after["goods_id"], after["category_id"]) == (None, w["iphone15"])
    assert [(ln["goods_id"], ln["qty"]) for ln in after["lines"]] == [(w["screen"], 3), (w["battery"], 1)]
    assert 'value="iPhone 15"' in (await client.get(f"{url}/edit")).text  # the category shown again
    # a bad row is marked on the page's row, nothing changes
    bad = await client.post(f"{url}/edit", data=form | {"line_qty": ["3", "", "0"], "serial_no": "SN9"}, headers=hx)
    assert bad.status_code == 400
    assert {e["field"] for e in json.loads(unquote(bad.headers["x-field-errors"]))} == {"line_qty#2"}
    assert (await orders.get(tenant, order["id"]))["serial_no"] == "SN001"
    # no rows: the order takes no goods
    cleared = form | {"line_warehouse_id": [], "line_goods_id": [], "line_qty": []}
    assert (await client.post(f"{url}/edit", data=cleared, headers=hx)).status_code == 200
    assert (await orders.get(tenant, order["id"]))["lines"] == []
