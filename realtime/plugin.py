"""The channels plugin: in-process memory backend, or Redis pub/sub shared by every app process."""

from __future__ import annotations

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from realtime.fanout import SocketSubscriber


class PubSubBackend(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend shares one redis-py `PubSub`, which opens its connection
    on the first subscribe: sockets subscribing at that same moment (every TV, kiosk and page
    reconnecting after a restart) each open one, all but the last are dropped, and their
    channels are never read. Connecting at startup, before any socket subscribes, avoids it
    (found by bench/queue.py; tests/realtime/test_scale_out.py keeps it fixed)."""

    async def on_startup(self) -> None:
        await super().on_startup()
        await self._pub_sub.connect()


def channels_plugin(redis_url: str | None) -> ChannelsPlugin:
    if redis_url:
        backend = PubSubBackend(redis=Redis.from_url(redis_url))
    else:
        backend = MemoryChannelsBackend()
    # Slow sockets drop their oldest signals rather than grow without bound; a page that
    # misses one re-fetches its regions on the next.
    return ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=200,
        subscriber_backlog_strategy="dropleft",
        subscriber_class=SocketSubscriber,
    )
