"""Helpers for hand-written parts of migrations.

Piccolo adds table constraints with ALTER TABLE … ADD CONSTRAINT, which SQLite cannot do, so
multi-column uniqueness is a UNIQUE INDEX created here; it works the same on both engines and
backs `ON CONFLICT` upserts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from piccolo.engine import engine_finder


def raw_sql(*statements: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        engine = engine_finder()
        for statement in statements:
            await engine.run_ddl(statement)

    return run


def _index(kind: str, suffix: str, table: str, columns: tuple[str, ...]) -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    return f'CREATE {kind} IF NOT EXISTS "{table}_{"_".join(columns)}_{suffix}" ON "{table}" ({cols})'


def unique_index(table: str, *columns: str) -> str:
    return _index("UNIQUE INDEX", "uniq", table, columns)


def index(table: str, *columns: str) -> str:
    return _index("INDEX", "idx", table, columns)
