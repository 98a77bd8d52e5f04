from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "device shipments (送修, 送修返还, issue 20): the one work order's device each carries"

COLUMNS = (
    '"tenant_id" INTEGER NOT NULL, '
    '"shipment" INTEGER NOT NULL UNIQUE REFERENCES "lg_shipment" ("id") ON DELETE RESTRICT ON UPDATE CASCADE, '
    '"work_order_id" INTEGER NOT NULL, "work_order_no" VARCHAR(24) NOT NULL, '
    """"serial_no" VARCHAR(64) NOT NULL DEFAULT '', "goods_name" VARCHAR(200) NOT NULL DEFAULT '', """
    """"accessories" VARCHAR(500) NOT NULL DEFAULT ''"""
)
TABLE = {
    "sqlite": f'CREATE TABLE IF NOT EXISTS "lg_shipment_device" ("id" INTEGER PRIMARY KEY, {COLUMNS})',
    "postgres": f'CREATE TABLE IF NOT EXISTS "lg_shipment_device" ("id" SERIAL PRIMARY KEY, {COLUMNS})',
}
INDEX = 'CREATE INDEX IF NOT EXISTS "lg_shipment_device_work_order_id" ON "lg_shipment_device" ("work_order_id")'


async def create() -> None:
    engine = engine_finder()
    await engine.run_ddl(TABLE["sqlite" if engine.engine_type == "sqlite" else "postgres"])
    await engine.run_ddl(INDEX)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="logistics", description=DESCRIPTION)
    manager.add_raw(create)
    return manager
