"""【排队设置】 through its htmx endpoints: the org's services, counters and devices with their
dialog forms, every refusal as an inline Chinese message (never a 500), another tenant's or
another branch's ids as 404, the update/device permissions as 403, and the device dialog's URL
and QR code carrying a token that really works (and stops working when replaced or revoked)."""

from __future__ import annotations

import json
import re

import pytest

from server.queue import permissions as P
from server.queue.services import setup
from tests.api_helpers import CJK
from tests.conftest import csrf, page_login
from tests.system.helpers import PASSWORD, service_org, service_user

URL = "/queue/settings"
SECTION = {"hx-request": "true"}


def toast(response) -> dict:
    return json.loads(response.headers["hx-trigger"])["weifu:saved"]


def refused(response, status: int, text: str) -> None:
    """A refusal with its Chinese message: plain text for htmx (the form shows it), the error
    page for a whole page."""
    assert response.status_code == status, (response.status_code, response.text)
    assert CJK.search(response.text), response.text
    assert text in response.text, response.text
    if response.request.headers.get("hx-request"):
        assert "<html" not in response.text, response.text


async def post(client, url: str, data: dict | None = None):
    return await client.post(url, data=data or {}, headers=csrf(client))


async def section(client, name: str, org_id: int | None = None) -> str:
    """One region of the page as its live refresh asks for it."""
    query = f"?org_id={org_id}" if org_id else ""
    response = await client.get(f"{URL}{query}", headers=SECTION | {"hx-target": f"q-set-{name}"})
    assert response.status_code == 200, response.text
    assert "<html" not in response.text
    return response.text


def prefixes(html: str) -> list[str]:
    return re.findall(r'data-prefix="([A-Z])"', html)


async def login_as(client, login: str, password: str = PASSWORD) -> None:
    client.cookies.clear()
    await page_login(client, login, password)


@pytest.fixture
async def orgs(tenant) -> dict:
    """HQ → B2 with a settings user, and B2's sibling S2 with a service of its own."""
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    s2 = await service_org(tenant, "S2", tenant.org_id, level=2)
    perms = [P.SETTINGS_VIEW, P.SETTINGS_UPDATE, P.DEVICE]
    await service_user(tenant, "b2set", b2["id"], "branch", perms)
    s2_service = await setup.create_service(tenant, {"org_id": s2["id"], "name": "咨询", "prefix": "C"})
    return {"b2": b2["id"], "s2": s2["id"], "s2_service": s2_service["id"]}


async def test_services_add_edit_delete_and_refusals(client, tenant):
    await page_login(client, "admin@ACME")
    page = await client.get(URL)
    assert page.status_code == 200 and "排队设置" in page.text
    for text in ("新增业务类型", "新增窗口", "新增设备", 'id="q-set-org"', 'data-live="queue"'):
        assert text in page.text, text

    new = await client.get(f"{URL}/services/new", headers=SECTION)
    assert new.status_code == 200 and "<dialog" in new.text and f'name="org_id" value="{tenant.org_id}"' in new.text
    created = await post(
        client, f"{URL}/services", {"org_id": tenant.org_id, "name": "维修", "prefix": "a", "enabled": "1"}
    )
    assert created.status_code == 201, created.text
    assert toast(created) == {"message": "已新增业务类型 A 维修", "topic": "queue"}
    await post(client, f"{URL}/services", {"name": "取机", "prefix": "B", "sort_order": "1", "enabled": "1"})
    assert prefixes(await section(client, "services")) == ["A", "B"]

    # refusals, each with its message for the dialog's error box
    refused(await post(client, f"{URL}/services", {"name": "咨询", "prefix": "A"}), 409, "号码字母 A 已被")
    refused(await post(client, f"{URL}/services", {"name": "咨询", "prefix": "1"}), 400, "号码字母必须是一个英文字母")
    refused(await post(client, f"{URL}/services", {"name": "咨询", "prefix": "CD"}), 400, "号码字母")
    refused(await post(client, f"{URL}/services", {"name": "咨询", "prefix": ""}), 400, "号码字母")
    refused(await post(client, f"{URL}/services", {"name": "", "prefix": "C"}), 400, "业务名称")
    refused(await post(client, f"{URL}/services", {"name": "咨询", "prefix": "C", "sort_order": "x"}), 400, "排序")
    refused(await post(client, f"{URL}/services", {"name": "咨询", "prefix": "C", "org_id": "abc"}), 400, "机构")
    refused(
        await post(client, f"{URL}/services", {"name": "咨询", "prefix": "C", "org_id": "999999"}), 404, "机构不存在"
    )
    assert prefixes(await section(client, "services")) == ["A", "B"]

    a, b = await setup.services(tenant)
    edit = await client.get(f"{URL}/services/{b['id']}/edit", headers=SECTION)
    assert edit.status_code == 200 and 'value="取机"' in edit.text and "修改业务类型" in edit.text
    assert 'name="org_id"' not in edit.text
    refused(await post(client, f"{URL}/services/{b['id']}", {"name": "取机", "prefix": "A"}), 409, "已被")
    changed = await post(
        client, f"{URL}/services/{b['id']}", {"name": "取件", "prefix": "b", "enabled": "0", "sort_order": "0"}
    )
    assert changed.status_code == 200 and toast(changed)["message"] == "已修改业务类型 B 取件"
    listed = await section(client, "services")
    assert "取件" in listed and "暂停取号" in listed

    gone = await post(client, f"{URL}/services/{b['id']}/delete")
    assert gone.status_code == 200 and toast(gone)["message"] == "已删除业务类型 B 取件"
    assert prefixes(await section(client, "services")) == ["A"]
    refused(await post(client, f"{URL}/services/{b['id']}/delete"), 404, "业务类型不存在")
    refused(await client.get(f"{URL}/services/{b['id']}/edit", headers=SECTION), 404, "业务类型不存在")
    # the letter of a deleted service is free again
    again = await post(client, f"{URL}/services", {"name": "取机", "prefix": "B"})
    assert again.status_code == 201, again.text

    # a service someone is waiting for cannot be deleted
    kiosk = await post(client, f"{URL}/devices", {"kind": "kiosk", "name": "取号机"})
    token = re.search(r"/queue/kiosk/(dev_[\w-]+)", kiosk.text).group(1)
    taken = await client.post(
        "/api/v1/queue/tickets", json={"service_id": a["id"]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert taken.status_code == 201, taken.text
    refused(await post(client, f"{URL}/services/{a['id']}/delete"), 409, "还有 1 位顾客在排队")


async def test_counters_with_their_services_and_refusals(client, tenant, orgs):
    a = await setup.create_service(tenant, {"name": "维修", "prefix": "A"})
    b = await setup.create_service(tenant, {"name": "取机", "prefix": "B", "sort_order": 1})
    await page_login(client, "admin@ACME")

    new = await client.get(f"{URL}/counters/new", headers=SECTION)
    assert new.status_code == 200 and "新增窗口" in new.text
    assert (
        f'name="service_ids" value="{a["id"]}"' in new.text
        and f'name="service_ids" value="{orgs["s2_service"]}"' not in new.text
    )
    body = {"org_id": tenant.org_id, "number": "1", "name": "快修", "enabled": "1"}
    created = await client.post(
        f"{URL}/counters", data=body | {"service_ids": [str(a["id"]), str(b["id"])]}, headers=csrf(client)
    )
    assert created.status_code == 201, created.text
    assert toast(created)["message"] == "已新增 1 号窗口（快修）"  # issue 15: a space before the number
    listed = await section(client, "counters")
    assert 'data-number="1"' in listed and "<b>A</b>维修" in listed and "<b>B</b>取机" in listed

    refused(await post(client, f"{URL}/counters", body), 409, "本机构已有 1 号窗口")
    refused(await post(client, f"{URL}/counters", body | {"number": ""}), 400, "窗口号")
    refused(await post(client, f"{URL}/counters", body | {"number": "0"}), 400, "窗口号必须在 1–999 之间")
    refused(await post(client, f"{URL}/counters", body | {"number": "二"}), 400, "窗口号必须是整数")
    refused(await post(client, f"{URL}/counters", body | {"number": "2", "name": "长" * 31}), 400, "窗口名称")
    # a service of another org (the sibling S2's) cannot be served here
    other = body | {"number": "2", "service_ids": str(orgs["s2_service"])}
    refused(await post(client, f"{URL}/counters", other), 400, "所选业务类型不属于该机构")
    refused(await post(client, f"{URL}/counters", body | {"number": "2", "service_ids": "x"}), 400, "业务类型")
    assert re.findall(r'data-number="(\d+)"', await section(client, "counters")) == ["1"]

    # no service chosen: saved, and the list says the counter cannot call
    bare = await post(client, f"{URL}/counters", {"number": "2"})
    assert bare.status_code == 201, bare.text
    assert "未设置业务，不能叫号" in await section(client, "counters")

    c1 = next(c for c in await setup.counters(tenant) if c["number"] == 1)
    edit = await client.get(f"{URL}/counters/{c1['id']}/edit", headers=SECTION)
    assert edit.status_code == 200 and 'value="快修"' in edit.text
    assert edit.text.count("checked") == 3  # A, B and 启用
    changed = await client.post(
        f"{URL}/counters/{c1['id']}",
        data={"number": "3", "name": "", "enabled": "1", "service_ids": [str(b["id"])]},
        headers=csrf(client),
    )
    assert changed.status_code == 200 and toast(changed)["message"] == "已修改 3 号窗口", changed.text
    assert (await setup.get_counter(tenant, c1["id"]))["service_ids"] == [b["id"]]
    refused(await post(client, f"{URL}/counters/{c1['id']}", {"number": "2"}), 409, "本机构已有 2 号窗口")
    # every box unchecked: the counter serves nothing (the form still posts the field)
    await post(client, f"{URL}/counters/{c1['id']}", {"number": "3", "enabled": "0"})
    assert (await setup.get_counter(tenant, c1["id"]))["service_ids"] == []

    gone = await post(client, f"{URL}/counters/{c1['id']}/delete")
    assert gone.status_code == 200 and toast(gone)["message"] == "已删除 3 号窗口"
    refused(await post(client, f"{URL}/counters/{c1['id']}"), 404, "窗口不存在")
    refused(await client.get(f"{URL}/counters/999999/edit", headers=SECTION), 404, "窗口不存在")


async def test_devices_show_a_working_link_and_qr_once(client, tenant):
    await setup.create_service(tenant, {"name": "维修", "prefix": "A"})
    await page_login(client, "admin@ACME")
    new = await client.get(f"{URL}/devices/new", headers=SECTION)
    assert new.status_code == 200 and "取号机" in new.text and "叫号屏" in new.text

    created = await post(client, f"{URL}/devices", {"org_id": tenant.org_id, "kind": "tv", "name": "大厅电视"})
    assert created.status_code == 201, created.text
    # the answer replaces the form dialog in #modal, whatever the form asked htmx to do
    assert created.headers["hx-retarget"] == "#modal" and created.headers["hx-reswap"] == "innerHTML"
    assert toast(created) == {"message": "已新增叫号屏 大厅电视", "topic": "queue"}
    html = created.text
    assert "<dialog" in html and "<svg" in html and "链接只显示这一次" in html and "复制链接" in html
    url = re.search(r'id="q-set-url" readonly value="([^"]+)"', html).group(1)
    assert url.startswith(str(client.base_url).rstrip("/") + "/queue/tv/dev_")
    token = url.rsplit("/", 1)[1]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/queue/services", headers=bearer)).status_code == 200

    listed = await section(client, "devices")
    device_id = int(re.search(r'data-device="(\d+)"', listed).group(1))
    assert "大厅电视" in listed and "正常" in listed and "从未连接" not in listed  # the API call above was seen
    assert token not in listed  # shown once: never in the list

    regenerated = await post(client, f"{URL}/devices/{device_id}/regenerate")
    assert regenerated.status_code == 200 and "已重新生成链接" in regenerated.text and "<svg" in regenerated.text
    new_token = re.search(r"/queue/tv/(dev_[\w-]+)", regenerated.text).group(1)
    assert new_token != token
    assert (await client.get("/api/v1/queue/services", headers=bearer)).status_code == 401
    bearer = {"Authorization": f"Bearer {new_token}"}
    assert (await client.get("/api/v1/queue/services", headers=bearer)).status_code == 200

    revoked = await post(client, f"{URL}/devices/{device_id}/revoke")
    assert revoked.status_code == 200 and "已停用叫号屏 大厅电视" in toast(revoked)["message"]
    assert (await client.get("/api/v1/queue/services", headers=bearer)).status_code == 401
    listed = await section(client, "devices")
    assert "已停用" in listed and f"/queue/settings/devices/{device_id}/revoke" not in listed

    refused(await post(client, f"{URL}/devices", {"kind": "phone", "name": "x"}), 400, "设备类型无效")
    refused(await post(client, f"{URL}/devices", {"kind": "kiosk", "name": ""}), 400, "设备名称")
    refused(await post(client, f"{URL}/devices", {"kind": "kiosk", "name": "x", "org_id": "999999"}), 404, "机构不存在")

    gone = await post(client, f"{URL}/devices/{device_id}/delete")
    assert gone.status_code == 200 and "已删除" in toast(gone)["message"]
    assert "大厅电视" not in await section(client, "devices")
    refused(await post(client, f"{URL}/devices/{device_id}/regenerate"), 404, "设备不存在")


async def test_the_org_chooser_shows_that_orgs_settings(client, tenant, orgs):
    await setup.create_service(tenant, {"name": "维修", "prefix": "A"})
    await page_login(client, "admin@ACME")
    chosen = await client.get(f"{URL}?org_id={orgs['s2']}")
    assert chosen.status_code == 200 and 'value="S2网点"' in chosen.text
    assert prefixes(chosen.text) == ["C"] and f"/services/new?org_id={orgs['s2']}" in chosen.text
    body = await client.get(f"{URL}?org_id={orgs['s2']}", headers=SECTION | {"hx-target": "q-set-body"})
    assert body.status_code == 200 and "<html" not in body.text and 'id="q-set-org"' not in body.text
    assert prefixes(body.text) == ["C"] and "q-set-devices" in body.text
    assert prefixes(await section(client, "services")) == ["A"]  # no org: the caller's own
    new = await client.get(f"{URL}/counters/new?org_id={orgs['s2']}", headers=SECTION)
    assert f'name="service_ids" value="{orgs["s2_service"]}"' in new.text
    # a service added for S2 from the HQ belongs to S2
    added = await post(client, f"{URL}/services", {"org_id": orgs["s2"], "name": "维修", "prefix": "A"})
    assert added.status_code == 201, added.text
    assert prefixes(await section(client, "services", orgs["s2"])) == ["A", "C"]
    refused(await client.get(f"{URL}?org_id=abc"), 400, "机构")


async def test_other_tenant_and_other_branch_ids_are_404(client, tenant, other_tenant, orgs):
    foreign = await setup.create_service(other_tenant, {"name": "维修", "prefix": "A"})
    foreign_counter = await setup.create_counter(other_tenant, {"number": 1, "service_ids": [foreign["id"]]})
    s2_counter = await setup.create_counter(tenant, {"org_id": orgs["s2"], "number": 1})
    await page_login(client, "admin@ACME")
    refused(await client.get(f"{URL}?org_id={other_tenant.org_id}"), 404, "机构不存在")
    refused(await client.get(f"{URL}/services/{foreign['id']}/edit", headers=SECTION), 404, "业务类型不存在")
    refused(await post(client, f"{URL}/services/{foreign['id']}", {"name": "x", "prefix": "Z"}), 404, "业务类型不存在")
    refused(await post(client, f"{URL}/services/{foreign['id']}/delete"), 404, "业务类型不存在")
    refused(await post(client, f"{URL}/counters/{foreign_counter['id']}/delete"), 404, "窗口不存在")
    refused(
        await post(client, f"{URL}/services", {"org_id": other_tenant.org_id, "name": "x", "prefix": "Z"}), 404, "机构"
    )
    refused(await client.get(f"{URL}/devices/new?org_id={other_tenant.org_id}", headers=SECTION), 404, "机构")
    # a foreign service in one of our counters
    body = {"number": "5", "service_ids": str(foreign["id"])}
    refused(await post(client, f"{URL}/counters", body), 400, "所选业务类型不属于该机构")
    assert (await setup.get_service(other_tenant, foreign["id"]))["name"] == "维修"

    # the branch B2 sees its own subtree only: the sibling S2's service and counter are absent
    await login_as(client, "b2set@ACME")
    own = await client.get(URL)
    assert own.status_code == 200 and 'value="B2网点"' in own.text and "新增设备" in own.text
    refused(await client.get(f"{URL}?org_id={orgs['s2']}"), 404, "机构不存在")
    refused(await client.get(f"{URL}/services/{orgs['s2_service']}/edit", headers=SECTION), 404, "不存在")
    refused(await post(client, f"{URL}/services/{orgs['s2_service']}/delete"), 404, "不存在")
    refused(await post(client, f"{URL}/counters/{s2_counter['id']}", {"number": "9"}), 404, "不存在")
    refused(await post(client, f"{URL}/services", {"org_id": orgs["s2"], "name": "x", "prefix": "Z"}), 404, "机构")
    refused(await post(client, f"{URL}/devices", {"org_id": orgs["s2"], "kind": "tv", "name": "x"}), 404, "机构")
    mine = await post(client, f"{URL}/services", {"name": "维修", "prefix": "A"})
    assert mine.status_code == 201, mine.text
    assert [s["org_id"] for s in await setup.services(tenant, orgs["b2"])] == [orgs["b2"]]
    assert prefixes(await section(client, "services")) == ["A"]


async def test_view_only_and_no_device_permission_are_403(client, tenant):
    service = await setup.create_service(tenant, {"name": "维修", "prefix": "A"})
    await service_user(tenant, "viewer", tenant.org_id, "hq", [P.SETTINGS_VIEW])
    await service_user(tenant, "editor", tenant.org_id, "hq", [P.SETTINGS_VIEW, P.SETTINGS_UPDATE])
    await service_user(tenant, "outsider", tenant.org_id, "hq", [P.COUNTER_VIEW])

    await login_as(client, "viewer@ACME")
    page = await client.get(URL)
    assert page.status_code == 200 and 'data-prefix="A"' in page.text
    for text in ("新增业务类型", "新增窗口", "/edit", "新增设备", "q-set-devices"):
        assert text not in page.text.split('<main class="content">', 1)[1], text
    refused(await post(client, f"{URL}/services", {"name": "取机", "prefix": "B"}), 403, "没有权限")
    refused(await client.get(f"{URL}/services/new", headers=SECTION), 403, "没有权限")
    refused(await post(client, f"{URL}/services/{service['id']}/delete"), 403, "没有权限")
    refused(await post(client, f"{URL}/counters", {"number": "1"}), 403, "没有权限")

    await login_as(client, "editor@ACME")
    page = await client.get(URL)
    assert "新增业务类型" in page.text and "新增设备" not in page.text
    refused(await client.get(f"{URL}/devices/new", headers=SECTION), 403, "没有权限")
    refused(await post(client, f"{URL}/devices", {"kind": "tv", "name": "x"}), 403, "没有权限")
    refused(await post(client, f"{URL}/devices/1/revoke"), 403, "没有权限")
    assert (await post(client, f"{URL}/counters", {"number": "1"})).status_code == 201

    await login_as(client, "outsider@ACME")
    assert (await client.get(URL)).status_code == 403
    refused(await client.get(URL, headers=SECTION | {"hx-target": "q-set-services"}), 403, "没有权限")
