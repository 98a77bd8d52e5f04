from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql, unique_index

ID = "2026-12-07T01:20:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "shipment indexes: one number per tenant, the lists by shipper and by receiver"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="logistics", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            unique_index("lg_shipment", "tenant_id", "no"),
            index("lg_shipment", "tenant_id", "org_path", "status"),
            index("lg_shipment", "tenant_id", "to_org_path", "status"),
        )
    )
    return manager
