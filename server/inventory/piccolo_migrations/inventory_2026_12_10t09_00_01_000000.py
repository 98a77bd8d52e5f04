from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql

ID = "2026-12-10T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the value of the stock already held: average cost × quantity, as the stock list showed it"

# A separate migration: Piccolo runs a migration's raw SQL before its added columns. The product
# is capped like stock._average caps it (an org's value stays within BIGINT).
MAX_VALUE = 9 * 10**18


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            'UPDATE "inv_goods_cost" SET "value" = CASE WHEN "qty" <= 0 OR "avg_cost" <= 0 THEN 0 '
            f'WHEN "avg_cost" > {MAX_VALUE} / "qty" THEN {MAX_VALUE} ELSE "avg_cost" * "qty" END'
        )
    )
    return manager
