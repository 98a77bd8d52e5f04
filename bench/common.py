"""What several benchmarks share: a free port, percentiles and terminal padding, and for the
database-heavy ones (credit, stock) their own PostgreSQL database and a bulk loader."""

from __future__ import annotations

import socket
import sqlite3
import unicodedata


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - shown)


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def recreate_pg(server_url: str, name: str, drop_only: bool = False) -> None:
    """Drop (and create) the bench's own database; never any other."""
    import asyncpg

    conn = await asyncpg.connect(f"{server_url}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class Loader:
    """Bulk load of explicit rows: COPY on PostgreSQL, one executemany transaction on SQLite
    (the datetime adapters Piccolo registers with sqlite3 store timestamps as the app does)."""

    def __init__(self, url: str) -> None:
        from server.core import db

        self.url, self.path, self.conn = url, db.sqlite_path(url), None

    async def __aenter__(self) -> Loader:
        if self.path:
            self.conn = sqlite3.connect(self.path)
            self.conn.execute("PRAGMA synchronous = OFF")
        else:
            import asyncpg

            self.conn = await asyncpg.connect(self.url)
        return self

    async def rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.path:
            names = ", ".join(f'"{c}"' for c in columns)
            self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})', rows)
        else:
            await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def __aexit__(self, *exc) -> None:
        if self.path:
            if exc[0] is None:
                self.conn.commit()
            self.conn.close()
        else:
            await self.conn.close()
