"""Master data of the demo tenant: an Apple service network's categories, repair and fault
trees, codes, 200+ goods with tiered prices and a few per-store overrides, warehouses of every
type assigned to every org, suppliers. Idempotent: existing rows (by code or name) are kept."""

from __future__ import annotations

from decimal import Decimal

from server.core.pagination import PageParams
from server.core.tenancy import Ctx
from server.masterdata.services import codes, goods, suppliers, trees, warehouses
from server.masterdata.states import TreeKind, WarehouseType
from server.system.services import orgs

ALL = PageParams(1, 100_000)

CATEGORIES = {
    "iPhone": ["iPhone 15 Pro", "iPhone 15", "iPhone 14", "iPhone 13"],
    "iPad": ["iPad Pro 11", "iPad Air", "iPad 10"],
    "Mac": ["MacBook Air M2", "MacBook Pro 14"],
    "Watch": ["Apple Watch Series 9", "Apple Watch Ultra 2"],
}
REPAIR_CLASSES = {"硬件维修": ["屏幕", "电池", "摄像头", "主板", "外壳与按键"], "软件服务": ["系统恢复", "数据迁移"]}
FAULT_CLASSES = {
    "显示故障": ["屏幕碎裂", "显示异常", "触摸失灵"],
    "电源故障": ["不开机", "电池老化", "无法充电"],
    "外观与进液": ["进液", "外壳变形"],
    "功能故障": ["无声音", "摄像头故障", "无信号"],
}

# (code suffix, name, repair class, labor fee, uses material)
REPAIRS = [
    ("SCR", "更换屏幕总成", "屏幕", "80", True),
    ("BAT", "更换电池", "电池", "50", True),
    ("CAM", "更换后摄像头", "摄像头", "60", True),
    ("MB", "主板维修", "主板", "200", True),
    ("HSG", "更换后盖/外壳", "外壳与按键", "70", True),
    ("RST", "系统恢复", "系统恢复", "30", False),
    ("DATA", "数据迁移", "数据迁移", "50", False),
]
# (code suffix, name, fault class)
FAULTS = [
    ("F01", "屏幕摔碎", "屏幕碎裂"),
    ("F02", "花屏/闪屏", "显示异常"),
    ("F03", "触摸无反应", "触摸失灵"),
    ("F04", "按电源键无反应", "不开机"),
    ("F05", "电池健康度低于 80%", "电池老化"),
    ("F06", "插电无反应", "无法充电"),
    ("F07", "进水", "进液"),
    ("F08", "扬声器无声", "无声音"),
    ("F09", "拍照模糊", "摄像头故障"),
]
PARTS = {
    "iPhone": [
        ("屏幕总成", 620),
        ("电池", 160),
        ("后摄像头模组", 380),
        ("前摄像头", 150),
        ("充电口排线", 90),
        ("扬声器", 60),
        ("听筒", 45),
        ("后盖玻璃", 210),
        ("中框", 260),
        ("主板", 1800),
        ("电源键排线", 40),
        ("音量键排线", 40),
        ("SIM 卡托", 15),
        ("无线充电线圈", 120),
        ("Face ID 模组", 520),
        ("摄像头玻璃", 35),
        ("振动马达", 55),
        ("闪光灯排线", 45),
        ("WiFi 天线", 65),
        ("尾插螺丝套装", 10),
    ],
    "iPad": [
        ("屏幕总成", 1100),
        ("电池", 320),
        ("后摄像头", 260),
        ("前摄像头", 140),
        ("充电口排线", 110),
        ("扬声器", 90),
        ("主板", 2400),
        ("外壳", 480),
        ("电源键排线", 50),
        ("音量键排线", 50),
        ("智能接口", 80),
        ("麦克风", 40),
    ],
    "Mac": [
        ("屏幕总成", 2600),
        ("电池", 780),
        ("键盘", 650),
        ("触控板", 540),
        ("主板", 5200),
        ("风扇", 180),
        ("扬声器", 220),
        ("USB-C 接口板", 260),
        ("摄像头", 300),
        ("底壳", 420),
        ("电源适配器", 280),
        ("显示屏排线", 160),
        ("Touch ID 按键", 350),
        ("转轴", 240),
    ],
    "Watch": [
        ("屏幕总成", 980),
        ("电池", 260),
        ("表冠", 120),
        ("侧边按钮", 80),
        ("后盖传感器", 360),
        ("扬声器", 70),
        ("表带", 150),
        ("主板", 1500),
        ("麦克风", 50),
        ("充电线", 90),
    ],
}
UNITS = {  # whole units the front desk takes in: (variant names, base cost)
    "iPhone": (["128GB 黑色", "256GB 蓝色", "512GB 白色", "256GB 黑色", "1TB 原色"], 5200),
    "iPad": (["64GB 银色", "256GB 深空灰", "512GB 银色"], 3600),
    "Mac": (["8GB/256GB", "16GB/512GB", "24GB/1TB"], 7800),
    "Watch": (["GPS 41mm", "GPS 45mm", "蜂窝 45mm"], 2600),
}
WAREHOUSES = [
    ("WH-GEN", "通用库", WarehouseType.GENERAL),
    ("WH-GOOD", "良品库", WarehouseType.GOOD),
    ("WH-BAD", "坏品库", WarehouseType.DEFECTIVE),
    ("WH-SCRAP", "报废库", WarehouseType.SCRAP),
    ("WH-INSP", "审核库", WarehouseType.INSPECTION),
    ("WH-TRANS", "中转库", WarehouseType.TRANSIT),
    ("WH-REPAIR", "维修库", WarehouseType.REPAIR),
]
SUPPLIERS = [
    ("SUP-APPLE", "苹果电脑贸易（上海）有限公司", "张经理", "021-50001111"),
    ("SUP-FOX", "富士康精密组件（深圳）有限公司", "陈经理", "0755-28001234"),
    ("SUP-LOCAL", "本地配件供应商", "王先生", "13600000000"),
]
TIERS = (Decimal("1.05"), Decimal("1.10"), Decimal("1.15"), Decimal("1.20"))


async def _tree(ctx: Ctx, kind: str, spec: dict[str, list[str]], root: str | None = None) -> dict[str, dict]:
    """Create a two-level tree (under `root` when given) and return its nodes by name."""
    nodes = {n["name"]: n for n in await trees.listing(ctx, kind)}

    async def node(name: str, parent: dict | None) -> dict:
        if name not in nodes:
            nodes[name] = await trees.create(ctx, kind, {"name": name, "parent_id": parent["id"] if parent else None})
        return nodes[name]

    top = await node(root, None) if root else None
    for main, subs in spec.items():
        parent = await node(main, top)
        for sub in subs:
            await node(sub, parent)
    return nodes


def _prices(cost: int) -> list[dict]:
    retail = Decimal(cost) * Decimal("1.6")
    return [
        {"level": i + 1, "order_price": str(Decimal(cost) * f), "retail_price": str(retail), "orderable": True}
        for i, f in enumerate(TIERS)
    ]


async def load(ctx: Ctx) -> None:
    categories = await _tree(ctx, TreeKind.CATEGORY, CATEGORIES, root="Apple")
    repair_classes = await _tree(ctx, TreeKind.REPAIR_CLASS, REPAIR_CLASSES)
    fault_classes = await _tree(ctx, TreeKind.FAULT_CLASS, FAULT_CLASSES)

    have_codes = {r["code"] for r in (await codes.search(ctx, "repair_code", params=ALL)).items}
    have_faults = {r["code"] for r in (await codes.search(ctx, "fault_reason", params=ALL)).items}
    for line in CATEGORIES:
        prefix = line.upper()[:3]
        for suffix, name, cls, fee, material in REPAIRS:
            code = f"{prefix}-{suffix}"
            if code not in have_codes:
                await codes.create(
                    ctx,
                    "repair_code",
                    {
                        "code": code,
                        "name": f"{line} {name}",
                        "labor_fee": fee,
                        "uses_material": material,
                        "category_id": categories[line]["id"],
                        "repair_class_id": repair_classes[cls]["id"],
                    },
                )
        for suffix, name, cls in FAULTS:
            code = f"{prefix}-{suffix}"
            if code not in have_faults:
                await codes.create(
                    ctx,
                    "fault_reason",
                    {
                        "code": code,
                        "name": name,
                        "category_id": categories[line]["id"],
                        "fault_class_id": fault_classes[cls]["id"],
                    },
                )

    types = {t["name"]: t["id"] for t in await goods.goods_types(ctx)}
    have_goods = {g["code"] for g in (await goods.search(ctx, params=ALL)).items}
    branch_sh = next(o for o in await orgs.choices(ctx) if o["code"] == "SH01")
    for line, models in CATEGORIES.items():
        variants, unit_cost = UNITS[line]
        for m, model in enumerate(models, start=1):
            base = f"{line.upper()[:3]}{m:02d}"
            items = [
                (f"{base}-U{v + 1}", f"{model} {name}", "整机", unit_cost + 600 * m + 400 * v, True)
                for v, name in enumerate(variants)
            ]
            items += [
                (f"{base}-P{p + 1:02d}", f"{model} {part}", "配件", cost + 20 * m, False)
                for p, (part, cost) in enumerate(PARTS[line])
            ]
            for code, name, gtype, cost, intake in items:
                if code in have_goods:
                    continue
                override = code.endswith(("-P01", "-P02")) and m == 1
                await goods.create(
                    ctx,
                    {
                        "code": code,
                        "name": name,
                        "category_id": categories[model]["id"],
                        "goods_type_id": types[gtype],
                        "unit": "台" if intake else "个",
                        "spec": model,
                        "purchase_cost": str(cost),
                        "is_intake_item": intake,
                        "safety_stock": 0 if intake else 5,
                        "per_store_pricing": override,
                        "prices": _prices(cost),
                        "store_prices": [
                            {
                                "org_id": branch_sh["id"],
                                "order_price": str(Decimal(cost) * Decimal("1.02")),
                                "retail_price": str(Decimal(cost) * Decimal("1.5")),
                            }
                        ]
                        if override
                        else [],
                    },
                )

    have_wh = {w["code"]: w for w in (await warehouses.search(ctx, params=ALL)).items}
    for code, name, wtype in WAREHOUSES:
        if code not in have_wh:
            have_wh[code] = await warehouses.create(ctx, {"code": code, "name": name, "type": wtype})
    await warehouses.assign(ctx, [w["id"] for w in have_wh.values()], [o["id"] for o in await orgs.choices(ctx)])

    have_sup = {s["code"] for s in (await suppliers.search(ctx, params=ALL)).items}
    for code, name, contact, phone in SUPPLIERS:
        if code not in have_sup:
            await suppliers.create(ctx, {"code": code, "name": name, "contact": contact, "phone": phone})
