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


class FieldErrors(BusinessError):
    """Several fields refused at once (`validate.Fields`): the API lists each in `errors`, a form
    marks each field. The message and code are those of the first, so one bad field reads as
    before."""

    def __init__(self, errors: list[BusinessError]) -> None:
        super().__init__("；".join(e.detail for e in errors), code=errors[0].code, field=errors[0].field)
        self.errors = errors


def field_errors(exc: BusinessError) -> list[dict[str, str]]:
    """`[{field, detail}]` of an error that names its fields (none for a rule on the whole)."""
    if isinstance(exc, FieldErrors):
        return [{"field": e.field or "", "detail": e.detail} for e in exc.errors]
    return [{"field": exc.field, "detail": exc.detail}] if exc.field else []


def checked_all_fields(exc: BusinessError) -> bool:
    """Whether the service checked every field (`validate.Fields`): then the API lists them all
    in `errors`; an error raised at the first bad field keeps the plain `{detail, code}`."""
    return isinstance(exc, FieldErrors)


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
