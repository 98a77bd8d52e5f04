"""A join through a foreign key is written the same with the cheaper `dir` the ForeignKey sees
(server/core/db.py, issue 14) as with Piccolo's own, lazily referenced tables included."""

from __future__ import annotations

import builtins

from piccolo.columns import ForeignKey, Varchar
from piccolo.columns import column_types as piccolo_column_types
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table

from server.core import db  # noqa: F401  (installs the cheaper `dir`)
from server.inventory.services.stock import STOCK_COLUMNS
from server.inventory.tables import Stock


class LazyBand(Table):
    manager = ForeignKey(LazyTableReference("LazyManager", module_path=__name__))


class LazyManager(Table):
    name = Varchar()


def _queries() -> list[str]:
    return [
        str(Stock.select(*STOCK_COLUMNS).where(Stock.goods.category.name == "x").order_by(Stock.warehouse.code)),
        str(LazyBand.select(LazyBand.manager.name).where(LazyBand.manager.name == "y")),
    ]


def test_joins_read_the_same_as_with_piccolos_own_dir(monkeypatch):
    assert piccolo_column_types.dir is not builtins.dir
    cheap = _queries()
    monkeypatch.setattr(piccolo_column_types, "dir", builtins.dir)
    assert cheap == _queries()
    assert '"lazy_band$manager"."name"' in cheap[1]
