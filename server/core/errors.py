"""Business errors: raised by services, rendered as a JSON error or an inline form message."""

from __future__ import annotations


class BusinessError(Exception):
    """A rule refused the operation; the transaction rolls back and the user sees `detail`."""

    status_code = 400

    def __init__(
        self, detail: str, code: str = "invalid", status_code: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.field = field
        if status_code is not None:
            self.status_code = status_code


class NotFound(BusinessError):
    """Absent, deleted from view, or another tenant's: indistinguishable on purpose."""

    status_code = 404

    def __init__(self, what: str = "记录") -> None:
        super().__init__(f"{what}不存在", code="not_found")


class Conflict(BusinessError):
    """The state does not allow it (already confirmed, not enough stock or credit…)."""

    status_code = 409


class Forbidden(BusinessError):
    status_code = 403

    def __init__(self, detail: str = "没有权限执行此操作", code: str = "forbidden") -> None:
        super().__init__(detail, code=code)


class Unauthorized(BusinessError):
    status_code = 401

    def __init__(self, detail: str = "请先登录", code: str = "unauthorized") -> None:
        super().__init__(detail, code=code)


class Throttled(BusinessError):
    status_code = 429
