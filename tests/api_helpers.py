"""Helpers of the JSON API tests of every domain: calls that must succeed, the error shape, and
requests sent truly at once."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport

CJK = re.compile(r"[\u4e00-\u9fff]")


async def call(client: AsyncTestClient, method: str, url: str, headers: dict, body=None, status: int = 200):
    """A request that must answer `status`; its JSON."""
    response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code == status, f"{method} {url}: {response.status_code} {response.text}"
    return response.json()


def error_of(response, status: int, code: str | None = None, extra: tuple[str, ...] = ()) -> dict:
    """The API error shape: exactly {"detail", "code"} (and the `extra` fields an error may
    carry, such as an import's per-row `errors`), a Chinese detail, the status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail", "code", *extra}, body
    assert CJK.search(body["detail"]), body
    if code is not None:
        assert body["code"] == code, body
    return body


def htmx_refusal(response, status: int, text: str | None = None) -> str:
    """An htmx answer refusing an action: its status and a Chinese message as plain text (app.js
    shows it in the form or a toast), never a page or a 500."""
    assert response.status_code == status, (response.status_code, response.text)
    assert CJK.search(response.text) and "<html" not in response.text, response.text
    if text is not None:
        assert text in response.text, response.text
    return response.text


async def refused(
    client: AsyncTestClient, method: str, url: str, headers: dict, body=None, status: int = 400, code=None
) -> dict:
    return error_of(await client.request(method, url, json=body, headers=headers), status, code)


async def concurrently(client: AsyncTestClient, requests: list[tuple[str, str, dict, object]]) -> list:
    """Send (method, url, headers, json) requests all at once; their responses in order.

    AsyncTestClient hands each request to the app through a blocking portal call, so
    asyncio.gather over it runs them one after the other. A plain httpx.Client on the same kind
    of transport, one thread per request, puts them all in flight together in the app's event
    loop, as a real server would."""
    sync = httpx.Client(transport=TestClientTransport(client), base_url=str(client.base_url))
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(len(requests)) as pool:
        calls = [
            partial(sync.request, method, url, headers=headers, json=body) for method, url, headers, body in requests
        ]
        return list(await asyncio.gather(*(loop.run_in_executor(pool, call) for call in calls)))


class InFlight:
    """Counts the calls of a service function running at the same time (all in the app's event
    loop), so a concurrency test can prove that its requests really overlapped."""

    def __init__(self, monkeypatch, module, name: str) -> None:
        self.now = self.most = self.calls = 0
        real = getattr(module, name)

        async def counting(*args, **kwargs):
            self.calls += 1
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                return await real(*args, **kwargs)
            finally:
                self.now -= 1

        monkeypatch.setattr(module, name, counting)
