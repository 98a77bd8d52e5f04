"""Helpers of the queue tests: an org's queue set up over HTTP (services A 维修 / B 取机 and two
counters), a kiosk and a TV device with their bearer headers."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.api_helpers import call

Q = "/api/v1/queue"


async def queue_world(client: AsyncTestClient, headers: dict, org_id: int | None = None) -> dict:
    """Services A (维修) and B (取机); counter 1 serves A and B, counter 2 serves A only; a kiosk
    and a TV of the org, each with `{"Authorization": "Bearer <device token>"}` headers."""
    org = {"org_id": org_id} if org_id else {}
    a = await call(client, "POST", f"{Q}/services", headers, {"name": "维修", "prefix": "A", **org}, 201)
    b = await call(
        client, "POST", f"{Q}/services", headers, {"name": "取机", "prefix": "B", "sort_order": 1, **org}, 201
    )
    c1 = await call(
        client, "POST", f"{Q}/counters", headers, {"number": 1, "service_ids": [a["id"], b["id"]], **org}, 201
    )
    c2 = await call(client, "POST", f"{Q}/counters", headers, {"number": 2, "service_ids": [a["id"]], **org}, 201)
    kiosk = await call(client, "POST", f"{Q}/devices", headers, {"kind": "kiosk", "name": "门口取号机", **org}, 201)
    tv = await call(client, "POST", f"{Q}/devices", headers, {"kind": "tv", "name": "大厅电视", **org}, 201)
    return {
        "a": a,
        "b": b,
        "c1": c1,
        "c2": c2,
        "kiosk": kiosk,
        "tv": tv,
        "kiosk_auth": {"Authorization": f"Bearer {kiosk['token']}"},
        "tv_auth": {"Authorization": f"Bearer {tv['token']}"},
    }


async def take(client: AsyncTestClient, headers: dict, service_id: int, phone: str = "", status: int = 201) -> dict:
    return await call(client, "POST", f"{Q}/tickets", headers, {"service_id": service_id, "phone": phone}, status)


async def call_next(client: AsyncTestClient, headers: dict, counter_id: int, status: int = 200) -> dict:
    return await call(client, "POST", f"{Q}/counters/{counter_id}/call-next", headers, None, status)


async def act(client: AsyncTestClient, headers: dict, ticket_id: int, action: str, status: int = 200) -> dict:
    """One of the ticket actions: recall, skip, start, finish."""
    return await call(client, "POST", f"{Q}/tickets/{ticket_id}/{action}", headers, None, status)


async def queue_state() -> dict[str, list[dict]]:
    """Every row of the queue tables (a device's last_seen_at aside: any use of its token moves it),
    to prove that a refused request changed nothing."""
    from server.queue.tables import QueueCounter, QueueCounterService, QueueDevice, QueueService, QueueTicket

    state = {}
    for table in (QueueService, QueueCounter, QueueCounterService, QueueDevice, QueueTicket):
        rows = await table.select().order_by(table.id)
        state[table._meta.tablename] = [{k: v for k, v in r.items() if k != "last_seen_at"} for r in rows]
    return state


QUEUE_ALL = [
    "queue.counter.view",
    "queue.counter.call",
    "queue.counter.take",
    "queue.stats.view",
    "queue.stats.export",
    "queue.settings.view",
    "queue.settings.update",
    "queue.settings.device",
]
