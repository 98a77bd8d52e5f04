"""realtime/plugin.py in process: the supervised broker connection, publishing that never drops
an event quietly, the bounded shutdown, and the Litestar internals the plugin builds on."""

from __future__ import annotations

import asyncio
import inspect

import pytest
import redis.exceptions
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.subscriber import Subscriber
from litestar.config.app import AppConfig
from redis.asyncio import Redis

from realtime.fanout import SocketSubscriber
from realtime.plugin import BackendUnavailable, LiveChannelsPlugin, PubSubBackend, channels_plugin
from tests.realtime.test_live import no_local_publishing, parse  # noqa: F401  (autouse fixture)
from tests.realtime.throwaway_redis import ThrowawayRedis, needs_redis_server


class FlakyBackend(MemoryChannelsBackend):
    """An in-process backend whose publishing fails while `down` (as a lost Redis does)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def publish(self, data: bytes, channels) -> None:
        if self.down:
            raise redis.exceptions.ConnectionError("Connection refused")
        await super().publish(data, channels)


def plugin_on(backend) -> LiveChannelsPlugin:
    return LiveChannelsPlugin(
        backend=backend, arbitrary_channels_allowed=True, subscriber_max_backlog=200, subscriber_class=SocketSubscriber
    )


async def listen(plugin: LiveChannelsPlugin, channel: str) -> tuple[SocketSubscriber, list[bytes]]:
    received: list[bytes] = []

    async def send(message: bytes) -> None:
        received.append(message)

    subscriber = await plugin.subscribe([channel])
    assert isinstance(subscriber, SocketSubscriber)
    subscriber.attach(send)
    return subscriber, received


async def test_events_published_while_the_broker_refuses_are_published_later_in_order():
    backend = FlakyBackend()
    async with plugin_on(backend) as plugin:
        subscriber, received = await listen(plugin, "c")
        backend.down = True
        for i in range(3):
            plugin.publish(b"%d" % i, ["c"])
        await asyncio.sleep(0.3)  # the publisher keeps retrying meanwhile
        assert received == []
        backend.down = False
        async with asyncio.timeout(5):
            while len(received) < 3:
                await asyncio.sleep(0.01)
        assert received == [b"0", b"1", b"2"]
        await subscriber.detach()


async def test_events_dropped_past_the_limit_make_their_channels_resync(monkeypatch):
    """Past MAX_PENDING waiting events the oldest go, and their channels get a resync notice
    (data-reconnect: /ws closes those sockets with 1012, the pages fetch their state again)."""
    monkeypatch.setattr(LiveChannelsPlugin, "MAX_PENDING", 3)
    backend = FlakyBackend()
    async with plugin_on(backend) as plugin:
        on_c, heard_c = await listen(plugin, "c")
        on_d, heard_d = await listen(plugin, "d")
        backend.down = True
        plugin.publish(b"first", ["c"])
        await asyncio.sleep(0.1)  # taken by the publisher, which retries it
        for i in range(5):
            plugin.publish(b"%d" % i, ["d"] if i == 0 else ["c"])  # "d" and "1" are dropped
        backend.down = False
        async with asyncio.timeout(5):
            while len(heard_c) < 5:
                await asyncio.sleep(0.01)
        notices = [parse(m) for m in heard_c if m.startswith(b"<div")]
        assert [(n["topic"], n["kind"], n["reconnect"]) for n in notices] == [("live", "resync", "1")]
        assert [m for m in heard_c if not m.startswith(b"<div")] == [b"first", b"2", b"3", b"4"]
        assert len(heard_d) == 1 and parse(heard_d[0])["kind"] == "resync"
        await on_c.detach()
        await on_d.detach()


async def test_shutdown_is_bounded_when_nothing_can_be_published(monkeypatch):
    monkeypatch.setattr(LiveChannelsPlugin, "DRAIN_SECONDS", 0.5)
    backend = FlakyBackend()
    plugin = plugin_on(backend)
    async with asyncio.timeout(10):  # an upper bound: before, this waited for ever
        async with plugin:
            backend.down = True
            plugin.publish(b"never", ["c"])
    plugin.publish(b"after shutdown", ["c"])  # ignored (logged), no error


# --- Redis -------------------------------------------------------------------------------------


@pytest.fixture
def redis_server(tmp_path):
    server = ThrowawayRedis(tmp_path)
    yield server
    server.kill()


@needs_redis_server
async def test_a_redis_that_stops_answering_is_noticed_by_the_heartbeat(redis_server, monkeypatch):
    """A connection that is not closed but silent (a paused or unreachable Redis, a half-open
    TCP connection) raises after a heartbeat and an unanswered PING, so the supervisor
    reconnects; reading would otherwise wait for ever."""
    monkeypatch.setattr(PubSubBackend, "HEARTBEAT", 0.2)
    redis_server.start()
    backend = PubSubBackend(Redis.from_url(redis_server.url))
    await backend.connect(["c"])
    try:
        redis_server.command("CLIENT", "PAUSE", "3000", "ALL")
        with pytest.raises(redis.exceptions.ConnectionError, match="PING"):
            async with asyncio.timeout(10):
                async for _ in backend.stream_events():
                    pass
    finally:
        redis_server.command("CLIENT", "UNPAUSE")
        await backend.on_shutdown()


@needs_redis_server
async def test_a_dropped_pubsub_connection_is_never_silently_reconnected(redis_server):
    """redis-py would reconnect and resubscribe on the next read, losing unseen whatever was
    published in between; the reader must raise so that every socket resyncs."""
    redis_server.start()
    backend = PubSubBackend(Redis.from_url(redis_server.url))
    await backend.connect(["c"])
    try:
        await backend._pubsub.connection.disconnect()  # as a write failing in another task does
        with pytest.raises(redis.exceptions.ConnectionError):
            async with asyncio.timeout(10):
                async for _ in backend.stream_events():
                    pass
    finally:
        await backend.on_shutdown()


@needs_redis_server
async def test_subscribing_is_refused_while_redis_is_away_and_works_once_it_is_back(redis_server):
    plugin = channels_plugin(redis_server.url)
    async with plugin:  # starts although Redis is down
        assert not plugin.live
        with pytest.raises(BackendUnavailable):
            await plugin.subscribe(["c"])
        assert plugin._channels == {} and plugin._of == {}  # nothing left behind by the refused subscription
        redis_server.start()
        async with asyncio.timeout(10):
            while not plugin.live:
                await asyncio.sleep(0.05)
        subscriber, received = await listen(plugin, "c")
        plugin.publish(b"hello", ["c"])
        async with asyncio.timeout(5):
            while not received:
                await asyncio.sleep(0.01)
        assert received == [b"hello"]

        redis_server.kill()  # the socket is told, and ended with 1012 once Redis is back
        async with asyncio.timeout(10):
            while len(received) < 2:
                await asyncio.sleep(0.01)
        assert parse(received[1])["kind"] == "down"
        redis_server.start()
        assert await asyncio.wait_for(subscriber.wait_ended(), 10) == (1012, "live updates resumed")
        await subscriber.detach()
        await plugin.unsubscribe(subscriber)


# --- what the plugin takes from Litestar ---------------------------------------------------------


async def test_litestar_channels_internals_the_plugin_relies_on():
    """realtime/plugin.LiveChannelsPlugin subclasses Litestar's ChannelsPlugin, reads these
    private attributes and replaces its lifespan (`__aenter__`/`__aexit__`) so that Litestar's
    own workers never run. A Litestar upgrade that renames or reshapes any of it fails here,
    loudly, instead of live updates failing quietly. (realtime/fanout.SocketSubscriber uses
    only Subscriber's public side: its constructor, put, put_nowait, stop, is_running.)"""
    backend = MemoryChannelsBackend()
    plugin = ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=7,
        subscriber_backlog_strategy="dropleft",
        subscriber_class=SocketSubscriber,
    )
    assert plugin._backend is backend
    assert plugin._channels == {}
    assert plugin._subscriber_class is SocketSubscriber
    assert (plugin._max_backlog, plugin._backlog_strategy) == (7, "dropleft")
    assert plugin._arbitrary_channels_allowed is True
    assert (plugin._pub_task, plugin._sub_task) == (None, None)
    assert plugin.encode_data("x") == b"x"

    # channel -> set of subscribers, as Litestar's own subscribe fills it
    subscriber = await plugin.subscribe(["a", "b"])
    assert plugin._channels == {"a": {subscriber}, "b": {subscriber}}
    await plugin.unsubscribe(subscriber)

    # Litestar runs the plugin as a lifespan context manager, nothing else
    config = AppConfig()
    plugin.on_app_init(config)
    assert config.lifespan == [plugin]
    assert not config.on_startup and not config.on_shutdown
    assert ChannelsPlugin.__aenter__ is not LiveChannelsPlugin.__aenter__
    assert ChannelsPlugin.__aexit__ is not LiveChannelsPlugin.__aexit__

    # the methods replaced keep the parameters Litestar and our callers use
    for name in ("publish", "subscribe", "unsubscribe"):
        ours, theirs = (
            inspect.signature(getattr(LiveChannelsPlugin, name)),
            inspect.signature(getattr(ChannelsPlugin, name)),
        )
        assert list(ours.parameters) == list(theirs.parameters), name

    # Subscriber: the public constructor and methods SocketSubscriber and the plugin use
    assert list(inspect.signature(Subscriber.__init__).parameters) == [
        "self",
        "plugin",
        "max_backlog",
        "backlog_strategy",
    ]
    for name in ("put", "put_nowait", "stop"):
        assert inspect.iscoroutinefunction(getattr(Subscriber, name)) == (name != "put_nowait"), name
    assert isinstance(Subscriber.is_running, property)
