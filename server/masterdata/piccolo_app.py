import os

from piccolo.conf.apps import AppConfig

from server.masterdata.tables import (
    DictItem,
    FaultReason,
    Goods,
    GoodsPrice,
    GoodsStorePrice,
    GoodsType,
    OrgWarehouse,
    RepairCode,
    Supplier,
    TreeNode,
    Warehouse,
)

APP_CONFIG = AppConfig(
    app_name="masterdata",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        TreeNode,
        RepairCode,
        FaultReason,
        GoodsType,
        Goods,
        GoodsPrice,
        GoodsStorePrice,
        Warehouse,
        OrgWarehouse,
        Supplier,
        DictItem,
    ],
)
