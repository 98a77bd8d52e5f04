from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

from server.core.migrations import index

ID = "2026-12-07T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "work order indexes for 1,000,000 orders: number prefix, customer search, status and dates (issue 16)"

# Both engines: a status filter newest first, the unfinished orders by time in their status
# (sort=urgency), a date range of the whole tenant.
BOTH = (
    index("wo_order", "tenant_id", "status", "id"),
    index("wo_order", "tenant_id", "status", "status_at"),
    index("wo_order", "tenant_id", "created_at"),
)
# The number filter is a prefix (`ILIKE 'GD2026…%'` on PostgreSQL) and the customer search `q` a
# phone prefix or a name part (server/core/search.py `code_or_name`): pg_trgm GIN indexes serve
# both as written, as for the goods (masterdata migration 2026-12-11T09).
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS "wo_order_no_trgm" ON "wo_order" USING gin ("no" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "wo_customer_phone_trgm" ON "wo_customer" USING gin ("phone" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "wo_customer_name_trgm" ON "wo_customer" USING gin ("name" gin_trgm_ops)',
)
# SQLite's LIKE ignores ASCII case, so only an index of the same collation serves its prefix; the
# customers get the FTS5 trigram index `code_or_name` reads first, kept by triggers.
SQLITE = (
    'CREATE INDEX IF NOT EXISTS "wo_order_tenant_id_no_nocase_idx" ON "wo_order" ("tenant_id", "no" COLLATE NOCASE)',
    "CREATE VIRTUAL TABLE IF NOT EXISTS wo_customer_fts USING fts5("
    "phone, name, content='wo_customer', content_rowid='id', tokenize='trigram')",
    "INSERT INTO wo_customer_fts(wo_customer_fts) VALUES ('rebuild')",
    "CREATE TRIGGER IF NOT EXISTS wo_customer_fts_insert AFTER INSERT ON wo_customer BEGIN "
    "INSERT INTO wo_customer_fts(rowid, phone, name) VALUES (new.id, new.phone, new.name); END",
    "CREATE TRIGGER IF NOT EXISTS wo_customer_fts_delete AFTER DELETE ON wo_customer BEGIN "
    "INSERT INTO wo_customer_fts(wo_customer_fts, rowid, phone, name) VALUES ('delete', old.id, old.phone, old.name); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS wo_customer_fts_update AFTER UPDATE OF phone, name ON wo_customer BEGIN "
    "INSERT INTO wo_customer_fts(wo_customer_fts, rowid, phone, name) VALUES ('delete', old.id, old.phone, old.name); "
    "INSERT INTO wo_customer_fts(rowid, phone, name) VALUES (new.id, new.phone, new.name); END",
)


async def list_indexes() -> None:
    engine = engine_finder()
    for statement in (*BOTH, *(SQLITE if engine.engine_type == "sqlite" else POSTGRES)):
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="workorders", description=DESCRIPTION)
    manager.add_raw(list_indexes)
    return manager
