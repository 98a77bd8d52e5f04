"""API shapes of system management (hand-written msgspec Structs, see ARCHITECTURE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from server.core.api import Filters


class TokenRequest(Struct):
    login: str
    password: str
    otp: str | None = None


class TokenOut(Struct):
    token: str
    expires_at: str


class OrgCreate(Struct):
    code: str
    name: str
    parent_id: int
    level: int | UnsetType = UNSET  # one below the parent's (at most 4) unless given
    enabled: bool = True
    contact: str = ""
    phone: str = ""
    address: str = ""
    remark: str = ""
    is_carry_in: bool = False  # 接机点: needs `repair_centre_id`
    is_repair_centre: bool = False  # 维修中心
    repair_centre_id: int | None = None  # an org of the tenant marked 维修中心, not the org itself


class OrgPatch(Struct):
    """`code` and `parent_id` are accepted only unchanged: both are immutable."""

    code: str | UnsetType = UNSET
    parent_id: int | None | UnsetType = UNSET
    name: str | UnsetType = UNSET
    level: int | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    contact: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    address: str | UnsetType = UNSET
    remark: str | UnsetType = UNSET
    is_carry_in: bool | UnsetType = UNSET
    is_repair_centre: bool | UnsetType = UNSET
    repair_centre_id: int | None | UnsetType = UNSET


class OrgOut(Struct):
    id: int
    code: str
    name: str
    parent_id: int | None
    kind: str
    level: int
    depth: int
    enabled: bool
    status: str
    contact: str
    phone: str
    address: str
    remark: str
    is_carry_in: bool
    is_repair_centre: bool
    repair_centre_id: int | None


class RoleCreate(Struct):
    name: str
    org_kind: str
    permissions: list[str] = msgspec.field(default_factory=list)
    remark: str = ""


class RolePatch(Struct):
    """`org_kind` is accepted only unchanged: it is immutable."""

    name: str | UnsetType = UNSET
    org_kind: str | UnsetType = UNSET
    permissions: list[str] | UnsetType = UNSET
    remark: str | UnsetType = UNSET


class RoleOut(Struct):
    id: int
    name: str
    org_kind: str
    permissions: list[str]
    status: str
    builtin: bool
    remark: str


class UserCreate(Struct):
    org_id: int
    account: str
    name: str
    password: str
    role_ids: list[int]
    phone: str = ""
    email: str = ""
    enabled: bool = True


class UserPatch(Struct):
    """`org_id` and `account` are accepted only unchanged: both are immutable."""

    org_id: int | UnsetType = UNSET
    account: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    phone: str | UnsetType = UNSET
    email: str | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET
    role_ids: list[int] | UnsetType = UNSET


class UserOut(Struct):
    id: int
    org_id: int
    org_name: str
    account: str
    login_name: str
    name: str
    phone: str
    email: str
    enabled: bool
    status: str
    otp_enrolled: bool
    role_ids: list[int]
    role_names: list[str]
    last_login_at: datetime | None
    created_at: datetime


class PasswordReset(Struct):
    """`new_password` is accepted as an alias of `password`."""

    password: str | None = None
    new_password: str | None = None


class OtpSecretOut(Struct):
    secret: str
    otp_uri: str
    qr_svg: str


class OtpEnrol(Struct):
    secret: str
    otp: str


class OtpStatus(Struct):
    otp_enrolled: bool


class PasswordChange(Struct):
    old_password: str
    new_password: str


class PasswordChanged(Struct):
    detail: str


class PermissionNode(Struct):
    code: str
    label: str
    kind: str
    children: list[PermissionNode]


class AuditOut(Struct):
    id: int
    user_id: int | None
    user_name: str
    action: str
    entity: str
    entity_id: int | None
    summary: str
    before: Any
    after: Any
    created_at: datetime


class SettingsOut(Struct):
    code: str
    name: str
    tz: str
    max_org_depth: int
    require_otp: bool
    credit_four_eyes: bool


class SettingsPatch(Struct):
    max_org_depth: int | UnsetType = UNSET
    require_otp: bool | UnsetType = UNSET
    credit_four_eyes: bool | UnsetType = UNSET


class MeOut(Struct):
    user_id: int
    account: str
    login_name: str
    name: str
    tenant_code: str
    org_id: int
    org_name: str
    org_kind: str
    permissions: list[str]


# --- list filters: declared once, read by the API (`provide()`), the pages (`from_query`) -------


class OrgFilters(Filters):
    q: str = ""
    status: str = ""
    enabled: str = ""
    level: str = ""
    parent_id: str = ""
    kind: str = ""


class RoleFilters(Filters):
    q: str = ""
    org_kind: str = ""
    status: str = ""


class UserFilters(Filters):
    q: str = ""
    org_id: str = ""
    org_q: str = ""  # the code or name of the user's org (a search box)
    role_id: str = ""
    status: str = ""
    enabled: str = ""


class AuditFilters(Filters):
    q: str = ""
    entity: str = ""
    action: str = ""
