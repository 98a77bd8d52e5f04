"""A join through a foreign key is written the same with the cheaper `dir` the ForeignKey sees
(server/core/db.py, issue 14) as with Piccolo's own, lazily referenced tables included."""

from __future__ import annotations

import builtins

from piccolo.columns import ForeignKey, Varchar
from piccolo.columns import column_types as piccolo_column_types
from piccolo.columns.reference import LazyTableReference
from piccolo.querystring import QueryString
from piccolo.table import Table

from server.core import db  # installs the cheaper `dir` and the kept select heads
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


def _selects() -> list:
    """Selects of the shapes services write: joined and aliased columns, a QueryString column,
    the table's own columns, joins in WHERE and ORDER BY, LIMIT/OFFSET, DISTINCT, GROUP BY,
    secrets left out, an aggregate, and `first()`."""
    from piccolo.query.functions.aggregate import Count

    from server.system.tables import User
    from server.workorders.services.orders import BRIEF_COLUMNS, _reading
    from server.workorders.tables import WorkOrder

    reason = QueryString('(SELECT 1 FROM "wo_line" l WHERE l."work_order" = "wo_order"."id")').as_alias("has_line")
    return [
        _reading().where((WorkOrder.tenant_id == 3) & WorkOrder.org_path.like("1.4.%") & (WorkOrder.id == 9)).first(),
        WorkOrder.select(*BRIEF_COLUMNS, reason)
        .where(WorkOrder.customer.phone == "138")
        .order_by(WorkOrder.customer.name, ascending=False)
        .limit(50)
        .offset(100),
        Stock.select(*STOCK_COLUMNS).where(Stock.goods.category.name == "x").order_by(Stock.warehouse.code),
        Stock.select().where(Stock.tenant_id == 1),
        User.select(exclude_secrets=True).where(User.id.is_in([1, 2, 3])),
        WorkOrder.select(WorkOrder.status, Count()).group_by(WorkOrder.status),
        WorkOrder.select(WorkOrder.status).distinct().where(WorkOrder.customer.name.ilike("%王%")),
    ]


def test_a_selects_kept_head_compiles_to_piccolos_own_sql():
    """`db._SelectHead` keeps a select's column list and joins: the SQL and arguments must stay
    Piccolo's own on the first run, on the run that keeps the head, and on the runs that use it."""
    from piccolo.query.methods.select import Select

    kept = []
    for _ in range(3):
        for query in _selects():
            for engine_type in ("sqlite", "postgres"):
                (ours,) = query.querystrings
                theirs = db._piccolo_select_querystrings(query)
                assert [ours.compile_string(engine_type)] == [q.compile_string(engine_type) for q in theirs]
            kept.append(len(db._select_heads.kept))
    assert Select.default_querystrings.fget is db._select_querystrings
    assert kept[-1] > kept[0]  # heads were kept, then used


def test_a_count_compiles_to_piccolos_own_sql():
    """`Count` selects one kept `COUNT(*)` object (its head is then kept too)."""
    from piccolo.query.functions.aggregate import Count

    from server.workorders.tables import WorkOrder

    for _ in range(3):
        for engine_type in ("sqlite", "postgres"):
            where = (WorkOrder.tenant_id == 4) & (WorkOrder.customer.phone == "139")
            ours = WorkOrder.count().where(where).querystrings[0].compile_string(engine_type)
            select = WorkOrder.select(Count()).where(where)
            assert ours == db._piccolo_select_querystrings(select)[0].compile_string(engine_type)
            distinct = WorkOrder.count(distinct=[WorkOrder.status]).querystrings[0].compile_string(engine_type)
            assert "COUNT(DISTINCT" in distinct[0]


def _wheres() -> list:
    """WHERE clauses of every shape: AND/OR nesting, IN / NOT IN, LIKE, IS (NOT) NULL, enums and
    dates as values, joined columns, and what keeps Piccolo's own QueryString (a raw clause, a
    column as the value, a subquery as the values, braces in a value)."""
    from datetime import datetime

    from piccolo.columns.combination import WhereRaw

    from server.workorders.states import WorkOrderStatus
    from server.workorders.tables import WorkOrder

    W = WorkOrder
    return [
        (W.tenant_id == 3) & W.org_path.like("1.4.%") & (W.id == 9),
        ((W.status == WorkOrderStatus.CLOSED) | W.technician_id.is_null()) & (W.created_at >= datetime(2026, 1, 2)),
        (W.id.is_in([1, 2, 3]) & W.status.not_in(["closed", "cancelled"])) | (W.customer.phone == "138"),
        (W.no != "{x}") & (W.technician_id != None) & (W.customer.name.ilike("%王%")),  # noqa: E711
        (W.tenant_id == 1) & WhereRaw("wo_order.no LIKE {}", "GD%"),
        (W.repair_org_id == W.intake_org_id) & (W.id > 5),
        W.id.is_in(QueryString('SELECT "work_order" FROM "wo_line" WHERE "qty" > {}', 1)) | (W.id < 0),
    ]


def test_a_where_compiles_to_piccolos_own_sql():
    """`db._where_querystring` writes plain conditions in one pass: the SQL and the arguments
    must be Piccolo's own for every shape, on both engines."""
    from server.workorders.tables import WorkOrder

    for n, where in enumerate(_wheres()):
        flat = db._where_querystring(where)
        assert n >= 4 or not any(isinstance(a, QueryString) for a in flat.args)  # written in one pass
        for engine_type in ("sqlite", "postgres"):
            ours = flat.compile_string(engine_type)
            assert ours == where.querystring.compile_string(engine_type), where
            query = WorkOrder.select(WorkOrder.id).where(where)
            (select,) = query.querystrings
            (theirs,) = db._piccolo_select_querystrings(query)
            assert select.compile_string(engine_type) == theirs.compile_string(engine_type)
