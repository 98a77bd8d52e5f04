"""Text search conditions: what the user typed is matched literally.

`LIKE` treats `%` and `_` as wildcards, so a search for `%` matched every row and `_` any one
character; every search escapes them (and the escape character) and says `ESCAPE '\\'`. ILIKE on
PostgreSQL; SQLite's LIKE is already case-insensitive for ASCII.
"""

from __future__ import annotations

from piccolo.columns.base import Column
from piccolo.columns.combination import Where
from piccolo.columns.operators.comparison import ComparisonOperator


class _Like(ComparisonOperator):
    template = "{name} LIKE {value} ESCAPE '\\'"


class _ILike(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '\\'"


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _match(column: Column, pattern: str) -> Where:
    operator = _ILike if column._meta.engine_type in ("postgres", "cockroach") else _Like
    return Where(column=column, value=pattern, operator=operator)


def contains(column: Column, text: str) -> Where:
    """`column` contains `text` anywhere, ignoring case."""
    return _match(column, f"%{escape(text)}%")


def starts_with(column: Column, text: str) -> Where:
    """`column` starts with `text`, ignoring case (a prefix search can use an index)."""
    return _match(column, f"{escape(text)}%")
