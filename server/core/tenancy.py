"""The caller's context: tenant, user, org and permissions. Every service takes one first."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from piccolo.columns import Column, ForeignKey, Integer
from piccolo.columns.combination import Combinable

from server.core.errors import Forbidden
from server.core.states import OrgKind


@dataclass(frozen=True)
class Ctx:
    tenant_id: int
    tenant_code: str
    org_id: int
    org_path: str  # materialised path of the caller's org, e.g. "/1/5/": its subtree is path LIKE "/1/5/%"
    org_kind: str  # an OrgKind
    user_id: int | None = None  # None for the platform CLI acting inside a tenant
    user_name: str = "系统"
    tenant_name: str = ""
    org_name: str = ""
    account: str = ""
    tz: str = "Asia/Shanghai"
    permissions: frozenset[str] = field(default_factory=frozenset)
    super_admin: bool = False  # holds the built-in 超级管理员 role
    device_id: int | None = None  # a queue kiosk or TV acting with its token, not a person
    device_kind: str = ""  # "kiosk" | "tv"
    features: frozenset[str] = field(default_factory=frozenset)  # turned on by the tenant (hooks.features)

    @property
    def is_hq(self) -> bool:
        return self.org_kind == OrgKind.HQ

    @property
    def login_name(self) -> str:
        return f"{self.account}@{self.tenant_code}"

    @property
    def sees_everything(self) -> bool:
        """At the tenant's root org ("/<root id>/"), whose subtree is the whole tenant."""
        return self.org_path.count("/") <= 2

    def can(self, code: str) -> bool:
        """Whether to show an action. Routes declare what they need (`opt={"perm": …}`); a
        service never checks a permission code, only object rules (`require_hq`, subtree)."""
        return code in self.permissions

    def require_hq(self, detail: str) -> None:
        """Company-wide state (master data, settings, roles) is changed at the head office only."""
        if not self.is_hq:
            raise Forbidden(detail)

    def sees_org_path(self, path: str) -> bool:
        """Whether an org with materialised `path` is the caller's org or one of its descendants."""
        return path.startswith(self.org_path)


def in_tenant(table: Any, tenant_id: int) -> Combinable:
    """Rows of `table` belonging to the tenant `tenant_id`: for code that runs before a caller's
    context exists (login, the platform CLI). Everything else uses `scoped`."""
    return table.tenant_id == tenant_id


_org_table: Any = None


def use_org_table(org: Any) -> None:
    """The org table (with `path`), named by the system domain: core imports no domain."""
    global _org_table
    _org_table = org


def scoped(ctx: Ctx, table: Any, *, subtree: Column | None = None) -> Combinable:
    """The rows of `table` the caller may read: its tenant's, and with `subtree` only those of the
    caller's org and below. `subtree` is a materialised-path column (`Org.path`,
    `StockDoc.org_path`) or a column holding an org id (`User.org`, `Stock.org_id`). The one
    place a query is scoped: every service builds its WHERE on it (tests/core/test_scoping.py)."""
    where = in_tenant(table, ctx.tenant_id)
    if subtree is None or ctx.sees_everything:
        return where
    if isinstance(subtree, ForeignKey | Integer):
        org = _org_table
        return where & subtree.is_in(org.select(org.id).where(scoped(ctx, org, subtree=org.path)))
    return where & subtree.like(f"{ctx.org_path}%")
