"""GSX's wire format, all of it: URLs, headers, bodies, answers, TLS, retries and the circuit
breaker. Apple's partner API may change; nothing outside this module names a GSX field.

What is publicly known of GSX's REST API (open-source clients): mutual TLS with the partner's
certificate; headers X-Apple-SoldTo / ShipTo / Auth-Token / Operator-User-ID / Service-Version,
a locale and a trace id; `POST /api/authenticate/token {userAppleId, authToken}` answers a new
`authToken` (401: a new activation token is needed); under `/gsx/api/`: `repair/product/details`,
`repair/eligibility`, `repair/create`, `repair/details?repairId=`, `repair/summary`,
`repair/update`, `parts/summary`, `content/article/lookup` (news).

A `Client` raises `GsxError` with a Chinese `detail` for every failure; the caller records the
call (`Call`) whether it succeeded or not. Secrets (certificate, key, token) are never in an
exception, a log line or a `Call`.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

DEVICE_ID = re.compile(r"[0-9A-Za-z]{1,18}")
REPAIR_ID = re.compile(r"[0-9A-Z]{1,15}")
PART_NUMBER = re.compile(r"[0-9A-Za-z\-]{1,20}")
SERVICE_VERSION = "v5"
LOCALE = "zh_CN"
TIMEOUT = 10.0  # seconds per attempt
BACKOFF = (0.5, 1.5)  # waits before the second and third attempts of a call safe to repeat
BREAKER_THRESHOLD = 3  # failures in a row (no answer, 5xx) that open the circuit
BREAKER_COOL_DOWN = 30.0  # seconds the circuit stays open before one call may try again

# why a call failed: the code stored in 【GSX 调用记录】 and answered by the API
UNAVAILABLE, CIRCUIT_OPEN, TIMEOUT_CODE = "gsx_unavailable", "gsx_circuit_open", "gsx_timeout"
CERTIFICATE, UNAUTHORIZED, REJECTED = "gsx_certificate", "gsx_unauthorized", "gsx_rejected"

ACTIONS = {
    "HOLD": "维修已暂挂：GSX 需要按下列提示补充或确认后才会继续处理",
    "STOP": "GSX 拒绝了此维修：不能继续，请按下列提示处理后重新提交",
    "MESSAGE": "GSX 提示",
    "WARNING": "GSX 警告：请确认已知晓",
}
NEEDS_ACK = ("HOLD", "WARNING")


class GsxError(Exception):
    def __init__(self, code: str, detail: str, http_status: int | None = None, messages: list[str] | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.http_status = http_status
        self.messages = messages or []
        self.call: Call | None = None


def device_id(value: Any) -> str:
    """A serial as GSX accepts it, refused before any call otherwise."""
    text = str(value or "").strip()
    if not DEVICE_ID.fullmatch(text):
        raise GsxError("invalid_serial", "序列号格式不正确：应为 1-18 位字母或数字", None)
    return text


def part_number(value: Any) -> str:
    text = str(value or "").strip()
    if not PART_NUMBER.fullmatch(text):
        raise GsxError("invalid_part", f"部件号「{text[:20]}」格式不正确：应为字母、数字或连字符", None)
    return text


def repair_id(value: Any) -> str:
    text = str(value or "").strip()
    if not REPAIR_ID.fullmatch(text):
        raise GsxError("invalid_repair_id", "GSX 维修单号格式不正确：应为 1-15 位大写字母或数字", None)
    return text


# --- certificates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    expires_at: datetime


def read_certificate(certificate_pem: str, key_pem: str) -> CertificateInfo:
    """Check an uploaded pair before it is stored: both parse, the key is the certificate's."""
    try:
        cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        raise GsxError(CERTIFICATE, "证书无法读取：请上传 PEM 格式的证书（-----BEGIN CERTIFICATE-----）") from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise GsxError(CERTIFICATE, "私钥无法读取：请上传未加密的 PEM 格式私钥") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != cert.public_key().public_bytes(der, public):
        raise GsxError(CERTIFICATE, "私钥与证书不匹配：请上传同一对证书和私钥")
    return CertificateInfo(cert.subject.rfc4514_string()[:300], cert.not_valid_after_utc)


def ssl_context(certificate_pem: str, key_pem: str, server_ca_pem: str = "") -> ssl.SSLContext:
    """A client context presenting the partner certificate. `ssl` loads a chain only from a
    file: the pair is written to a 0600 temporary file for the load and deleted at once."""
    context = (
        ssl.create_default_context(cadata=server_ca_pem or None) if server_ca_pem else ssl.create_default_context()
    )
    fd, path = tempfile.mkstemp(prefix="gsx-", suffix=".pem")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(certificate_pem.strip() + "\n" + key_pem.strip() + "\n")
        context.load_cert_chain(path)
    except (ssl.SSLError, OSError):
        raise GsxError(CERTIFICATE, "证书或私钥无法加载：请在【GSX 对接】中重新上传") from None
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return context


# --- circuit breaker -------------------------------------------------------------------------------


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None


class CircuitBreaker:
    """Per tenant and per process: after `BREAKER_THRESHOLD` failures in a row calls fail at once
    for `BREAKER_COOL_DOWN` seconds, then one call may try again — so a screen never waits on a
    GSX that is down. (Each worker process learns it by itself; that costs a few failed calls.)"""

    def __init__(self) -> None:
        self._circuits: dict[Any, _Circuit] = {}

    def check(self, key: Any) -> None:
        circuit = self._circuits.get(key)
        if circuit and circuit.opened_at is not None:
            if time.monotonic() - circuit.opened_at < BREAKER_COOL_DOWN:
                raise GsxError(CIRCUIT_OPEN, "GSX 暂时不可用（连续多次无响应），请稍后再试；工单可照常保存")
            circuit.opened_at = None  # half open: this call tries

    def succeeded(self, key: Any) -> None:
        self._circuits.pop(key, None)

    def failed(self, key: Any) -> None:
        circuit = self._circuits.setdefault(key, _Circuit())
        circuit.failures += 1
        if circuit.failures >= BREAKER_THRESHOLD:
            circuit.opened_at = time.monotonic()

    def reset(self) -> None:
        self._circuits.clear()


BREAKER = CircuitBreaker()


# --- calls -----------------------------------------------------------------------------------------


@dataclass
class Call:
    """What 【GSX 调用记录】 keeps of a call: never a body, a header or a token."""

    endpoint: str
    trace_id: str
    http_status: int | None = None
    duration_ms: int = 0
    attempts: int = 0
    outcome: str = "ok"
    message: str = ""


@dataclass(frozen=True)
class Endpoint:
    """A tenant's GSX as the client needs it (decrypted by the caller, kept only in memory)."""

    base_url: str
    auth_url: str
    sold_to: str
    ship_to: str
    certificate_pem: str
    key_pem: str
    server_ca_pem: str = ""
    breaker_key: Any = None


@dataclass
class Operator:
    """The user acting: their Apple ID and current auth token (replaced by each exchange)."""

    apple_id: str
    token: str = ""
    calls: list[Call] = field(default_factory=list)
    # how a 401 gets a new token: the caller's (one exchange across processes), else `authenticate`
    renew: Callable[[Operator], Awaitable[None]] | None = field(default=None, repr=False)


def _gsx_messages(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [str(e.get("message") or e.get("code")) for e in data.get("errors") or [] if isinstance(e, dict)]
    return []


_REFUSED_CERTIFICATE = "GSX 拒绝了本系统的证书：请在【GSX 对接】中检查上传的证书和私钥是否为 Apple 签发、未过期"


def _transport_failure(exc: Exception) -> tuple[str, str]:
    text = str(exc).lower()
    if "certificate_verify_failed" in text or "hostname mismatch" in text:
        return CERTIFICATE, "GSX 服务器的证书不被信任：请检查 GSX 地址，或在【GSX 对接】中填写受信任的 CA 证书"
    if any(w in text for w in ("certificate", "alert", "handshake", "ssl", "tlsv")):
        return CERTIFICATE, _REFUSED_CERTIFICATE
    if isinstance(exc, httpx.TimeoutException):
        return TIMEOUT_CODE, "GSX 响应超时，请稍后再试；工单可照常保存"
    return UNAVAILABLE, "无法连接 GSX，请稍后再试；工单可照常保存"


class Client:
    """One tenant's GSX client; one per request (the SSL context is built per client)."""

    def __init__(self, endpoint: Endpoint, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.endpoint = endpoint
        self._transport = transport
        self._context: ssl.SSLContext | None = None

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            e = self.endpoint
            self._context = ssl_context(e.certificate_pem, e.key_pem, e.server_ca_pem)
        return self._context

    def _headers(self, operator: Operator | None, trace_id: str, ship_to: str | None) -> dict[str, str]:
        headers = {
            "X-Apple-SoldTo": self.endpoint.sold_to,
            "X-Apple-ShipTo": ship_to or self.endpoint.ship_to,
            "X-Apple-Service-Version": SERVICE_VERSION,
            "X-Apple-Client-Locale": LOCALE,
            "X-Apple-Trace-ID": trace_id,
            "Accept": "application/json",
        }
        if operator is not None:
            headers["X-Operator-User-ID"] = operator.apple_id
            if operator.token:
                headers["X-Apple-Auth-Token"] = operator.token
        return headers

    async def _send(
        self,
        method: str,
        url: str,
        endpoint_name: str,
        *,
        operator: Operator | None,
        body: Any = None,
        params: dict | None = None,
        safe: bool = True,
        ship_to: str | None = None,
        calls: list[Call] | None = None,
    ) -> tuple[int, Any]:
        """One call with its retries: a 5xx or no answer is tried again after a backoff when the
        call is `safe` to repeat (reads, token exchange); `repair/create` is retried only when
        the request never left (connect error). 4xx answers are returned to the caller."""
        trace_id = uuid.uuid4().hex
        call = Call(endpoint=endpoint_name, trace_id=trace_id)
        if calls is not None:
            calls.append(call)
        key = self.endpoint.breaker_key
        started = time.monotonic()
        try:
            BREAKER.check(key)
        except GsxError as exc:
            call.outcome, call.message = exc.code, exc.detail
            exc.call = call
            raise
        failure: GsxError | None = None
        try:
            async with httpx.AsyncClient(
                verify=self._ssl(), timeout=TIMEOUT, transport=self._transport, follow_redirects=False
            ) as http:
                for attempt in range(len(BACKOFF) + 1):
                    call.attempts = attempt + 1
                    try:
                        response = await http.request(
                            method, url, json=body, params=params, headers=self._headers(operator, trace_id, ship_to)
                        )
                    except httpx.HTTPError as exc:
                        code, detail = _transport_failure(exc)
                        if code == UNAVAILABLE and isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
                            if await self._certificate_refused(url):
                                code, detail = CERTIFICATE, _REFUSED_CERTIFICATE
                        failure = GsxError(code, detail)
                        repeatable = code != CERTIFICATE and (safe or isinstance(exc, httpx.ConnectError))
                    else:
                        call.http_status = response.status_code
                        if response.status_code < 500:
                            try:
                                data = response.json() if response.content else {}
                            except ValueError:
                                data = {}
                            BREAKER.succeeded(key)
                            return response.status_code, data
                        failure = GsxError(
                            UNAVAILABLE, f"GSX 服务出错（{response.status_code}），请稍后再试", response.status_code
                        )
                        repeatable = safe
                    if not repeatable or attempt == len(BACKOFF):
                        break
                    await asyncio.sleep(BACKOFF[attempt])
        except GsxError as exc:  # the certificate did not load
            failure = exc
        finally:
            call.duration_ms = int((time.monotonic() - started) * 1000)
        assert failure is not None
        if failure.code != CERTIFICATE:
            BREAKER.failed(key)
        call.outcome, call.message = failure.code, failure.detail
        failure.call = call
        raise failure

    async def _certificate_refused(self, url: str) -> bool:
        """Whether the server dropped the connection because of our certificate. Under TLS 1.3 a
        server refuses a client certificate after the handshake, so the client sees only a closed
        connection; a TLS 1.2 handshake gets the refusal as an alert that names it."""
        target = httpx.URL(url)
        context = ssl_context(self.endpoint.certificate_pem, self.endpoint.key_pem, self.endpoint.server_ca_pem)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(target.host, target.port or 443, ssl=context, server_hostname=target.host),
                TIMEOUT,
            )
        except ssl.SSLError as exc:
            text = str(exc).lower()
            return "protocol version" not in text and ("certificate" in text or "unknown ca" in text or "alert" in text)
        except ConnectionResetError:
            return True  # the server reset the handshake that carried our certificate
        except (OSError, TimeoutError):
            return False
        writer.close()
        return False

    async def _api(
        self, method: str, path: str, operator: Operator, *, body=None, params=None, safe=True, ship_to=None
    ) -> Any:
        """A `/gsx/api/` call as `operator`: a 401 exchanges the token once and tries again."""
        for renewed in (False, True):
            status, data = await self._send(
                method,
                f"{self.endpoint.base_url.rstrip('/')}/gsx/api/{path}",
                path,
                operator=operator,
                body=body,
                params=params,
                safe=safe,
                ship_to=ship_to,
                calls=operator.calls,
            )
            if status == 401 and not renewed:
                await (operator.renew(operator) if operator.renew else self.authenticate(operator))
                continue
            if status == 401:
                raise self._failed(
                    operator, GsxError(UNAUTHORIZED, "GSX 授权已失效，请在【我的账号】→【关联 GSX】重新关联", 401)
                )
            if status >= 400:
                messages = _gsx_messages(data)
                detail = "GSX 拒绝了请求：" + ("；".join(messages) if messages else f"HTTP {status}")
                raise self._failed(operator, GsxError(REJECTED, detail[:300], status, messages))
            return data
        raise AssertionError("unreachable")

    @staticmethod
    def _failed(operator: Operator, exc: GsxError) -> GsxError:
        if operator.calls:
            call = operator.calls[-1]
            call.outcome, call.message = exc.code, exc.detail
            exc.call = call
        return exc

    # --- the operations ------------------------------------------------------------------------

    async def authenticate(self, operator: Operator, token: str | None = None) -> str:
        """Exchange `token` (an activation token, or the current auth token) for a new auth
        token, kept on `operator`. A 401 means the user must fetch a new activation token."""
        status, data = await self._send(
            "POST",
            f"{self.endpoint.auth_url.rstrip('/')}/api/authenticate/token",
            "authenticate/token",
            operator=None,
            body={"userAppleId": operator.apple_id, "authToken": token if token is not None else operator.token},
            calls=operator.calls,
        )
        if status == 401 or status == 403:
            raise self._failed(
                operator,
                GsxError(UNAUTHORIZED, "GSX 授权已失效或激活码无效：请在 GSX 获取新的激活码后重新关联", status),
            )
        new = data.get("authToken") if isinstance(data, dict) else None
        if status >= 400 or not new:
            raise self._failed(
                operator, GsxError(REJECTED, "GSX 未返回授权令牌：" + "；".join(_gsx_messages(data)), status)
            )
        operator.token = str(new)
        return operator.token

    async def check(self, operator: Operator | None = None) -> int:
        """【测试连接】: the TLS handshake and an answer from the auth host (any HTTP status
        proves the certificate was accepted)."""
        status, _ = await self._send(
            "POST",
            f"{self.endpoint.auth_url.rstrip('/')}/api/authenticate/check",
            "authenticate/check",
            operator=None,
            body={},
            calls=operator.calls if operator else None,
        )
        return status

    async def product_details(self, operator: Operator, serial: str, received_at: datetime) -> dict:
        data = await self._api(
            "POST",
            "repair/product/details",
            operator,
            body={"unitReceivedDateTime": _gsx_time(received_at), "device": {"id": device_id(serial)}},
        )
        return coverage_of(data)

    async def repair_create(self, operator: Operator, request: RepairRequest) -> dict:
        body = _repair_body(request)
        data = await self._api("POST", "repair/create", operator, body=body, safe=False, ship_to=request.ship_to)
        rid = str(data.get("repairId") or "")
        outcome = outcome_of(data)
        if not rid and any(o["action"] == "STOP" for o in outcome):
            return {"repair_id": "", "outcome": outcome}  # refused: nothing was created
        if not REPAIR_ID.fullmatch(rid):
            raise GsxError(REJECTED, "GSX 未返回维修单号：" + "；".join(_gsx_messages(data) or ["请稍后在 GSX 中核对"]))
        return {"repair_id": rid, "outcome": outcome}

    async def repair_eligibility(self, operator: Operator, request: RepairRequest) -> dict:
        """Whether GSX would take the repair: its `outcome[]` as for a creation; a STOP makes the
        repair ineligible (【创建 GSX 维修】 refuses it before creating anything)."""
        body = {k: v for k, v in _repair_body(request).items() if k not in ("notes", "purchaseOrderNumber")}
        data = await self._api("POST", "repair/eligibility", operator, body=body, ship_to=request.ship_to)
        details = data.get("eligibilityDetails") if isinstance(data, dict) else None
        outcome = outcome_of(details if isinstance(details, dict) else data)
        return {"eligible": not any(o["action"] == "STOP" for o in outcome), "outcome": outcome}

    async def parts_summary(self, operator: Operator, serial: str, numbers: list[str]) -> list[dict]:
        """GSX's description, price and availability of each part number for the device; a
        number GSX does not list for it comes back `known: False`."""
        body = {"devices": [{"id": device_id(serial)}], "parts": [{"number": part_number(n)} for n in numbers]}
        data = await self._api("POST", "parts/summary", operator, body=body)
        found = {}
        for p in (data.get("parts") if isinstance(data, dict) else None) or []:
            if isinstance(p, dict) and p.get("number"):
                found[str(p["number"])] = p
        out = []
        for n in numbers:
            p = found.get(n)
            out.append(
                {
                    "number": n,
                    "known": p is not None,
                    "description": str((p or {}).get("description") or "")[:200],
                    "price": _money((p or {}).get("exchangePrice") or (p or {}).get("stockPrice")),
                    "currency": str((p or {}).get("currency") or "")[:3],
                    "availability": AVAILABILITY.get(str((p or {}).get("stockAvailability") or ""), "") if p else "",
                }
            )
        return out

    async def repair_summary(self, operator: Operator, rids: list[str]) -> list[dict]:
        """The status of several repairs in one call (【GSX 维修】's 【同步】)."""
        body = {"repairIds": [repair_id(r) for r in rids]}
        data = await self._api("POST", "repair/summary", operator, body=body)
        out = []
        for r in (data.get("repairs") if isinstance(data, dict) else None) or []:
            if isinstance(r, dict) and REPAIR_ID.fullmatch(str(r.get("repairId") or "")):
                out.append(
                    {
                        "repair_id": str(r["repairId"]),
                        "status": str(r.get("repairStatus") or "")[:20],
                        "description": str(r.get("repairStatusDescription") or "")[:200],
                    }
                )
        return out

    async def repair_update(self, operator: Operator, rid: str, note: str = "", acknowledge: bool = False) -> dict:
        """A technician's note on the repair and/or the acknowledgement of its HOLD/WARNING
        messages; answers the repair's outcome after the update."""
        body: dict[str, Any] = {"repairId": repair_id(rid)}
        if note:
            body["notes"] = [{"type": "TECHNICIAN", "content": note}]
        if acknowledge:
            body["messagesAcknowledged"] = True
        data = await self._api("POST", "repair/update", operator, body=body, safe=False)
        return {"repair_id": str(data.get("repairId") or rid), "outcome": outcome_of(data)}

    async def repair_details(self, operator: Operator, rid: str) -> dict:
        data = await self._api("GET", "repair/details", operator, params={"repairId": repair_id(rid)})
        return {
            "repair_id": str(data.get("repairId") or rid),
            "status": str(data.get("repairStatus") or "")[:20],
            "description": str(data.get("repairStatusDescription") or "")[:200],
        }

    async def articles(self, operator: Operator) -> list[dict]:
        data = await self._api("POST", "content/article/lookup", operator, body={"articleType": "NEWS"})
        out = []
        for a in (data.get("articles") if isinstance(data, dict) else None) or []:
            if isinstance(a, dict):
                out.append(
                    {
                        "id": str(a.get("articleId") or "")[:40],
                        "title": str(a.get("title") or "")[:200],
                        "summary": str(a.get("summary") or "")[:1000],
                        "published": str(a.get("publishedDate") or "")[:40],
                    }
                )
        return out


@dataclass(frozen=True)
class RepairRequest:
    serial: str
    repair_type: str
    received_at: datetime
    issues: list[tuple[str, str]]
    parts: list[str]
    notes: str
    reference: str
    ship_to: str | None = None


def _repair_body(request: RepairRequest) -> dict:
    """A repair as `repair/create` and `repair/eligibility` take it."""
    return {
        "repairType": request.repair_type,
        "unitReceivedDateTime": _gsx_time(request.received_at),
        "device": {"id": device_id(request.serial)},
        "componentIssues": [
            {
                "componentCode": c,
                "issueCode": i,
                "reproducibility": "A",
                "priority": n + 1,
                "type": "TECH",
            }
            for n, (c, i) in enumerate(request.issues)
        ],
        "parts": [{"number": p, "componentIssue": {"priority": 1}} for p in request.parts],
        "notes": [{"type": "TECHNICIAN", "content": request.notes}] if request.notes else [],
        "purchaseOrderNumber": request.reference,
    }


REPAIR_TYPES = {"CIN": "送修（Carry-in）", "MINC": "邮寄送修（Mail-in）", "WUMS": "整机更换（Whole Unit）"}


AVAILABILITY = {"IN_STOCK": "有货", "LIMITED": "库存紧张", "BACKORDER": "缺货（需订货）", "NOT_AVAILABLE": "不可订购"}


def _money(value: Any) -> str:
    """A GSX price as Weifu keeps money: a decimal string with 4 places ("" when not given)."""
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.0001"))) if value not in (None, "") else ""
    except (InvalidOperation, ValueError):
        return ""


def _gsx_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def coverage_of(data: Any) -> dict:
    """The coverage answer as Weifu keeps it (only what the order page shows)."""
    device = data.get("device") if isinstance(data, dict) else None
    device = device if isinstance(device, dict) else {}
    warranty = device.get("warrantyInfo") if isinstance(device.get("warrantyInfo"), dict) else {}
    code = str(warranty.get("warrantyStatusCode") or "")[:20]
    return {
        "product_description": str(device.get("productDescription") or "")[:200],
        "config_description": str(device.get("configDescription") or "")[:200],
        "purchase_country": str(warranty.get("purchaseCountryDesc") or warranty.get("purchaseCountryCode") or "")[:60],
        "warranty_status": code,
        "warranty_status_description": str(warranty.get("warrantyStatusDescription") or "")[:200],
        "coverage_end_date": str(warranty.get("coverageEndDate") or "")[:30],
        "applecare": bool(warranty.get("onsiteCoverage") or str(code).startswith("PP")),
        "activation_lock": str(device.get("activationLockStatus") or "")[:40],
        "limited": code not in ("LP", "PP", "CS", "AP") if code else False,
    }


def outcome_of(data: Any) -> list[dict]:
    """`outcome[]` flattened: one entry per message with its action and the Chinese gloss."""
    out = []
    for item in (data.get("outcome") if isinstance(data, dict) else None) or []:
        if not isinstance(item, dict):
            continue
        action = str(item.get("action") or "MESSAGE").upper()
        messages = []
        for reason in item.get("reasons") or []:
            if isinstance(reason, dict):
                messages += [str(m) for m in reason.get("messages") or []]
        out.append(
            {
                "action": action if action in ACTIONS else "MESSAGE",
                "explanation": ACTIONS.get(action, ACTIONS["MESSAGE"]),
                "messages": [m[:500] for m in messages][:20],
                "needs_ack": action in NEEDS_ACK,
            }
        )
    return out


class Provider(Protocol):
    """What the services need of GSX; `Client` is the one implementation (tests and the demo
    point it at the fake GSX, server/gsx/fake.py)."""

    async def authenticate(self, operator: Operator, token: str | None = None) -> str: ...
    async def check(self, operator: Operator | None = None) -> int: ...
    async def product_details(self, operator: Operator, serial: str, received_at: datetime) -> dict: ...
    async def repair_create(self, operator: Operator, request: RepairRequest) -> dict: ...
    async def repair_eligibility(self, operator: Operator, request: RepairRequest) -> dict: ...
    async def parts_summary(self, operator: Operator, serial: str, numbers: list[str]) -> list[dict]: ...
    async def repair_summary(self, operator: Operator, rids: list[str]) -> list[dict]: ...
    async def repair_update(self, operator: Operator, rid: str, note: str = "", acknowledge: bool = False) -> dict: ...
    async def repair_details(self, operator: Operator, rid: str) -> dict: ...
    async def articles(self, operator: Operator) -> list[dict]: ...
