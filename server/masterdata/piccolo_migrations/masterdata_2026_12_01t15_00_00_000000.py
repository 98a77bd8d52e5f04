from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

ID = "2026-12-01T15:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "codes unique per tenant ignoring case"

# `ip15p-bat-t1` was accepted beside `IP15P-BAT-T1`. Each code is now unique per tenant on
# lower(code) (deleted rows keep theirs, as before, so a restore never collides); the code is
# still stored as typed. Codes hold ASCII only (the services' patterns), where SQLite's and
# PostgreSQL's lower() agree with Python's str.lower(). Rows that already differ only in case
# are not renamed behind their users' backs: the migration stops and names them.
TABLES = ("md_goods", "md_warehouse", "md_supplier", "md_repair_code", "md_fault_reason")


async def case_insensitive(table: str) -> None:
    engine = engine_finder()
    clashes = await engine.run_querystring(
        QueryString(
            f'SELECT "tenant_id", lower("code") AS "key", count(*) AS "n" FROM "{table}" '
            'GROUP BY "tenant_id", lower("code") HAVING count(*) > 1'
        )
    )
    if clashes:
        named = ", ".join(f"tenant {c['tenant_id']}: {c['key']} ×{c['n']}" for c in clashes[:20])
        raise RuntimeError(f"{table}: codes that differ only in case, rename them first ({named})")
    await engine.run_ddl(f'DROP INDEX IF EXISTS "{table}_tenant_id_code_uniq"')
    await engine.run_ddl(
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_tenant_id_lower_code_uniq" '
        f'ON "{table}" ("tenant_id", lower("code"))'
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="masterdata", description=DESCRIPTION)

    async def run() -> None:
        for table in TABLES:
            await case_insensitive(table)

    manager.add_raw(run)
    return manager
