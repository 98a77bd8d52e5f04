"""A channels subscriber that writes to its WebSocket straight from the channels worker.

Litestar's default subscriber gives every socket a queue and a task of its own: with 1,000
sockets on a channel, one event costs 1,000 queue wake-ups and task switches besides the
writes, which measured (bench/ws_fanout.py, uvicorn) at more than half of the server's fan-out
CPU. This subscriber, once `attach`ed to a socket's send callback, runs that callback by hand
inside `put_nowait`: on uvicorn an ASGI send to a socket that can take the bytes completes
without suspending (the usual case), so the event is written at once, in the worker's loop over
the channel's subscribers (Python 3.12's eager tasks would do the same; we run on 3.11). Only a
send that suspends (transport paused: a slow client) gets a task, which finishes it and then
drains the socket's own backlog, in order, keeping the newest `max_backlog` signals as the
default subscriber does with "dropleft". A socket whose sends keep suspending (a slow client,
or granian, where every send awaits) is switched to the default queue-and-task delivery.
Every socket sees its events in publish order; a slow or broken socket never holds up the
others or the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from litestar.channels.subscriber import Subscriber

log = logging.getLogger("weifu.realtime")

Send = Callable[[bytes], Coroutine[Any, Any, None]]


async def _finish(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Run a coroutine whose first step (taken by hand) suspended to its end, as a Task would:
    wait for the future it yielded, resume it (the future's own `__await__` then hands the
    coroutine its result or raises its exception there), and so on."""
    try:
        while True:
            if yielded is None:  # a bare yield (sleep(0)): give the loop one turn
                await asyncio.sleep(0)
            elif asyncio.isfuture(yielded):
                yielded._asyncio_future_blocking = False  # as a Task does on taking the future over
                try:
                    await yielded
                except asyncio.CancelledError:
                    if not yielded.cancelled() or _being_cancelled():
                        raise  # this task is cancelled, not just the future the send waited for
                except Exception:
                    pass  # raised again inside the coroutine when it resumes
            else:
                yielded = coro.throw(RuntimeError(f"unexpected yield from a socket send: {yielded!r}"))
                continue
            yielded = coro.send(None)
    except StopIteration:
        return
    finally:
        coro.close()


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class SocketSubscriber(Subscriber):
    """Delivers in the channels worker once attached; queues like the default before that.

    A socket whose sends keep suspending (a slow client, or a server such as granian whose every
    send awaits) gains nothing from the direct path, so after a few such sends it switches for
    good to the default way: its own queue and task, with the same backlog limit."""

    SUSPENDED_SENDS_BEFORE_QUEUEING = 3

    def __init__(self, plugin: Any, max_backlog: int | None = None, backlog_strategy: Any = "dropleft") -> None:
        super().__init__(plugin, max_backlog=max_backlog, backlog_strategy=backlog_strategy)
        self._send: Send | None = None
        self._backlog: deque[bytes] = deque(maxlen=max_backlog or None)  # always "dropleft" once attached
        self._drainer: asyncio.Task | None = None
        self._suspended = 0
        self._queued = False
        self._broken = False

    def attach(self, send: Send) -> None:
        """From now on, events go to `send` (first those that arrived before, in order)."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                self._backlog.append(item)
        self._send = send
        if self._backlog:
            self._drainer = asyncio.create_task(self._drain())

    async def detach(self) -> None:
        self._send = None
        self._backlog.clear()
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
            self._drainer = None
        if self._queued:
            await self.stop()

    def put_nowait(self, item: bytes | None) -> bool:
        if self._send is None or item is None or self._queued:
            return super().put_nowait(item)
        if self._broken:
            return False
        if self._drainer is not None:  # a send is pending: keep the order, wait in line
            self._backlog.append(item)
            return True
        coro = self._send(item)
        try:
            yielded = coro.send(None)
        except StopIteration:
            return True
        except Exception as exc:  # the socket went away; its handler is about to unsubscribe
            self._fail(exc)
            return False
        self._suspended += 1
        self._drainer = asyncio.create_task(self._drain(coro, yielded))
        return True

    async def _drain(self, coro: Coroutine[Any, Any, None] | None = None, yielded: Any = None) -> None:
        try:
            if coro is not None:
                await _finish(coro, yielded)
            while self._backlog and self._send is not None:
                await self._send(self._backlog.popleft())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)
        finally:
            self._drainer = None
        if self._suspended >= self.SUSPENDED_SENDS_BEFORE_QUEUEING and self._send is not None and not self._broken:
            self._queued = True
            self._start_in_background(self._send_safely)

    async def _send_safely(self, item: bytes) -> None:
        if self._send is not None and not self._broken:
            try:
                await self._send(item)
            except Exception as exc:
                self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        self._broken = True
        self._backlog.clear()
        log.debug("live socket send failed: %r", exc)
