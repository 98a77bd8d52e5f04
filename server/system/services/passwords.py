"""Password hashing (argon2id, OWASP minimum profile: fast enough for login under load)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.core.errors import BusinessError

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified against when the account does not exist, so both paths cost the same time.
_DUMMY = _hasher.hash("weifu-dummy-password")


def check_strength(password: object, field: str = "password") -> str:
    """A new password: 8–128 characters with letters and digits (kept as typed, not stripped)."""
    if not isinstance(password, str) or not password:
        raise BusinessError("请填写密码", code="required", field=field)
    if len(password) > 128:
        raise BusinessError("密码不能超过 128 个字符", code="too_long", field=field)
    if len(password) < 8:
        raise BusinessError("密码至少 8 位", code="weak_password", field=field)
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise BusinessError("密码需同时包含字母和数字", code="weak_password", field=field)
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify(password_hash: str | None, password: str) -> bool:
    def run() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(run)
