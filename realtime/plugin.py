"""The channels plugin: in-process memory backend, or Redis pub/sub shared by every app process."""

from __future__ import annotations

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from realtime.fanout import SocketSubscriber


def channels_plugin(redis_url: str | None) -> ChannelsPlugin:
    if redis_url:
        backend = RedisChannelsPubSubBackend(redis=Redis.from_url(redis_url))
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
