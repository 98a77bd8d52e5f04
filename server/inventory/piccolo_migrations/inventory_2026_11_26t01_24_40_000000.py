from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-11-26T01:24:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes; the stock and cost keys back post_moves' upserts"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("inv_stock", "org_id", "warehouse", "goods"),
            index("inv_stock", "tenant_id", "org_id"),
            index("inv_stock_move", "stock", "id"),
            index("inv_stock_move", "tenant_id", "doc_type", "doc_id"),
            unique_index("inv_goods_cost", "org_id", "goods_id"),
            unique_index("inv_doc", "tenant_id", "no"),
            index("inv_doc", "tenant_id", "kind", "id"),
        )
    )
    return manager
