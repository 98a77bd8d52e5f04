from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-11-25T23:09:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="masterdata", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            index("md_tree_node", "tenant_id", "kind", "path"),
            unique_index("md_repair_code", "tenant_id", "code"),
            unique_index("md_fault_reason", "tenant_id", "code"),
            unique_index("md_goods", "tenant_id", "code"),
            index("md_goods", "tenant_id", "category"),
            unique_index("md_goods_price", "goods", "level"),
            unique_index("md_goods_store_price", "goods", "org_id"),
            unique_index("md_warehouse", "tenant_id", "code"),
            unique_index("md_org_warehouse", "warehouse", "org_id"),
            index("md_org_warehouse", "tenant_id", "org_id"),
            unique_index("md_supplier", "tenant_id", "code"),
            unique_index("md_dict_item", "tenant_id", "kind", "code"),
        )
    )
    return manager
