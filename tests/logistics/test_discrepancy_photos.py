"""Photos of receipt discrepancies (core.uploads): the receiver attaches images to an open
discrepancy over the API and the pages; both sides see them in the discrepancy JSON and read
them back with safe headers; the type is what the bytes are; too large, empty, not an image,
too many, the shipper, a resolved one are refused in Chinese storing nothing; another tenant,
another subtree and a caller without a reading permission get 404 for reads and writes."""

from __future__ import annotations

import hashlib
import json

import pytest
from litestar.datastructures import UploadFile

from server.core import uploads
from server.core.errors import BusinessError
from server.core.tables import AuditLog, Upload
from server.logistics.services.discrepancies import MAX_PHOTOS
from tests.api_helpers import call, error_of
from tests.conftest import api_login, csrf, page_login
from tests.images import gif, jpeg_header, png, webp_lossless
from tests.logistics.test_discrepancies_api import short_of
from tests.logistics.test_shipments_api import setup
from tests.system.helpers import PASSWORD

URL = "/api/v1/shipment-discrepancies"


async def send(client, headers, discrepancy_id, content: bytes, name="box.png", media="image/png"):
    return await client.post(f"{URL}/{discrepancy_id}/photos", files={"file": (name, content, media)}, headers=headers)


async def test_the_receiver_attaches_photos_both_sides_see_them(client, tenant, admin):
    n = await setup(client, tenant, admin)
    doc, found = await short_of(client, admin, n)
    assert found["photos"] == []
    image = png(8, 6)
    answer = await send(client, n["b2_h"], found["id"], image, name="../箱子 1.png")
    assert answer.status_code == 200, answer.text
    photo = answer.json()["photos"][0]
    assert (photo["content_type"], photo["size"], photo["width"], photo["height"]) == ("image/png", len(image), 8, 6)
    assert photo["sha256"] == hashlib.sha256(image).hexdigest() and photo["filename"] == "箱子 1.png"
    assert photo["url"] == f"/api/v1/uploads/{photo['id']}" and photo["created_by_name"]
    # the type is the bytes', not the client's word
    answer = await send(client, n["b2_h"], found["id"], jpeg_header(640, 480), name="x.png", media="image/png")
    second = answer.json()["photos"][1]
    assert (second["content_type"], second["width"], second["height"]) == ("image/jpeg", 640, 480)

    for headers in (n["b2_h"], admin):  # receiver and shipper
        got = await client.get(photo["url"], headers=headers)
        assert got.status_code == 200 and got.content == image
        assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
        assert "default-src 'none'" in got.headers["content-security-policy"]
    assert (await client.get(second["url"], headers=admin)).headers["content-type"] == "image/jpeg"
    listed = await call(client, "GET", f"{URL}?no={doc['no']}", admin)
    assert [p["id"] for p in listed["items"][0]["photos"]] == [photo["id"], second["id"]]
    shown = await call(client, "GET", f"/api/v1/shipments/{doc['id']}", admin)
    assert len(shown["lines"][0]["discrepancies"][0]["photos"]) == 2
    audit = await AuditLog.select().where(AuditLog.action == "add_photos")
    assert len(audit) == 2 and "照片 1 张" in audit[0]["summary"]


@pytest.mark.parametrize(
    "content,media,status,code",
    [
        (b"hello, not an image", "image/jpeg", 400, "invalid_file_type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", 400, "invalid_file_type"),
        (b"", "image/png", 400, "empty_file"),
        (png(0, 0), "image/png", 400, "invalid_image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * (uploads.MAX_BYTES - 7), "image/png", 413, "file_too_large"),
        (b"\x00" * (uploads.MAX_BYTES + uploads.FRAMING + 1), "image/png", 413, "too_large"),
    ],
    ids=["text", "svg", "empty", "zero-size", "over-the-limit", "over-the-body-limit"],
)
async def test_bad_files_are_refused_in_chinese_storing_nothing(client, tenant, admin, content, media, status, code):
    n = await setup(client, tenant, admin)
    _, found = await short_of(client, admin, n)
    error_of(await send(client, n["b2_h"], found["id"], content, media=media), status, code)
    assert await Upload.count() == 0


async def test_who_may_add_and_how_many(client, tenant, admin):
    n = await setup(client, tenant, admin)
    _, found = await short_of(client, admin, n)
    error_of(await send(client, admin, found["id"], png()), 403, "not_receiver")  # the shipper
    other_field = {"photo": ("a.png", png(), "image/png")}
    error_of(await client.post(f"{URL}/{found['id']}/photos", files=other_field, headers=n["b2_h"]), 400)
    error_of(await client.post(f"{URL}/{found['id']}/photos", data={"x": "1"}, headers=n["b2_h"]), 415)
    for _ in range(MAX_PHOTOS):
        assert (await send(client, n["b2_h"], found["id"], gif())).status_code == 200
    refused = error_of(await send(client, n["b2_h"], found["id"], webp_lossless()), 400, "too_many_photos")
    assert f"最多 {MAX_PHOTOS} 张" in refused["detail"]
    await call(client, "POST", f"{URL}/{found['id']}/resolve", admin, {"resolution": "lost"})
    await Upload.delete(force=True)
    error_of(await send(client, n["b2_h"], found["id"], png()), 409, "invalid_state")
    assert await Upload.count() == 0


async def test_other_tenants_subtrees_and_readers_without_permission_get_404(client, tenant, other_tenant, admin):
    n = await setup(client, tenant, admin)
    _, found = await short_of(client, admin, n)
    photo = (await send(client, n["b2_h"], found["id"], png())).json()["photos"][0]
    other = await api_login(client, "admin@OTHER")
    for headers in (other, n["b3_h"]):
        error_of(await client.get(photo["url"], headers=headers), 404, "not_found")
        error_of(await send(client, headers, found["id"], png()), 404, "not_found")
    # a file of the other tenant with the same owner kind and row id is not ours either
    from server.system.services import tenants  # noqa: F401  (other_tenant exists)

    assert await Upload.count() == 1
    error_of(await client.get("/api/v1/uploads/999999", headers=admin), 404, "not_found")
    assert (await client.get(photo["url"])).status_code == 401


async def test_an_owner_without_a_reader_serves_nobody_and_sniffing(client, tenant, admin):
    stored = await uploads.store_upload(tenant, UploadFile("image/png", "a.png", png()), owner="nobody", owner_id=1)
    assert (stored["content_type"], stored["size"]) == ("image/png", len(png()))
    error_of(await client.get(stored["url"], headers=admin), 404, "not_found")
    with pytest.raises(BusinessError, match="请选择"):
        await uploads.store_upload(tenant, "not a file", owner="nobody")
    assert uploads.sniff(webp_lossless(3, 5)) == uploads.Sniffed("image/webp", 3, 5)
    assert uploads.sniff(gif(2, 7)).height == 7
    with pytest.raises(BusinessError, match="只能上传 JPEG 格式"):
        uploads.sniff(png(), kinds=("image/jpeg",))


async def test_the_pages_upload_and_show_thumbnails(client, tenant, admin):
    n = await setup(client, tenant, admin)
    doc, found = await short_of(client, admin, n)
    await page_login(client, "b2api@ACME", PASSWORD)
    listed = await client.get("/logistics/discrepancies")
    assert f'hx-get="/logistics/discrepancies/{found["id"]}/photos"' in listed.text
    dialog = await client.get(f"/logistics/discrepancies/{found['id']}/photos")
    assert dialog.status_code == 200 and 'type="file"' in dialog.text and "最多 6 张" in dialog.text
    files = [("file", ("a.png", png(), "image/png")), ("file", ("b.gif", gif(), "image/gif"))]
    done = await client.post(f"/logistics/discrepancies/{found['id']}/photos", files=files, headers=csrf(client))
    assert done.status_code == 200, done.text
    assert "共 2 张" in json.loads(done.headers["hx-trigger"])["weifu:saved"]["message"]
    bad = await client.post(
        f"/logistics/discrepancies/{found['id']}/photos", files=[("file", ("c.txt", b"text", "text/plain"))],
        headers=csrf(client),
    )  # fmt: skip
    assert bad.status_code == 400 and "不是可识别的图片" in bad.text
    none = await client.post(f"/logistics/discrepancies/{found['id']}/photos", data={"x": "1"}, headers=csrf(client))
    assert none.status_code == 400 and "请选择" in none.text
    listed = await client.get("/logistics/discrepancies")
    assert listed.text.count('class="photo-thumb"') == 2
    receipt = await client.get(f"/logistics/receiving/{doc['id']}")
    assert receipt.text.count('class="photo-thumb"') == 2 and "上传照片" in receipt.text
    photo = (await Upload.select(Upload.id).order_by(Upload.id).first())["id"]
    assert (await client.get(f"/api/v1/uploads/{photo}")).status_code == 200  # the page's session reads it

    client.cookies.clear()
    await page_login(client, "admin@ACME")
    shown = await client.get(f"/logistics/shipments/{doc['id']}")
    assert shown.text.count('class="photo-thumb"') == 2 and "上传照片" not in shown.text
