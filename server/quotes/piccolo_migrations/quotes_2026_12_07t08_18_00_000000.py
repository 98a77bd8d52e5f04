from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-07T08:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "quotes: an order's quotes, and at most one live (pending or approved) quote per order"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="quotes", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            index("qt_quote", "tenant_id", "work_order_id"),
            'CREATE UNIQUE INDEX IF NOT EXISTS "qt_quote_one_live_uniq" ON "qt_quote" '
            '("tenant_id", "work_order_id") WHERE "status" IN (\'pending\', \'approved\')',
        )
    )
    return manager
