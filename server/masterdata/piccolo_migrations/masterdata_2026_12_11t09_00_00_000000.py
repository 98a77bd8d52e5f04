from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-11T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "trigram indexes on goods code and name: the `q` search of the goods and stock lists (issue 14)"

# PostgreSQL: pg_trgm GIN indexes serve `ILIKE '%…%'` as they are (pg_trgm is a trusted
# extension: the database owner may create it). SQLite: an FTS5 trigram index of the same
# columns, kept by triggers, which server/core/search.py reads first (`<table>_fts`).
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS "md_goods_code_trgm" ON "md_goods" USING gin ("code" gin_trgm_ops)',
    'CREATE INDEX IF NOT EXISTS "md_goods_name_trgm" ON "md_goods" USING gin ("name" gin_trgm_ops)',
)
SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS md_goods_fts USING fts5("
    "code, name, content='md_goods', content_rowid='id', tokenize='trigram')",
    "INSERT INTO md_goods_fts(md_goods_fts) VALUES ('rebuild')",
    "CREATE TRIGGER IF NOT EXISTS md_goods_fts_insert AFTER INSERT ON md_goods BEGIN "
    "INSERT INTO md_goods_fts(rowid, code, name) VALUES (new.id, new.code, new.name); END",
    "CREATE TRIGGER IF NOT EXISTS md_goods_fts_delete AFTER DELETE ON md_goods BEGIN "
    "INSERT INTO md_goods_fts(md_goods_fts, rowid, code, name) VALUES ('delete', old.id, old.code, old.name); END",
    "CREATE TRIGGER IF NOT EXISTS md_goods_fts_update AFTER UPDATE OF code, name ON md_goods BEGIN "
    "INSERT INTO md_goods_fts(md_goods_fts, rowid, code, name) VALUES ('delete', old.id, old.code, old.name); "
    "INSERT INTO md_goods_fts(rowid, code, name) VALUES (new.id, new.code, new.name); END",
)


async def trigram_indexes() -> None:
    engine = engine_finder()
    for statement in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="masterdata", description=DESCRIPTION)
    manager.add_raw(trigram_indexes)
    return manager
