from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "jobs as an outbox (issue 21): retries with backoff, one job per idempotency key, due jobs found"

# (name, class, default, null, extra params)
COLUMNS = [
    ("max_attempts", Integer, 1, False, {}),
    ("run_after", Timestamptz, None, True, {}),
    ("key", Varchar, None, True, {"length": 120}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    for name, column_class, default, null, extra in COLUMNS:
        manager.add_column(
            table_class_name="Job",
            tablename="job",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={
                "default": default,
                "null": null,
                "primary_key": False,
                "unique": False,
                "index": False,
                **extra,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )
    return manager
