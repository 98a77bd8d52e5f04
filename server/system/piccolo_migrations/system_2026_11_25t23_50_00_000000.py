from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-11-25T23:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "covering index for the user list"

# The user list (bench/pages.py: 50,000 users) pages by id within a tenant, scopes by org,
# filters by status and searches account/name/phone with LIKE '%…%', which no ordinary index
# can serve. With these columns in one index the walk, the count and the search read only the
# index, never the wider table rows (password hash, timestamps…).


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="system", description=DESCRIPTION)
    manager.add_raw(raw_sql(index("app_user", "tenant_id", "id", "org", "status", "account", "name", "phone")))
    return manager
