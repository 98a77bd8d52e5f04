from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T05:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "orgs: carry-in point, repair centre and a carry-in point's repair centre (issue 20)"

# (name, class, default, null, extra params); existing orgs are neither, with no centre
COLUMNS = [
    ("is_carry_in", Boolean, False, False, {}),
    ("is_repair_centre", Boolean, False, False, {}),
    ("repair_centre_id", Integer, None, True, {"index": True}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="system", description=DESCRIPTION)
    for name, column_class, default, null, extra in COLUMNS:
        manager.add_column(
            table_class_name="Org",
            tablename="org",
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
