"""Error paths of the GSX API and the secrets box: permissions, bad input in Chinese, disabling
hides again, a key sealed under another SECRET_KEY."""

from __future__ import annotations

import pytest

from server.core import secrets
from server.core.errors import BusinessError
from server.gsx import permissions as P
from server.workorders import permissions as WO
from tests.conftest import api_login
from tests.gsx.helpers import configure, link, order
from tests.system.helpers import PASSWORD, service_user

WO_URL = "/api/v1/work-orders"


def test_secrets_round_trip_and_refuse_another_key():
    try:
        secrets.bind("key-one")
        sealed = secrets.encrypt("TOK-secret")
        assert "TOK-secret" not in sealed and secrets.decrypt(sealed) == "TOK-secret"
        secrets.bind("key-two")
        with pytest.raises(BusinessError) as refused:
            secrets.decrypt(sealed)
        assert refused.value.code == "secret_unreadable" and "重新填写" in refused.value.detail
    finally:
        secrets.bind("test-secret")  # the tests' app key (tests.conftest settings)


async def test_permissions_and_bad_input(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    o = await order(tenant, world)
    await service_user(tenant, "clerk", tenant.org_id, "hq", [WO.VIEW])
    clerk = await api_login(client, f"clerk@{tenant.tenant_code}", PASSWORD)
    assert (await client.get("/api/v1/gsx/settings", headers=clerk)).status_code == 403
    assert (await client.get("/api/v1/gsx/calls", headers=clerk)).status_code == 403
    assert (await client.post(f"{WO_URL}/{o['id']}/gsx/coverage", headers=clerk)).status_code == 403
    assert (await client.get(f"{WO_URL}/{o['id']}/gsx", headers=clerk)).status_code == 200
    # anyone signed in links their own account
    await link(client, clerk, "clerk@example.com")
    assert (await client.get("/api/v1/gsx/link", headers=admin)).json()["linked"] is False

    bad_id = await client.post(
        "/api/v1/gsx/link", json={"apple_id": "not-an-email", "activation_token": "ACT-x"}, headers=admin
    )
    assert bad_id.status_code == 400 and bad_id.json()["detail"] == "请填写正确的 Apple ID（邮箱）"
    used = await client.post(
        "/api/v1/gsx/link", json={"apple_id": "a@b.cn", "activation_token": "NOT-ACTIVATION"}, headers=admin
    )
    assert used.status_code == 409 and "激活码" in used.json()["detail"]
    await link(client, admin)
    for body, detail in [
        ({"repair_type": "CIN", "issues": []}, "请至少填写一组组件代码和问题代码"),
        (
            {"repair_type": "CIN", "issues": [{"component_code": "显示", "issue_code": "X"}]},
            "组件代码和问题代码应为大写字母或数字",
        ),
        (
            {"repair_type": "CIN", "issues": [{"component_code": "A", "issue_code": "B"}], "parts": ["661 1!"]},
            "部件号格式不正确",
        ),
    ]:
        response = await client.post(f"{WO_URL}/{o['id']}/gsx/repair", json=body, headers=admin)
        assert response.status_code == 400 and response.json()["detail"] == detail
    bad_url = await client.put("/api/v1/gsx/settings", json=fake_gsx.settings_body(base_url="ftp://x"), headers=admin)
    assert bad_url.status_code == 400 and bad_url.json()["detail"] == "GSX 地址格式不正确"
    bad_env = await client.put("/api/v1/gsx/settings", json=fake_gsx.settings_body(environment="prod"), headers=admin)
    assert bad_env.status_code == 400


async def test_disabling_hides_the_feature_again(client, admin, tenant, world, fake_gsx):
    await configure(client, admin, fake_gsx)
    await link(client, admin)
    o = await order(tenant, world)
    off = await client.put(
        "/api/v1/gsx/settings",
        json=fake_gsx.settings_body(certificate_pem="", key_pem="", enabled=False),
        headers=admin,
    )
    assert off.status_code == 200 and off.json()["configured"] is False and off.json()["certificate_set"]
    assert (await client.get("/api/v1/gsx/link", headers=admin)).status_code == 404
    assert (await client.post(f"{WO_URL}/{o['id']}/gsx/coverage", headers=admin)).status_code == 404
    assert P.MANAGE == "system.gsx.manage"
