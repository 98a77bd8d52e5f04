"""The fake GSX (server/gsx/fake.py) as a subprocess over mutual TLS, one per test worker, with
a CA and certificates made at test time; its state is reset before each test, and so is this
process's circuit breaker."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.gsx import wire
from server.settings import ROOT
from tests.conftest import free_port


class FakeGsx:
    def __init__(self, certs: Path, port: int) -> None:
        self.certs = certs
        self.port = port
        self.url = f"https://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def pem(self, name: str) -> str:
        return (self.certs / name).read_text()

    def control(self, path: str, body: dict | None = None) -> dict:
        context = ssl.create_default_context(cafile=str(self.certs / "ca.crt"))
        context.load_cert_chain(str(self.certs / "client.crt"), str(self.certs / "client.key"))
        with httpx.Client(verify=context) as c:
            response = c.post(f"{self.url}{path}", json=body or {}) if path != "/fake/state" else c.get(self.url + path)
            response.raise_for_status()
            return response.json()

    def settings_body(self, **fields) -> dict:
        return {
            "environment": "uat",
            "base_url": self.url,
            "auth_url": self.url,
            "sold_to": "0000123456",
            "ship_to": "0000123457",
            "certificate_pem": self.pem("client.crt"),
            "key_pem": self.pem("client.key"),
            "server_ca_pem": self.pem("ca.crt"),
            "enabled": True,
        } | fields


@pytest.fixture(scope="session")
def fake_gsx_server(tmp_path_factory):
    from server.gsx.fake import make_certificates

    certs = tmp_path_factory.mktemp("fake-gsx")
    make_certificates(certs)
    fake = FakeGsx(certs, free_port())
    fake.process = subprocess.Popen(
        [sys.executable, "-m", "server", "fake-gsx", "--port", str(fake.port), "--certs", str(certs)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", fake.port), 0.5).close()
            break
        except OSError:
            if fake.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("fake GSX did not start: " + (fake.process.stderr.read() or b"").decode()) from None
            time.sleep(0.1)
    yield fake
    fake.process.terminate()
    fake.process.wait(10)


@pytest.fixture
def fake_gsx(fake_gsx_server, monkeypatch) -> FakeGsx:
    fake_gsx_server.control("/fake/reset")
    wire.BREAKER.reset()
    monkeypatch.setattr(wire, "BACKOFF", (0.01, 0.01))  # the retries, without the waits
    return fake_gsx_server


@pytest.fixture
async def world(tenant) -> dict:
    """The work-order world of ACME (an intake phone and its category, codes, warehouses)."""
    from tests.workorders.helpers import wo_world

    return await wo_world(tenant, stock=0)
