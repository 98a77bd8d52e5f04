"""Uploaded files (a discrepancy's photos; later a print template's background image).

Kept in the database (`upload.data`), not on disk: a photo is small (capped at `MAX_BYTES`),
the few a discrepancy has are written in the same transaction as what they belong to (a refused
request leaves no orphan file), every worker and host reads the same rows, the backup and the
tenant scoping are the ones every other row has, and background jobs already keep their uploads
this way (`job.data`).

A domain stores an upload with `store_upload(ctx, upload, owner=..., kinds=...)` and says who may
read what it owns with `@readable(owner)`; `GET /api/v1/uploads/{id}` serves a file only to the
same tenant's users whom its owner's reader lets see it (404 for everyone else, alike for
another tenant's id, a missing one or one the caller may not see).

The type is what the bytes are, not what the client says: the magic bytes pick it among
`kinds`, and an image's header is parsed (dimensions, within bounds) in a worker thread; the
file is served with that type, `nosniff`, and as a named inline attachment."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
from litestar import Controller, Request, Response, get
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from server.core import permissions, validate
from server.core.clock import now
from server.core.errors import BusinessError, NotFound
from server.core.tables import Upload
from server.core.tenancy import Ctx, in_tenant
from server.core.web import ctx_of

MAX_BYTES = 5 * 1024 * 1024  # one file
FRAMING = 64 * 1024  # a multipart body's boundaries, headers and small fields beside its files
MAX_SIDE = 20_000  # pixels either way: a header claiming more is not a photo we show
NAME_LENGTH = 120


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    width: int
    height: int


# --- what the bytes are -------------------------------------------------------------------------


def _png(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    return None


def _gif(data: bytes) -> tuple[int, int] | None:
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or len(data) < 25:
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a" and len(data) >= 30:
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


# JPEG start-of-frame markers (baseline, progressive, …), the ones that carry the dimensions
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> tuple[int, int] | None:
    """Walks the segments from SOI to the first frame header."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        if marker in _SOF:
            if i + 9 > len(data):
                return None
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        i += 2 + length
    return None


IMAGE_TYPES: dict[str, Callable[[bytes], tuple[int, int] | None]] = {
    "image/jpeg": _jpeg,
    "image/png": _png,
    "image/gif": _gif,
    "image/webp": _webp,
}
IMAGES = tuple(IMAGE_TYPES)
KIND_NAMES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WebP"}


def sniff(data: bytes, kinds: Iterable[str] = IMAGES) -> Sniffed:
    """The file's type among `kinds` from its bytes, its header read through (400 otherwise).
    CPU work on up to `MAX_BYTES`: callers run it in a worker thread (`inspect`)."""
    allowed = "、".join(KIND_NAMES.get(k, k) for k in kinds)
    for content_type in kinds:
        size = IMAGE_TYPES[content_type](data)
        if size is None:
            continue
        width, height = size
        if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
            raise BusinessError(f"图片尺寸无效（{width}×{height}），请重新拍摄或导出后上传", code="invalid_image")
        return Sniffed(content_type, width, height)
    raise BusinessError(f"文件不是可识别的图片，只能上传 {allowed} 格式的图片", code="invalid_file_type")


def _inspect(data: bytes, kinds: tuple[str, ...]) -> tuple[Sniffed, str]:
    return sniff(data, kinds), hashlib.sha256(data).hexdigest()


# --- storing ------------------------------------------------------------------------------------


def _size_of(upload: UploadFile) -> int:
    """The upload's size from its spooled file, before its bytes are read into memory."""
    f = upload.file
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    return size


def _name(upload: UploadFile) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c.isprintable())[:NAME_LENGTH] or "file"


@dataclass(frozen=True)
class Ready:
    """An upload read and checked (`prepare`), not yet stored."""

    filename: str
    data: bytes
    sniffed: Sniffed
    sha256: str


async def prepare(upload: Any, *, kinds: Iterable[str] = IMAGES, max_bytes: int = MAX_BYTES) -> Ready:
    """Read and check one uploaded file, outside any transaction (a large file's reading and
    hashing holds no lock). Refuses, in Chinese, what is not a file (400 `no_file`), empty, larger
    than `max_bytes` (413 `file_too_large`, measured before the bytes are read) or not one of
    `kinds` by its bytes (400 `invalid_file_type`, `invalid_image`)."""
    if not isinstance(upload, UploadFile):
        raise BusinessError("请选择要上传的文件", code="no_file", field="file")
    size = await anyio.to_thread.run_sync(_size_of, upload)
    limit = f"{max_bytes / 1024 / 1024:g} MB"
    if size > max_bytes:
        raise BusinessError(f"文件过大（{size / 1024 / 1024:.1f} MB），单个文件最大 {limit}", "file_too_large", 413)
    if size == 0:
        raise BusinessError("文件是空的，请重新选择", code="empty_file", field="file")
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:  # the spooled file grew after it was measured: not expected
        raise BusinessError(f"文件过大，单个文件最大 {limit}", code="file_too_large", status_code=413)
    sniffed, digest = await anyio.to_thread.run_sync(_inspect, data, tuple(kinds))
    return Ready(_name(upload), data, sniffed, digest)


async def save(ctx: Ctx, ready: Ready, *, owner: str, owner_id: int | None = None) -> dict:
    """Store a prepared file for `owner` (e.g. "shipment_discrepancy", `owner_id` its row) in the
    caller's tenant, inside the owner's transaction. Returns its public fields (`file_dict`)."""
    row = (
        await Upload.insert(
            Upload(
                tenant_id=ctx.tenant_id,
                owner=owner,
                owner_id=owner_id,
                filename=ready.filename,
                content_type=ready.sniffed.content_type,
                size=len(ready.data),
                sha256=ready.sha256,
                width=ready.sniffed.width,
                height=ready.sniffed.height,
                data=ready.data,
                created_by=ctx.user_id,
                created_by_name=ctx.user_name,
                created_at=now(),
            )
        ).returning(*FIELDS)
    )[0]
    return file_dict(row)


async def store_upload(
    ctx: Ctx,
    upload: Any,
    *,
    owner: str,
    owner_id: int | None = None,
    kinds: Iterable[str] = IMAGES,
    max_bytes: int = MAX_BYTES,
) -> dict:
    """`prepare` then `save`: one file, checked and stored (its `id` in the answer). A caller
    that also writes its own rows in a transaction prepares first and saves inside it."""
    return await save(ctx, await prepare(upload, kinds=kinds, max_bytes=max_bytes), owner=owner, owner_id=owner_id)


FIELDS = (
    Upload.id,
    Upload.sha256,
    Upload.owner_id,
    Upload.filename,
    Upload.content_type,
    Upload.size,
    Upload.width,
    Upload.height,
    Upload.created_by_name,
    Upload.created_at,
)


def file_dict(row: dict) -> dict:
    return {
        "id": row["id"],
        "filename": row["filename"],
        "content_type": row["content_type"],
        "size": row["size"],
        "sha256": row["sha256"],
        "width": row["width"],
        "height": row["height"],
        "url": f"/api/v1/uploads/{row['id']}",
        "created_by_name": row["created_by_name"],
        "created_at": row["created_at"],
    }


async def files_of(tenant_id: int, owner: str, owner_ids: Iterable[int]) -> dict[int, list[dict]]:
    """The stored files of many owner rows (of a tenant, rows the caller already reads) in one
    statement, oldest first, without their bytes; no statement for no rows."""
    ids = list(set(owner_ids))
    if not ids:
        return {}
    rows = (
        await Upload.select(*FIELDS)
        .where(in_tenant(Upload, tenant_id) & (Upload.owner == owner) & Upload.owner_id.is_in(ids))
        .order_by(Upload.id)
    )
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r["owner_id"], []).append(file_dict(r))
    return out


async def count_of(ctx: Ctx, owner: str, owner_id: int) -> int:
    return await Upload.count().where(
        in_tenant(Upload, ctx.tenant_id) & (Upload.owner == owner) & (Upload.owner_id == owner_id)
    )


# --- reading back -------------------------------------------------------------------------------

# (ctx, owner row id) → whether the caller's scope holds that row (and so its files)
Reader = Callable[[Ctx, int], Awaitable[bool]]
_readers: dict[str, tuple[str | tuple[str, ...], Reader]] = {}


def readable(owner: str, *, perm: str | tuple[str, ...]) -> Callable[[Reader], Reader]:
    """Register who may read the files of `owner`'s rows: a holder of `perm` (a code, or codes
    any one of which suffices, as a route's `opt`) whose scope holds the row (the reader, the
    owning domain's own scoping). An owner without a reader serves its files to nobody."""

    def register(fn: Reader) -> Reader:
        _readers[owner] = (perm, fn)
        return fn

    return register


async def fetch(ctx: Ctx, upload_id: Any) -> dict:
    """The file with its bytes, if the caller may see it (404 alike for every other case)."""
    uid = validate.ident(upload_id, "文件", "id")
    row = (
        await Upload.select(*FIELDS, Upload.owner, Upload.data)
        .where(in_tenant(Upload, ctx.tenant_id) & (Upload.id == uid))
        .first()
    )
    perm, reader = _readers.get(row["owner"], (None, None)) if row else (None, None)
    if (
        row is None
        or reader is None
        or row["owner_id"] is None
        or not permissions.any_of(perm, ctx.permissions)
        or not await reader(ctx, row["owner_id"])
    ):
        raise NotFound("文件")
    return row


def file_response(row: dict) -> Response:
    name = quote(row["filename"])
    return Response(
        bytes(row["data"]),
        media_type=row["content_type"],
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


class UploadController(Controller):
    path = "/api/v1/uploads"
    tags = ["core"]

    # who may read a file is its owner's question (`readable`): the route asks for a signed-in
    # person, the owner's reader for its own permission and the row's scope
    @get(
        "/{upload_id:int}",
        opt={"signed_in": True},
        summary="下载上传的文件（如收货差异的照片）",
        media_type="application/octet-stream",
    )
    async def read(self, request: Request, upload_id: FromPath[int]) -> Response:
        return file_response(await fetch(ctx_of(request), upload_id))


ROUTES = [UploadController]
