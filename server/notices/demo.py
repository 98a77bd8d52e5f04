"""The demo against the fake SMS gateway (`WEIFU_FAKE_SMS=1 make run`): the demo tenant's SMS
notices go to the fake on 127.0.0.1:8025 (`python -m server fake-sms`); what it took is at
http://127.0.0.1:8025/fake/messages."""

from __future__ import annotations

import os

from server.core.tenancy import Ctx
from server.notices import services

PORT = int(os.environ.get("WEIFU_FAKE_SMS_PORT") or 8025)


def wanted() -> bool:
    return os.environ.get("WEIFU_FAKE_SMS") == "1"


async def configure(ctx: Ctx) -> None:
    url = f"http://127.0.0.1:{PORT}"
    await services.put_settings(ctx, {"sms_enabled": True, "sms_url": f"{url}/sms"})
    print(f"demo tenant: SMS notices go to the fake gateway on {url} (received: {url}/fake/messages)")
