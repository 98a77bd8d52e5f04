from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql

ID = "2026-12-07T02:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "in-transit lines: the few shipped and not received, in shipping order and by goods"

IN_TRANSIT = '"received_at" IS NULL AND "confirmed_at" IS NOT NULL'


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="logistics", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            # 【在途库存】 (oldest first) and the stock query's 在途 column read only these lines
            f'CREATE INDEX IF NOT EXISTS "lg_shipment_line_in_transit" ON "lg_shipment_line" ("confirmed_at") '
            f"WHERE {IN_TRANSIT}",
            f'CREATE INDEX IF NOT EXISTS "lg_shipment_line_in_transit_goods" ON "lg_shipment_line" ("goods") '
            f"WHERE {IN_TRANSIT}",
        )
    )
    return manager
