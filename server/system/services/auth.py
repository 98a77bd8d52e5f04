"""Login, OTP, API tokens and resolving the caller's Ctx on every request."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import segno

from server.core import audit, authcache, hooks, throttle
from server.core.clock import now
from server.core.db import atomic
from server.core.errors import BusinessError, Conflict, Forbidden, Unauthorized
from server.core.states import RowStatus
from server.core.tenancy import Ctx, in_tenant
from server.system.services import passwords
from server.system.services.roles import holdings
from server.system.tables import ApiToken, Org, Tenant, User

TOKEN_TTL = timedelta(hours=12)
LOGIN_LIMIT = 5  # failures of one name from one address before it waits 5 s, then 10 s, 20 s…
NAME_LIMIT = 20  # failures of one name from anywhere before every address waits too…
NAME_WAIT_CAP = 30  # …at most this long: the owner, from a new address, is never locked out
IP_LIMIT = 30  # failures from one address, whatever the names
THROTTLED = "登录失败次数过多，请 {seconds} 秒后再试"
OTP_ISSUER = "Weifu"

WRONG_CREDENTIALS = "账号或密码错误"


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    tenant_id: int
    epoch: int
    must_enrol_otp: bool


def parse_login(login: Any) -> tuple[str, str]:
    """`account@CODE` → (account key, CODE); the code is case-insensitive, and so is the account."""
    if not isinstance(login, str) or "@" not in login or len(login) > 80:
        raise BusinessError("登录名格式应为 账号@公司简码，例如 admin@DEMO", code="invalid_login", field="login")
    account, _, code = login.strip().rpartition("@")
    if not account or not code:
        raise BusinessError("登录名格式应为 账号@公司简码，例如 admin@DEMO", code="invalid_login", field="login")
    return account.lower(), code.upper()


def _otp_ok(secret: str, code: Any, last_step: int) -> int | None:
    """The time step the code belongs to (±1 step of drift), or None; a step is usable once."""
    if not isinstance(code, str) or not code.strip().isdigit() or len(code.strip()) != 6:
        return None
    code = code.strip()
    totp = pyotp.TOTP(secret)
    step = int(time.time()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if candidate > last_step and secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def login_locks(login_name: str, ip: str) -> tuple[throttle.Lock, throttle.Lock, throttle.Lock]:
    """The address's lock, the (name, address) lock and the name's lock, in the order checked.
    A name's locks share one key, so 【解锁】 clears them all at once."""
    window = throttle.WINDOW_SECONDS
    return (
        throttle.Lock(f"ip:{ip}", "all", IP_LIMIT, window),
        throttle.Lock(f"login:{login_name}", f"ip:{ip}", LOGIN_LIMIT, window),
        throttle.Lock(f"login:{login_name}", "name", NAME_LIMIT, NAME_WAIT_CAP),
    )


async def _good_password(address: throttle.Lock, pair: throttle.Lock, name: throttle.Lock) -> None:
    await throttle.forgive([pair, name])
    await throttle.give_back(address)


async def unlock(login_name: str) -> None:
    """Clear every wait on a login name, from every address (【解锁】)."""
    await throttle.clear(f"login:{login_name}")


async def login(login_name: Any, password: Any, otp: Any, ip: str) -> LoginResult:
    account_key, code = parse_login(login_name)
    if not isinstance(password, str) or not password:
        raise BusinessError("请填写密码", code="required", field="password")
    if len(password) > 128:
        raise BusinessError("密码不能超过 128 个字符", code="too_long", field="password")
    if isinstance(otp, str) and len(otp.strip()) > 6:
        raise BusinessError("动态密钥应为 6 位数字", code="invalid_otp", field="otp")
    address, pair, name = login_locks(f"{account_key}@{code}", ip)
    # Counted before the password is hashed: a parallel burst gets LOGIN_LIMIT checks, not one each.
    await throttle.enter([address, pair, name], THROTTLED)
    row = (
        await User.select(
            User.id,
            User.tenant_id,
            User.password_hash,
            User.enabled,
            User.status,
            User.otp_secret,
            User.otp_last_step,
            User.auth_epoch,
            User.org.enabled.as_alias("org_enabled"),
            User.org.status.as_alias("org_status"),
        )
        .where(
            (User.account_key == account_key[:50])
            & User.tenant_id.is_in(Tenant.select(Tenant.id).where(Tenant.code == code[:16]))
        )
        .first()
    )
    ok = await passwords.verify(row["password_hash"] if row and row["status"] == RowStatus.ACTIVE else None, password)
    if not ok:
        raise Unauthorized(WRONG_CREDENTIALS, code="wrong_credentials")
    if not row["enabled"]:
        raise Forbidden("账号已停用，请联系管理员", code="user_disabled")
    if not row["org_enabled"] or row["org_status"] != RowStatus.ACTIVE:
        raise Forbidden("所属机构已停用，不能登录", code="org_disabled")
    if row["otp_secret"] and otp in (None, ""):
        await _good_password(address, pair, name)  # asking for the code is no failure
        raise Unauthorized("请输入 6 位动态密钥", code="otp_required")
    if row["otp_secret"]:
        step = _otp_ok(row["otp_secret"], otp, row["otp_last_step"])
        # A code is good once: the step is consumed by a conditional UPDATE, so of parallel logins
        # with the same fresh code exactly one gets the row back.
        used = step is not None and await User.update({User.otp_last_step: step, User.last_login_at: now()}).where(
            (User.id == row["id"]) & (User.otp_last_step < step)
        ).returning(User.id)
        if not used:
            raise Unauthorized("动态密钥错误或已使用，请输入验证器上的最新 6 位数字", code="wrong_otp")
    else:
        await User.update({User.last_login_at: now()}).where(User.id == row["id"])
    await _good_password(address, pair, name)
    tenant = await Tenant.select(Tenant.require_otp).where(Tenant.id == row["tenant_id"]).first()
    return LoginResult(
        row["id"],
        row["tenant_id"],
        row["auth_epoch"],
        must_enrol_otp=bool(tenant["require_otp"] and not row["otp_secret"]),
    )


async def ctx_for(user_id: int, tenant_id: int, epoch: int | None = None) -> Ctx | None:
    """The Ctx of a user who may act now, or None: disabled/deleted user or org, or a stale session.
    Kept by `authcache` until something it is made of changes (a refusal is never kept)."""
    key = ("session", user_id, tenant_id, epoch)
    if (ctx := await authcache.get(key)) is not None:
        return ctx
    generation = await authcache.generation(tenant_id)  # read before the queries: see authcache
    ctx = await _resolve(user_id, tenant_id, epoch)
    if ctx is not None:
        authcache.put(key, tenant_id, generation, ctx)
    return ctx


async def _resolve(user_id: int, tenant_id: int, epoch: int | None) -> Ctx | None:
    row = (
        await User.select(
            User.id,
            User.account,
            User.name,
            User.enabled,
            User.status,
            User.auth_epoch,
            User.org.id.as_alias("org_id"),
            User.org.path.as_alias("org_path"),
            User.org.kind.as_alias("org_kind"),
            User.org.name.as_alias("org_name"),
            User.org.enabled.as_alias("org_enabled"),
            User.org.status.as_alias("org_status"),
        )
        .where((User.id == user_id) & in_tenant(User, tenant_id))
        .first()
    )
    if (
        row is None
        or not row["enabled"]
        or row["status"] != RowStatus.ACTIVE
        or not row["org_enabled"]
        or row["org_status"] != RowStatus.ACTIVE
        or (epoch is not None and epoch != row["auth_epoch"])
    ):
        return None
    tenant = await Tenant.select().where(Tenant.id == tenant_id).first()
    perms, super_admin = (await holdings([user_id]))[user_id]
    return Ctx(
        tenant_id=tenant_id,
        tenant_code=tenant["code"],
        tenant_name=tenant["name"],
        org_id=row["org_id"],
        org_path=row["org_path"],
        org_kind=row["org_kind"],
        org_name=row["org_name"],
        user_id=row["id"],
        user_name=row["name"],
        account=row["account"],
        tz=tenant["tz"],
        permissions=perms,
        super_admin=super_admin,
        features=await hooks.features(tenant_id),
    )


async def ctx_for_org(tenant_id: int, org_id: int, actor_name: str) -> Ctx | None:
    """The Ctx of something acting for an org without a person (a queue kiosk or TV), or None
    when the org is disabled or deleted. It holds no permission codes."""
    org = (
        await Org.select(Org.id, Org.path, Org.kind, Org.name, Org.enabled, Org.status)
        .where((Org.id == org_id) & in_tenant(Org, tenant_id))
        .first()
    )
    if org is None or not org["enabled"] or org["status"] != RowStatus.ACTIVE:
        return None
    tenant = await Tenant.select(Tenant.code, Tenant.name, Tenant.tz).where(Tenant.id == tenant_id).first()
    return Ctx(
        tenant_id=tenant_id,
        tenant_code=tenant["code"],
        tenant_name=tenant["name"],
        org_id=org_id,
        org_path=org["path"],
        org_kind=org["kind"],
        org_name=org["name"],
        user_name=actor_name,
        tz=tenant["tz"],
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(result: LoginResult) -> dict:
    if result.must_enrol_otp:
        raise Forbidden("公司要求绑定动态密钥：请先在网页登录并完成绑定", code="otp_enrolment_required")
    token = secrets.token_urlsafe(32)
    expires = now() + TOKEN_TTL
    async with atomic():
        await ApiToken.insert(
            ApiToken(
                tenant_id=result.tenant_id,
                user=result.user_id,
                token_hash=_token_hash(token),
                expires_at=expires,
                created_at=now(),
            )
        )
        await ApiToken.delete().where((ApiToken.user == result.user_id) & (ApiToken.expires_at < now()))
    return {"token": token, "expires_at": expires.isoformat()}


async def _token_row(token_hash: str) -> dict | None:
    return (
        await ApiToken.select(ApiToken.user, ApiToken.tenant_id, ApiToken.expires_at)
        .where(ApiToken.token_hash == token_hash)
        .first()
    )


async def ctx_for_token(token: str) -> Ctx | None:
    token_hash = _token_hash(token)
    key = ("token", token_hash)
    if (ctx := await authcache.get(key, now())) is not None:
        return ctx
    row = await _token_row(token_hash)
    if row is None or row["expires_at"] < now():
        return None
    generation = await authcache.generation(row["tenant_id"])
    ctx = await _resolve(row["user"], row["tenant_id"], None)
    # The token was read before the generation: a revocation committed in between moved the
    # generation past the one read, and the token is gone now. Only misses pay this query.
    if ctx is not None and generation is not None and await _token_row(token_hash) is not None:
        authcache.put(key, row["tenant_id"], generation, ctx, row["expires_at"])
    return ctx


async def revoke_token(token: str) -> None:
    gone = await ApiToken.delete().where(ApiToken.token_hash == _token_hash(token)).returning(ApiToken.tenant_id)
    for row in gone:
        await authcache.changed(row["tenant_id"])


# --- OTP enrolment -----------------------------------------------------------------------------


def new_otp_secret() -> str:
    return pyotp.random_base32()


def otp_uri(secret: str, login_name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login_name, issuer_name=OTP_ISSUER)


def otp_qr_svg(uri: str) -> str:
    # a viewBox instead of a fixed size: the page scales the code to its box without clipping it
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, omitsize=True)


async def login_name_of(user_id: int, tenant_id: int) -> str:
    row = await User.select(User.account).where((User.id == user_id) & in_tenant(User, tenant_id)).first()
    tenant = await Tenant.select(Tenant.code).where(Tenant.id == tenant_id).first()
    return f"{row['account']}@{tenant['code']}"


async def otp_enrolled(user_id: int) -> bool:
    row = await User.select(User.otp_secret).where(User.id == user_id).first()
    return bool(row and row["otp_secret"])


async def enrol_otp(user_id: int, tenant_id: int, secret: str, code: Any) -> None:
    """Bind `secret` once the user proves their authenticator shows the same code."""
    if not isinstance(secret, str) or not 16 <= len(secret) <= 64 or not secret.isalnum():
        raise BusinessError("绑定已过期，请刷新页面重新扫码", code="otp_expired")
    step = _otp_ok(secret, code, 0)
    if step is None:
        raise BusinessError("动态密钥错误，请输入验证器上显示的 6 位数字", code="wrong_otp", field="otp")
    async with atomic():
        user = (
            await User.select(User.id, User.account, User.name, User.otp_secret)
            .where((User.id == user_id) & in_tenant(User, tenant_id))
            .first()
        )
        if user["otp_secret"]:
            raise Conflict("已绑定动态密钥；如需更换，请联系管理员重置后重新绑定", code="otp_already_enrolled")
        await User.update({User.otp_secret: secret, User.otp_last_step: step}).where(User.id == user_id)
        actor = await ctx_for(user_id, tenant_id)
        if actor is not None:
            await audit.record(
                actor,
                "enrol_otp",
                "user",
                user_id,
                f"用户 {user['account']} 绑定动态密钥",
                {"otp_enrolled": bool(user["otp_secret"])},
                {"otp_enrolled": True},
            )
