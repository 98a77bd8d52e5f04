from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T22:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "background jobs: status, progress and outcome of a job run after commit (issue 15, item 8)"

# (name, class, default, null, extra params), as Piccolo's auto migration writes them one by one
COLUMNS = [
    ("tenant_id", Integer, 0, False, {"index": True}),
    ("name", Varchar, "", False, {"length": 60}),
    ("status", Varchar, "", False, {"length": 10}),
    ("done", Integer, 0, False, {}),
    ("total", Integer, 0, False, {}),
    ("actor", JSON, "{}", False, {}),
    ("args", JSON, "{}", False, {}),
    ("data", Bytea, b"", True, {}),
    ("result", JSON, None, True, {}),
    ("error", Text, "", True, {}),
    ("attempts", Integer, 0, False, {}),
    ("created_by", Integer, 0, True, {}),
    ("created_at", Timestamptz, TimestamptzNow(), False, {}),
    ("started_at", Timestamptz, TimestamptzNow(), True, {}),
    ("finished_at", Timestamptz, TimestamptzNow(), True, {}),
    ("updated_at", Timestamptz, TimestamptzNow(), False, {}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="Job", tablename="job", schema=None, columns=None)
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
