from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T04:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "uploaded files (a discrepancy's photos): bytes, sniffed type, size, sha256, owner (issue 17)"

# (name, class, default, null, extra params), as Piccolo's auto migration writes them one by one
COLUMNS = [
    ("tenant_id", Integer, 0, False, {"index": True}),
    ("owner", Varchar, "", False, {"length": 40}),
    ("owner_id", Integer, None, True, {}),
    ("filename", Varchar, "", False, {"length": 120}),
    ("content_type", Varchar, "", False, {"length": 60}),
    ("size", Integer, 0, False, {}),
    ("sha256", Varchar, "", False, {"length": 64}),
    ("width", Integer, 0, False, {}),
    ("height", Integer, 0, False, {}),
    ("data", Bytea, b"", False, {}),
    ("created_by", Integer, None, True, {}),
    ("created_by_name", Varchar, "", False, {"length": 100}),
    ("created_at", Timestamptz, TimestamptzNow(), False, {}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="Upload", tablename="upload", schema=None, columns=None)
    for name, column_class, default, null, extra in COLUMNS:
        manager.add_column(
            table_class_name="Upload",
            tablename="upload",
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
