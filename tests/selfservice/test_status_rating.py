"""The customer's rating on the status page (issue 21): 1–5 once the order is closed, once per
order (a second is a 409 that says the stars given), with the status JSON's proof and throttle;
the staff's order shows it, and an order taken in from a queue ticket the kiosk did not get
rated gives the ticket the same rating, so 【排队统计】 counts it."""

from __future__ import annotations

import re

from server.queue.tables import QueueTicket
from server.workorders.services import orders
from tests.api_helpers import call, concurrently, error_of
from tests.queue.helpers import Q, queue_world, take
from tests.selfservice.test_status_page import STATUS, fresh_categories, take_in, token_of  # noqa: F401 (its autouse fixture)

CLOSE = {"closing_method": "onsite"}


async def closed(ctx, **fields) -> dict:
    """An order taken in, repaired and closed (free of charge)."""
    order = await take_in(ctx, **fields)
    await orders.start_repair(ctx, order["id"], {"final_service_type": "in_warranty"})
    await orders.complete(ctx, order["id"], {"repair_result": "repaired"})
    return await orders.close(ctx, order["id"], CLOSE)


async def rate(client, token: str, rating, digits: str = "5678", status: int = 200) -> dict:
    body = {"phone_last4": digits, "rating": rating}
    return await call(client, "POST", f"{STATUS}/{token}/rating", {}, body, status)


async def test_a_closed_order_is_rated_once_and_staff_see_it(tenant, client, admin):
    order = await take_in(tenant)
    token = token_of(order)
    early = await rate(client, token, 5, status=409)
    assert (early["code"], early["detail"]) == ("invalid_state", "维修结单后才能评价")
    await orders.start_repair(tenant, order["id"], {"final_service_type": "in_warranty"})
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    assert (await rate(client, token, 5, status=409))["code"] == "invalid_state"  # repaired is not closed
    await orders.close(tenant, order["id"], CLOSE)
    seen = await call(client, "GET", f"{STATUS}/{token}?phone_last4=5678", {})
    assert seen["rating"] is None and seen["status"] == "closed"
    for bad, code in ((0, "out_of_range"), (6, "out_of_range"), (-1, "out_of_range")):
        refused = await rate(client, token, bad, status=400)
        assert refused["code"] == code and refused["detail"] == "评分必须在 1–5 之间"
    error_of(await client.post(f"{STATUS}/{token}/rating", json={"phone_last4": "5678", "rating": "五"}), 400)
    error_of(await client.post(f"{STATUS}/{token}/rating", json={"phone_last4": "5678"}), 400)
    rated = await rate(client, token, 4)
    assert rated["rating"] == 4 and rated["no"] == order["no"]
    twice = await rate(client, token, 1, status=409)
    assert (twice["code"], twice["detail"]) == ("already_rated", "您已评价过（4 星），谢谢")
    staff = await call(client, "GET", f"/api/v1/work-orders/{order['id']}", admin)
    assert staff["rating"] == 4 and staff["rated_at"]
    assert (await call(client, "GET", f"{STATUS}/{token}?phone_last4=5678", {}))["rating"] == 4


async def test_ratings_at_once_keep_the_first(tenant, client):
    token = token_of(await closed(tenant))
    body = {"phone_last4": "5678"}
    answers = await concurrently(
        client, [("POST", f"{STATUS}/{token}/rating", {}, body | {"rating": n}) for n in (1, 2, 3, 4, 5)]
    )
    assert sorted(r.status_code for r in answers) == [200] + [409] * 4
    kept = next(r.json()["rating"] for r in answers if r.status_code == 200)
    assert (await call(client, "GET", f"{STATUS}/{token}?phone_last4=5678", {}))["rating"] == kept


async def test_wrong_digits_are_refused_and_counted_with_the_status_json(tenant, client):
    token = token_of(await closed(tenant))
    for _ in range(3):
        error_of(await client.post(f"{STATUS}/{token}/rating", json={"phone_last4": "0000", "rating": 5}), 403)
    for _ in range(2):
        error_of(await client.get(f"{STATUS}/{token}?phone_last4=0000"), 403, "wrong_phone_digits")
    # five wrong tries of the token in the hour, however they came: the right digits wait too
    error_of(await client.post(f"{STATUS}/{token}/rating", json={"phone_last4": "5678", "rating": 5}), 429, "throttled")
    error_of(await client.post(f"{STATUS}/{token}/rating", json={"phone_last4": "56a8", "rating": 5}), 400)
    assert (await orders.by_status_token(token)) and (await _rating_of(token)) is None


async def _rating_of(token: str):
    from server.workorders.tables import WorkOrder

    return (await WorkOrder.select(WorkOrder.rating).where(WorkOrder.status_token == token).first())["rating"]


async def test_another_orders_token_or_tenant_rates_nothing_of_this_order(tenant, other_tenant, client):
    a = await closed(tenant)
    b = await closed(tenant, phone="13900002222")
    foreign = await closed(other_tenant, phone="13700005678")
    error_of(await client.post(f"{STATUS}/{'x' * 22}/rating", json={"phone_last4": "5678", "rating": 5}), 404)
    error_of(await client.post(f"{STATUS}/{a['id']}/rating", json={"phone_last4": "5678", "rating": 5}), 404)
    error_of(await client.post(f"{STATUS}/{token_of(b)}/rating", json={"phone_last4": "5678", "rating": 5}), 403)
    rated = await rate(client, token_of(foreign), 2)
    assert rated["no"] == foreign["no"] and rated["company"] == "别家公司"
    assert await _rating_of(token_of(a)) is None and await _rating_of(token_of(b)) is None
    assert (await rate(client, token_of(a), 5))["rating"] == 5
    assert await _rating_of(token_of(foreign)) == 2


async def test_an_order_from_a_queue_ticket_rates_the_ticket_unless_the_kiosk_did(tenant, client, admin):
    w = await queue_world(client, admin)
    visit = await take(client, w["kiosk_auth"], w["a"]["id"], phone="13800005678")
    kiosk_rated = await take(client, w["kiosk_auth"], w["b"]["id"])
    await QueueTicket.update({QueueTicket.rating: 2}).where(QueueTicket.id == kiosk_rated["id"])
    from_visit = await closed(tenant, queue_ticket_id=visit["id"])
    from_rated = await closed(tenant, phone="13900002222", queue_ticket_id=kiosk_rated["id"])
    await rate(client, token_of(from_visit), 5)
    await rate(client, token_of(from_rated), 4, digits="2222")
    ratings = {r["id"]: r["rating"] for r in await QueueTicket.select(QueueTicket.id, QueueTicket.rating)}
    assert ratings == {visit["id"]: 5, kiosk_rated["id"]: 2}
    stats = await call(client, "GET", f"{Q}/stats", admin)
    assert (stats["totals"]["ratings"], stats["totals"]["avg_rating"]) == (2, 3.5)


def _csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


async def test_the_page_offers_stars_once_closed_then_shows_the_rating(tenant, client):
    order = await take_in(tenant)
    token = token_of(order)
    csrf = _csrf((await client.get(f"/s/{token}")).text)
    stranger = await client.post(f"/s/{token}/rating", data={"_csrf_token": csrf, "rating": "5"})
    assert stranger.status_code == 401 and "手机号后四位" in stranger.text
    proven = await client.post(f"/s/{token}", data={"_csrf_token": csrf, "phone_last4": "5678"}, follow_redirects=False)
    assert proven.status_code == 303
    page = await client.get(f"/s/{token}")
    assert 'id="ss-rate"' not in page.text and 'id="ss-rating"' not in page.text  # not closed yet
    early = await client.post(f"/s/{token}/rating", data={"_csrf_token": csrf, "rating": "5"})
    assert early.status_code == 409 and "维修结单后才能评价" in early.text
    await orders.start_repair(tenant, order["id"], {"final_service_type": "in_warranty"})
    await orders.complete(tenant, order["id"], {"repair_result": "repaired"})
    await orders.close(tenant, order["id"], CLOSE)
    progress = await client.get(f"/s/{token}/progress")  # what a live signal fetches: the stars come with it
    assert 'id="ss-rate"' in progress.text and progress.text.count('name="rating"') == 5
    bad = await client.post(f"/s/{token}/rating", data={"_csrf_token": csrf, "rating": "9"})
    assert bad.status_code == 400 and "评分必须在 1–5 之间" in bad.text
    done = await client.post(f"/s/{token}/rating", data={"_csrf_token": csrf, "rating": "4"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/s/{token}"
    page = await client.get(f"/s/{token}")
    assert "已评价 4 星" in page.text and 'id="ss-rate"' not in page.text
    again = await client.post(f"/s/{token}/rating", data={"_csrf_token": csrf, "rating": "1"})
    assert again.status_code == 409 and "已评价 4 星" in again.text and "您已评价过（4 星）" in again.text
    assert await _rating_of(token) == 4
