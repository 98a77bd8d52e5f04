"""Tables of master data (SPEC 2). Money columns hold integer ten-thousandths (server.core.money)."""

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, OnDelete, SmallInt, Timestamptz, Varchar
from piccolo.table import Table

from server.masterdata.states import Status


class TreeNode(Table, tablename="md_tree_node"):
    """A node of one of the three trees: `kind` is category, repair_class or fault_class."""

    tenant_id = Integer(index=True)
    kind = Varchar(length=16)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict, index=True)
    name = Varchar(length=100)
    path = Varchar(length=400)  # "/<root id>/…/<own id>/", zero-padded like orgs
    depth = SmallInt(default=1)
    sort = Integer(default=0)
    status = Varchar(length=8, default=Status.ACTIVE)  # deleting a node deletes its subtree
    # the node whose delete removed this one: a restore brings back exactly that delete's nodes
    deleted_with = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class RepairCode(Table, tablename="md_repair_code"):
    tenant_id = Integer(index=True)
    code = Varchar(length=32)
    name = Varchar(length=100)
    labor_fee = BigInt(default=0)
    uses_material = Boolean(default=False)
    enabled = Boolean(default=True)
    category = ForeignKey(TreeNode, on_delete=OnDelete.restrict, index=True)
    repair_class = ForeignKey(TreeNode, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=8, default=Status.ACTIVE)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class FaultReason(Table, tablename="md_fault_reason"):
    tenant_id = Integer(index=True)
    code = Varchar(length=32)
    name = Varchar(length=100)
    enabled = Boolean(default=True)
    category = ForeignKey(TreeNode, on_delete=OnDelete.restrict, index=True)
    fault_class = ForeignKey(TreeNode, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=8, default=Status.ACTIVE)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class GoodsType(Table, tablename="md_goods_type"):
    tenant_id = Integer(index=True)
    name = Varchar(length=50)
    status = Varchar(length=8, default=Status.ACTIVE)


class Goods(Table, tablename="md_goods"):
    tenant_id = Integer(index=True)
    code = Varchar(length=64)
    name = Varchar(length=200, index=True)
    goods_type = ForeignKey(GoodsType, on_delete=OnDelete.restrict, null=True)
    category = ForeignKey(TreeNode, on_delete=OnDelete.restrict, index=True)
    unit = Varchar(length=16, default="个")
    spec = Varchar(length=200, default="")
    purchase_cost = BigInt(default=0)
    is_intake_item = Boolean(default=False)
    enabled = Boolean(default=True)
    safety_stock = Integer(default=0)
    per_store_pricing = Boolean(default=False)
    status = Varchar(length=8, default=Status.ACTIVE)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class GoodsPrice(Table, tablename="md_goods_price"):
    """The price tier of one org level (1–4) for a goods."""

    tenant_id = Integer()
    goods = ForeignKey(Goods, on_delete=OnDelete.restrict, index=True)
    level = SmallInt()
    order_price = BigInt(default=0)
    retail_price = BigInt(default=0)
    orderable = Boolean(default=True)


class GoodsStorePrice(Table, tablename="md_goods_store_price"):
    """A per-store override: documents for `org_id` settle at these prices."""

    tenant_id = Integer()
    goods = ForeignKey(Goods, on_delete=OnDelete.restrict, index=True)
    org_id = Integer()
    order_price = BigInt(default=0)
    retail_price = BigInt(default=0)


class Warehouse(Table, tablename="md_warehouse"):
    tenant_id = Integer(index=True)
    code = Varchar(length=32)
    name = Varchar(length=100)
    type = Varchar(length=16)  # general good defective scrap inspection transit repair custom
    enabled = Boolean(default=True)
    status = Varchar(length=8, default=Status.ACTIVE)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class OrgWarehouse(Table, tablename="md_org_warehouse"):
    """A warehouse definition assigned to an org: stock is held per org warehouse."""

    tenant_id = Integer(index=True)
    warehouse = ForeignKey(Warehouse, on_delete=OnDelete.restrict, index=True)
    org_id = Integer(index=True)
    enabled = Boolean(default=True)
    created_at = Timestamptz()


class Supplier(Table, tablename="md_supplier"):
    tenant_id = Integer(index=True)
    code = Varchar(length=32)
    name = Varchar(length=100)
    contact = Varchar(length=50, default="")
    phone = Varchar(length=30, default="")
    enabled = Boolean(default=True)
    status = Varchar(length=8, default=Status.ACTIVE)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DictItem(Table, tablename="md_dict_item"):
    """An item of a tenant-editable dictionary; documents store its `code`."""

    tenant_id = Integer(index=True)
    kind = Varchar(length=20)
    code = Varchar(length=32)
    name = Varchar(length=50)
    sort = Integer(default=0)
    enabled = Boolean(default=True)
