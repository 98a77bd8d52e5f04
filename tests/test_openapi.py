"""`/schema/openapi.json` describes the API as it answers: the error body `{detail, code}` with
the statuses every operation may answer, Excel downloads as xlsx, and (fuzzed with schemathesis
over every operation, a few cases each) responses whose status, media type and body the document
names."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PG_URL

METHODS = ("get", "post", "put", "patch", "delete")
MUTATING = ("post", "put", "patch", "delete")
ERROR_REF = "#/components/schemas/ErrorOut"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
async def document(client) -> dict:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def walk(node):
    """Every dict inside a JSON document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


async def test_only_the_api_is_documented(document):
    assert document["paths"]
    assert [p for p in document["paths"] if not p.startswith("/api/v1/")] == []


async def test_every_operation_documents_the_error_body_and_its_statuses(document):
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["code", "detail"]
    missing = []
    for path, method, op in operations(document):
        statuses = {"400", "401", "403", "404"} | ({"409"} if method in MUTATING else set())
        for status in sorted(statuses):
            response = op["responses"].get(status)
            content = (response or {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            if list(content) != ["application/json"] or not ref.endswith(("/ErrorOut", "/ImportErrorOut")):
                missing.append(f"{method.upper()} {path} {status}")
    assert missing == []
    # Litestar's own validation body is gone: no schema describes {status_code, detail, extra}
    assert [n for n in walk(document) if isinstance(n.get("properties"), dict) and "extra" in n["properties"]] == []
    assert "status_code" not in str(document)


async def test_every_write_takes_an_idempotency_key(document):
    """Every mutating operation but the public ones (login, an online booking: no caller to keep
    a key for) documents the optional `Idempotency-Key` header, the 409s that come with it, and
    the 400 of a malformed key (core.idempotency)."""
    missing = []
    for path, method, op in operations(document):
        if method not in MUTATING or path == "/api/v1/auth/token" or path.startswith("/api/v1/public/"):
            continue
        headers = [p for p in op.get("parameters", []) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        conflict = op["responses"]["409"]["content"]["application/json"].get("examples", {})
        bad = op["responses"]["400"]["content"]["application/json"].get("examples", {})
        codes = {e["value"]["code"] for e in conflict.values()} | {e["value"]["code"] for e in bad.values()}
        wanted = {"idempotency_key_reused", "idempotency_in_progress", "invalid_idempotency_key"}
        if len(headers) != 1 or headers[0]["required"] or headers[0]["schema"]["maxLength"] != 100 or wanted - codes:
            missing.append(f"{method.upper()} {path}")
    assert missing == []
    for public in (document["paths"]["/api/v1/auth/token"], document["paths"]["/api/v1/public/booking/{token}"]):
        assert "Idempotency-Key" not in str(public["post"].get("parameters"))
    reads = [op for _, method, op in operations(document) if method == "get"]
    assert "Idempotency-Key" not in str([op.get("parameters") for op in reads])


async def test_success_bodies_are_described(document):
    """Every JSON success names its shape (list envelopes included), none is a free-form object."""

    def named(schema: dict) -> bool:
        return "$ref" in schema or "$ref" in schema.get("items", {})

    free = [
        f"{method.upper()} {path} {status}"
        for path, method, op in operations(document)
        for status, response in op["responses"].items()
        if status.startswith("2")
        and "application/json" in response.get("content", {})
        and not named(response["content"]["application/json"]["schema"])
    ]
    assert free == []
    orgs = document["paths"]["/api/v1/orgs"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    envelope = document["components"]["schemas"][orgs["$ref"].rsplit("/", 1)[1]]
    assert set(envelope["required"]) == {"items", "total", "page", "page_size"}
    assert envelope["properties"]["items"]["items"] == {"$ref": "#/components/schemas/OrgOut"}


async def test_statuses_only_some_operations_answer_are_documented_there(document):
    paths = document["paths"]
    login = paths["/api/v1/auth/token"]["post"]["responses"]
    assert login["429"]["content"]["application/json"]["schema"]["$ref"] == ERROR_REF
    upload = paths["/api/v1/goods/import"]["post"]["responses"]
    assert upload["413"]["content"]["application/json"]["schema"]["$ref"] == ERROR_REF
    assert upload["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ImportOut")
    import_error = upload["400"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(document["components"]["schemas"][import_error]["properties"]) == {"detail", "code", "errors"}
    # where an operation reads a body, one too large (413) or of another type (415) is refused
    assert {"413", "415"} <= set(paths["/api/v1/orgs"]["post"]["responses"])
    assert {"413", "415"}.isdisjoint(paths["/api/v1/orgs/{org_id}"]["delete"]["responses"])
    assert set(paths["/api/v1/orgs"]["post"]["responses"]) >= {"201"}
    assert set(paths["/api/v1/inbounds/{doc_id}/confirm"]["post"]["responses"]) >= {"200"}
    for action in ("submit", "confirm", "recall", "receive"):
        assert set(paths[f"/api/v1/shipments/{{doc_id}}/{action}"]["post"]["responses"]) >= {"200", "404", "409"}
    assert "get" in paths["/api/v1/in-transit"]
    assert "get" in paths["/api/v1/shipment-discrepancies"]
    resolve = paths["/api/v1/shipment-discrepancies/{discrepancy_id}/resolve"]["post"]["responses"]
    assert set(resolve) >= {"200", "400", "403", "404", "409"}


async def test_statuses_the_fuzzer_does_not_reach_answer_as_documented(client, document, admin):
    """No token (401), a body over Litestar's 10 MB limit (413), a throttled login (429): each
    answer is documented for its operation, with the error body."""

    def documented(response, path: str, method: str, status: int) -> None:
        assert response.status_code == status, response.text
        assert str(status) in document["paths"][path][method]["responses"], (method, path, status)
        assert set(response.json()) == {"detail", "code"}, response.text

    documented(await client.get("/api/v1/orgs"), "/api/v1/orgs", "get", 401)
    huge = await client.post("/api/v1/orgs", json={"code": "X", "name": "x" * 10_000_001}, headers=admin)
    documented(huge, "/api/v1/orgs", "post", 413)
    for _ in range(30):
        login = await client.post("/api/v1/auth/token", json={"login": "admin@ACME", "password": "wrong-password"})
        if login.status_code != 401:
            break
    documented(login, "/api/v1/auth/token", "post", 429)


async def test_excel_downloads_are_documented_as_xlsx(document):
    # a print template exports as JSON (to import into another tenant), not as a sheet
    template_export = "/api/v1/print-templates/{template_id}/export"
    assert "application/json" in document["paths"][template_export]["get"]["responses"]["200"]["content"]
    downloads = [p for p in document["paths"] if p.endswith(("/export", "/import-template")) and p != template_export]
    assert len(downloads) == 22
    for path in downloads:
        ok = document["paths"][path]["get"]["responses"]["200"]
        assert ok["content"] == {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}, path


# --- fuzzing ------------------------------------------------------------------------------------

BASE_URL = "http://testserver.local"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# per operation: bounded, so the run stays well under a minute (raise it for a deeper search)
EXAMPLES = int(os.environ.get("WEIFU_FUZZ_EXAMPLES", "5"))
REQUEST_KEYS = ("method", "url", "headers", "params", "cookies", "data", "json", "files")


def send(client: TestClient, case, headers: dict):
    """The case through Litestar's TestClient: requests encodes it as schemathesis' own transport
    would, and the app runs in the client's event loop (with its lifespan), not a second one."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in REQUEST_KEYS}).prepare()
    client.cookies.clear()  # every case alone: a bearer caller, no session picked up on the way
    return client.request(prepared.method, prepared.url, headers=dict(prepared.headers), content=prepared.body)


def known_ids(client: TestClient, headers: dict, path: str) -> dict | None:
    """Path parameters naming rows that exist (the last row of the list the path is under), so
    that fuzzed bodies and actions also reach existing records, not only 404s."""
    values: dict = {}
    for name in re.findall(r"\{(\w+)\}", path):
        if name == "kind":
            values[name] = "service_type"
            continue
        prefix = path.split("{" + name + "}")[0].rstrip("/").format(**values)
        lines = prefix.endswith("/lines")
        response = client.get(prefix.removesuffix("/lines"), headers=headers)
        if response.status_code != 200:
            return None
        body = response.json()
        rows = body.get("lines", []) if lines else body.get("items", [])
        if not rows:
            return None
        values[name] = rows[-1].get(name, rows[-1].get("id"))
    return values


SHARDS = 4  # the operations in four tests, so that xdist shares them between its workers


@pytest.mark.skipif(bool(PG_URL), reason="resets the SQLite file between operations")
@pytest.mark.parametrize("shard", range(SHARDS))
async def test_every_operation_answers_as_documented(app, database_url, shard):
    """schemathesis over every operation (this shard's: every SHARDS-th) as admin@DEMO on the
    demo data (restored before each operation): positive cases on existing rows and on generated
    ids, and negative cases; the run is derandomized, so a failure reproduces. A failure names the
    case (with a curl line)."""
    from server import demo

    await demo.load()
    db_file = Path(database_url.removeprefix("sqlite:///"))
    seed = db_file.with_name("seed.sqlite3")
    schema = schemathesis.openapi.from_dict(app.openapi_schema.to_schema(), config=schemathesis.Config())
    failures: list[str] = []
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        login = client.post("/api/v1/auth/token", json={"login": "admin@DEMO", "password": demo.PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        shutil.copyfile(db_file, seed)
        for n, result in enumerate(schema.get_all_operations()):
            if n % SHARDS != shard:
                continue
            operation = result.ok()
            shutil.copyfile(seed, db_file)  # each operation starts from the demo data
            strategies = [operation.as_strategy(), operation.as_strategy(schemathesis.GenerationMode.NEGATIVE)]
            if operation.path_parameters:
                existing = known_ids(client, headers, operation.path)
                if existing:
                    strategies.insert(0, operation.as_strategy(path_parameters=existing))

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=st.one_of(strategies))
            def run(case) -> None:
                case.validate_response(send(client, case, headers), checks=CHECKS)

            try:
                run()
            except Exception as exc:  # every operation runs; their failures are reported together
                failures.append(f"{operation.label}: {exc}")
    assert not failures, f"{len(failures)} operations:\n\n" + "\n\n".join(failures)
