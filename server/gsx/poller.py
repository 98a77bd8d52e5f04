"""The GSX status poller: a periodic task in each server process (the job layer has no periodic
jobs yet). Every round runs `services.poll_due`, whose per-repair claim (a conditional UPDATE)
makes sure that however many processes poll, one repair is asked about by one of them at a time;
a repair that failed waits longer each time (see the services module's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from server.gsx import services

ROUND = 60.0  # seconds between rounds; each repair is asked every services.POLL_EVERY at most
log = logging.getLogger("weifu")
_task: asyncio.Task | None = None


async def _loop() -> None:
    while True:
        await asyncio.sleep(ROUND)
        try:
            await services.poll_due()
        except Exception:  # a round that failed (database busy, restart) is simply the next one's
            log.exception("GSX status poll failed")


def start() -> None:
    global _task
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_loop(), name="gsx poller")


async def stop() -> None:
    global _task
    if _task is not None:
        _task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await _task
        _task = None
