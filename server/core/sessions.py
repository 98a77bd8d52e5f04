"""Server-side sessions that are written only when they change.

Litestar's backend stores the session and sets a cookie on every response, even for an
anonymous visitor with an empty session. Here an anonymous visitor gets no session at all, an
unchanged session costs no store write, and emptying a session deletes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import StorageObject
from litestar.stores.file import FileStore
from litestar.types import Empty, Message, ScopeSession

_LOADED = "_weifu_session_loaded"
_NEW_ID = "_weifu_session_new_id"


def rotate(connection: ASGIConnection) -> None:
    """Store the session under a fresh id when this response is sent (at login: no session fixation)."""
    connection.scope[_NEW_ID] = ""  # type: ignore[typeddict-unknown-key]


class ChangedOnlySessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection) -> dict:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED] = dict(data)  # type: ignore[typeddict-unknown-key]
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        if _NEW_ID in connection.scope:
            if not connection.scope[_NEW_ID]:
                connection.scope[_NEW_ID] = self.generate_session_id()  # type: ignore[typeddict-unknown-key]
            return connection.scope[_NEW_ID]
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        loaded = connection.scope.get(_LOADED, {})
        had_cookie = self.config.key in connection.cookies
        if _NEW_ID in connection.scope and had_cookie:
            await self.delete(connection.cookies[self.config.key], store=self.config.get_store_from_app(connection.app))
            had_cookie = False
        if scope_session is Empty or not scope_session:
            if had_cookie:
                await super().store_in_message(Empty, message, connection)
            return
        if had_cookie and scope_session == loaded:
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = ChangedOnlySessionBackend


class SessionFileStore(FileStore):
    """Litestar's FileStore that keeps what it read in memory while the file stays the same.

    FileStore reads the session file in a worker thread on every request. Every write replaces
    the file (a new inode) and a logout deletes it, from whichever process, so one `stat` on the
    event loop tells whether the copy in memory is still the file's: the same session in every
    worker, as before, without the read and the thread hop. Expiry is checked on the copy too.
    """

    MAX_ENTRIES = 10_000  # beyond this the process forgets every copy (a burst of sessions)

    def __init__(self, path, *, create_directories: bool = False) -> None:
        super().__init__(path, create_directories=create_directories)
        self._copies: dict[str, tuple[tuple[int, int, int], StorageObject]] = {}

    def with_namespace(self, namespace: str) -> SessionFileStore:
        return SessionFileStore(super().with_namespace(namespace).path)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        if renew_for:
            self._copies.pop(key, None)
            return await super().get(key, renew_for)
        path = os.fspath(self._path_from_key(key))
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self._copies.pop(key, None)
            return None
        version = (st.st_ino, st.st_mtime_ns, st.st_size)
        copy = self._copies.get(key)
        if copy is not None and copy[0] == version:
            stored = copy[1]
        else:
            try:
                with open(path, "rb") as file:
                    stored = StorageObject.from_bytes(file.read())
            except FileNotFoundError:
                self._copies.pop(key, None)
                return None
            if len(self._copies) >= self.MAX_ENTRIES:
                self._copies.clear()
            self._copies[key] = (version, stored)
        if stored.expired:
            self._copies.pop(key, None)
            await self.delete(key)
            return None
        return stored.data

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        self._copies.pop(key, None)
        await super().set(key, value, expires_in)

    async def delete(self, key: str) -> None:
        self._copies.pop(key, None)
        await super().delete(key)

    async def delete_all(self) -> None:
        self._copies.clear()
        await super().delete_all()
