"""The GSX pages: hidden without configuration, the order's card and its failures in the card."""

from __future__ import annotations

from tests.conftest import csrf, page_login
from tests.gsx.helpers import configure, link, order


async def test_pages_hidden_without_configuration(client, admin, tenant, world):
    o = await order(tenant, world)
    await page_login(client, "admin@ACME")
    assert "关联 GSX" not in (await client.get("/?home=1")).text  # no menu link
    assert (await client.get(f"/workorders/{o['id']}/gsx", headers=csrf(client))).text == ""
    for url in ("/account/gsx", "/system/gsx/calls", "/gsx/news", "/gsx/repairs"):
        assert (await client.get(url)).status_code == 404, url
    settings = await client.get("/system/gsx")
    assert settings.status_code == 200 and "未上传" in settings.text
    for url in ("coverage", "check", "note"):
        assert (await client.post(f"/workorders/{o['id']}/gsx/{url}", headers=csrf(client))).status_code == 404
    assert (await client.post("/gsx/repairs/sync", headers=csrf(client))).status_code == 404


async def test_order_card_and_gsx_down_in_the_card(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    await page_login(client, "admin@ACME")
    menu = await client.get("/?home=1")  # every page's menu, drawn with the page (no request of its own)
    assert "关联 GSX" in menu.text and "GSX 公告" in menu.text
    card = await client.get(f"/workorders/{o['id']}/gsx", headers=csrf(client))
    assert "查询保修" in card.text and "创建 GSX 维修" in card.text
    covered = await client.post(f"/workorders/{o['id']}/gsx/coverage", headers=csrf(client))
    assert covered.status_code == 200 and "MacBook Pro" in covered.text
    fake_gsx.control("/fake/mode", {"mode": "down"})
    down = await client.post(f"/workorders/{o['id']}/gsx/coverage", headers=csrf(client))
    assert down.status_code == 200 and "GSX 服务出错" in down.text and "MacBook Pro" in down.text
    fake_gsx.control("/fake/mode", {"mode": "ok"})
    form = {"repair_type": "CIN", "component_code": "DISPLAY", "issue_code": "DS01", "parts": "661-12345, 661-99999"}
    checked = await client.post(f"/workorders/{o['id']}/gsx/check", data=form, headers=csrf(client))
    assert "符合 GSX 维修资格" in checked.text and "Display Assembly" in checked.text and "2399.0000" in checked.text
    assert "有货" in checked.text and 'class="gsx-part-unknown"' in checked.text and "GSX 查无此部件" in checked.text
    unknown = await client.post(f"/workorders/{o['id']}/gsx/repair", data=form, headers=csrf(client))
    assert "GSX 中查不到部件号 661-99999" in unknown.text and "gsx-repair-id" not in unknown.text
    created = await client.post(
        f"/workorders/{o['id']}/gsx/repair", data=form | {"parts": "661-12345"}, headers=csrf(client)
    )
    assert "维修已暂挂" in created.text and "我已知晓" in created.text
    noted = await client.post(f"/workorders/{o['id']}/gsx/note", data={"note": "已上传凭证"}, headers=csrf(client))
    assert "备注：已上传凭证" in noted.text
    listed = await client.get("/gsx/repairs")
    assert listed.status_code == 200 and o["no"] in listed.text and "维修已创建" in listed.text
    page = await client.get("/account/gsx")
    assert "已关联" in page.text and "tech@example.com" in page.text
    news = await client.get("/gsx/news")
    assert news.status_code == 200 and "GSX 系统维护通知" in news.text
    calls = await client.get("/system/gsx/calls")
    assert calls.status_code == 200 and "repair/create" in calls.text and "TOK-" not in calls.text


async def test_repair_form_suggests_the_apple_parts_of_the_order(client, admin, tenant, fake_gsx):
    from tests.inventory.helpers import inbound
    from tests.masterdata.helpers import make_goods
    from tests.workorders.helpers import repairing, wo_world

    await configure(client, admin, fake_gsx)
    w = await wo_world(tenant, stock=1)
    part = await make_goods(tenant, "661-12345", w["iphone15"], name="iPhone 15 屏幕总成（Apple）")
    await inbound(tenant, w["general"], (part["id"], 1, "900"))
    o = await repairing(tenant, w, (w["lcd_code"], part["id"], 1), (w["lcd_code"], w["screen"], 1))
    await page_login(client, "admin@ACME")
    card = await client.get(f"/workorders/{o['id']}/gsx", headers=csrf(client))
    assert 'value="661-12345"' in card.text  # the 通用 screen's code SCR is not an Apple part number


async def test_a_gsx_move_reloads_the_order_page_from_its_live_timeline(client, admin, tenant, world, fake_gsx):
    """The order page's timeline refresh (live) carries the status it shows: once a mapped GSX
    status moved the order (or anyone did), the answer is a full reload, so every card follows."""
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    await page_login(client, "admin@ACME")
    live = csrf(client) | {"HX-Request": "true", "HX-Target": "wo-timeline-card"}
    page = await client.get(f"/workorders/{o['id']}")
    assert f'hx-get="/workorders/{o["id"]}?shown=accepted"' in page.text
    same = await client.get(f"/workorders/{o['id']}?shown=accepted", headers=live)
    assert same.status_code == 200 and "HX-Refresh" not in same.headers and "wo-timeline" in same.text
    body = {"repair_type": "CIN", "issues": [{"component_code": "DISPLAY", "issue_code": "DS01"}]}
    g = (await client.post(f"/api/v1/work-orders/{o['id']}/gsx/repair", json=body, headers=admin)).json()
    fake_gsx.control("/fake/advance", {"repairId": g["repair_id"], "status": "INRP"})
    await client.post(f"/api/v1/work-orders/{o['id']}/gsx/refresh", headers=admin)
    moved = await client.get(f"/workorders/{o['id']}?shown=accepted", headers=live)
    assert moved.headers.get("HX-Refresh") == "true" and moved.text == ""


async def test_an_ineligible_repair_is_said_and_refused_in_the_card(client, admin, tenant, world, fake_gsx):
    from tests.gsx.helpers import STOP

    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world, STOP)
    await page_login(client, "admin@ACME")
    form = {"repair_type": "CIN", "component_code": "DISPLAY", "issue_code": "DS01", "parts": ""}
    checked = await client.post(f"/workorders/{o['id']}/gsx/check", data=form, headers=csrf(client))
    assert "不符合 GSX 维修资格：不能创建维修" in checked.text and "此设备已被报失" in checked.text
    assert "gsx-ineligible" in checked.text
    refused = await client.post(f"/workorders/{o['id']}/gsx/repair", data=form, headers=csrf(client))
    assert "GSX 判定此维修不符合资格，未创建：此设备已被报失，不能创建维修" in refused.text
    assert 'value="DISPLAY"' in refused.text and "gsx-repair-id" not in refused.text
