"""The assembled API: every route documented with a response schema that is valid JSON Schema,
and real responses that validate against it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from api_harness import API, Api
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mus.demo.audio_spec import AudioSpec
from mus.main import create_app

HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete"}


def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    # Round trip: the document is plain JSON.
    assert json.loads(json.dumps(document)) == document
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_every_route_is_documented_under_the_prefix() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.")
    found = {(method, path) for method, path, _ in operations(document)}
    assert found == {
        ("get", f"{API}/healthcheck"),
        ("get", f"{API}/permissions"),
        ("get", f"{API}/tracks"),
        ("post", f"{API}/tracks/upload"),
        ("get", f"{API}/tracks/{{track_id}}"),
        ("patch", f"{API}/tracks/{{track_id}}"),
        ("delete", f"{API}/tracks/{{track_id}}"),
        ("get", f"{API}/tracks/{{track_id}}/stream"),
        ("head", f"{API}/tracks/{{track_id}}/stream"),
        ("get", f"{API}/tracks/{{track_id}}/covers/{{size}}"),
        ("head", f"{API}/tracks/{{track_id}}/covers/{{size}}"),
        ("get", f"{API}/errors"),
        ("post", f"{API}/errors/requeue"),
        ("post", f"{API}/errors/{{track_id}}/requeue"),
        ("get", f"{API}/player/state"),
        ("put", f"{API}/player/state"),
        ("get", f"{API}/events/track-updates"),
        ("get", f"{API}/admin/figures"),
        ("get", f"{API}/admin/parity-report"),
    }
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))


def test_every_success_response_has_a_schema_and_all_schemas_are_valid() -> None:
    document = openapi_document()
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(document))
    for method, path, operation in operations(document):
        successes = {code: body for code, body in operation["responses"].items() if code[0] == "2"}
        assert successes, (method, path)
        for code, response in successes.items():
            content = response.get("content")
            assert content, (method, path, code)
            for media_type, body in content.items():
                assert "schema" in body, (method, path, code, media_type)
        for response in operation["responses"].values():
            for body in response.get("content", {}).values():
                jsonschema.Draft202012Validator.check_schema(body["schema"])
    for name, schema in document["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema.get("description") or schema.get("title"), name
    # Every $ref resolves.
    resolver = registry.resolver(base_uri="urn:openapi")
    refs = _refs(document)
    assert refs
    for ref in refs:
        resolver.lookup(f"urn:openapi{ref}")


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node)) if node else set()
    return set()


def response_validator(document: dict[str, Any], path: str, method: str, code: str) -> Any:
    schema = document["paths"][path][method]["responses"][code]["content"]["application/json"][
        "schema"
    ]
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(document))
    wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    wrapped = json.loads(json.dumps(wrapped).replace('"#/', '"urn:openapi#/'))
    return jsonschema.Draft202012Validator(wrapped, registry=registry)


async def test_real_responses_match_their_documented_schemas(api: Api) -> None:
    document = api.app.openapi()
    track = await api.add_track(AudioSpec("v.mp3", "mp3", title="Valid", artist="Schema"))
    checks = [
        ("get", "/tracks", f"{API}/tracks", "200", None),
        ("get", f"/tracks/{track.id}", f"{API}/tracks/{{track_id}}", "200", None),
        ("get", "/tracks/999", f"{API}/tracks/{{track_id}}", "404", None),
        ("patch", f"/tracks/{track.id}", f"{API}/tracks/{{track_id}}", "200", {"title": "New"}),
        ("get", "/errors", f"{API}/errors", "200", None),
        ("get", "/player/state", f"{API}/player/state", "200", None),
        ("get", "/permissions", f"{API}/permissions", "200", None),
        ("get", "/healthcheck", f"{API}/healthcheck", "200", None),
        ("delete", f"/tracks/{track.id}", f"{API}/tracks/{{track_id}}", "202", None),
    ]
    for method, url, path, code, body in checks:
        response = await api.client.request(method, url, json=body)
        assert str(response.status_code) == code, (method, url, response.text)
        response_validator(document, path, method, code).validate(response.json())


async def test_docs_and_schema_are_served(api: Api) -> None:
    schema = await api.client.get("/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "mus"


def test_only_the_healthcheck_is_documented_as_public() -> None:
    """The query token is documented only where it is accepted: GET/HEAD of browser reads."""
    browser_reads = ("/stream", "/covers/{size}", "/events/track-updates")
    for method, path, operation in operations(openapi_document()):
        if path.endswith("/healthcheck"):
            assert "security" not in operation
        elif path.endswith(browser_reads):
            assert method in ("get", "head")
            assert operation["security"] == [{"HTTPBearer": []}, {"APIKeyQuery": []}], (
                method,
                path,
            )
        else:
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)


async def test_times_are_rfc3339_date_times_with_their_zone(api: Api) -> None:
    """SQLite returns stored UTC times naive; without the zone they are not `date-time`
    (found by the fuzzer: every track response violated its schema)."""
    track = await api.add_track(AudioSpec("z.mp3", "mp3", title="Zoned"))
    body = (await api.client.get(f"/tracks/{track.id}")).json()
    for field in ("added_at", "updated_at"):
        assert body[field].endswith(("Z", "+00:00")), body[field]
