"""Live updates: events queued inside a transaction, published to channels after it commits.

Channel names:
- `t{tenant}:o{org}:{topic}` carries events concerning `org` *or any org below it*: an event
  is published to the channel of its org and of every ancestor, so a socket subscribes to one
  channel per topic (its own org's) and still sees its whole subtree, never a sibling's.
- `t{tenant}:{topic}` for tenant-wide topics (roles, master data).
- `t{tenant}:w{order}` one work order's own channel, the only one its customer's status page
  hears (server.selfservice);
- `t{tenant}:u{user}` personal notices; `t{tenant}:m{org}` notices to the members of one org
  (used to close the sessions of a disabled org).

A message is a small server-rendered HTML fragment swapped out-of-band by htmx (`#live-signal`);
the page then re-fetches its own live regions with its own filters and permissions, so what a
client shows never depends on a message it may have missed.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

from litestar.channels import ChannelsPlugin

from server.core.db import after_commit

_plugin: ChannelsPlugin | None = None
_prefix = ""  # Redis pub/sub channels are global to the server: a deployment prefixes its own
_topics: dict[str, tuple[tuple[str, ...], bool]] = {}  # topic -> (any of these permissions, tenant-wide?)
_device_topics: set[str] = set()  # org topics that an org's devices also hear
_kind_topics: dict[str, set[str]] = {}  # device kind -> org topics it hears for its org's subtree
_own_kinds: dict[str, frozenset[str]] = {}  # topic -> its kinds that concern only their record's page
_last_id = 0


def bind(plugin: ChannelsPlugin | None, prefix: str = "") -> None:
    global _plugin, _prefix
    _plugin, _prefix = plugin, prefix


def topic(
    name: str,
    permission: str | tuple[str, ...],
    tenant_wide: bool = False,
    devices: bool = False,
    own_kinds: tuple[str, ...] = (),
) -> None:
    """Declare a topic, the permission a subscriber needs (or any of several), whether it
    concerns the whole tenant (master data, roles) rather than one org's subtree, whether the
    org's devices (kiosk, TV) hear it too, and which of its kinds concern only their record's own
    page (`own_kinds`: a work order's quote or notice moves no list and no figure; the signal
    says so, `data-own`, and lists and boards let it pass)."""
    _topics[name] = ((permission,) if isinstance(permission, str) else permission, tenant_wide)
    if devices:
        _device_topics.add(name)
    if own_kinds:
        _own_kinds[name] = frozenset(own_kinds)


def channels_for(tenant_id: int, org_id: int, user_id: int, permissions: frozenset[str]) -> list[str]:
    """Every channel a caller may hear: their own, their org's members', and each permitted topic."""
    names = [user_channel(tenant_id, user_id), members_channel(tenant_id, org_id)]
    for name, (codes, tenant_wide) in sorted(_topics.items()):
        if any(code in permissions for code in codes):
            names.append(tenant_channel(tenant_id, name) if tenant_wide else org_channel(tenant_id, org_id, name))
    return names


def device_hears(kind: str, topics: tuple[str, ...]) -> None:
    """Devices of `kind` (a wall board) also hear these org topics for their org's whole subtree,
    as a person of that org holding the topics' permissions would."""
    _kind_topics.setdefault(kind, set()).update(topics)


def device_channels(tenant_id: int, org_id: int, device_id: int, kind: str = "") -> list[str]:
    """What a device hears: its own notices, its org's (closed when the org is disabled), the
    device topics of exactly its org, and the subtree topics its kind hears (`device_hears`)."""
    return (
        [device_channel(tenant_id, device_id), members_channel(tenant_id, org_id)]
        + [exact_org_channel(tenant_id, org_id, name) for name in sorted(_device_topics)]
        + [org_channel(tenant_id, org_id, name) for name in sorted(_kind_topics.get(kind, ()))]
    )


def org_channel(tenant_id: int, org_id: int, topic_name: str) -> str:
    return f"{_prefix}t{tenant_id}:o{org_id}:{topic_name}"


def tenant_channel(tenant_id: int, topic_name: str) -> str:
    return f"{_prefix}t{tenant_id}:{topic_name}"


def user_channel(tenant_id: int, user_id: int) -> str:
    return f"{_prefix}t{tenant_id}:u{user_id}"


def exact_org_channel(tenant_id: int, org_id: int, topic_name: str) -> str:
    return f"{_prefix}t{tenant_id}:x{org_id}:{topic_name}"


def device_channel(tenant_id: int, device_id: int) -> str:
    return f"{_prefix}t{tenant_id}:d{device_id}"


def members_channel(tenant_id: int, org_id: int) -> str:
    return f"{_prefix}t{tenant_id}:m{org_id}"


def order_channel(tenant_id: int, order_id: int) -> str:
    return f"{_prefix}t{tenant_id}:w{order_id}"


def next_event_id() -> int:
    """Increasing within a process and roughly across processes (microsecond clock)."""
    global _last_id
    _last_id = max(_last_id + 1, time.time_ns() // 1000)
    return _last_id


@dataclass(frozen=True)
class Event:
    id: int
    topic: str
    kind: str
    ref: str = ""
    kick: bool = False
    reconnect: bool = False
    say: str = ""  # what a queue TV announces
    note: str = ""  # a toast for the members of `org` who watch the topic's menu badge
    org: int | None = None  # none with a note: a personal event's toast, for its user wherever they are

    def render(self) -> str:
        attrs = {
            "data-event-id": self.id,
            "data-topic": self.topic,
            "data-kind": self.kind,
            "data-ref": self.ref,
            "data-ts": f"{time.time():.6f}",
        }
        if self.kick:
            attrs["data-kick"] = "1"
        if self.reconnect:
            attrs["data-reconnect"] = "1"
        if self.kind in _own_kinds.get(self.topic, ()):
            attrs["data-own"] = "1"
        if self.say:
            attrs["data-say"] = self.say
        if self.note:
            attrs |= {"data-note": self.note, "data-org": self.org if self.org is not None else "personal"}
        body = " ".join(f'{k}="{html.escape(str(v))}"' for k, v in attrs.items())
        return f'<div id="live-signal" hx-swap-oob="true" {body}></div>'


def _publish(event: Event, channels: list[str]) -> None:
    if _plugin is not None and channels:
        _plugin.publish(event.render(), channels)


def emit(
    tenant_id: int, org_path: str, topic_name: str, kind: str, ref: object = "", say: str = "", note: str = ""
) -> None:
    """Queue an event about the org at `org_path`; published on commit to it and its ancestors,
    and to the org's own devices when the topic is a device topic. A `note` is shown as a toast
    on the pages of that org's own members whose menu counts the topic (its ancestors only
    refresh)."""
    if topic_name not in _topics or _topics[topic_name][1]:
        raise ValueError(f"{topic_name} is not an org topic")
    org_ids = [int(p) for p in org_path.strip("/").split("/") if p]
    org = org_ids[-1] if note and org_ids else None
    event = Event(next_event_id(), topic_name, kind, str(ref), say=say, note=note if org else "", org=org)
    channels = [org_channel(tenant_id, oid, topic_name) for oid in org_ids]
    if topic_name in _device_topics:
        channels.append(exact_org_channel(tenant_id, org_ids[-1], topic_name))
    after_commit(lambda: _publish(event, channels))


def emit_tenant(tenant_id: int, topic_name: str, kind: str, ref: object = "") -> None:
    """Queue an event of a tenant-wide topic; published on commit."""
    if topic_name not in _topics or not _topics[topic_name][1]:
        raise ValueError(f"{topic_name} is not a tenant-wide topic")
    event = Event(next_event_id(), topic_name, kind, str(ref))
    after_commit(lambda: _publish(event, [tenant_channel(tenant_id, topic_name)]))


def emit_users(tenant_id: int, user_ids: object, topic_name: str, kind: str, ref: object = "", note: str = "") -> None:
    """Queue a personal event (a technician's 【我的维修】); published on commit to each user's
    own channel, which every socket of that user hears whatever their permissions. A `note` is
    a toast on whatever page they are."""
    channels = [user_channel(tenant_id, uid) for uid in sorted({int(u) for u in user_ids if u is not None})]
    if channels:
        event = Event(next_event_id(), topic_name, kind, str(ref), note=note)
        after_commit(lambda: _publish(event, channels))


def emit_order(tenant_id: int, order_id: int, kind: str) -> None:
    """Queue an event on one work order's own channel (its status page); published on commit."""
    event = Event(next_event_id(), "order", kind, str(order_id))
    after_commit(lambda: _publish(event, [order_channel(tenant_id, order_id)]))


def kick_user(tenant_id: int, user_id: int) -> None:
    """After commit, close the live sockets of a user (disabled, deleted, password reset)."""
    event = Event(next_event_id(), "session", "kick", str(user_id), kick=True)
    after_commit(lambda: _publish(event, [user_channel(tenant_id, user_id)]))


def kick_org(tenant_id: int, org_id: int) -> None:
    """After commit, close the live sockets of every member of an org (disabled or deleted)."""
    event = Event(next_event_id(), "session", "kick", f"org:{org_id}", kick=True)
    after_commit(lambda: _publish(event, [members_channel(tenant_id, org_id)]))


def kick_device(tenant_id: int, device_id: int) -> None:
    """After commit, close the live socket of a device whose token was revoked or replaced."""
    event = Event(next_event_id(), "session", "kick", f"device:{device_id}", kick=True)
    after_commit(lambda: _publish(event, [device_channel(tenant_id, device_id)]))


def resubscribe_users(tenant_id: int, user_ids: list[int]) -> None:
    """After commit, make the live sockets of these users reconnect: a socket's channels are
    chosen when it connects, from the rights of that moment, so when a user's rights change
    (their roles, or a role's permissions) the socket is closed with 1012, which htmx's ws
    extension answers by reconnecting at once, and the new socket subscribes with the new rights."""
    channels = [user_channel(tenant_id, uid) for uid in sorted(set(user_ids))]
    if not channels:
        return
    event = Event(next_event_id(), "session", "resubscribe", reconnect=True)
    after_commit(lambda: _publish(event, channels))
