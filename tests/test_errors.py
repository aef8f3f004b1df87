"""The error envelope for what the framework refuses itself (a body that is not a JSON object, an unknown route, a
method the path does not serve, a body too large, a media type that is not JSON), a bug (500) and an unreachable
database (503).

The other statuses are tested once each, with their table, in the module of their capability: 400
VALIDATION_ERROR in test_update and test_connected_systems, 401 and 403 in test_auth, 404 for ids in test_ids, 409
in test_names, 412 in test_etag; what must be checked before what, in test_auth.
"""
import io
import json

import pytest
from flask import Response

from app import create_app
from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from envelope import assert_error
from leaks import shows
from servers import free_port

DEFINITIONS = "/api/v1/synchronisation/connector-definitions"
WELL_FORMED_KEY = "jim_" + "A" * 43

NOT_JSON = [
    pytest.param(b"name=x", id="form-encoded"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"name": "x"', id="truncated"),
    pytest.param(b'{"name": "x",}', id="trailing-comma"),
    pytest.param(b"{'name': 'x'}", id="single-quotes"),
    pytest.param(b"[]", id="array"),
    pytest.param(b'[{"name": "x"}]', id="array-of-object"),
    pytest.param(b"null", id="null"),
    pytest.param(b'"name"', id="string"),
    pytest.param(b"1", id="number"),
    pytest.param(b'{"maxExportParallelism": NaN}', id="NaN"),
    pytest.param(b'{"maxExportParallelism": Infinity}', id="Infinity"),
    pytest.param(b'{"maxExportParallelism": -Infinity}', id="minus-Infinity"),
    pytest.param(b'{"name": "a", "name": "b"}', id="duplicate-key"),
    pytest.param(b'{"settingValues": {"1": {"stringValue": "a"}, "1": {"stringValue": "b"}}}', id="duplicate-nested"),
    pytest.param(b'{"name": "\xff\xfe caf\xe9"}', id="invalid-utf8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-arrays-100000"),
    pytest.param(b'{"a":' * 100_000 + b"1" + b"}" * 100_000, id="nested-objects-100000"),
    pytest.param(b'{"maxExportParallelism": ' + b"9" * 5000 + b"}", id="number-5000-digits"),
]


# The PUT takes the whole table; the create reads its body the same way, so a sample of it is enough there.
BODY_CASES = [pytest.param("PUT", f"{SYSTEMS}/1", *case.values, id=f"put-{case.id}") for case in NOT_JSON] + [
    pytest.param("POST", SYSTEMS, *case.values, id=f"create-{case.id}")
    for case in NOT_JSON
    if case.id in ("array", "NaN", "duplicate-key", "invalid-utf8")
]


@pytest.mark.parametrize("method, path, body", BODY_CASES)
def test_body_that_is_not_a_json_object(client, admin, ldap_system, method, path, body):
    before = client.get(f"{SYSTEMS}/1", headers=admin).json
    response = client.open(path, method=method, data=body, headers=admin)
    assert_error(response, 400, "BAD_REQUEST")
    assert client.get(f"{SYSTEMS}/1", headers=admin).json == before
    assert client.get(SYSTEMS, headers=admin).json["totalCount"] == 1


# Paths that no route serves.
NOT_FOUND_PATHS = ["/", "/api/v1", "/api/v1/nothing-here", "/api/v2/synchronisation/connected-systems/1",
                   f"{SYSTEMS}/1/nothing-here", f"{DEFINITIONS}/3/settings"]


def test_an_unknown_route_is_not_found(client, admin, ldap_system, subtests):
    for path in NOT_FOUND_PATHS:
        for method in ("GET", "PUT", "DELETE", "POST"):
            with subtests.test(method=method, path=path):
                assert_error(client.open(path, method=method, json={"name": "x"}, headers=admin), 404, "NOT_FOUND")
    assert client.get(f"{SYSTEMS}/1", headers=admin).json == ldap_system


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PATCH", f"{SYSTEMS}/1", {"GET", "PUT", "DELETE"}),
        ("POST", f"{SYSTEMS}/1", {"GET", "PUT", "DELETE"}),
        ("DELETE", SYSTEMS, {"GET", "POST"}),
        ("PUT", SYSTEMS, {"GET", "POST"}),
        ("GET", f"{SYSTEMS}/1/validate-settings", {"POST"}),
        ("POST", DEFINITIONS, {"GET"}),
        ("DELETE", f"{DEFINITIONS}/3", {"GET"}),
        ("POST", "/api/v1/health/ready", {"GET"}),
    ],
)
def test_method_not_allowed_names_the_allowed_methods(client, admin, ldap_system, method, path, allowed):
    response = client.open(path, method=method, json={}, headers=admin)
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    named = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed <= named and named <= allowed | {"HEAD", "OPTIONS"}
    assert client.get(f"{SYSTEMS}/1", headers=admin).json == ldap_system


@pytest.fixture
def small_body_limit(app_config):
    app_config["MAX_CONTENT_LENGTH"] = 1000


@pytest.mark.parametrize("size, status", [(1000, 200), (1001, 413), (100_000, 413)])
@pytest.mark.parametrize("method, path", [("POST", SYSTEMS), ("PUT", f"{SYSTEMS}/1")], ids=["create", "put"])
def test_body_over_the_limit(small_body_limit, client, admin, ldap_system, method, path, size, status):
    prefix = b'{"name": "Big", ' + (b'"connectorDefinitionId": 1, ' if method == "POST" else b"") + b'"description": "'
    body = prefix + b"x" * (size - len(prefix) - 2) + b'"}'
    assert len(body) == size
    response = client.open(path, method=method, data=body, headers=admin)
    if status == 413:
        assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert client.get(f"{SYSTEMS}/1", headers=admin).json == ldap_system
        assert client.get(SYSTEMS, headers=admin).json["totalCount"] == 1
    else:
        assert response.status_code == (201 if method == "POST" else 200), response.json
        assert response.json["name"] == "Big"


MEDIA_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
               "application/xml", "application/jsonx", "text/json"]


def test_chunked_body_over_the_limit(small_body_limit, client, admin, ldap_system):
    """A body without Content-Length (chunked, as behind gunicorn) is cut off at the limit as well."""
    body = b'{"name": "' + b"x" * 5000 + b'", "connectorDefinitionId": 1}'
    response = client.post(SYSTEMS, input_stream=io.BytesIO(body), headers=admin,
                           environ_overrides={"wsgi.input_terminated": True})
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert client.get(SYSTEMS, headers=admin).json["totalCount"] == 1


@pytest.mark.parametrize(
    "method, path, content_type",
    [("PUT", f"{SYSTEMS}/1", media_type) for media_type in MEDIA_TYPES]
    + [("POST", SYSTEMS, media_type) for media_type in (None, "text/plain")],
)
def test_unsupported_media_type(client, admin_key, ldap_system, method, path, content_type):
    headers = {"X-Api-Key": admin_key}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.open(path, method=method, data=b'{"name": "Renamed", "connectorDefinitionId": 1}', headers=headers)
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert client.get(f"{SYSTEMS}/1", headers=headers).json == ldap_system


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"])
def test_json_content_type_with_parameters_or_any_case(client, admin_key, ldap_system, content_type):
    response = client.put(f"{SYSTEMS}/1", data=b'{"name": "Renamed"}',
                          headers={"X-Api-Key": admin_key, "Content-Type": content_type})
    assert response.status_code == 200, response.json


INTERNAL_DETAIL = "internal detail: /srv/jim/secret-path.py password=hunter2"


@pytest.fixture
def failing_app(app):
    def fail():
        raise RuntimeError(INTERNAL_DETAIL)

    app.add_url_rule("/api/v1/fail", view_func=fail)
    return app


def test_unexpected_exception_is_a_generic_500(failing_app, caplog):
    response = failing_app.test_client().get("/api/v1/fail")
    assert_error(response, 500, "INTERNAL_ERROR")
    text = response.get_data(as_text=True)
    assert not shows(text, "hunter2")  # the password in the exception's message
    for leak in (INTERNAL_DETAIL, "RuntimeError", "Traceback", ".py", "line "):
        assert leak not in text
    assert INTERNAL_DETAIL in caplog.text  # logged for the operator, not shown to the client


def unreachable_sqlite(tmp_path):
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'jim.db'}"


def unreachable_postgres(tmp_path):
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/jim"


@pytest.fixture(params=[unreachable_sqlite, unreachable_postgres], ids=["sqlite", "postgresql"])
def unreachable_app(request, tmp_path):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": request.param(tmp_path),
        "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY],
        "JIM_DATABASE_TIMEOUT_SECONDS": 1,
    })
    yield app
    with app.app_context():
        from database import db
        db.engine.dispose()


@pytest.mark.parametrize(
    "method, path",
    [("GET", SYSTEMS), ("GET", f"{SYSTEMS}/1"), ("POST", SYSTEMS), ("PUT", f"{SYSTEMS}/1"),
     ("DELETE", f"{SYSTEMS}/1"), ("POST", f"{SYSTEMS}/1/validate-settings"), ("GET", DEFINITIONS)],
)
def test_database_unreachable(unreachable_app, method, path):
    response = unreachable_app.test_client().open(
        path, method=method, json={"name": "x", "connectorDefinitionId": 3}, headers={"X-Api-Key": WELL_FORMED_KEY}
    )
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert "no-such-directory" not in response.get_data(as_text=True)


def test_health_while_the_database_is_unreachable(unreachable_app):
    client = unreachable_app.test_client()
    response = client.get("/api/v1/health/ready")
    assert response.status_code == 503
    # JIM's not_ready and its reason, beside the envelope; no driver's text, which can name the host and user.
    body = response.json
    assert (body.pop("status"), body.pop("reason")) == ("not_ready", "database_unreachable")
    assert_error(Response(json.dumps(body), 503, mimetype="application/json"), 503, "SERVICE_UNAVAILABLE")
    assert "no-such-directory" not in response.get_data(as_text=True)
    for path in ("/api/v1/health", "/api/v1/health/live", "/api/v1/health/version"):
        assert client.get(path).status_code == 200


def test_health_while_the_database_is_reachable(client):
    for path in ("/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready", "/api/v1/health/version"):
        response = client.get(path)
        assert response.status_code == 200 and response.is_json
