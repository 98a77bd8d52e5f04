"""Helpers of the GSX tests: configure a tenant against the fake, link the admin, an order."""

from __future__ import annotations

import uuid

from tests.workorders.helpers import intake_body

IN_WARRANTY, OUT_OF_WARRANTY, STOP = "C02XK0AAJG5H", "F2LXK1ABHG7F", "STOPSERIAL01"


async def configure(client, headers: dict, fake, **fields) -> dict:
    response = await client.put("/api/v1/gsx/settings", json=fake.settings_body(**fields), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def activation() -> str:
    return f"ACT-{uuid.uuid4().hex[:12]}"


async def link(client, headers: dict, apple_id: str = "tech@example.com") -> dict:
    response = await client.post(
        "/api/v1/gsx/link", json={"apple_id": apple_id, "activation_token": activation()}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def order(ctx, w: dict, serial: str = IN_WARRANTY, phone: str = "13800001234") -> dict:
    """An order taken in for `serial` in the work-order world `w` (the `world` fixture)."""
    from server.workorders.services import orders

    return await orders.intake(ctx, intake_body(w, phone=phone, serial_no=serial))
