"""Helpers shared by the system tests: build orgs, roles and users through the API or the
services, read error answers, enrol OTP and look at a caller's live session."""

from __future__ import annotations

import time

import pyotp
from litestar.testing import AsyncTestClient

from server.core.tenancy import Ctx
from server.system.services import auth, roles, users
from server.system.services import orgs as org_service
from server.system.tables import User
from tests.api_helpers import error_of  # noqa: F401  (shared)
from tests.conftest import api_login

PASSWORD = "passw0rd1"  # every user the helpers create has this password


# --- through the API ---------------------------------------------------------------------------


async def make_org(client: AsyncTestClient, headers: dict, code: str, parent_id: int, **fields) -> dict:
    body = {"code": code, "name": f"{code}网点", "parent_id": parent_id} | fields
    response = await client.post("/api/v1/orgs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_role(
    client: AsyncTestClient, headers: dict, name: str, org_kind: str, permissions: list[str] | tuple = ()
) -> dict:
    body = {"name": name, "org_kind": org_kind, "permissions": list(permissions)}
    response = await client.post("/api/v1/roles", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_user(
    client: AsyncTestClient, headers: dict, account: str, org_id: int, role_ids: list[int], **fields
) -> dict:
    body = {"account": account, "name": f"用户{account}", "password": PASSWORD, "org_id": org_id, "role_ids": role_ids}
    response = await client.post("/api/v1/users", json=body | fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def user_with(
    client: AsyncTestClient, admin: dict, account: str, org_id: int, org_kind: str, permissions: list[str] | tuple
) -> tuple[dict, dict]:
    """A user of `org_id` holding one new role with `permissions`, and its bearer headers."""
    role = await make_role(client, admin, f"{account}的角色", org_kind, permissions)
    user = await make_user(client, admin, account, org_id, [role["id"]])
    return user, await api_login(client, f"{account}@ACME", PASSWORD)


async def token_refused(client: AsyncTestClient, login: str, password: str = PASSWORD, otp: str | None = None):
    """POST /api/v1/auth/token without any cookie (a cookie would make it a CSRF-checked request)."""
    client.cookies.clear()
    body = {"login": login, "password": password} | ({"otp": otp} if otp else {})
    return await client.post("/api/v1/auth/token", json=body)


async def page_session_alive(client: AsyncTestClient) -> bool:
    """Whether the client's page session still opens the home page (else it is sent to /login)."""
    response = await client.get("/", follow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/login"), response.text
    return False


# --- through the services ----------------------------------------------------------------------


async def service_user(platform: Ctx, account: str, org_id: int, org_kind: str, permissions: list[str] | tuple) -> Ctx:
    """A user created by the platform Ctx with one role of `permissions`; returns the user's own Ctx."""
    role = await roles.create(
        platform, {"name": f"{account}的角色", "org_kind": org_kind, "permissions": list(permissions)}
    )
    user = await users.create(
        platform,
        {"account": account, "name": account, "password": PASSWORD, "org_id": org_id, "role_ids": [role["id"]]},
    )
    ctx = await auth.ctx_for(user["id"], platform.tenant_id)
    assert ctx is not None
    return ctx


async def service_org(ctx: Ctx, code: str, parent_id: int, **fields) -> dict:
    return await org_service.create(ctx, {"code": code, "name": f"{code}网点", "parent_id": parent_id} | fields)


# --- OTP ---------------------------------------------------------------------------------------


async def otp_secret(user_id: int) -> str:
    row = await User.select(User.otp_secret).where(User.id == user_id).first()
    return row["otp_secret"]


async def enrol_otp(user_id: int, tenant_id: int) -> pyotp.TOTP:
    """Enrol through the service with the previous time window's code, so the current code
    (`TOTP.now()`) has not been used yet and a test can log in with it at once."""
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    await auth.enrol_otp(user_id, tenant_id, secret, totp.at(time.time() - totp.interval))
    assert await otp_secret(user_id) == secret
    return totp
