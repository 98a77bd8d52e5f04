"""【看板】's pages: the managers' landing page at `/`, the live region, the org filter inside the
subtree, and the TV mode opened with a 看板屏 device's token (not a queue TV's, not a revoked
one); what a board device's socket hears."""

from __future__ import annotations

import re

import realtime
from server.queue.services import devices
from tests.api_helpers import call, error_of
from tests.conftest import api_login, page_login
from tests.dashboard.helpers import board_world
from tests.system.helpers import PASSWORD


def figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', html).group(1)


async def test_managers_land_on_the_board(client, tenant, admin):
    w = await board_world(tenant, client, admin)
    await page_login(client, "admin@ACME")
    home = await client.get("/", follow_redirects=False)
    assert home.status_code == 200 and 'id="board"' in home.text and "看板 · 艾克米维修总部" in home.text
    assert figure(home.text, "today_intake") == "8" and figure(home.text, "overdue") == "1"
    assert f'href="/workorders?sla=red&sort=urgency&org_id={tenant.org_id}"' in home.text
    assert "欢迎" in (await client.get("/?home=1")).text  # the plain home page stays reachable
    region = await client.get("/dashboard/board", headers={"hx-request": "true"})
    assert "<html" not in region.text and figure(region.text, "completed_today") == "3"
    assert 'id="board-data"' in region.text and "<script>" not in region.text  # a JSON data block only
    narrowed = await client.get(f"/dashboard?org_id={w['b2']}")
    assert "看板 · B2网点" in narrowed.text and figure(narrowed.text, "today_intake") == "1"
    assert f'hx-get="/dashboard/board?org_id={w["b2"]}"' in narrowed.text
    assert (await client.get("/dashboard?org_id=999999")).status_code == 404
    assert (await client.get("/dashboard/board?org_id=abc")).status_code == 400


async def test_people_without_the_board_see_the_plain_home(client, tenant, admin):
    await board_world(tenant, client, admin)
    await page_login(client, "tech1@ACME", PASSWORD)
    home = await client.get("/", follow_redirects=False)
    assert home.status_code == 200 and "欢迎" in home.text and 'id="board"' not in home.text
    assert (await client.get("/dashboard", follow_redirects=False)).status_code in (302, 303, 403)


async def test_tv_mode_opens_with_a_board_device_token(client, tenant, other_tenant, admin):
    w = await board_world(tenant, client, admin)
    board = await devices.create(tenant, {"kind": "board", "name": "大厅看板"})
    assert board["path"].startswith("/dashboard/tv/dev_")
    tv = await client.get(board["path"])
    assert tv.status_code == 200 and 'class="db-tv"' in tv.text and "menu" not in tv.text
    assert f'ws-connect="/ws?token={board["token"]}"' in tv.text
    assert figure(tv.text, "today_intake") == "8" and figure(tv.text, "credit_low") == "1"
    region = await client.get(f"{board['path']}/board", headers={"hx-request": "true"})
    assert region.status_code == 200 and "<html" not in region.text
    # a queue TV's token is not a board's; a made-up or revoked one is refused with a notice
    queue_tv = await client.get(f"/dashboard/tv/{w['queue']['tv']['token']}")
    assert queue_tv.status_code == 403 and "这是叫号屏的链接" in queue_tv.text
    assert (await client.get("/dashboard/tv/dev_nothing")).status_code == 401
    await devices.revoke(tenant, board["id"])
    gone = await client.get(board["path"])
    assert gone.status_code == 401 and "此设备链接已失效" in gone.text
    # the device's token opens no API, and a board of another tenant shows that tenant's own board
    other = await devices.create(other_tenant, {"kind": "board", "name": "别家看板"})
    theirs = await client.get(other["path"])
    assert figure(theirs.text, "today_intake") == "0" and "艾克米" not in theirs.text
    device = {"Authorization": f"Bearer {other['token']}"}
    error_of(await client.get("/api/v1/dashboard", headers=device), 403, "device_forbidden")


async def test_a_board_device_hears_its_subtrees_topics():
    names = realtime.device_channels(1, 5, 9, "board")
    for topic in ("workorders", "queue", "stock", "credit", "shipments"):
        assert realtime.org_channel(1, 5, topic) in names
    assert realtime.org_channel(1, 5, "workorders") not in realtime.device_channels(1, 5, 9, "tv")


async def test_the_api_sections_follow_the_lists_permissions(client, tenant, admin):
    w = await board_world(tenant, client, admin)
    b2 = await api_login(client, "b2boss@ACME", PASSWORD)
    mine = await call(client, "GET", "/api/v1/dashboard", b2)
    assert mine["today_intake"] == 1 and mine["in_transit"] is None and mine["queue"] is None
    assert w["b2"] == mine["org_id"]
