"""Another tenant's and another branch's work orders and customers do not exist for the caller:
every endpoint answers 404 and changes nothing; the lists leave them out. Bad input is a 400
with a Chinese message, never a 500."""

from __future__ import annotations

from server.core import permissions
from server.workorders.services import orders
from tests.api_helpers import CJK, call, error_of
from tests.conftest import api_login
from tests.masterdata.helpers import basics
from tests.system.helpers import service_org, service_user, user_with
from tests.workorders.helpers import URL

ALL = sorted(c for c in permissions.all_codes() if c.startswith("workorders."))


def endpoints(order_id: int, customer_id: int) -> list[tuple[str, str, dict | None]]:
    o = f"{URL}/{order_id}"
    return [
        ("GET", o, None),
        ("PATCH", o, {"remark": "改"}),
        ("GET", f"{o}/history", None),
        ("POST", f"{o}/assign", {"technician_id": None}),
        ("POST", f"{o}/start-repair", {"final_service_type": "in_warranty"}),
        ("POST", f"{o}/lines", {"repair_code_id": 1}),
        ("PATCH", f"{o}/lines/1", {"qty": 2}),
        ("DELETE", f"{o}/lines/1", None),
        ("POST", f"{o}/complete", {"repair_result": "repaired"}),
        ("POST", f"{o}/close", {"closing_method": "onsite"}),
        ("POST", f"{o}/cancel", {"reason": "别人的"}),
        ("POST", f"{o}/send", {"carrier": "顺丰", "tracking_no": "SF1"}),
        ("POST", f"{o}/return", {"carrier": "顺丰", "tracking_no": "SF1"}),
        ("GET", f"/api/v1/customers/{customer_id}", None),
        ("PATCH", f"/api/v1/customers/{customer_id}", {"name": "改名"}),
    ]


async def test_other_tenants_and_other_branches_orders_are_not_found(client, tenant, other_tenant, admin):
    b1 = await service_org(tenant, "B1", tenant.org_id, level=2)
    b2 = await service_org(tenant, "B2", tenant.org_id, level=2)
    clerk = await service_user(tenant, "clerk2", b2["id"], "branch", ALL)
    cats = await basics(tenant)
    order = await orders.intake(
        clerk,
        {
            "customer": {"name": "李四", "phone": "13900000009"},
            "category_id": cats["iphone15"],
            "serial_no": "SNX",
            "service_type": "in_warranty",
        },
    )
    _, b1_headers = await user_with(client, admin, "clerk1", b1["id"], "branch", ALL)
    other = await api_login(client, "admin@OTHER")

    for headers in (b1_headers, other):
        for method, url, body in endpoints(order["id"], order["customer_id"]):
            if "customers" in url and headers is b1_headers:
                continue  # customers are the tenant's, shared by its branches
            error_of(await client.request(method, url, json=body, headers=headers), 404, "not_found")
        assert (await call(client, "GET", f"{URL}?serial_no=SNX", headers))["total"] == 0
        assert (await call(client, "GET", "/api/v1/devices/SNX", headers))["items"] == []
        assert await call(
            client, "GET", f"{URL}?org_id={b2['id']}", other if headers is other else b1_headers, status=404
        )
    assert (await call(client, "GET", "/api/v1/customers?phone=13900000009", other))["total"] == 0

    # nothing changed, and the head office (above both) sees it
    seen = await call(client, "GET", f"{URL}/{order['id']}", admin)
    assert seen["status"] == "accepted" and seen["remark"] == "" and seen["customer"]["name"] == "李四"
    assert (await call(client, "GET", f"{URL}?org_id={b2['id']}", admin))["total"] == 1
    assert (await call(client, "GET", f"{URL}?org_id={b1['id']}", admin))["total"] == 0


async def test_bad_input_is_a_400_never_a_500(client, tenant, admin):
    cats = await basics(tenant)
    body = {
        "customer": {"name": "王五", "phone": "13700000000"},
        "category_id": cats["iphone15"],
        "service_type": "in_warranty",
    }
    order = await call(client, "POST", URL, admin, body, status=201)
    o = f"{URL}/{order['id']}"
    bad = [
        ("POST", URL, {"customer": "x"}),
        ("POST", URL, {"customer_id": 0, "category_id": -1}),
        ("POST", URL, {"customer_id": 2**40}),
        ("POST", URL, body | {"issued_lines": [{"warehouse_id": 1, "goods_id": 1, "qty": -5}]}),
        ("POST", URL, body | {"promised_at": "昨天"}),
        ("POST", URL, body | {"customer": {"name": "a\x01", "phone": "1" * 30}}),
        ("PATCH", o, {"goods_id": "abc"}),
        ("POST", f"{o}/start-repair", {"final_service_type": "", "fault_reason_ids": ["x"]}),
        ("POST", f"{o}/start-repair", {"final_service_type": "in_warranty", "fault_reason_ids": [0]}),
        ("POST", f"{o}/close", {"closing_method": "onsite", "amount_received": "1e999"}),
        ("GET", f"{URL}?status=nope", None),
        ("GET", f"{URL}?sla=blue", None),
        ("GET", f"{URL}?date_from=2026-13-45", None),
        ("GET", f"{URL}?sort=sideways", None),
        ("GET", f"{URL}?technician_id=abc", None),
        ("PATCH", "/api/v1/work-order-settings", {"repeat_days": 0}),
    ]
    for method, url, payload in bad:
        response = await client.request(method, url, json=payload, headers=admin)
        assert response.status_code in (400, 404, 409), (method, url, response.status_code, response.text)
        assert CJK.search(response.json()["detail"]), response.text
    assert (await call(client, "GET", o, admin))["status"] == "accepted"
