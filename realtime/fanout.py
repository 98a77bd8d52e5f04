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
or granian, where every send awaits) is switched to queue-and-task delivery.
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
    """Delivers in the channels worker once attached; keeps a backlog like the default before that.

    A socket whose sends keep suspending (a slow client, or a server such as granian whose every
    send awaits) gains nothing from the direct path, so after a few such sends it switches for
    good to queueing: every event waits in its backlog, written by its own task, with the same
    limit. Only the public side of Litestar's `Subscriber` is used (its constructor, and
    `put_nowait` called by the plugin for every event); its queue and task stay unused.

    `end(code, reason)` asks the socket's handler to close the socket (a kick, a resubscribe, the
    broker coming back): `realtime/ws.py` waits for it beside the socket's own receive."""

    SUSPENDED_SENDS_BEFORE_QUEUEING = 3

    def __init__(self, plugin: Any, max_backlog: int | None = None, backlog_strategy: Any = "dropleft") -> None:
        super().__init__(plugin, max_backlog=max_backlog, backlog_strategy=backlog_strategy)
        self._send: Send | None = None
        self._backlog: deque[bytes] = deque(maxlen=max_backlog or None)  # always "dropleft"
        self._drainer: asyncio.Task | None = None
        self._suspended = 0
        self._queued = False
        self._broken = False
        self._ending = asyncio.Event()
        self.ended: tuple[int, str] | None = None

    @property
    def queued(self) -> bool:
        """Switched to queue-and-task delivery (its sends kept suspending)."""
        return self._queued

    def attach(self, send: Send) -> None:
        """From now on, events go to `send` (first those that arrived before, in order)."""
        self._send = send
        self._kick()

    async def detach(self) -> None:
        self._send = None
        self._backlog.clear()
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
            self._drainer = None

    def end(self, code: int, reason: str) -> None:
        """Ask for the socket to be closed with `code` (the first request wins); nothing more is sent."""
        if self.ended is None:
            self.ended = (code, reason)
            self._ending.set()

    async def wait_ended(self) -> tuple[int, str]:
        await self._ending.wait()
        assert self.ended is not None
        return self.ended

    def put_nowait(self, item: bytes | None) -> bool:
        if item is None:  # Litestar's "stop" marker; the handler ends the socket itself
            return True
        if self._broken or self.ended is not None:
            return False
        if self._send is None or self._drainer is not None or self._queued:
            self._backlog.append(item)  # before attach, behind a pending send, or queued: wait in line
            self._kick()
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

    def _kick(self) -> None:
        """Start writing the backlog if it has something, a socket and no writer yet."""
        if self._backlog and self._send is not None and self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self, coro: Coroutine[Any, Any, None] | None = None, yielded: Any = None) -> None:
        try:
            if coro is not None:
                await _finish(coro, yielded)
            while self._backlog and self._send is not None and self.ended is None:
                await self._send(self._backlog.popleft())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)
        finally:
            self._drainer = None
        if self._suspended >= self.SUSPENDED_SENDS_BEFORE_QUEUEING:
            self._queued = True
        if not self._broken:
            self._kick()  # what arrived while the last send finished

    def _fail(self, exc: Exception) -> None:
        self._broken = True
        self._backlog.clear()
        log.debug("live socket send failed: %r", exc)
