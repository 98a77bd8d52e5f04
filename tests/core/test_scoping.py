"""One scoping helper (issue 13): every query of every service reaches a tenant's rows through
`core.tenancy.scoped` (or `in_tenant` where no caller exists yet), never through a hand-written
`tenant_id ==`; and every table with a tenant_id is scoped somewhere by it."""

from __future__ import annotations

import ast
import re

from server.core import db
from server.settings import ROOT

SERVER = ROOT / "server"
HELPER = SERVER / "core" / "tenancy.py"


def _sources():
    for path in sorted(SERVER.rglob("*.py")):
        if "piccolo_migrations" not in path.parts and path != HELPER:
            yield path, path.read_text()


def _is_tenant_id(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "tenant_id"


def test_no_query_compares_tenant_id_by_hand():
    found = []
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
                sides = [node.left, *node.comparators]
                # a Piccolo column is `Table.tenant_id`; a row's `row["tenant_id"]` is data, not a query
                if any(_is_tenant_id(s) and isinstance(s.value, ast.Name) and s.value.id[:1].isupper() for s in sides):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


# Tables no query reaches by their own name, with why that is safe.
REACHED_OTHERWISE = {
    "DocSequence": "written only, by the caller's own tenant id (core.numbering)",
    "ApiToken": "found by the hash of a secret token; the user it names carries the tenant",
    "RepairCode": "scoped through its kind's table: scoped(ctx, t) in masterdata.codes",
    "FaultReason": "scoped through its kind's table: scoped(ctx, t) in masterdata.codes",
    "CreditDoc": "scoped by the shared life cycle: scoped(ctx, dt.table, …) in core.documents",
    "StockDoc": "scoped by the shared life cycle: scoped(ctx, dt.table, …) in core.documents",
    "StockDocLine": "read through its document, which is scoped",
    "Order": "scoped by the shared life cycle: scoped(ctx, dt.table, …) in core.documents",
    "OrderLine": "read through its order, which is scoped",
    "GoodsPrice": "read through its goods, which is scoped",
    "GoodsStorePrice": "read through its goods, which is scoped",
    "GoodsCost": "read through its stock row, which is scoped (stock.STOCK_COLUMNS), and written by post_moves",
    "CreditEntry": "read through its account, which is scoped",
    "QueueCounterService": "read through its counter, which is scoped",
}


def test_every_tenant_table_is_scoped_through_the_helper():
    from server import domains  # noqa: F401  (registers the tables)

    text = "\n".join(t for _, t in _sources())
    unscoped = [
        table.__name__
        for table in db.all_tables()
        if any(c._meta.name == "tenant_id" for c in table._meta.columns)
        and not re.search(rf"(scoped\(\w+, {table.__name__}\b|in_tenant\({table.__name__}\b)", text)
        and table.__name__ not in REACHED_OTHERWISE
    ]
    assert unscoped == []
