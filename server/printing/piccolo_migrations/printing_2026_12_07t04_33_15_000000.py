from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from server.core.migrations import index, raw_sql

ID = "2026-12-07T04:33:15:000000"
VERSION = "1.38.0"
DESCRIPTION = "print templates: the list by type, and one default per type among active templates"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="printing", description=DESCRIPTION)
    manager.add_raw(
        raw_sql(
            index("pr_template", "tenant_id", "doc_type", "status"),
            'CREATE UNIQUE INDEX IF NOT EXISTS "pr_template_one_default_uniq" ON "pr_template" '
            '("tenant_id", "doc_type") WHERE "is_default" AND "status" = \'active\'',
        )
    )
    return manager
