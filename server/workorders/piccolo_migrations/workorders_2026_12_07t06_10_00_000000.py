from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work order counts per (tenant, org, status), kept by triggers (【看板】 at 1,000,000 orders)"

# One row per (tenant, org, status) an order has ever been in; n = how many orders are in it now.
# Triggers keep it in the same statement as the order's change: +1 by UPSERT (two transactions
# adding to a new key both land: ON CONFLICT DO UPDATE), -1 by UPDATE n = n - 1 (row lock on
# PostgreSQL, one writer at a time on SQLite). Filled from the orders already there.
TABLE = {
    "sqlite": 'CREATE TABLE IF NOT EXISTS "wo_status_count" ("id" INTEGER PRIMARY KEY, "tenant_id" INTEGER NOT NULL, '
    '"org_id" INTEGER NOT NULL, "status" VARCHAR(12) NOT NULL, "n" INTEGER NOT NULL DEFAULT 0)',
    "postgres": 'CREATE TABLE IF NOT EXISTS "wo_status_count" ("id" SERIAL PRIMARY KEY, "tenant_id" INTEGER NOT NULL, '
    '"org_id" INTEGER NOT NULL, "status" VARCHAR(12) NOT NULL, "n" INTEGER NOT NULL DEFAULT 0)',
}
UNIQUE = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "wo_status_count_tenant_id_org_id_status_uniq" '
    'ON "wo_status_count" ("tenant_id", "org_id", "status")'
)
FILL = (
    'INSERT INTO "wo_status_count" ("tenant_id", "org_id", "status", "n") '
    'SELECT "tenant_id", "org_id", "status", COUNT(*) FROM "wo_order" GROUP BY "tenant_id", "org_id", "status"'
)
ADD = (
    'INSERT INTO "wo_status_count" ("tenant_id", "org_id", "status", "n") VALUES ({r}."tenant_id", {r}."org_id", '
    '{r}."status", 1) ON CONFLICT ("tenant_id", "org_id", "status") DO UPDATE SET "n" = "wo_status_count"."n" + 1'
)
SUB = (
    'UPDATE "wo_status_count" SET "n" = "n" - 1 '
    'WHERE "tenant_id" = {r}."tenant_id" AND "org_id" = {r}."org_id" AND "status" = {r}."status"'
)
MOVED = (
    '(old."status" IS DISTINCT FROM new."status" OR old."org_id" IS DISTINCT FROM new."org_id" '
    'OR old."tenant_id" IS DISTINCT FROM new."tenant_id")'
)
SQLITE = (
    'CREATE TRIGGER IF NOT EXISTS "wo_status_count_insert" AFTER INSERT ON "wo_order" BEGIN '
    + ADD.format(r="new")
    + "; END",
    'CREATE TRIGGER IF NOT EXISTS "wo_status_count_delete" AFTER DELETE ON "wo_order" BEGIN '
    + SUB.format(r="old")
    + "; END",
    'CREATE TRIGGER IF NOT EXISTS "wo_status_count_update" AFTER UPDATE OF "status", "org_id", "tenant_id" '
    'ON "wo_order" WHEN '
    + MOVED.replace("IS DISTINCT FROM", "IS NOT")
    + " BEGIN "
    + SUB.format(r="old")
    + "; "
    + ADD.format(r="new")
    + "; END",
)
POSTGRES = (
    'CREATE OR REPLACE FUNCTION "wo_status_count_keep"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
    "IF TG_OP IN ('DELETE', 'UPDATE') THEN " + SUB.format(r="OLD") + "; END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') THEN " + ADD.format(r="NEW") + "; END IF; "
    "RETURN NULL; END $$",
    'DROP TRIGGER IF EXISTS "wo_status_count_insert_delete" ON "wo_order"',
    'CREATE TRIGGER "wo_status_count_insert_delete" AFTER INSERT OR DELETE ON "wo_order" '
    'FOR EACH ROW EXECUTE FUNCTION "wo_status_count_keep"()',
    'DROP TRIGGER IF EXISTS "wo_status_count_update" ON "wo_order"',
    'CREATE TRIGGER "wo_status_count_update" AFTER UPDATE OF "status", "org_id", "tenant_id" ON "wo_order" '
    "FOR EACH ROW WHEN " + MOVED + ' EXECUTE FUNCTION "wo_status_count_keep"()',
)


async def counts() -> None:
    engine = engine_finder()
    sqlite = engine.engine_type == "sqlite"
    statements = (TABLE["sqlite" if sqlite else "postgres"], UNIQUE, FILL, *(SQLITE if sqlite else POSTGRES))
    for statement in statements:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(counts)
    return manager
