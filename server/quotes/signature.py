"""A customer's signature as the iPad (or a program) sends it: a `data:image/png;base64,…` URL
from the canvas, or an SVG text of strokes. Checked before anything is written, and kept as a
core upload (server.core.uploads: stored with the quote's transaction, served with `nosniff` and
a sandboxing CSP). A PNG must be what its bytes say (`uploads.sniff`); an SVG may hold only shapes
— no script, no link, no entity, no style — so showing it can run nothing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import xml.etree.ElementTree as ET

import anyio

from server.core import uploads
from server.core.errors import BusinessError

PNG_PREFIX = "data:image/png;base64,"
# a signature is a few KB; a photo smuggled in is refused by its text's length, before decoding
# (512 KB of PNG as base64, or an SVG of as many characters)
MAX_TEXT = 512 * 1024 * 4 // 3 + len(PNG_PREFIX)
SVG_NS = "http://www.w3.org/2000/svg"
SVG_TAGS = {"svg", "g", "path", "polyline", "line", "circle", "rect", "title", "desc"}
SVG_ATTRIBUTES = {
    *("width", "height", "viewBox", "version", "d", "points", "x", "y", "x1", "y1", "x2", "y2"),
    *("cx", "cy", "r", "rx", "ry", "fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin"),
    *("stroke-opacity", "fill-opacity", "opacity", "transform"),
}
NUMBER = re.compile(r"\s*(\d{1,5}(?:\.\d+)?)(?:px)?\s*")


def _invalid(detail: str, code: str = "invalid_signature") -> BusinessError:
    return BusinessError(detail, code=code, field="signature")


def _png(text: str) -> uploads.Ready:
    try:
        data = base64.b64decode(text[len(PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("签名图片的编码无效，请重新签字") from None
    try:
        sniffed = uploads.sniff(data, ("image/png",))
    except BusinessError:
        raise _invalid("签名不是有效的 PNG 图片，请重新签字") from None
    return uploads.Ready("signature.png", data, sniffed, hashlib.sha256(data).hexdigest())


def _local(name: str) -> str:
    """A tag or attribute without the SVG namespace; another namespace (xlink:href…) is refused."""
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return local if ns == SVG_NS else ""
    return name


def _size(value: str | None) -> int:
    found = NUMBER.fullmatch(value or "")
    return round(float(found.group(1))) if found else 0


def _svg(text: str) -> uploads.Ready:
    data = text.encode()
    if "<!" in text or "<?xml-stylesheet" in text:  # no DOCTYPE, entity, CDATA or style sheet
        raise _invalid("签名 SVG 只能包含线条，不能有声明或实体")
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise _invalid("签名 SVG 格式不正确") from None
    if _local(root.tag) != "svg":
        raise _invalid("签名 SVG 的根元素必须是 svg")
    for el in root.iter():
        if _local(el.tag) not in SVG_TAGS:
            raise _invalid("签名 SVG 只能包含线条（path、polyline、line 等），不能有脚本、链接或其他元素")
        for name, value in el.attrib.items():
            if _local(name) not in SVG_ATTRIBUTES or "url(" in value.lower() or "javascript:" in value.lower():
                raise _invalid("签名 SVG 含有不允许的属性")
    if not any(_local(el.tag) in ("path", "polyline", "line", "circle") for el in root.iter()):
        raise _invalid("签名是空白的，请签字后再确认", "empty_signature")
    sniffed = uploads.Sniffed("image/svg+xml", _size(root.get("width")), _size(root.get("height")))
    return uploads.Ready("signature.svg", data, sniffed, hashlib.sha256(data).hexdigest())


def _parse(value: object) -> uploads.Ready:
    if not isinstance(value, str) or not value.strip():
        raise _invalid("请让客户签字后再确认", "required")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise _invalid("签名图片过大，请清除后重新签字", "signature_too_large")
    if text.startswith(PNG_PREFIX):
        return _png(text)
    if text.startswith(("<svg", "<?xml")):
        return _svg(text)
    raise _invalid("签名必须是 PNG 图片的 data URL（data:image/png;base64,…）或 SVG 文本")


async def parse(value: object) -> uploads.Ready:
    """The signature checked and ready to store (400 in Chinese otherwise); decoding and parsing
    up to `MAX_TEXT` run in a worker thread."""
    return await anyio.to_thread.run_sync(_parse, value)
