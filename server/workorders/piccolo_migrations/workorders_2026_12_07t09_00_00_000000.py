from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from server.core.migrations import unique_index

ID = "2026-12-07T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work order status_token: the customer's status page /s/{token}, random and unique (issue 21)"

ADD = 'ALTER TABLE "wo_order" ADD COLUMN "status_token" VARCHAR(32) NULL DEFAULT NULL'
# Orders taken in before get a token each from the database's own strong randomness (128 bits on
# SQLite, a v4 UUID's 122 on PostgreSQL), one statement however many orders there are.
FILL = {
    "sqlite": 'UPDATE "wo_order" SET "status_token" = lower(hex(randomblob(16))) WHERE "status_token" IS NULL',
    "postgres": "UPDATE \"wo_order\" SET \"status_token\" = replace(gen_random_uuid()::text, '-', '') "
    'WHERE "status_token" IS NULL',
}


async def status_token() -> None:
    engine = engine_finder()
    fill = FILL["sqlite" if engine.engine_type == "sqlite" else "postgres"]
    for statement in (ADD, fill, unique_index("wo_order", "status_token")):
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(status_token)
    return manager
