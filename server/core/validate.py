"""Input checks shared by API and form handlers, so both refuse bad data with the same message."""

from __future__ import annotations

import re
from typing import Any

from server.core.errors import BusinessError, FieldErrors


class Fields:
    """Check every field of a form, then refuse with all their errors at once: `v = Fields()`,
    `name = v(text, data.get("name"), "名称", 100, field="name")`, …, `v.done()`. A check that
    fails gives None and is remembered; an error naming no field (a rule on the whole) is raised
    at once."""

    def __init__(self) -> None:
        self.errors: list[BusinessError] = []

    def __call__(self, check: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except BusinessError as e:
            return self._keep(e)

    async def awaiting(self, check: Any) -> Any:
        """The same for an awaitable check (a lookup in the database)."""
        try:
            return await check
        except BusinessError as e:
            return self._keep(e)

    def _keep(self, error: BusinessError) -> None:
        if isinstance(error, FieldErrors):
            self.errors += error.errors
        elif error.field is None or error.status_code != 400:
            raise error
        else:
            self.errors.append(error)

    @property
    def ok(self) -> bool:
        return not self.errors

    def done(self, conflict: BusinessError | None = None) -> None:
        """Refuse with every field error at once (400). A `conflict` on a field (a taken code, 409)
        is one more of them; alone it is the 409 it always was."""
        if conflict and self.errors:
            self.errors.append(BusinessError(conflict.detail, code=conflict.code, field=conflict.field))
        if self.errors:
            raise FieldErrors(self.errors)
        if conflict:
            raise conflict


MAX_ID = 2**31 - 1
# C0 controls but tab, line feed and carriage return (a textarea sends them), and DEL: they are
# invisible on screen, break Excel exports and, NUL above all, PostgreSQL text.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(
    value: Any,
    label: str,
    max_len: int,
    required: bool = False,
    field: str | None = None,
    pattern: str | None = None,
    pattern_msg: str | None = None,
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BusinessError(f"{label}必须是文本", code="invalid_field", field=field)
    value = value.strip()
    if CONTROL_CHARS.search(value):
        raise BusinessError(f"{label}包含不可见的控制字符，请删除后重试", code="invalid_field", field=field)
    if required and not value:
        raise BusinessError(f"请填写{label}", code="required", field=field)
    if len(value) > max_len:
        raise BusinessError(f"{label}不能超过 {max_len} 个字符", code="too_long", field=field)
    if value and pattern and not re.fullmatch(pattern, value):
        raise BusinessError(pattern_msg or f"{label}格式不正确", code="invalid_field", field=field)
    return value


LAST4 = re.compile(r"[0-9]{4}")


def phone_last4(value: Any, phone: str = "手机号", field: str = "phone_last4") -> str:
    """The last four digits of a customer's phone: their proof on the public pages (the status
    page, cancelling a booking), where they have no login."""
    digits = value.strip() if isinstance(value, str) else ""
    if not LAST4.fullmatch(digits):
        raise BusinessError(f"请输入{phone}的后四位数字", code="invalid_field", field=field)
    return digits


def integer(value: Any, label: str, lo: int, hi: int, field: str | None = None) -> int:
    if isinstance(value, bool):
        raise BusinessError(f"{label}必须是整数", code="invalid_field", field=field)
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"-?\d{1,12}", value):
            raise BusinessError(f"{label}必须是整数", code="invalid_field", field=field)
        value = int(value)
    if not isinstance(value, int):
        raise BusinessError(f"{label}必须是整数", code="invalid_field", field=field)
    if not lo <= value <= hi:
        raise BusinessError(f"{label}必须在 {lo}–{hi} 之间", code="out_of_range", field=field)
    return value


def ident(value: Any, label: str, field: str | None = None) -> int:
    """A row id: a positive integer that fits the database's INTEGER."""
    if value in (None, ""):
        raise BusinessError(f"请选择{label}", code="required", field=field)
    return integer(value, label, 1, MAX_ID, field=field)


def optional_ident(value: Any, label: str, field: str | None = None) -> int | None:
    return None if value in (None, "") else ident(value, label, field)


def boolean(value: Any, label: str, field: str | None = None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "on", "yes", "是"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "off", "no", "否", ""):
        return False
    raise BusinessError(f"{label}必须是是/否", code="invalid_field", field=field)


def choice(value: Any, label: str, choices: dict[str, str], field: str | None = None) -> str:
    if value not in choices:
        raise BusinessError(f"{label}无效（可选：{'、'.join(choices.values())}）", code="invalid_field", field=field)
    return value


def id_list(values: Any, label: str, field: str | None = None, max_items: int = 1000) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        values = [values]
    if len(values) > max_items:
        raise BusinessError(f"{label}过多", code="too_many", field=field)
    return sorted({ident(v, label, field) for v in values if v not in (None, "")})
