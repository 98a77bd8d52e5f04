from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-07T04:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "uploaded files: an owner row's files are read with the row"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_raw(raw_sql(index("upload", "owner", "owner_id")))
    return manager
