"""A fake SMS gateway (uvicorn in the test's loop) and the SMTP sink (`smtp_sink`, tests/conftest.py),
both on local ports: no notice test touches the network."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from server.core import jobs
from server.notices import fake
from tests.conftest import free_port


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(jobs, "BACKOFF", jobs.timedelta(0))


@pytest.fixture
async def fake_sms() -> AsyncIterator[str]:
    """The fake gateway's base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            fake.create_app(), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=0.2
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = server.force_exit = True  # a hanging request is not waited for
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def received(base: str) -> dict:
    async with httpx.AsyncClient() as c:
        return (await c.get(f"{base}/fake/messages")).json()


async def gateway_mode(base: str, mode: str, times: int = 0) -> None:
    async with httpx.AsyncClient() as c:
        await c.post(f"{base}/fake/mode", json={"mode": mode, "times": times})
