"""The caller's context: tenant, user, org and permissions. Every service takes one first."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.core.errors import Forbidden


@dataclass(frozen=True)
class Ctx:
    tenant_id: int
    tenant_code: str
    org_id: int
    org_path: str  # materialised path of the caller's org, e.g. "/1/5/": its subtree is path LIKE "/1/5/%"
    org_kind: str  # "hq" | "branch"
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

    @property
    def is_hq(self) -> bool:
        return self.org_kind == "hq"

    @property
    def login_name(self) -> str:
        return f"{self.account}@{self.tenant_code}"

    def can(self, code: str) -> bool:
        return code in self.permissions

    def require(self, code: str) -> None:
        if code not in self.permissions:
            raise Forbidden()

    def require_hq(self, code: str, detail: str) -> None:
        """Company-wide state (master data, settings, roles) is changed at the head office only."""
        self.require(code)
        if not self.is_hq:
            raise Forbidden(detail)

    def sees_org_path(self, path: str) -> bool:
        """Whether an org with materialised `path` is the caller's org or one of its descendants."""
        return path.startswith(self.org_path)
