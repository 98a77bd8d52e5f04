"""API shapes of master data (hand-written msgspec Structs). Money is a string with 4 decimals."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType


class TreeNodeIn(Struct):
    name: str
    parent_id: int | None = None
    sort: int = 0


class TreeNodePatch(Struct):
    name: str | UnsetType = UNSET
    sort: int | UnsetType = UNSET
    parent_id: int | None | UnsetType = UNSET


class TreeNodeOut(Struct):
    id: int
    kind: str
    parent_id: int | None
    name: str
    depth: int
    sort: int
    status: str


class RepairCodeIn(Struct):
    code: str
    name: str
    category_id: int
    repair_class_id: int
    labor_fee: str = "0"
    uses_material: bool = False
    enabled: bool = True


class RepairCodePatch(Struct):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    category_id: int | UnsetType = UNSET
    repair_class_id: int | UnsetType = UNSET
    labor_fee: str | UnsetType = UNSET
    uses_material: bool | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class RepairCodeOut(Struct):
    id: int
    code: str
    name: str
    labor_fee: str
    uses_material: bool
    enabled: bool
    status: str
    category_id: int
    category_name: str
    repair_class_id: int
    repair_class_name: str


class FaultReasonIn(Struct):
    code: str
    name: str
    category_id: int
    fault_class_id: int
    enabled: bool = True


class FaultReasonPatch(Struct):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    category_id: int | UnsetType = UNSET
    fault_class_id: int | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class FaultReasonOut(Struct):
    id: int
    code: str
    name: str
    enabled: bool
    status: str
    category_id: int
    category_name: str
    fault_class_id: int
    fault_class_name: str


class PriceTier(Struct):
    level: int
    order_price: str = "0"
    retail_price: str = "0"
    orderable: bool = True


class StorePrice(Struct):
    org_id: int
    order_price: str = "0"
    retail_price: str = "0"
    org_name: str = ""


class GoodsIn(Struct):
    code: str
    name: str
    category_id: int
    goods_type_id: int | None = None
    unit: str = "个"
    spec: str = ""
    purchase_cost: str = "0"
    is_intake_item: bool = False
    enabled: bool = True
    safety_stock: int = 0
    per_store_pricing: bool = False
    prices: list[PriceTier] = []
    store_prices: list[StorePrice] = []


class GoodsPatch(Struct):
    code: str | UnsetType = UNSET
    category_id: int | UnsetType = UNSET
    name: str | UnsetType = UNSET
    goods_type_id: int | None | UnsetType = UNSET
    unit: str | UnsetType = UNSET
    spec: str | UnsetType = UNSET
    purchase_cost: str | UnsetType = UNSET
    is_intake_item: bool | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    safety_stock: int | UnsetType = UNSET
    per_store_pricing: bool | UnsetType = UNSET
    prices: list[PriceTier] | UnsetType = UNSET
    store_prices: list[StorePrice] | UnsetType = UNSET


class GoodsOut(Struct):
    id: int
    code: str
    name: str
    goods_type_id: int | None
    goods_type_name: str
    category_id: int
    category_name: str
    unit: str
    spec: str
    purchase_cost: str
    is_intake_item: bool
    enabled: bool
    safety_stock: int
    per_store_pricing: bool
    status: str
    prices: list[PriceTier]
    store_prices: list[StorePrice]


class PriceOut(Struct):
    goods_id: int
    org_id: int
    order_price: str
    retail_price: str
    orderable: bool
    source: str


class GoodsTypeIn(Struct):
    name: str


class GoodsTypeOut(Struct):
    id: int
    name: str
    status: str


class WarehouseIn(Struct):
    code: str
    name: str
    type: str
    enabled: bool = True


class WarehousePatch(Struct):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    type: str | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class WarehouseOut(Struct):
    id: int
    code: str
    name: str
    type: str
    enabled: bool
    status: str


class AssignIn(Struct):
    warehouse_ids: list[int]
    org_ids: list[int]


class AssignmentPatch(Struct):
    enabled: bool


class AssignmentOut(Struct):
    id: int
    warehouse_id: int
    org_id: int
    enabled: bool
    usable: bool
    warehouse_code: str
    warehouse_name: str
    warehouse_type: str
    org_code: str
    org_name: str


class SupplierIn(Struct):
    code: str
    name: str
    contact: str = ""
    phone: str = ""
    enabled: bool = True


class SupplierPatch(Struct):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    contact: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class SupplierOut(Struct):
    id: int
    code: str
    name: str
    contact: str
    phone: str
    enabled: bool
    status: str


class DictItemIn(Struct):
    code: str
    name: str
    sort: int = 0
    enabled: bool = True


class DictItemPatch(Struct):
    code: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    sort: int | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class DictItemOut(Struct):
    id: int
    kind: str
    code: str
    name: str
    sort: int
    enabled: bool


class ImportOut(Struct):
    imported: int  # goods created (an import only adds new goods)


class UsageOut(Struct):
    """One count of what a delete would take out of use; `blocking` counts above zero refuse it."""

    key: str  # subnodes goods repair_codes fault_reasons orgs stock_qty open_docs
    label: str
    count: int
    blocking: bool


class ImpactOut(Struct):
    """What deleting a row would take out of use, and why it is refused (`refusal`, "" if not)."""

    id: int
    name: str
    counts: list[UsageOut]
    refusal: str
