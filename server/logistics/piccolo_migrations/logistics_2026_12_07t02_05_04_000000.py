from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-07T02:05:04:000000"
VERSION = "1.38.0"
DESCRIPTION = "lines received before discrepancies were received in full; the discrepancy list's indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="logistics", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            "UPDATE lg_shipment_line SET received_qty = qty WHERE received_at IS NOT NULL",
            index("lg_shipment_discrepancy", "tenant_id", "org_path", "status"),
            index("lg_shipment_discrepancy", "tenant_id", "to_org_path", "status"),
        )
    )
    return manager
