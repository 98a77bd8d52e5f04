"""The channels plugin: in-process memory backend, or Redis pub/sub shared by every app process,
kept alive through Redis outages.

Litestar's own plugin reads and publishes in two tasks that die on the first lost connection
(redis-py does not retry by default), never resubscribes a channel that already has
subscribers, and joins its publish queue at shutdown without a bound. Here one supervisor
(`LiveChannelsPlugin._supervise`) owns the broker connection:

- it connects (at startup when the broker answers, else in the background, retrying with
  backoff), subscribing in one go every channel that has a socket on it;
- when reading fails (the broker went away, or stopped answering the heartbeat ping) it tells
  every socket (`DOWN`: pages show 重新连接中…), refuses new subscriptions (`BackendUnavailable`:
  /ws closes those sockets with 1013, so they retry) and reconnects with backoff;
- once reconnected and resubscribed it ends every socket that lived through the outage
  (`SocketSubscriber.end(1012)`): htmx reconnects at once and each page and device fetches its
  state again, so nothing published while it was deaf is missed.

Publishing never drops an event quietly: a publish that fails is retried (after the broker is
back) in order; past `MAX_PENDING` waiting events the oldest are dropped, and a resync notice
goes to their channels once publishing works again. Shutdown drains for at most
`DRAIN_SECONDS`, then cancels both tasks: it ends in seconds whatever the broker's state.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Iterable
from contextlib import suppress
from typing import Any

import redis.exceptions
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.subscriber import Subscriber
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

import realtime
from realtime.fanout import SocketSubscriber

log = logging.getLogger("weifu.realtime")

CLOSE_RESYNC = 1012  # "service restart": htmx reconnects at once, the page re-fetches on open


class BackendUnavailable(Exception):
    """Live updates cannot subscribe now (their broker is down or reconnecting): try again later."""


def notice(kind: str, reconnect: bool = False) -> bytes:
    """A signal from the live machinery itself (topic `live`), not from a business event."""
    return realtime.Event(realtime.next_event_id(), "live", kind, reconnect=reconnect).render().encode()


# PUBLISH the same data to every channel, in one round trip (as Litestar's backend does).
_PUBLISH = """
for _, channel in ipairs(KEYS) do
    redis.call("PUBLISH", channel, ARGV[1])
end
"""


class _NoSilentReconnect(PubSub):
    """redis-py reconnects a pub/sub connection that dropped on its next command (any task's
    subscribe, unsubscribe or read) and subscribes again, and whatever was published in between
    is lost unseen. Here such a reconnect fails instead: the reader raises, and the supervisor
    makes every socket resync."""

    async def on_connect(self, connection: Any) -> None:  # called on reconnects only
        await connection.disconnect()
        raise redis.exceptions.ConnectionError("the pub/sub connection was lost meanwhile")


class PubSubBackend(ChannelsBackend):
    """Redis pub/sub over one connection that can be replaced when it is lost.

    redis-py's `PubSub` opens its connection on the first command: sockets subscribing at the
    same moment (every TV, kiosk and page reconnecting after a restart) would each open one and
    all but the last go unread. So the connection is made by `connect()`, which subscribes every
    channel in use before anything else may touch it; `subscribe` refuses while there is no
    connection (found by bench/queue.py; tests/realtime/test_scale_out.py keeps it fixed).
    `stream_events` raises when the connection is lost, or when it is silent for a heartbeat
    and then does not answer a PING (a half-open connection never says it is closed)."""

    HEARTBEAT = 5.0  # seconds of silence before asking Redis for a PONG

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pubsub: PubSub | None = None
        self._publish = redis.register_script(_PUBLISH)

    @property
    def connected(self) -> bool:
        return self._pubsub is not None

    async def on_startup(self) -> None:
        """Nothing: the plugin's supervisor connects (and reconnects)."""

    async def on_shutdown(self) -> None:
        await self.disconnect()
        await self._redis.aclose()

    async def connect(self, channels: Iterable[str]) -> None:
        """A new connection, subscribed to `channels`, replacing any previous one."""
        await self.disconnect()
        pubsub = _NoSilentReconnect(self._redis.connection_pool)
        try:
            await pubsub.connect()
            channels = sorted(set(channels))
            if channels:
                await pubsub.subscribe(*channels)
        except BaseException:
            await _close(pubsub)
            raise
        self._pubsub = pubsub

    async def disconnect(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await _close(pubsub)

    async def subscribe(self, channels: Iterable[str]) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            raise BackendUnavailable("not connected to Redis")
        await pubsub.subscribe(*channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        pubsub = self._pubsub
        if pubsub is not None:  # else nothing to undo: the next connection subscribes only what is in use
            await pubsub.unsubscribe(*channels)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await self._publish(keys=sorted(set(channels)), args=[data])

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        pubsub = self._pubsub
        if pubsub is None:
            raise BackendUnavailable("not connected to Redis")
        asked = False
        while True:
            message = await pubsub.get_message(timeout=self.HEARTBEAT)
            if message is None:
                if asked:
                    raise redis.exceptions.ConnectionError("Redis did not answer a PING")
                await pubsub.ping()
                asked = True
                continue
            asked = False  # anything at all (a message, a PONG, a subscribe reply) shows it is alive
            if message["type"] == "message":
                yield message["channel"].decode(), message["data"]

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError("Redis pub/sub keeps no history")


async def _close(pubsub: PubSub) -> None:
    with suppress(Exception):
        await asyncio.wait_for(pubsub.aclose(), 2)


class LiveChannelsPlugin(ChannelsPlugin):
    """Litestar's channels plugin with a supervised broker connection (see the module's doc)."""

    RETRY_MIN = 0.1  # seconds: reconnect and republish backoff, doubling up to RETRY_MAX
    RETRY_MAX = 1.0
    CONNECT_TIMEOUT = 5.0  # one connection attempt (startup waits for the first at most this long)
    PUBLISH_TIMEOUT = 5.0
    UNSUBSCRIBE_TIMEOUT = 2.0
    DRAIN_SECONDS = 3.0  # shutdown: how long pending events may take to publish
    CLOSE_SECONDS = 2.0  # shutdown: how long closing the backend may take
    MAX_PENDING = 1000  # events waiting to be published; beyond, the oldest are dropped (and resynced)

    def __init__(self, backend: ChannelsBackend, **kwargs: Any) -> None:
        super().__init__(backend, **kwargs)
        self._live = False
        self._up: asyncio.Event | None = None
        self._tried: asyncio.Event | None = None
        self._pending: asyncio.Queue[tuple[bytes, list[str]]] | None = None
        self._dropped: set[str] = set()  # channels of events dropped unpublished: they get a resync notice
        self._outage = False  # the broker was lost (or never reached) since the last connection
        self._of: dict[Subscriber, set[str]] = {}  # each subscriber's channels
        self._closed = False

    @property
    def live(self) -> bool:
        """Subscriptions are being read from the broker now."""
        return self._live

    # --- publishing --------------------------------------------------------------------------

    def publish(self, data: Any, channels: str | Iterable[str]) -> None:
        """Queue `data` for `channels`; it is published in order, retried while the broker is away."""
        channels = [channels] if isinstance(channels, str) else list(channels)
        if self._pending is None or self._closed:
            log.warning("live event after shutdown not published to %d channels", len(channels))
            return
        if self._pending.qsize() >= self.MAX_PENDING:
            _, old = self._pending.get_nowait()
            self._pending.task_done()
            if not self._dropped:
                log.warning("live events are piling up unpublished: dropping the oldest, their channels will resync")
            self._dropped.update(old)
        self._pending.put_nowait((self.encode_data(data), channels))

    async def _publisher(self) -> None:
        assert self._pending is not None
        while True:
            data, channels = await self._pending.get()
            try:
                await self._publish_surely(data, channels)
            finally:
                self._pending.task_done()

    async def _publish_surely(self, data: bytes, channels: list[str]) -> None:
        delay = self.RETRY_MIN
        failing = False
        while True:
            try:
                if self._dropped:  # sockets on these channels missed something: make them resync
                    dropped = sorted(self._dropped)
                    await asyncio.wait_for(
                        self._backend.publish(notice("resync", reconnect=True), dropped), self.PUBLISH_TIMEOUT
                    )
                    self._dropped.difference_update(dropped)
                await asyncio.wait_for(self._backend.publish(data, channels), self.PUBLISH_TIMEOUT)
                if failing:
                    log.warning("live events are published again")
                return
            except asyncio.CancelledError:
                raise
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
                if not failing:
                    log.warning("live event not published (%r): retrying once the broker answers", exc)
                failing = True
            except Exception:
                log.exception("live event not published: its channels will resync")
                self._dropped.update(channels)
                return
            assert self._up is not None
            if not self._live:
                await self._up.wait()
            await asyncio.sleep(delay * random.uniform(0.5, 1))
            delay = min(delay * 2, self.RETRY_MAX)

    # --- subscribing -------------------------------------------------------------------------

    async def subscribe(self, channels: str | Iterable[str], history: int | None = None) -> Subscriber:
        """A subscriber to `channels`; `BackendUnavailable` while the broker is away (no socket
        may sit on a subscription nobody reads)."""
        if history:
            raise ValueError("live channels keep no history")
        if not self._live:
            raise BackendUnavailable("live updates are reconnecting")
        channels = [channels] if isinstance(channels, str) else list(channels)
        if not self._arbitrary_channels_allowed and any(c not in self._channels for c in channels):
            raise ValueError(f"unknown channel among {channels!r}")
        subscriber = self._subscriber_class(
            plugin=self, max_backlog=self._max_backlog, backlog_strategy=self._backlog_strategy
        )
        self._of[subscriber] = set(channels)
        new = []
        for channel in channels:
            subscribers = self._channels.setdefault(channel, set())
            if not subscribers:
                new.append(channel)
            subscribers.add(subscriber)
        if new:
            try:
                await self._backend.subscribe(new)
            except Exception as exc:
                await self.unsubscribe(subscriber, channels)
                raise BackendUnavailable("live updates are reconnecting") from exc
        return subscriber

    async def unsubscribe(self, subscriber: Subscriber, channels: str | Iterable[str] | None = None) -> None:
        """Never raises for the broker's sake: a channel left subscribed on a dead connection
        is not subscribed again on the next one."""
        mine = self._of.get(subscriber, set())
        if channels is None:
            channels = list(mine)
        elif isinstance(channels, str):
            channels = [channels]
        emptied = []
        for channel in channels:
            subscribers = self._channels.get(channel)
            mine.discard(channel)
            if subscribers is None or subscriber not in subscribers:
                continue
            subscribers.discard(subscriber)
            if not subscribers:
                emptied.append(channel)
                if self._arbitrary_channels_allowed:
                    del self._channels[channel]  # channel names come and go (users, devices): no leak
        if not mine:  # (looked up per subscriber: after a resync every socket leaves at once)
            self._of.pop(subscriber, None)
            await subscriber.put(None)
            if subscriber.is_running:
                await subscriber.stop()
        if emptied and self._live:
            try:
                await asyncio.wait_for(self._backend.unsubscribe(emptied), self.UNSUBSCRIBE_TIMEOUT)
            except Exception as exc:
                log.debug("unsubscribe failed (%r): the reader will notice a lost connection", exc)

    def _subscribers(self) -> list[Subscriber]:
        return list(self._of)

    # --- the supervisor ----------------------------------------------------------------------

    async def _supervise(self) -> None:
        assert self._up is not None and self._tried is not None
        delay = self.RETRY_MIN
        while True:
            if not self._live:
                try:
                    await self._connect()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if delay == self.RETRY_MIN:
                        log.warning("live updates cannot reach their broker (%r): retrying", exc)
                    self._outage = True
                    self._tried.set()
                    await asyncio.sleep(delay * random.uniform(0.5, 1))
                    delay = min(delay * 2, self.RETRY_MAX)
                    continue
                delay = self.RETRY_MIN
                self._resume()
                self._tried.set()
            try:
                async for channel, payload in self._backend.stream_events():
                    for subscriber in tuple(self._channels.get(channel, ())):
                        subscriber.put_nowait(payload)
                lost: BaseException = ConnectionError("the event stream ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                lost = exc
            await self._suspend(lost)

    async def _connect(self) -> None:
        connect = getattr(self._backend, "connect", None)
        if connect is None:  # an in-process backend: nothing to connect to
            return
        in_use = [channel for channel, subscribers in self._channels.items() if subscribers]
        await asyncio.wait_for(connect(in_use), self.CONNECT_TIMEOUT)
        gone = set(in_use).difference(c for c, subscribers in self._channels.items() if subscribers)
        if gone:  # their last sockets left while we connected
            with suppress(Exception):
                await asyncio.wait_for(self._backend.unsubscribe(gone), self.UNSUBSCRIBE_TIMEOUT)

    def _resume(self) -> None:
        """Subscriptions are read again: every socket that lived through the outage resyncs.
        (None may have subscribed meanwhile: subscribing was refused while not live.)"""
        assert self._up is not None
        self._live = True
        self._up.set()
        stale = self._subscribers()
        if self._outage:
            self._outage = False
            log.warning("live updates reach their broker again: %d sockets told to reconnect and resync", len(stale))
        for subscriber in stale:
            end = getattr(subscriber, "end", None)
            if end is not None:
                end(CLOSE_RESYNC, "live updates resumed")
            else:
                subscriber.put_nowait(None)

    async def _suspend(self, exc: BaseException) -> None:
        assert self._up is not None
        self._live = False
        self._outage = True
        self._up.clear()
        log.warning("live updates lost their broker (%r): reconnecting", exc)
        down = notice("down")
        for subscriber in self._subscribers():
            subscriber.put_nowait(down)
        disconnect = getattr(self._backend, "disconnect", None)
        if disconnect is not None:  # nothing may use the dead connection meanwhile
            with suppress(Exception):
                await asyncio.wait_for(disconnect(), self.CLOSE_SECONDS)

    # --- lifespan ----------------------------------------------------------------------------

    async def __aenter__(self) -> LiveChannelsPlugin:
        await self._backend.on_startup()
        self._closed = False
        self._up, self._tried = asyncio.Event(), asyncio.Event()
        self._pending = asyncio.Queue()
        self._pub_task = asyncio.create_task(self._publisher())
        self._sub_task = asyncio.create_task(self._supervise())
        # Serve the first sockets at once when the broker answers; start anyway when it does not.
        with suppress(TimeoutError):
            await asyncio.wait_for(self._tried.wait(), self.CONNECT_TIMEOUT + 1)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Bounded: pending events get `DRAIN_SECONDS` to be published, the backend
        `CLOSE_SECONDS` to close; whatever the broker's state, shutdown ends."""
        self._closed = True
        if self._pending is not None and self._pub_task is not None:
            try:
                await asyncio.wait_for(self._pending.join(), self.DRAIN_SECONDS)
            except TimeoutError:
                log.warning("shutdown: %d live events left unpublished", self._pending.qsize())
        for task in (self._pub_task, self._sub_task):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        self._pub_task = self._sub_task = None
        self._live = False
        await asyncio.gather(*(s.stop(join=False) for s in self._subscribers() if s.is_running), return_exceptions=True)
        try:
            await asyncio.wait_for(self._backend.on_shutdown(), self.CLOSE_SECONDS)
        except Exception as exc:
            log.warning("shutdown: live updates backend did not close cleanly (%r)", exc)


def channels_plugin(redis_url: str | None) -> LiveChannelsPlugin:
    if redis_url:
        # Timeouts, so a Redis that stops answering (rather than refusing) is noticed too.
        client = Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10, socket_keepalive=True)
        backend: ChannelsBackend = PubSubBackend(client)
    else:
        backend = MemoryChannelsBackend()
    # Slow sockets drop their oldest signals rather than grow without bound; a page that
    # misses one re-fetches its regions on the next.
    return LiveChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=200,
        subscriber_backlog_strategy="dropleft",
        subscriber_class=SocketSubscriber,
    )
