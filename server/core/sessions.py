"""Server-side sessions that are written only when they change.

Litestar's backend stores the session and sets a cookie on every response, even for an
anonymous visitor with an empty session. Here an anonymous visitor gets no session at all, an
unchanged session costs no store write, and emptying a session deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
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
