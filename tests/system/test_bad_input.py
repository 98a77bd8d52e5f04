"""Bad input never reaches the database and never answers 500.

Every POST/PATCH of system management is fed missing fields, oversized strings, wrong types,
out-of-range numbers, unknown ids and broken bodies: the answer is 400 (404 only for an unknown
referenced id) with a Chinese `detail` and a `code`, and no row changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from server.core.tables import AuditLog
from server.system.services import orgs, roles, users
from server.system.tables import ApiToken, Org, Role, Tenant, User, UserRole
from tests.conftest import ADMIN_PASSWORD, csrf, page_login

CJK = re.compile(r"[\u4e00-\u9fff]")
LONG = "长" * 10_000
HUGE = 10**20
UNKNOWN = 999_999
PASSWORD = "Passw0rd1"
RAW_BODIES = [b"{not json", b"", b"null", b"[]", b'"text"']


@pytest.fixture
async def world(tenant) -> dict:
    """Ids the bodies refer to: the head office, a branch, a branch role and a user of the branch."""
    branch = await orgs.create(tenant, {"code": "B1", "name": "一号网点", "parent_id": tenant.org_id, "level": 2})
    role = await roles.create(tenant, {"name": "维修技师", "org_kind": "branch", "permissions": ["system.org.view"]})
    user = await users.create(
        tenant,
        {"org_id": branch["id"], "account": "tech", "name": "张师傅", "password": PASSWORD, "role_ids": [role["id"]]},
    )
    return {"hq": tenant.org_id, "org": branch["id"], "role": role["id"], "user": user["id"]}


async def database_state() -> dict:
    """Every row that a system write could touch."""
    state = {}
    for table in (Tenant, Org, Role, User, UserRole, AuditLog, ApiToken):
        state[table._meta.tablename] = await table.select().order_by(table.id)
    return state


@dataclass
class Endpoint:
    method: str
    path: str  # may name {org}, {role}, {user} of the world fixture
    valid: Callable[[dict], dict]  # a body the endpoint accepts
    required: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    bools: tuple[str, ...] = ()
    id_lists: tuple[str, ...] = ()
    str_lists: tuple[str, ...] = ()
    unknown_refs: dict = field(default_factory=dict)  # field -> value naming a row that does not exist
    semantic: tuple[dict, ...] = ()  # well-typed values the rules refuse
    ok_status: int = 200


ENDPOINTS = {
    "create org": Endpoint(
        "POST",
        "/api/v1/orgs",
        lambda w: {"code": "N1", "name": "新网点", "parent_id": w["hq"], "level": 2, "enabled": True},
        required=("code", "name", "parent_id"),
        strings=("code", "name", "contact", "phone", "address", "remark"),
        ints=("parent_id", "level"),
        bools=("enabled",),
        unknown_refs={"parent_id": UNKNOWN},
        semantic=({"code": "带 空格"}, {"code": "a/b"}, {"name": "   "}, {"level": 5}, {"level": 0}),
        ok_status=201,
    ),
    "update org": Endpoint(
        "PATCH",
        "/api/v1/orgs/{org}",
        lambda w: {"name": "改名网点", "level": 3, "enabled": False, "contact": "王五"},
        strings=("code", "name", "contact", "phone", "address", "remark"),
        ints=("parent_id", "level"),
        bools=("enabled",),
        semantic=({"code": "OTHER"}, {"name": ""}, {"level": 5}),
    ),
    "create role": Endpoint(
        "POST",
        "/api/v1/roles",
        lambda w: {"name": "前台接待", "org_kind": "branch", "permissions": ["system.org.view"], "remark": "接待"},
        required=("name", "org_kind"),
        strings=("name", "org_kind", "remark"),
        str_lists=("permissions",),
        semantic=({"org_kind": "shop"}, {"permissions": ["no.such.permission"]}),
        ok_status=201,
    ),
    "update role": Endpoint(
        "PATCH",
        "/api/v1/roles/{role}",
        lambda w: {"name": "高级技师", "permissions": [], "remark": "改"},
        strings=("name", "org_kind", "remark"),
        str_lists=("permissions",),
        semantic=({"org_kind": "hq"}, {"permissions": ["no.such.permission"]}, {"name": ""}),
    ),
    "create user": Endpoint(
        "POST",
        "/api/v1/users",
        lambda w: {
            "org_id": w["org"],
            "account": "front",
            "name": "李前台",
            "password": PASSWORD,
            "role_ids": [w["role"]],
            "phone": "13800000000",
            "email": "front@example.com",
            "enabled": True,
        },
        required=("org_id", "account", "name", "password", "role_ids"),
        strings=("account", "name", "password", "phone", "email"),
        ints=("org_id",),
        bools=("enabled",),
        id_lists=("role_ids",),
        unknown_refs={"org_id": UNKNOWN, "role_ids": [UNKNOWN]},
        semantic=(
            {"account": "ab"},
            {"account": "张三"},
            {"password": "short1"},
            {"password": "lettersonly"},
            {"email": "not-an-email"},
            {"phone": "call me"},
            {"role_ids": []},
        ),
        ok_status=201,
    ),
    "update user": Endpoint(
        "PATCH",
        "/api/v1/users/{user}",
        lambda w: {"name": "张大师傅", "phone": "13900000000", "email": "", "enabled": False, "role_ids": [w["role"]]},
        strings=("account", "name", "phone", "email"),
        ints=("org_id",),
        bools=("enabled",),
        id_lists=("role_ids",),
        unknown_refs={"role_ids": [UNKNOWN]},
        semantic=({"account": "other"}, {"name": ""}, {"email": "x@"}, {"role_ids": []}),
    ),
    "reset password": Endpoint(
        "POST",
        "/api/v1/users/{user}/reset-password",
        lambda w: {"password": "N3wPassword"},
        required=("password",),
        strings=("password",),
        semantic=({"password": ""}, {"password": "1234567"}, {"password": "12345678"}),
    ),
    "settings": Endpoint(
        "PATCH",
        "/api/v1/settings",
        lambda w: {"max_org_depth": 6, "require_otp": False, "credit_four_eyes": True},
        ints=("max_org_depth",),
        bools=("require_otp", "credit_four_eyes"),
        semantic=({"max_org_depth": 1}, {"max_org_depth": 11}),
    ),
    "token": Endpoint(
        "POST",
        "/api/v1/auth/token",
        lambda w: {"login": "admin@ACME", "password": ADMIN_PASSWORD},
        required=("login", "password"),
        strings=("login", "password", "otp"),
        semantic=({"login": "admin"}, {"login": "@ACME"}, {"login": "admin@"}, {"password": ""}),
    ),
    "change password": Endpoint(
        "POST",
        "/api/v1/auth/password",
        lambda w: {"old_password": ADMIN_PASSWORD, "new_password": "N3wPassword"},
        required=("old_password", "new_password"),
        strings=("old_password", "new_password"),
        semantic=({"old_password": ""}, {"old_password": "wrong-password1"}, {"new_password": ADMIN_PASSWORD}),
    ),
}


def bad_bodies(endpoint: Endpoint, valid: dict) -> list[tuple[str, dict | bytes, bool]]:
    """(label, body, names an unknown row) for every way the valid body can be broken."""
    cases: list[tuple[str, dict | bytes, bool]] = []

    def with_(label: str, key: str, value: object, unknown: bool = False) -> None:
        cases.append((f"{label} {key}", valid | {key: value}, unknown))

    for key in endpoint.required:
        cases.append((f"missing {key}", {k: v for k, v in valid.items() if k != key}, False))
        with_("null", key, None)
    for key in endpoint.strings:
        with_("10,000 characters in", key, LONG)
        with_("int for string", key, 12345)
    for key in endpoint.ints:
        with_("string for int", key, "abc")
        with_("float for int", key, 1.5)
        with_("bool for int", key, True)
        with_("negative", key, -1)
        with_("zero", key, 0)
        with_("huge", key, HUGE)
        with_("beyond INTEGER", key, 2**31)
    for key in endpoint.bools:
        with_("list for bool", key, [True])
        with_("string for bool", key, "maybe")
        with_("int for bool", key, 2)
    for key in endpoint.id_lists:
        with_("string for list", key, "1")
        with_("strings in", key, ["abc"])
        with_("negative id in", key, [-1])
        with_("huge id in", key, [HUGE])
        with_("10,000 ids in", key, list(range(1, 10_001)))
    for key in endpoint.str_lists:
        with_("string for list", key, "system.org.view")
        with_("ints in", key, [1, 2])
        with_("10,000 characters in", key, [LONG])
        with_("10,000 items in", key, [f"x.{i}" for i in range(10_000)])
    for key, value in endpoint.unknown_refs.items():
        with_("unknown", key, value, unknown=True)
    for i, change in enumerate(endpoint.semantic):
        cases.append((f"rule {i} {json.dumps(change, ensure_ascii=False)}", valid | change, False))
    cases += [(f"raw body {raw!r}", raw, False) for raw in RAW_BODIES]
    return cases


def problem(response, allowed: tuple[int, ...]) -> str | None:
    """Why the response is not a proper Chinese error answer, or None."""
    if response.status_code not in allowed:
        return f"status {response.status_code}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if not isinstance(body, dict) or not isinstance(body.get("code"), str) or not body["code"]:
        return f"no code: {body}"
    if not CJK.search(str(body.get("detail", ""))):
        return f"detail not Chinese: {body}"
    return None


async def send(client, method: str, path: str, body: dict | bytes, headers: dict):
    if isinstance(body, bytes):
        headers = headers | {"content-type": "application/json"}
        return await client.request(method, path, content=body, headers=headers)
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("name", ENDPOINTS)
async def test_bad_json_bodies_are_refused_in_chinese_without_changing_anything(client, admin, world, name):
    endpoint = ENDPOINTS[name]
    path = endpoint.path.format(**world)
    valid = endpoint.valid(world)
    before = await database_state()
    failures = []
    for label, body, unknown in bad_bodies(endpoint, valid):
        response = await send(client, endpoint.method, path, body, admin)
        why = problem(response, (400, 404) if unknown else (400,))
        if why:
            failures.append(f"{label}: {why}")
    assert not failures, f"{name}:\n" + "\n".join(failures)
    assert await database_state() == before
    # the same body without the damage is accepted, so each refusal above came from the damage
    response = await send(client, endpoint.method, path, valid, admin)
    assert response.status_code == endpoint.ok_status, response.text


async def test_a_missing_field_is_named_in_the_message(client, admin, world):
    response = await client.post("/api/v1/orgs", json={"name": "网点", "parent_id": world["hq"]}, headers=admin)
    assert response.status_code == 400
    assert response.json() == {"detail": "请求数据无效：code为必填项", "code": "invalid_request"}


async def test_malformed_json_is_an_invalid_request(client, admin):
    headers = admin | {"content-type": "application/json"}
    response = await client.post("/api/v1/orgs", content=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.json() == {"detail": "请求数据格式不正确", "code": "invalid_request"}


@pytest.mark.parametrize("resource", ["orgs", "roles", "users"])
async def test_huge_ids_in_the_path_are_refused_not_crashed(client, admin, world, resource):
    path = f"/api/v1/{resource}/{HUGE}"
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        response = await client.request(method, path, json=body, headers=admin)
        assert problem(response, (400, 404)) is None, (method, path, response.text)
    response = await client.post(f"/api/v1/users/{HUGE}/reset-password", json={"password": PASSWORD}, headers=admin)
    assert problem(response, (400, 404)) is None, response.text


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/orgs", {"page": "abc"}),
        ("/api/v1/orgs", {"page": "0"}),
        ("/api/v1/orgs", {"page_size": "1000"}),
        ("/api/v1/orgs", {"page_size": "0"}),
        ("/api/v1/orgs", {"level": "abc"}),
        ("/api/v1/orgs", {"level": "9"}),
        ("/api/v1/orgs", {"parent_id": "abc"}),
        ("/api/v1/orgs", {"enabled": "maybe"}),
        ("/api/v1/orgs", {"kind": "shop"}),
        ("/api/v1/orgs", {"status": "gone"}),
        ("/api/v1/orgs", {"q": "x" * 1000}),
        ("/api/v1/roles", {"page": "abc"}),
        ("/api/v1/roles", {"org_kind": "shop"}),
        ("/api/v1/users", {"page_size": "1000"}),
        ("/api/v1/users", {"org_id": "abc"}),
        ("/api/v1/users", {"role_id": str(HUGE)}),
        ("/api/v1/users", {"enabled": "maybe"}),
        ("/api/v1/audit-log", {"page": "-1"}),
    ],
)
async def test_bad_query_parameters_are_refused_in_chinese(client, admin, path, params):
    response = await client.get(path, params=params, headers=admin)
    assert problem(response, (400,)) is None, response.text


FORMS = {
    "/system/orgs": [
        {},
        {"code": "N1", "name": "", "parent_id": "{hq}"},
        {"code": "N1", "name": LONG, "parent_id": "{hq}"},
        {"code": "带 空格", "name": "网点", "parent_id": "{hq}"},
        {"code": "N1", "name": "网点", "parent_id": "abc"},
        {"code": "N1", "name": "网点", "parent_id": str(HUGE)},
        {"code": "N1", "name": "网点", "parent_id": str(UNKNOWN)},
        {"code": "N1", "name": "网点", "parent_id": "{hq}", "level": "abc"},
        {"code": "N1", "name": "网点", "parent_id": "{hq}", "level": "9"},
        {"code": "N1", "name": "网点", "parent_id": "{hq}", "enabled": "maybe"},
    ],
    "/system/orgs/{org}": [
        {"name": ""},
        {"name": LONG},
        {"level": "abc"},
        {"code": "CHANGED"},
    ],
    "/system/roles": [
        {},
        {"name": "", "org_kind": "branch"},
        {"name": LONG, "org_kind": "branch"},
        {"name": "新角色", "org_kind": "shop"},
        {"name": "新角色", "org_kind": "branch", "permissions": "no.such.permission"},
    ],
    "/system/users": [
        {},
        {"org_id": "{org}", "account": "front", "name": "李前台", "password": PASSWORD},
        {"org_id": "abc", "account": "front", "name": "李前台", "password": PASSWORD, "role_ids": "{role}"},
        {"org_id": "{org}", "account": "x", "name": "李前台", "password": PASSWORD, "role_ids": "{role}"},
        {"org_id": "{org}", "account": "front", "name": LONG, "password": PASSWORD, "role_ids": "{role}"},
        {"org_id": "{org}", "account": "front", "name": "李前台", "password": "weak", "role_ids": "{role}"},
        {"org_id": "{org}", "account": "front", "name": "李前台", "password": PASSWORD, "role_ids": "abc"},
        {"org_id": "{org}", "account": "front", "name": "李前台", "password": PASSWORD, "role_ids": str(UNKNOWN)},
    ],
    "/system/users/{user}": [
        {"name": ""},
        {"email": "not-an-email"},
        {"role_ids": "abc"},
    ],
}


@pytest.mark.parametrize("form_path", FORMS)
async def test_bad_form_posts_answer_a_chinese_message_never_500(client, world, form_path):
    await page_login(client, "admin@ACME")
    path = form_path.format(**world)
    before = await database_state()
    failures = []
    for form in FORMS[form_path]:
        data = {k: v.format(**world) if v.startswith("{") else v for k, v in form.items()}
        response = await client.post(path, data=data, headers=csrf(client))
        if not 400 <= response.status_code < 500 or not CJK.search(response.text):
            failures.append(f"{form}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    assert await database_state() == before


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page_size=1000", "level=abc"])
async def test_bad_query_parameters_of_pages_are_refused_in_chinese(client, tenant, query):
    await page_login(client, "admin@ACME")
    response = await client.get(f"/system/orgs?{query}")
    assert response.status_code == 400, response.text[:300]
    assert CJK.search(response.text)
