from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import raw_sql

ID = "2026-11-26T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering indexes for the goods list and picker"

# The goods list and picker (bench/masterdata.py: 100,000 goods) order by code and search with
# `code LIKE 'q%' OR name LIKE '%q%'`, which no ordinary index can serve: a search with few or no
# hits, and every count, looks at each goods of the tenant. These two indexes hold every column the
# filters read, so that walk reads only the narrow index, never the table rows: the first in code
# order (the rows of a page and the picker stop after enough hits), the second by category (counts
# within a category subtree, which would otherwise scan the first). Named here: the helper's name
# would pass PostgreSQL's 63 characters. They also keep SQLite's planner on the code order once
# ANALYZE statistics exist; without them it then sorted every usable goods for each picker search.
COLUMNS = '"name", "goods_type", "status", "enabled", "is_intake_item"'


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="masterdata", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            'CREATE INDEX IF NOT EXISTS "md_goods_code_cover_idx" '
            f'ON "md_goods" ("tenant_id", "code", "category", {COLUMNS})',
            'CREATE INDEX IF NOT EXISTS "md_goods_category_cover_idx" '
            f'ON "md_goods" ("tenant_id", "category", "code", {COLUMNS})',
        )
    )
    return manager
