"""Tables of system management (SPEC 0–1)."""

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from server.core import tenancy
from server.core.states import RowStatus


class Tenant(Table, tablename="tenant"):
    code = Varchar(length=16, unique=True)
    name = Varchar(length=100)
    max_org_depth = SmallInt(default=5)
    require_otp = Boolean(default=False)
    credit_four_eyes = Boolean(default=False)
    tz = Varchar(length=40, default="Asia/Shanghai")
    created_at = Timestamptz()


class Org(Table, tablename="org"):
    tenant_id = Integer(index=True)
    code = Varchar(length=32)
    name = Varchar(length=100)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=8)  # an OrgKind
    level = SmallInt(default=1)  # price tier 1–4
    depth = SmallInt(default=1)  # root = 1
    path = Varchar(length=400, index=True)  # "/<root id>/…/<own id>/"
    enabled = Boolean(default=True)
    status = Varchar(length=8, default=RowStatus.ACTIVE)
    contact = Varchar(length=50, default="")
    phone = Varchar(length=30, default="")
    address = Varchar(length=200, default="")
    remark = Varchar(length=500, default="")
    is_carry_in = Boolean(default=False)  # 接机点: sends devices to its repair centre (issue 20)
    is_repair_centre = Boolean(default=False)  # 维修中心: repairs devices other orgs send
    repair_centre_id = Integer(null=True, default=None, index=True)  # a carry-in point's centre
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Role(Table, tablename="role"):
    tenant_id = Integer(index=True)
    name = Varchar(length=50)
    org_kind = Varchar(length=8)  # an OrgKind
    permissions = JSON(default="[]")
    builtin = Boolean(default=False)  # 超级管理员: every permission, not editable
    status = Varchar(length=8, default=RowStatus.ACTIVE)
    remark = Varchar(length=200, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class User(Table, tablename="app_user"):
    tenant_id = Integer(index=True)
    org = ForeignKey(Org, on_delete=OnDelete.restrict, index=True)
    account = Varchar(length=50)
    account_key = Varchar(length=50)  # lower-cased account: login is case-insensitive
    name = Varchar(length=50, index=True)
    phone = Varchar(length=30, default="", index=True)
    email = Varchar(length=100, default="")
    enabled = Boolean(default=True)
    status = Varchar(length=8, default=RowStatus.ACTIVE)
    password_hash = Text()
    otp_secret = Varchar(length=64, null=True, default=None)
    otp_last_step = Integer(default=0)  # last accepted TOTP time step: a code works once
    auth_epoch = Integer(default=0)  # bumped on password reset: older sessions and tokens die
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class UserRole(Table, tablename="user_role"):
    tenant_id = Integer()
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    role = ForeignKey(Role, on_delete=OnDelete.restrict, index=True)


class ApiToken(Table, tablename="api_token"):
    tenant_id = Integer()
    user = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
    created_at = Timestamptz()


tenancy.use_org_table(Org)
