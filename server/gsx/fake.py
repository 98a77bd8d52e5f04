"""A fake GSX for tests and the demo: `python -m server fake-gsx --port 8443 --certs var/gsx`.

It speaks the part of GSX's REST API that server/gsx/wire.py uses, over mutual TLS (a client
certificate signed by its CA is required), with token exchange and idle expiry, coverage for the
known serials below, eligibility (STOP for the lost device), the parts in `PARTS`, repair
creation with each outcome action, notes and acknowledgements, summaries of several repairs,
status progression (on demand, or every `--step-seconds` for the demo) and, on demand, 5xx or
slow answers. State is in memory.

Control endpoints (also behind mutual TLS): `POST /fake/mode {mode: ok|down|slow, delay}`,
`POST /fake/expire-tokens`, `POST /fake/revoke-tokens`, `POST /fake/reset`,
`POST /fake/advance {repairId, status?}`, `GET /fake/state`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from litestar import Litestar, Request, Response, get, post
from litestar.params import Body

# --- the known serials --------------------------------------------------------------------------

SERIALS = {
    # in warranty; a repair is put on HOLD (and carries a message)
    "C02XK0AAJG5H": {
        "product": "MacBook Pro (14-inch, 2023)",
        "warranty": ("LP", "Apple 有限保修"),
        "end": "2027-03-01",
        "country": "中国",
        "lock": "OFF",
        "outcome": [("HOLD", "需要提供购买凭证照片后才能继续"), ("MESSAGE", "请在 24 小时内上传凭证")],
    },
    # out of warranty; a warning to acknowledge
    "F2LXK1ABHG7F": {
        "product": "iPhone 13",
        "warranty": ("OO", "超出保修期"),
        "end": "2023-05-20",
        "country": "中国",
        "lock": "ON",
        "outcome": [("WARNING", "此设备已超出保修期，维修将产生费用")],
    },
    # AppleCare+; a plain message
    "DNPXAPPLECARE1": {
        "product": "iPad Air (5th generation)",
        "warranty": ("PP", "AppleCare+"),
        "end": "2027-09-30",
        "country": "中国香港",
        "lock": "OFF",
        "outcome": [("MESSAGE", "维修已创建")],
    },
    # GSX refuses a repair of it
    "STOPSERIAL01": {
        "product": "iPhone 12",
        "warranty": ("LP", "Apple 有限保修"),
        "end": "2026-12-31",
        "country": "中国",
        "lock": "OFF",
        "outcome": [("STOP", "此设备已被报失，不能创建维修")],
    },
}
# the parts GSX lists (for any device of the known serials); any other number is unknown
PARTS = {
    "661-12345": {"description": "Display Assembly", "exchangePrice": "2399.00", "stockAvailability": "IN_STOCK"},
    "661-23456": {"description": "Battery", "exchangePrice": "519.5", "stockAvailability": "LIMITED"},
    "661-34567": {"description": "Top Case with Keyboard", "exchangePrice": "1899", "stockAvailability": "BACKORDER"},
}
STATUSES = [
    ("AWTP", "等待部件"),
    ("INRP", "维修中"),
    ("RFPU", "维修完成，可取机"),
    ("CLSD", "维修已关闭"),
]
DESCRIPTIONS = dict(STATUSES) | {"CRTD": "维修已创建"}


@dataclass
class _Token:
    apple_id: str
    used: float
    api_ok: bool = True  # False: GSX's session ended (401 on calls) but the token is still exchangeable


@dataclass
class State:
    token_idle: float = 1800.0
    step_seconds: float = 0.0
    mode: str = "ok"  # ok | down | slow
    delay: float = 12.0
    used_activations: set[str] = field(default_factory=set)
    tokens: dict[str, _Token] = field(default_factory=dict)
    repairs: dict[str, dict] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    calls: list[dict] = field(default_factory=list)  # endpoint + header names seen (no values)
    exchanges: int = 0  # token exchanges answered (a refresh must happen once across processes)


def _error(status: int, code: str, message: str) -> Response:
    return Response({"errors": [{"code": code, "message": message}]}, status_code=status)


def create_fake(state: State | None = None) -> Litestar:
    state = state or State()

    async def misbehave() -> Response | None:
        if state.mode == "down":
            return _error(503, "SERVICE_UNAVAILABLE", "GSX is down (fake)")
        if state.mode == "slow":
            await asyncio.sleep(state.delay)
        return None

    def operator(request: Request) -> tuple[str, Response | None]:
        h = request.headers
        state.calls.append({"path": request.url.path, "headers": sorted(k.lower() for k in h.keys())})
        for name in ("x-apple-soldto", "x-apple-shipto", "x-operator-user-id", "x-apple-service-version"):
            if not h.get(name):
                return "", _error(400, "MISSING_HEADER", f"missing {name}")
        token = state.tokens.get(h.get("x-apple-auth-token", ""))
        now = time.monotonic()
        if (
            token is None
            or not token.api_ok
            or now - token.used > state.token_idle
            or token.apple_id != h["x-operator-user-id"]
        ):
            return "", _error(401, "UNAUTHORIZED", "auth token invalid or expired")
        token.used = now
        return token.apple_id, None

    def progressed(repair: dict) -> dict:
        if state.step_seconds > 0:
            steps = int((time.monotonic() - repair["created"]) / state.step_seconds)
            repair["index"] = max(repair["index"], min(steps - 1, len(STATUSES) - 1))
        status = STATUSES[repair["index"]][0] if repair["index"] >= 0 else "CRTD"
        return {"repairId": repair["id"], "repairStatus": status, "repairStatusDescription": DESCRIPTIONS[status]}

    @post("/api/authenticate/token", status_code=200)
    async def authenticate(data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        apple_id, given = str(data.get("userAppleId") or ""), str(data.get("authToken") or "")
        now = time.monotonic()
        current = state.tokens.get(given)
        if given.startswith("ACT-") and given not in state.used_activations:
            state.used_activations.add(given)
        elif current is not None and current.apple_id == apple_id and now - current.used <= state.token_idle:
            del state.tokens[given]
        else:
            return _error(401, "UNAUTHORIZED", "activation or auth token invalid or expired")
        token = "TOK-" + secrets.token_hex(12)
        state.exchanges += 1
        state.tokens[token] = _Token(apple_id, now)
        return Response({"authToken": token, "userAppleId": apple_id})

    @post("/api/authenticate/check", status_code=200)
    async def check() -> Response:
        if bad := await misbehave():
            return bad
        return Response({"status": "OK"})

    @post("/gsx/api/repair/product/details", status_code=200)
    async def product_details(request: Request, data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        serial = str((data.get("device") or {}).get("id") or "")
        known = SERIALS.get(serial)
        if known is None:
            return _error(400, "SERIAL_NOT_FOUND", "序列号无效或不存在")
        code, description = known["warranty"]
        return Response(
            {
                "device": {
                    "id": serial,
                    "productDescription": known["product"],
                    "configDescription": known["product"],
                    "activationLockStatus": known["lock"],
                    "warrantyInfo": {
                        "warrantyStatusCode": code,
                        "warrantyStatusDescription": description,
                        "coverageEndDate": known["end"],
                        "purchaseCountryDesc": known["country"],
                        "onsiteCoverage": code == "PP",
                    },
                }
            }
        )

    @post("/gsx/api/repair/create", status_code=200)
    async def repair_create(request: Request, data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        serial = str((data.get("device") or {}).get("id") or "")
        known = SERIALS.get(serial)
        if known is None:
            return _error(400, "SERIAL_NOT_FOUND", "序列号无效或不存在")
        outcome = [{"action": a, "reasons": [{"type": "REPAIR", "messages": [m]}]} for a, m in known["outcome"]]
        if any(a == "STOP" for a, _ in known["outcome"]):
            return Response({"outcome": outcome})
        rid = f"G{next(state.counter):09d}"
        state.repairs[rid] = {"id": rid, "serial": serial, "index": -1, "created": time.monotonic()}
        return Response({"repairId": rid, "outcome": outcome})

    @post("/gsx/api/repair/eligibility", status_code=200)
    async def repair_eligibility(request: Request, data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        known = SERIALS.get(str((data.get("device") or {}).get("id") or ""))
        if known is None:
            return _error(400, "SERIAL_NOT_FOUND", "序列号无效或不存在")
        stops = [m for a, m in known["outcome"] if a == "STOP"]
        outcome = (
            [{"action": "STOP", "reasons": [{"type": "ELIGIBILITY", "messages": stops}]}]
            if stops
            else [{"action": "MESSAGE", "reasons": [{"type": "ELIGIBILITY", "messages": ["设备符合维修资格"]}]}]
        )
        return Response({"eligibilityDetails": {"outcome": outcome}})

    @post("/gsx/api/parts/summary", status_code=200)
    async def parts_summary(request: Request, data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        numbers = [str(p.get("number") or "") for p in data.get("parts") or [] if isinstance(p, dict)]
        parts = [{"number": n, "currency": "CNY"} | PARTS[n] for n in numbers if n in PARTS]
        return Response({"parts": parts})

    @post("/gsx/api/repair/summary", status_code=200)
    async def repair_summary(request: Request, data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        wanted = [str(r) for r in data.get("repairIds") or []]
        repairs = [progressed(state.repairs[r]) for r in wanted if r in state.repairs]
        return Response({"repairs": repairs, "totalNumberOfRecords": len(repairs)})

    @post("/gsx/api/repair/update", status_code=200)
    async def repair_update(request: Request, data: dict = Body()) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        repair = state.repairs.get(str(data.get("repairId") or ""))
        if repair is None:
            return _error(404, "REPAIR_NOT_FOUND", "维修单不存在")
        repair.setdefault("notes", []).extend(n.get("content") for n in data.get("notes") or [] if isinstance(n, dict))
        repair["acknowledged"] = repair.get("acknowledged") or bool(data.get("messagesAcknowledged"))
        return Response({"repairId": repair["id"], "outcome": []})

    @get("/gsx/api/repair/details")
    async def repair_details(request: Request, repairId: str = "") -> Response:  # noqa: N803  (GSX's name)
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        repair = state.repairs.get(repairId)
        if repair is None:
            return _error(404, "REPAIR_NOT_FOUND", "维修单不存在")
        return Response(progressed(repair))

    @post("/gsx/api/content/article/lookup", status_code=200)
    async def articles(request: Request) -> Response:
        if bad := await misbehave():
            return bad
        _, refused = operator(request)
        if refused:
            return refused
        return Response(
            {
                "articles": [
                    {
                        "articleId": "NEWS-1",
                        "title": "iPhone 15 电池服务价格调整",
                        "summary": "自下月起，保外电池服务价格调整。",
                        "publishedDate": "2026-11-20",
                    },
                    {
                        "articleId": "NEWS-2",
                        "title": "GSX 系统维护通知",
                        "summary": "本周六 02:00-04:00 GSX 维护，期间无法创建维修。",
                        "publishedDate": "2026-12-01",
                    },
                ]
            }
        )

    @post("/fake/mode", status_code=200)
    async def set_mode(data: dict = Body()) -> dict:
        state.mode = str(data.get("mode") or "ok")
        state.delay = float(data.get("delay") or state.delay)
        return {"mode": state.mode}

    @post("/fake/reset", status_code=200)
    async def reset() -> dict:
        fresh = State(token_idle=state.token_idle, step_seconds=state.step_seconds)
        state.__dict__.update(fresh.__dict__)
        return {"reset": True}

    @post("/fake/expire-tokens", status_code=200)
    async def expire_tokens() -> dict:
        """Calls with the current tokens answer 401; exchanging them still works."""
        for token in state.tokens.values():
            token.api_ok = False
        return {"expired": len(state.tokens)}

    @post("/fake/revoke-tokens", status_code=200)
    async def revoke_tokens() -> dict:
        """Tokens GSX no longer knows at all: the next exchange answers 401 (relink)."""
        count = len(state.tokens)
        state.tokens.clear()
        return {"revoked": count}

    @post("/fake/advance", status_code=200)
    async def advance(data: dict = Body()) -> dict:
        repair = state.repairs.get(str(data.get("repairId") or ""))
        if repair is None:
            return {"error": "unknown repair"}
        wanted = data.get("status")
        codes = [c for c, _ in STATUSES]
        repair["index"] = codes.index(wanted) if wanted in codes else min(repair["index"] + 1, len(STATUSES) - 1)
        return progressed(repair)

    @get("/fake/state")
    async def show_state() -> dict:
        return {
            "mode": state.mode,
            "tokens": len(state.tokens),
            "repairs": {
                k: progressed(v) | {"notes": v.get("notes", []), "acknowledged": v.get("acknowledged", False)}
                for k, v in state.repairs.items()
            },
            "exchanges": state.exchanges,
            "calls": state.calls[-50:],
        }

    return Litestar(
        route_handlers=[
            authenticate,
            check,
            product_details,
            repair_create,
            repair_details,
            repair_eligibility,
            parts_summary,
            repair_summary,
            repair_update,
            articles,
            set_mode,
            reset,
            expire_tokens,
            revoke_tokens,
            advance,
            show_state,
        ],
        openapi_config=None,
    )


# --- certificates (made at run time: nothing secret is committed) --------------------------------


def make_certificates(directory: Path, hostname: str = "127.0.0.1") -> dict[str, Path]:
    """A CA, the fake's server certificate and a partner (client) certificate signed by it, and
    a second client pair signed by nobody GSX trusts (for the wrong-certificate case)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Weifu Test")]
        )

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def write(stem: str, cert: x509.Certificate, private: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
        c, k = directory / f"{stem}.crt", directory / f"{stem}.key"
        c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        k.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        k.chmod(0o600)
        return c, k

    def self_signed_ca(cn: str):
        private = key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name(cn))
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False)
            .sign(private, hashes.SHA256())
        )
        return cert, private

    def issue(ca, ca_key, cn: str, server: bool):
        private = key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca.subject)
            .public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=180))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if server:
            try:
                alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(hostname))
            except ValueError:
                alt = x509.DNSName(hostname)
            builder = builder.add_extension(
                x509.SubjectAlternativeName([alt, x509.DNSName("localhost")]), critical=False
            )
        return builder.sign(ca_key, hashes.SHA256()), private

    ca, ca_key = self_signed_ca("Fake GSX Test CA")
    paths = {"ca": write("ca", ca, ca_key)[0]}
    paths["server_cert"], paths["server_key"] = write("server", *issue(ca, ca_key, hostname, True))
    paths["client_cert"], paths["client_key"] = write("client", *issue(ca, ca_key, "Weifu Partner 0000123456", False))
    rogue, rogue_key = self_signed_ca("Rogue CA")
    paths["rogue_cert"], paths["rogue_key"] = write("rogue", *issue(rogue, rogue_key, "Rogue Partner", False))
    return paths


def run(host: str, port: int, certs: Path, step_seconds: float = 0.0, token_idle: float = 1800.0) -> None:
    """Serve the fake over mutual TLS; makes the certificates in `certs` when missing."""
    import ssl

    import uvicorn

    if not (certs / "server.crt").exists():
        make_certificates(certs, host)
    app = create_fake(State(step_seconds=step_seconds, token_idle=token_idle))
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(certs / "server.crt"),
        ssl_keyfile=str(certs / "server.key"),
        ssl_ca_certs=str(certs / "ca.crt"),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        access_log=False,
        log_level="warning",
    )
