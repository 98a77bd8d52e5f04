"""Text search conditions: what the user typed is matched literally.

`LIKE` treats `%` and `_` as wildcards, so a search for `%` matched every row and `_` any one
character; every search escapes them (and the escape character) and says `ESCAPE '\\'`. ILIKE on
PostgreSQL for text with cased letters; SQLite's LIKE is already case-insensitive for ASCII.

`code_or_name` is the lists' keyword search; over a large table `LIKE '%…%'` reads every row,
so its columns carry trigram indexes (masterdata migration 2026-12-11T09): PostgreSQL's planner
uses pg_trgm's by itself; on SQLite the condition takes the rows the FTS5 trigram index
`<table>_fts` finds (a superset) and applies the same LIKE to them: exactly the LIKE's rows.
"""

from __future__ import annotations

from piccolo.columns.base import Column
from piccolo.columns.combination import Where, WhereRaw
from piccolo.columns.operators.comparison import ComparisonOperator


class _Like(ComparisonOperator):
    template = "{name} LIKE {value} ESCAPE '\\'"


class _ILike(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '\\'"


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _match(column: Column, pattern: str) -> Where:
    """ILIKE on PostgreSQL only where case can matter: a pattern without cased letters (Chinese,
    digits) finds the same rows by LIKE, which compares bytes, where ILIKE lowercases each row's
    text first (half the time of a search that tests thousands of rows)."""
    cased = pattern.lower() != pattern.upper()
    operator = _ILike if cased and column._meta.engine_type in ("postgres", "cockroach") else _Like
    return Where(column=column, value=pattern, operator=operator)


def contains(column: Column, text: str) -> Where:
    """`column` contains `text` anywhere, ignoring case."""
    return _match(column, f"%{escape(text)}%")


def starts_with(column: Column, text: str) -> Where:
    """`column` starts with `text`, ignoring case (a prefix search can use an index)."""
    return _match(column, f"{escape(text)}%")


TRIGRAM = 3  # a trigram index finds nothing for fewer characters: plain LIKE then


def code_or_name_plain(text: str, code: Column, name: Column) -> Where:
    """`code_or_name` as a test of each row, no index asked (a `pagination.Window`'s)."""
    return starts_with(code, text) | contains(name, text)


def code_or_name(text: str, key: Column, code: Column, name: Column) -> Where | WhereRaw:
    """`code` starts with `text` or `name` contains it, ignoring case. `key` holds the id of the
    row `code` and `name` belong to (the table's own id, or the foreign key of a joined table).

    On SQLite the rows come from the FTS5 index `<table>_fts` and the LIKE is applied to those
    alone, inside one subquery: a rare word then reads a few rows, not the tenant's every row."""
    if key._meta.engine_type != "sqlite" or len(text) < TRIGRAM:
        return code_or_name_plain(text, code, name)
    table = name._meta.table._meta.tablename
    fts = f"{table}_fts"
    c, n = code._meta.db_column_name, name._meta.db_column_name
    found = (
        f'SELECT g."id" FROM {fts} JOIN "{table}" g ON g."id" = {fts}.rowid WHERE {fts} MATCH {{}} '
        f"AND (g.\"{c}\" LIKE {{}} ESCAPE '\\' OR g.\"{n}\" LIKE {{}} ESCAPE '\\')"
    )
    phrase = '"' + text.replace('"', '""') + '"'
    return WhereRaw(
        f"{key._meta.get_full_name(with_alias=False)} IN ({found})", phrase, f"{escape(text)}%", f"%{escape(text)}%"
    )
