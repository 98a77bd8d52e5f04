"""The demo against the fake GSX (`WEIFU_FAKE_GSX=1 make run`): the demo tenant's 【GSX 对接】
points at the fake on 127.0.0.1:8443 with a partner certificate of the fake's test CA, made in
var/fake-gsx (the fake uses the same directory). Linking needs an activation token: any
`ACT-…` the fake has not seen. Known serials: server.gsx.fake.SERIALS."""

from __future__ import annotations

import os

from server.core.tenancy import Ctx
from server.gsx import services
from server.gsx.fake import make_certificates
from server.settings import VAR

CERTS = VAR / "fake-gsx"
PORT = int(os.environ.get("WEIFU_FAKE_GSX_PORT") or 8443)


def wanted() -> bool:
    return os.environ.get("WEIFU_FAKE_GSX") == "1"


async def configure(ctx: Ctx) -> None:
    if not (CERTS / "client.crt").exists():
        make_certificates(CERTS)
    url = f"https://127.0.0.1:{PORT}"
    await services.put_settings(
        ctx,
        {
            "environment": "uat",
            "base_url": url,
            "auth_url": url,
            "sold_to": "0000123456",
            "ship_to": "0000123457",
            "certificate_pem": (CERTS / "client.crt").read_text(),
            "key_pem": (CERTS / "client.key").read_text(),
            "server_ca_pem": (CERTS / "ca.crt").read_text(),
            "enabled": True,
        },
    )
    print(f"demo tenant: GSX points at the fake GSX on {url} (activation tokens: any ACT-…)")
