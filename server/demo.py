"""The demo tenant DEMO: a living network a new user can explore at once. Loaded once: what a
user changes or deletes stays; `python -m server demo --reset` starts it over."""

from __future__ import annotations

from server import domains  # noqa: F401  (registers codes and hooks)
from server.core import permissions
from server.core.pagination import PageParams
from server.core.states import OrgKind, RowStatus
from server.gsx import demo as gsx_demo
from server.inventory import demo as inventory_demo
from server.masterdata import demo as masterdata_demo
from server.notices import demo as notices_demo
from server.queue import demo as queue_demo
from server.queue.services import devices
from server.queue.states import DeviceKind
from server.system.services import orgs, roles, tenants, users
from server.system.tables import Tenant
from server.workorders import permissions as WO

CODE = "DEMO"
PASSWORD = "demo1234"

# (code, name, parent code, level, contact, phone, address)
ORGS = [
    ("EAST", "华东大区", "HQ", 2, "王磊", "021-60001000", "上海市黄浦区南京东路 100 号"),
    ("SH01", "上海徐汇服务中心", "EAST", 3, "李娜", "021-64001234", "上海市徐汇区漕溪北路 88 号"),
    ("SH01-PD", "浦东张江站", "SH01", 4, "赵强", "021-58001234", "上海市浦东新区张江路 500 号"),
    ("HZ01", "杭州西湖服务中心", "EAST", 3, "陈静", "0571-87001234", "杭州市西湖区文三路 20 号"),
    ("SOUTH", "华南大区", "HQ", 2, "刘洋", "020-38001000", "广州市天河区天河路 208 号"),
    ("GZ01", "广州天河服务中心", "SOUTH", 3, "黄敏", "020-38881234", "广州市天河区体育西路 1 号"),
    ("GZ01-PY", "番禺市桥站", "GZ01", 4, "周杰", "020-84801234", "广州市番禺区清河东路 9 号"),
    ("BJ01", "北京中关村直营店", "HQ", 2, "孙悦", "010-62001234", "北京市海淀区中关村大街 27 号"),
]

SYSTEM_VIEW = ["system.org.view", "system.user.view"]


def modules(*names: str) -> list[str]:
    """Every permission code of some menu modules (a module's own code grants nothing below it)."""
    return sorted(c for c in permissions.all_codes() if c.split(".")[0] in names)


# the front desk takes in, edits, assigns and closes; the technician repairs; the manager does all
FRONT_DESK = [WO.INTAKE_VIEW, WO.INTAKE, WO.VIEW, WO.UPDATE, WO.ASSIGN, WO.CLOSE, WO.CANCEL, WO.EXPORT]
TECHNICIAN = [WO.VIEW, WO.REPAIR, WO.MINE]

ROLES = [
    ("总部管理员", OrgKind.HQ, modules("system")),
    (
        "网点经理",
        OrgKind.BRANCH,
        SYSTEM_VIEW
        + [
            "system.user.create",
            "system.user.update",
            "system.user.reset_password",
            "system.user.export",
            "system.org.export",
            *modules("workorders", "inventory", "queue", "credit", "logistics"),
        ],
    ),
    ("前台接待", OrgKind.BRANCH, [*FRONT_DESK, *modules("queue")]),
    ("维修技师", OrgKind.BRANCH, TECHNICIAN),
    ("仓库管理员", OrgKind.BRANCH, modules("inventory", "logistics")),
    ("总部仓库管理员", OrgKind.HQ, modules("inventory", "masterdata", "logistics")),
]

# (account, name, org code, role names, phone)
USERS = [
    ("hq.admin", "钱总", "HQ", ["总部管理员"], "13800000001"),
    ("hq.wh", "吴仓管", "HQ", ["总部仓库管理员"], "13800000002"),
    ("east.manager", "王磊", "EAST", ["网点经理"], "13600000001"),  # reviews SH01's and HZ01's orders
    ("sh.manager", "李娜", "SH01", ["网点经理"], "13900000001"),
    ("sh.front", "郑前台", "SH01", ["前台接待"], "13900000002"),
    ("sh.tech", "冯师傅", "SH01", ["维修技师"], "13900000003"),
    ("sh.wh", "何仓管", "SH01", ["仓库管理员"], "13900000004"),
    ("pd.tech", "赵师傅", "SH01-PD", ["维修技师"], "13900000005"),
    ("gz.manager", "黄敏", "GZ01", ["网点经理"], "13700000001"),
    ("gz.front", "林前台", "GZ01", ["前台接待"], "13700000002"),
    ("gz.tech", "邓师傅", "GZ01", ["维修技师"], "13700000003"),
]


async def load(reset: bool = False, base_url: str = "http://127.0.0.1:8000") -> None:
    if reset and await tenants.purge(CODE):
        print(f"demo tenant {CODE} removed")
    if await Tenant.exists().where(Tenant.code == CODE):
        print(f"demo tenant {CODE} already loaded (python -m server demo --reset starts it over)")
    else:
        await _fill()
    if gsx_demo.wanted():  # WEIFU_FAKE_GSX=1: GSX against the fake (make run starts it)
        await gsx_demo.configure(await tenants.platform_ctx(CODE))
    if notices_demo.wanted():  # WEIFU_FAKE_SMS=1: SMS notices to the fake gateway (make run starts it)
        await notices_demo.configure(await tenants.platform_ctx(CODE))
    _links(base_url)


def _links(base_url: str) -> None:
    base = base_url.rstrip("/")
    print(f"demo tenant {CODE}: open {base}/login and log in as admin@{CODE} / {PASSWORD}")
    for code in queue_demo.ORGS:
        for kind in DeviceKind:
            print(f"  {code} {kind.label}: {base}{devices.path_for(kind, queue_demo.demo_token(code, kind))}")
        print(f"  {code} 网上预约: {base}/book/{queue_demo.booking_token(code)}")


async def _fill() -> None:
    await tenants.create(CODE, "演示公司", PASSWORD)
    ctx = await tenants.platform_ctx(CODE)
    existing = {o["code"]: o for o in await orgs.choices(ctx)}
    for code, name, parent, level, contact, phone, address in ORGS:
        if code not in existing:
            existing[code] = await orgs.create(
                ctx,
                {
                    "code": code,
                    "name": name,
                    "parent_id": existing[parent]["id"],
                    "level": level,
                    "contact": contact,
                    "phone": phone,
                    "address": address,
                },
            )
    role_ids = {r["name"]: r["id"] for r in (await roles.search(ctx, status=RowStatus.ACTIVE)).items}
    for name, kind, codes in ROLES:
        if name in role_ids:  # an older demo's role gets the codes added since
            await roles.update(ctx, role_ids[name], {"permissions": codes})
        else:
            role_ids[name] = (await roles.create(ctx, {"name": name, "org_kind": kind, "permissions": codes}))["id"]
    have = {u["account"] for u in (await users.search(ctx, params=PageParams(1, 1000))).items}
    for account, name, org_code, role_names, phone in USERS:
        if account not in have:
            await users.create(
                ctx,
                {
                    "org_id": existing[org_code]["id"],
                    "account": account,
                    "name": name,
                    "phone": phone,
                    "password": PASSWORD,
                    "role_ids": [role_ids[r] for r in role_names],
                },
            )
    await masterdata_demo.load(ctx)
    await inventory_demo.load(ctx)
    await queue_demo.load(ctx, existing)
