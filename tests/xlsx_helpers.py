"""Helpers of the Excel safety tests: a gate that holds openpyxl's work where it runs, to show
that the event loop answers meanwhile."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import httpx
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How long a test waits for something that should happen at once; reached only when the code is
# broken (the loop is blocked), never a measure of speed.
HANG = 60


class Gate:
    """Replaces `owner.name` (a plain function or method that openpyxl work goes through) with
    one that notes whether it runs on an event loop's thread, then waits until `release()`."""

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.on_loop: list[bool] = []
        real = getattr(owner, name)

        def gated(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                self.on_loop.append(True)
            except RuntimeError:
                self.on_loop.append(False)
            self.entered.set()
            self.released.wait(HANG)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, gated)

    def release(self) -> None:
        self.released.set()


def healthz_while_held(client: AsyncTestClient, gate: Gate, method: str, url: str, **kwargs) -> httpx.Response:
    """Send `method url` and, while its openpyxl work is held at `gate`, GET /healthz: it must
    answer (the app's event loop is free) before the held request does. The held request's
    response, once released.

    AsyncTestClient blocks its caller for each request, so both go through a plain httpx client
    from threads, into the app's event loop (as `tests.api_helpers.concurrently` does)."""
    sync = httpx.Client(transport=TestClientTransport(client), base_url=str(client.base_url))
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(sync.request, method, url, **kwargs)
        try:
            assert gate.entered.wait(HANG), "the request never reached openpyxl"
            health = pool.submit(sync.get, "/healthz")
            wait([health], timeout=HANG)
            assert health.done(), "/healthz waited for openpyxl: the work runs on the event loop"
            assert health.result().status_code == 200
            assert not held.done()
        finally:
            gate.release()
        response = held.result(timeout=HANG)
    assert gate.on_loop == [False], gate.on_loop
    return response
