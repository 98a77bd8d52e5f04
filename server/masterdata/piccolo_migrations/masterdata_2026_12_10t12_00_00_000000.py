from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-10T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tree nodes remember which delete removed them, so a restore brings back that subtree (issue 15)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="masterdata", description=DESCRIPTION)
    manager.add_column(
        table_class_name="TreeNode",
        tablename="md_tree_node",
        column_name="deleted_with",
        db_column_name="deleted_with",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
