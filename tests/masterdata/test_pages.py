"""The htmx pages of master data: trees with the inline editor, suppliers."""

from tests.conftest import csrf, page_login


async def test_tree_page_inline_editor_builds_apple_iphone_iphone15(client, tenant):
    await page_login(client, "admin@ACME")
    parent = None
    for name in ("Apple", "iPhone", "iPhone 15"):
        form = await client.get("/masterdata/categories/new" + (f"?parent_id={parent}" if parent else ""))
        assert form.status_code == 200 and 'name="name"' in form.text
        response = await client.post(
            "/masterdata/categories", data={"name": name, "parent_id": parent or ""}, headers=csrf(client)
        )
        assert response.status_code == 201, response.text
        page = await client.get("/masterdata/categories")
        parent = int(page.text.split(f'data-name="{name}"')[0].rsplit('id="node-', 1)[1].split('"')[0])
    page = await client.get("/masterdata/categories", headers={"hx-request": "true", "hx-target": "rows"})
    assert "iPhone 15" in page.text and "<html" not in page.text
    duplicate = await client.post(
        "/masterdata/categories", data={"name": "iPhone", "parent_id": ""}, headers=csrf(client)
    )
    assert duplicate.status_code == 201  # a top-level "iPhone" is another node than Apple › iPhone
    again = await client.post("/masterdata/categories", data={"name": "iPhone", "parent_id": ""}, headers=csrf(client))
    assert again.status_code == 409 and "已有名为【iPhone】" in again.text


async def test_supplier_pages_add_edit_delete(client, tenant):
    await page_login(client, "admin@ACME")
    assert (await client.get("/masterdata/suppliers/new")).status_code == 200
    created = await client.post(
        "/masterdata/suppliers", data={"code": "S1", "name": "华强配件", "enabled": "1"}, headers=csrf(client)
    )
    assert created.status_code == 201, created.text
    listing = await client.get("/masterdata/suppliers")
    assert "华强配件" in listing.text
    from server.masterdata.services import suppliers

    supplier_id = (await suppliers.search(tenant, q="S1")).items[0]["id"]
    assert (await client.get(f"/masterdata/suppliers/{supplier_id}/edit")).status_code == 200
    bad = await client.post(f"/masterdata/suppliers/{supplier_id}", data={"name": ""}, headers=csrf(client))
    assert bad.status_code == 400 and bad.text == "请填写供应商名称"
    ok = await client.post(
        f"/masterdata/suppliers/{supplier_id}", data={"name": "华强北配件", "enabled": "0"}, headers=csrf(client)
    )
    assert ok.status_code == 200
    gone = await client.post(f"/masterdata/suppliers/{supplier_id}/delete", headers=csrf(client))
    assert gone.status_code == 200
    assert "华强北配件" not in (await client.get("/masterdata/suppliers")).text


async def test_dictionary_pages_add_rename_disable(client, tenant):
    from server.masterdata.services import dictionaries

    await page_login(client, "admin@ACME")
    page = await client.get("/masterdata/dictionaries?kind=payment_method")
    assert page.status_code == 200 and "微信" in page.text and "支付方式" in page.text
    assert (await client.get("/masterdata/dictionaries/new?kind=payment_method")).status_code == 200
    created = await client.post(
        "/masterdata/dictionaries/payment_method", data={"code": "unionpay", "name": "云闪付"}, headers=csrf(client)
    )
    assert created.status_code == 201, created.text
    item = next(i for i in await dictionaries.items(tenant, "payment_method") if i["code"] == "unionpay")
    assert (await client.get(f"/masterdata/dictionaries/payment_method/{item['id']}/edit")).status_code == 200
    updated = await client.post(
        f"/masterdata/dictionaries/payment_method/{item['id']}",
        data={"name": "云闪付（银联）", "enabled": "0"},
        headers=csrf(client),
    )
    assert updated.status_code == 200
    item = next(i for i in await dictionaries.items(tenant, "payment_method") if i["code"] == "unionpay")
    assert item["name"] == "云闪付（银联）" and not item["enabled"]
    unknown = await client.get("/masterdata/dictionaries?kind=nope")
    assert unknown.status_code == 400
