from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-12T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "stock rows keep their goods' safety stock by triggers; partial indexes of the rows below it (issue 18)"

# 【看板】's 低于安全库存 and the stock list's `below_safety=1` compared md_goods.safety_stock with
# inv_stock.qty across the join: both engines read every stock row of the tenant with its goods
# (100,000 each: 90–120 ms for the count on PostgreSQL, as much again for the worst five; the
# board's figure 140 ms on SQLite). With the goods' value on the row, the rows below it are a
# partial index of inv_stock alone: the board's figure 10–17 ms at the head office, 3–8 ms for
# a branch, on either engine (a shared 2-CPU machine).
#
# The copy is the database's: a stock row takes its goods' value when inserted (the ledger's
# upsert, a bulk load) and whenever its goods or the copy itself is written (what is written there
# is replaced); a change of the goods' value is copied to its stock rows in the same statement.
# On PostgreSQL the insert reads the goods FOR SHARE: a concurrent change of the value waits for
# the new row's commit (and then updates it), or the insert waits for the change's and reads the
# new value. SQLite has one writer at a time. Filled from the goods for the rows already there
# (a separate migration: Piccolo runs a migration's raw SQL before its added columns).
GOODS_VALUE = 'COALESCE((SELECT "safety_stock" FROM "md_goods" WHERE "md_goods"."id" = {r}."goods"), 0)'
FILL = 'UPDATE "inv_stock" SET "safety_stock" = ' + GOODS_VALUE.format(r='"inv_stock"')
# `safety_stock > qty` exactly as stock.stock_where writes it: both engines match a partial
# index's predicate to the query's terms as written. (tenant, org) serves a subtree's count and
# rows, and the stock list's filter; the shortfall order the whole tenant's worst rows, read
# first (stock.below_safety). Built before the fill, which adds the short rows as it writes them.
INDEXES = (
    'CREATE INDEX IF NOT EXISTS "inv_stock_below_safety_idx" ON "inv_stock" ("tenant_id", "org_id") '
    'WHERE "safety_stock" > "qty"',
    'CREATE INDEX IF NOT EXISTS "inv_stock_below_safety_worst_idx" ON "inv_stock" '
    '("tenant_id", ("safety_stock" - "qty") DESC, "id") WHERE "safety_stock" > "qty"',
)
SET_ROW = 'UPDATE "inv_stock" SET "safety_stock" = ' + GOODS_VALUE.format(r="new") + ' WHERE "id" = new."id"'
STALE = 'new."safety_stock" IS NOT ' + GOODS_VALUE.format(r="new")
SET_GOODS_ROWS = 'UPDATE "inv_stock" SET "safety_stock" = {r}."safety_stock" WHERE "goods" = {r}."id"'
SQLITE = (
    'CREATE TRIGGER IF NOT EXISTS "inv_stock_safety_insert" AFTER INSERT ON "inv_stock" '
    f"WHEN {STALE} BEGIN {SET_ROW}; END",
    'CREATE TRIGGER IF NOT EXISTS "inv_stock_safety_update" AFTER UPDATE OF "goods", "safety_stock" ON "inv_stock" '
    f"WHEN {STALE} BEGIN {SET_ROW}; END",
    'CREATE TRIGGER IF NOT EXISTS "md_goods_safety_copy" AFTER UPDATE OF "safety_stock" ON "md_goods" '
    'WHEN old."safety_stock" IS NOT new."safety_stock" BEGIN ' + SET_GOODS_ROWS.format(r="new") + "; END",
)
POSTGRES = (
    'CREATE OR REPLACE FUNCTION "inv_stock_safety_copy"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
    'SELECT "safety_stock" INTO NEW."safety_stock" FROM "md_goods" WHERE "id" = NEW."goods" FOR SHARE; '
    'NEW."safety_stock" := COALESCE(NEW."safety_stock", 0); RETURN NEW; END $$',
    'DROP TRIGGER IF EXISTS "inv_stock_safety_copy" ON "inv_stock"',
    'CREATE TRIGGER "inv_stock_safety_copy" BEFORE UPDATE OF "goods", "safety_stock" ON "inv_stock" '
    'FOR EACH ROW EXECUTE FUNCTION "inv_stock_safety_copy"()',
    # an inserted row is written once more, which the trigger above fills in: a BEFORE INSERT
    # trigger would also run for the ledger upsert's rows that exist already (ON CONFLICT DO
    # NOTHING), locking their goods on every posting
    'CREATE OR REPLACE FUNCTION "inv_stock_safety_insert"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
    'UPDATE "inv_stock" SET "safety_stock" = NEW."safety_stock" WHERE "id" = NEW."id"; RETURN NULL; END $$',
    'DROP TRIGGER IF EXISTS "inv_stock_safety_insert" ON "inv_stock"',
    'CREATE TRIGGER "inv_stock_safety_insert" AFTER INSERT ON "inv_stock" '
    'FOR EACH ROW EXECUTE FUNCTION "inv_stock_safety_insert"()',
    'CREATE OR REPLACE FUNCTION "md_goods_safety_copy"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
    + SET_GOODS_ROWS.format(r="NEW")
    + "; RETURN NULL; END $$",
    'DROP TRIGGER IF EXISTS "md_goods_safety_copy" ON "md_goods"',
    'CREATE TRIGGER "md_goods_safety_copy" AFTER UPDATE OF "safety_stock" ON "md_goods" FOR EACH ROW '
    'WHEN (OLD."safety_stock" IS DISTINCT FROM NEW."safety_stock") EXECUTE FUNCTION "md_goods_safety_copy"()',
)


def statements(engine_type: str) -> tuple[str, ...]:
    return (*INDEXES, FILL, *(SQLITE if engine_type == "sqlite" else POSTGRES))


async def safety_copy() -> None:
    engine = engine_finder()
    for statement in statements(engine.engine_type):
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="inventory", description=DESCRIPTION)
    manager.add_raw(safety_copy)
    return manager
