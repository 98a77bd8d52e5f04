"""The resolved caller is cached between requests (server/core/authcache.py), and every change
that could alter it is seen on the very next request: through a warm cache, by API token and by
page session. Also: the cache is really used, is bypassed when its generation cannot be read,
and keeps tenants apart."""

from __future__ import annotations

import pytest

from server.core import authcache
from server.system.services import auth
from tests.api_helpers import error_of
from tests.conftest import PG_URL, REDIS_URL, api_login, page_login
from tests.system.helpers import PASSWORD, make_org, make_role, make_user, page_session_alive, user_with


@pytest.fixture
def resolved(monkeypatch) -> list:
    """The callers resolved from the database (cache misses), in order. The safety TTL is
    lengthened: on a loaded machine a test's requests may be seconds apart."""
    monkeypatch.setattr(authcache, "TTL", 600.0)
    calls: list = []
    resolve = auth._resolve

    async def counted(user_id, tenant_id, epoch):
        calls.append((user_id, tenant_id))
        return await resolve(user_id, tenant_id, epoch)

    monkeypatch.setattr(auth, "_resolve", counted)
    return calls


async def test_a_warm_caller_is_not_resolved_again_until_something_changes(client, tenant, admin, resolved):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    _, bob = await user_with(client, admin, "bob", b1["id"], "branch", ["system.org.view"])
    resolved.clear()
    for _ in range(5):
        assert (await client.get("/api/v1/auth/me", headers=bob)).status_code == 200
    assert len(resolved) == 1  # the first request; the next four come from the cache
    response = await client.patch(f"/api/v1/orgs/{b1['id']}", json={"name": "改名网点"}, headers=admin)
    assert response.status_code == 200, response.text
    me = await client.get("/api/v1/auth/me", headers=bob)
    assert me.status_code == 200 and "改名网点" in me.text, me.text  # the change is seen at once


async def test_a_permission_removed_from_a_role_is_gone_at_the_next_request(client, tenant, admin):
    role = await make_role(client, admin, "查看机构", "hq", ["system.org.view", "system.role.view"])
    await make_user(client, admin, "bob", tenant.org_id, [role["id"]])
    bob = await api_login(client, "bob@ACME", PASSWORD)
    await page_login(client, "bob@ACME", PASSWORD)
    for _ in range(2):  # warm
        assert (await client.get("/api/v1/orgs", headers=bob)).status_code == 200
        assert (await client.get("/system/orgs")).status_code == 200

    response = await client.patch(
        f"/api/v1/roles/{role['id']}", json={"permissions": ["system.role.view"]}, headers=admin
    )
    assert response.status_code == 200, response.text

    error_of(await client.get("/api/v1/orgs", headers=bob), 403)
    assert (await client.get("/system/orgs")).status_code == 403
    assert (await client.get("/api/v1/roles", headers=bob)).status_code == 200  # what stayed, stays


async def test_a_disabled_user_is_refused_at_the_next_request_through_a_warm_cache(client, tenant, admin):
    _, bob = await user_with(client, admin, "bob", tenant.org_id, "hq", ["system.org.view"])
    await page_login(client, "bob@ACME", PASSWORD)
    for _ in range(2):
        assert (await client.get("/api/v1/orgs", headers=bob)).status_code == 200
        assert await page_session_alive(client)
    users = (await client.get("/api/v1/users?q=bob", headers=admin)).json()["items"]
    response = await client.patch(f"/api/v1/users/{users[0]['id']}", json={"enabled": False}, headers=admin)
    assert response.status_code == 200, response.text
    error_of(await client.get("/api/v1/orgs", headers=bob), 401, "unauthorized")
    assert not await page_session_alive(client)


async def test_a_deleted_org_refuses_its_members_at_the_next_request_through_a_warm_cache(client, tenant, admin):
    b1 = await make_org(client, admin, "B1", tenant.org_id)
    _, bob = await user_with(client, admin, "bob", b1["id"], "branch", ["system.org.view"])
    for _ in range(2):
        assert (await client.get("/api/v1/orgs", headers=bob)).status_code == 200
    assert (await client.delete(f"/api/v1/orgs/{b1['id']}", headers=admin)).status_code == 200
    error_of(await client.get("/api/v1/orgs", headers=bob), 401, "unauthorized")


async def test_a_revoked_token_is_refused_at_the_next_request_through_a_warm_cache(client, tenant, admin):
    _, bob = await user_with(client, admin, "bob", tenant.org_id, "hq", ["system.org.view"])
    for _ in range(2):
        assert (await client.get("/api/v1/auth/me", headers=bob)).status_code == 200
    assert (await client.delete("/api/v1/auth/token", headers=bob)).status_code == 204
    error_of(await client.get("/api/v1/auth/me", headers=bob), 401, "unauthorized")


async def test_a_password_reset_ends_sessions_and_tokens_through_a_warm_cache(client, tenant, admin):
    _, bob = await user_with(client, admin, "bob", tenant.org_id, "hq", ["system.org.view"])
    await page_login(client, "bob@ACME", PASSWORD)
    for _ in range(2):
        assert await page_session_alive(client)
    users = (await client.get("/api/v1/users?q=bob", headers=admin)).json()["items"]
    response = await client.post(
        f"/api/v1/users/{users[0]['id']}/reset-password", json={"password": "Newpassw0rd9"}, headers=admin
    )
    assert response.status_code == 200, response.text
    error_of(await client.get("/api/v1/auth/me", headers=bob), 401, "unauthorized")
    assert not await page_session_alive(client)


async def test_a_change_in_one_tenant_leaves_the_other_tenants_callers_cached(
    client, tenant, other_tenant, admin, resolved
):
    other = await api_login(client, "admin@OTHER")
    for _ in range(2):
        me = await client.get("/api/v1/auth/me", headers=other)
        assert me.status_code == 200 and "OTHER" in me.text
    resolved.clear()
    renamed = await client.patch(f"/api/v1/orgs/{tenant.org_id}", json={"name": "总部改名"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    me = await client.get("/api/v1/auth/me", headers=other)
    assert me.status_code == 200 and "OTHER" in me.text and "总部改名" not in me.text
    assert other_tenant.tenant_id not in [t for _, t in resolved]  # OTHER's generation did not move


@pytest.mark.skipif(not REDIS_URL, reason="the Redis generation: needs TEST_REDIS_URL")
async def test_with_redis_down_every_request_is_resolved_from_the_database(client, tenant, admin, resolved):
    _, bob = await user_with(client, admin, "bob", tenant.org_id, "hq", ["system.org.view"])
    authcache.bind(authcache.RedisGenerations("redis://127.0.0.1:1/0", "WEIFUDOWN"))  # nothing listens there
    try:
        resolved.clear()
        for _ in range(3):
            assert (await client.get("/api/v1/auth/me", headers=bob)).status_code == 200
        assert len(resolved) == 3
    finally:
        await authcache.unbind()


async def test_an_unreadable_generation_bypasses_the_cache(client, tenant, admin, resolved):
    class Unknown:
        async def current(self, tenant_id):
            return None

        async def bump(self, tenant_id):
            raise ConnectionError("down")

        async def close(self):
            pass

    _, bob = await user_with(client, admin, "bob", tenant.org_id, "hq", ["system.org.view"])
    authcache.bind(Unknown())
    resolved.clear()
    for _ in range(3):
        assert (await client.get("/api/v1/auth/me", headers=bob)).status_code == 200
    assert len(resolved) == 3
    # a failed bump after a commit is logged, not an error for the request that changed things
    renamed = await client.patch(f"/api/v1/orgs/{tenant.org_id}", json={"name": "总部"}, headers=admin)
    assert renamed.status_code == 200, renamed.text


async def test_file_generations_are_shared_by_every_process_on_the_machine(tmp_path):
    one, two = authcache.FileGenerations(tmp_path), authcache.FileGenerations(tmp_path)
    assert await one.current(7) == await two.current(7) == 0
    await one.bump(7)
    await one.bump(7)
    assert await two.current(7) == 2 and await two.current(8) == 0


@pytest.mark.skipif(bool(PG_URL), reason="services outside the server: one check is enough")
async def test_outside_the_server_nothing_is_cached(tenant, resolved):
    from server.system.tables import User

    authcache.bind(None)
    admin_id = (await User.select(User.id).where(User.tenant_id == tenant.tenant_id).first())["id"]
    for _ in range(2):
        assert await auth.ctx_for(admin_id, tenant.tenant_id) is not None
    assert len(resolved) == 2


async def test_a_request_reads_the_generation_once_however_many_entries_it_looks_up(client, tenant, admin, monkeypatch):
    """The work order list looks up the caller and the SLA settings: one reading of the tenant's
    generation (a Redis round trip in production), not one per entry."""
    generations = authcache._generations
    reads: list[int] = []
    read = generations.current

    async def counted(tenant_id):
        reads.append(tenant_id)
        return await read(tenant_id)

    monkeypatch.setattr(generations, "current", counted)
    await page_login(client, "admin@ACME")
    for _ in range(2):  # warm
        assert (await client.get("/workorders")).status_code == 200
    reads.clear()
    assert (await client.get("/workorders")).status_code == 200
    assert reads == [tenant.tenant_id]


async def test_within_a_request_its_own_change_is_read_again_and_a_task_it_starts_reads_for_itself(tmp_path):
    import asyncio

    generations = authcache.FileGenerations(tmp_path)
    authcache.bind(generations)
    try:
        with authcache.one_reading():
            first = await authcache.generation(7)
            await generations.bump(7)  # another process
            assert await authcache.generation(7) == first  # read once in this request
            assert await asyncio.create_task(authcache.generation(7)) == first + 1
            await authcache.changed(7)  # this request changes something: it reads again
            assert await authcache.generation(7) == first + 2
        await generations.bump(7)
        assert await authcache.generation(7) == first + 3  # outside a request: every time
    finally:
        authcache.bind(None)
