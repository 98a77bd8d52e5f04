"""The session store's in-memory copies (issue 14): a page request reads no session file, yet
every process sees another's login, rewrite, logout and the session's expiry at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.stores import base

from server.core.sessions import SessionFileStore


async def test_a_copy_is_used_only_while_the_file_is_the_same(tmp_path, monkeypatch):
    one, other = SessionFileStore(tmp_path), SessionFileStore(tmp_path)  # two worker processes
    await one.set("s", b'{"uid":1}', expires_in=3600)
    assert await other.get("s") == b'{"uid":1}'
    reads = []
    monkeypatch.setattr(base.StorageObject, "from_bytes", classmethod(lambda cls, raw: reads.append(raw)))
    assert await other.get("s") == b'{"uid":1}' and not reads  # the copy, no file read
    monkeypatch.undo()

    await one.set("s", b'{"uid":2}', expires_in=3600)  # same size, another process
    assert await other.get("s") == b'{"uid":2}'
    await one.delete("s")  # logout in another process
    assert await other.get("s") is None
    assert await one.get("s") is None


async def test_an_expired_session_is_refused_from_the_copy_and_its_file_removed(tmp_path, monkeypatch):
    store = SessionFileStore(tmp_path)
    await store.set("s", b"{}", expires_in=3600)
    assert await store.get("s") == b"{}"

    later = datetime.now(tz=UTC) + timedelta(hours=2)
    monkeypatch.setattr(base, "datetime", type("Later", (datetime,), {"now": classmethod(lambda cls, tz=None: later)}))
    assert await store.get("s") is None
    assert not any(tmp_path.iterdir())
