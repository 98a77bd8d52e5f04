"""Admission control: a bounded number of requests of this process in flight.

Past it, a request waits a short while for a place and is then refused with a 503 and
`Retry-After`: a burst larger than the machine can serve is shed in seconds instead of queued
for minutes (a 1,500-request burst on SQLite once had a median answer of 87 s). Health checks,
static files and sockets (long-lived by nature) are not counted.
"""

from __future__ import annotations

import asyncio

from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from server.core.web import unavailable

EXEMPT = ("/healthz", "/readyz", "/static/")


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, limit: int, wait: float) -> None:
        self.app = app
        self.limit = limit
        self.wait = wait
        self._places: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        """One per event loop (tests run one app on several loops; a server has one)."""
        loop = asyncio.get_running_loop()
        if self._places is None or self._places[0] is not loop:
            self._places = (loop, asyncio.Semaphore(self.limit))
        return self._places[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        places = self._semaphore()
        try:
            await asyncio.wait_for(places.acquire(), self.wait)
        except TimeoutError:
            request: Request = Request(scope, receive)
            response = unavailable(request, "当前访问人数过多，请稍后重试")
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            places.release()
