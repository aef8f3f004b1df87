"""Who may call what: every endpoint against every kind of key, and the order of the checks."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
from auth import generate_key, hash_key
from conftest import SYSTEMS, empty_store, make_key
from database import db
from envelope import assert_error
from leaks import shows
from models import ApiKey, Role, utcnow

DEFINITIONS = "/api/v1/synchronisation/connector-definitions"

# method, path, body, needs Administrator, status for an Administrator
ENDPOINTS = [
    pytest.param("GET", SYSTEMS, None, False, 200, id="list"),
    pytest.param("GET", f"{SYSTEMS}/1", None, False, 200, id="get"),
    pytest.param("POST", SYSTEMS, {"name": "New", "connectorDefinitionId": 1}, True, 201, id="create"),
    pytest.param("PUT", f"{SYSTEMS}/1", {"description": "Changed"}, True, 200, id="put"),
    pytest.param("DELETE", f"{SYSTEMS}/1", None, True, 200, id="delete"),
    pytest.param("POST", f"{SYSTEMS}/1/validate-settings", None, True, 200, id="validate-settings"),
    pytest.param("GET", f"{SYSTEMS}/1/history", None, False, 200, id="history"),
    # System 1 is an LDAP system whose required settings are empty, with nothing imported: an import is refused
    # before it connects, and its parts are not there.
    pytest.param("POST", f"{SYSTEMS}/1/import-schema", None, True, 400, id="import-schema"),
    pytest.param("POST", f"{SYSTEMS}/1/import-schema/preview", None, True, 400, id="import-schema-preview"),
    pytest.param("GET", f"{SYSTEMS}/1/object-types", None, False, 200, id="object-types"),
    pytest.param("GET", f"{SYSTEMS}/1/object-types/1", None, False, 404, id="object-type"),
    pytest.param("PUT", f"{SYSTEMS}/1/object-types/1", {"selected": True}, True, 404, id="put-object-type"),
    pytest.param("PUT", f"{SYSTEMS}/1/object-types/1/attributes/1", {"selected": True}, True, 404,
                 id="put-attribute"),
    pytest.param("PUT", f"{SYSTEMS}/1/object-types/1/attributes", {"attributes": {"1": {"selected": True}}}, True,
                 404, id="put-attributes"),
    pytest.param("POST", f"{SYSTEMS}/1/import-hierarchy", None, True, 400, id="import-hierarchy"),
    pytest.param("GET", f"{SYSTEMS}/1/partitions", None, False, 200, id="partitions"),
    pytest.param("PUT", f"{SYSTEMS}/1/partitions/1", {"selected": True}, True, 404, id="put-partition"),
    pytest.param("PUT", f"{SYSTEMS}/1/containers/1", {"selected": True}, True, 404, id="put-container"),
    pytest.param("GET", f"{SYSTEMS}/1/deletion-preview", None, False, 200, id="deletion-preview"),
    pytest.param("GET", f"{SYSTEMS}/1/change-history", None, False, 200, id="change-history"),
    pytest.param("GET", f"{SYSTEMS}/1/change-history/1", None, False, 200, id="change-version"),
    pytest.param("GET", f"{SYSTEMS}/1/change-history/compare?fromVersion=1&toVersion=1", None, False, 200,
                 id="change-compare"),
    pytest.param("GET", f"{SYSTEMS}/1/container-scope-text", None, False, 200, id="container-scope-text"),
    pytest.param("PUT", f"{SYSTEMS}/1/container-scope-text", {"text": ""}, True, 200, id="put-container-scope-text"),
    pytest.param("GET", f"{SYSTEMS}/1/run-profiles", None, False, 200, id="run-profiles"),
    pytest.param("POST", f"{SYSTEMS}/1/run-profiles", {"name": "Full Import", "runType": "FullImport"}, True, 201,
                 id="create-run-profile"),
    pytest.param("PUT", f"{SYSTEMS}/1/run-profiles/1", {"pageSize": 500}, True, 404, id="put-run-profile"),
    pytest.param("DELETE", f"{SYSTEMS}/1/run-profiles/1", None, True, 404, id="delete-run-profile"),
    pytest.param("GET", DEFINITIONS, None, False, 200, id="definitions"),
    pytest.param("GET", f"{DEFINITIONS}/3", None, False, 200, id="definition"),
    pytest.param("GET", f"{DEFINITIONS}/by-name/JIM%20LDAP%20Connector", None, False, 200, id="definition-by-name"),
    pytest.param("GET", "/api/v1/userinfo", None, False, 200, id="userinfo"),
    # JIM's API keys controller is Administrator's, its GETs too: a Reader does not learn who holds keys.
    pytest.param("GET", "/api/v1/apikeys", None, True, 200, id="api-keys"),
    pytest.param("POST", "/api/v1/apikeys", {"name": "New", "roleIds": [2]}, True, 201, id="create-api-key"),
]


def revoked_key(app):
    key = make_key(app, Role.ADMINISTRATOR)
    with app.app_context():
        db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).revoked_at = utcnow()
        db.session.commit()
    return key


def disabled_key(app):
    key = make_key(app, Role.ADMINISTRATOR)
    with app.app_context():
        db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).enabled = False
        db.session.commit()
    return key


# Each way of failing to authenticate, as the X-Api-Key header it sends (None: no header).
INVALID_KEYS = {
    "none": lambda app: None,
    "empty": lambda app: "",
    "unknown": lambda app: generate_key(),
    "malformed-short": lambda app: "jim_short",
    "malformed-prefix": lambda app: "JIM_" + generate_key()[4:],
    "malformed-characters": lambda app: "jim_" + "!" * 43,
    "malformed-bearer": lambda app: "Bearer " + generate_key(),
    "malformed-spaces": lambda app: " " + generate_key() + " x",
    "malformed-huge": lambda app: "jim_" + "A" * 8000,
    "expired": lambda app: make_key(app, Role.ADMINISTRATOR, expires_at=utcnow() - timedelta(seconds=1)),
    "expired-reader": lambda app: make_key(app, Role.READER, expires_at=utcnow() - timedelta(seconds=1)),
    "revoked": revoked_key,
    "disabled": disabled_key,
}


def call(client, method, path, body, key, name="X-Api-Key"):
    headers = {} if key is None else {name: key}
    return client.open(path, method=method, json=body, headers=headers)


def stored_state(client, admin):
    return client.get(SYSTEMS, headers=admin).json, client.get(f"{SYSTEMS}/1", headers=admin).json


@pytest.mark.parametrize("method, path, body, write, status", ENDPOINTS)
def test_no_valid_key_is_401(app, client, admin, ldap_system, subtests, method, path, body, write, status):
    """Each row of INVALID_KEYS is a subtest: one database for the endpoint's column keeps the table fast."""
    before = stored_state(client, admin)
    for kind, key_of in INVALID_KEYS.items():
        with subtests.test(kind):
            response = call(client, method, path, body, key_of(app))
            assert_error(response, 401, "UNAUTHORISED")
            assert response.headers["WWW-Authenticate"].startswith("ApiKey")
            assert stored_state(client, admin) == before


def test_unknown_revoked_disabled_and_expired_keys_get_one_answer(app, client, ldap_system):
    messages = {
        kind: call(client, "GET", SYSTEMS, None, INVALID_KEYS[kind](app)).json["message"]
        for kind in ("unknown", "expired", "revoked", "disabled", "malformed-short")
    }
    assert len(set(messages.values())) == 1, messages


@pytest.mark.parametrize("method, path, body, write, status", ENDPOINTS)
def test_reader(client, reader_key, admin, ldap_system, method, path, body, write, status):
    before = stored_state(client, admin)
    response = call(client, method, path, body, reader_key)
    if write:
        assert_error(response, 403, "FORBIDDEN")
        assert stored_state(client, admin) == before
    else:
        assert response.status_code == status, response.json


@pytest.mark.parametrize("expiry", [None, timedelta(hours=1)], ids=["no-expiry", "expires-later"])
@pytest.mark.parametrize("method, path, body, write, status", ENDPOINTS)
def test_administrator(app, client, ldap_system, method, path, body, write, status, expiry):
    key = make_key(app, Role.ADMINISTRATOR, expires_at=expiry and utcnow() + expiry)
    response = call(client, method, path, body, key)
    assert response.status_code == status, response.json


@pytest.mark.parametrize("header", ["X-Api-Key", "x-api-key", "X-API-Key", "X-API-KEY", "x-Api-kEY"])
def test_header_name_in_any_case(client, admin_key, ldap_system, header):
    assert call(client, "GET", f"{SYSTEMS}/1", None, admin_key, header).status_code == 200
    assert call(client, "PUT", f"{SYSTEMS}/1", {"name": header}, admin_key, header).json["name"] == header


@pytest.mark.parametrize("header", ["Authorization", "Api-Key", "X-Api-Keys"])
def test_key_under_another_header_is_not_a_key(client, admin_key, ldap_system, header):
    assert_error(call(client, "GET", f"{SYSTEMS}/1", None, admin_key, header), 401, "UNAUTHORISED")


MISSING = f"{SYSTEMS}/999"
# Routes with a body whose resource lies under a system: each looks for what it changes before it reads the body.
WRITES_UNDER_A_SYSTEM = [
    ("POST", f"{MISSING}/import-schema"),
    ("POST", f"{MISSING}/import-schema/preview"),
    ("POST", f"{MISSING}/import-hierarchy"),
    ("PUT", f"{SYSTEMS}/1/object-types/999"),
    ("PUT", f"{SYSTEMS}/1/object-types/999/attributes/1"),
    ("PUT", f"{SYSTEMS}/1/object-types/999/attributes"),
    ("PUT", f"{SYSTEMS}/1/partitions/999"),
    ("PUT", f"{SYSTEMS}/1/containers/999"),
    ("PUT", f"{MISSING}/container-scope-text"),
    ("POST", f"{MISSING}/run-profiles"),
    ("PUT", f"{SYSTEMS}/1/run-profiles/999"),
]


@pytest.mark.parametrize(
    "who, method, path, data, content_type, status",
    [
        # Authentication before existence: an anonymous client learns nothing about which ids exist.
        ("anonymous", "PUT", MISSING, b'{"name": "x"}', "application/json", 401),
        ("anonymous", "DELETE", MISSING, None, None, 401),
        ("anonymous", "GET", MISSING, None, None, 401),
        ("anonymous", "POST", f"{MISSING}/validate-settings", None, None, 401),
        ("reader", "PUT", MISSING, b'{"name": "x"}', "application/json", 403),
        ("reader", "DELETE", MISSING, None, None, 403),
        ("reader", "POST", f"{MISSING}/validate-settings", None, None, 403),
        # Authentication before the body.
        ("anonymous", "PUT", f"{SYSTEMS}/1", b"{not json", "application/json", 401),
        ("anonymous", "PUT", f"{SYSTEMS}/1", b'{"name": ""}', "application/json", 401),
        ("anonymous", "PUT", f"{SYSTEMS}/1", b"name=x", "text/plain", 401),
        ("anonymous", "POST", SYSTEMS, b"{not json", "application/json", 401),
        ("anonymous", "POST", SYSTEMS, b"name=x", "text/plain", 401),
        ("reader", "PUT", f"{SYSTEMS}/1", b"{not json", "application/json", 403),
        ("reader", "POST", SYSTEMS, b"name=x", "text/plain", 403),
        # Existence before the body.
        ("admin", "PUT", MISSING, b"{not json", "application/json", 404),
        ("admin", "PUT", MISSING, b'{"name": ""}', "application/json", 404),
        ("admin", "PUT", MISSING, b"name=x", "text/plain", 404),
        ("admin", "PUT", MISSING, b"name=x", None, 404),
        *(("admin", method, path, b'{"unknown": 1}', "application/json", 404)
          for method, path in WRITES_UNDER_A_SYSTEM),
        # And the body last.
        ("admin", "PUT", f"{SYSTEMS}/1", b"{not json", "application/json", 400),
        ("admin", "PUT", f"{SYSTEMS}/1", b"name=x", "text/plain", 415),
    ],
)
def test_order_of_the_checks(client, admin, admin_key, reader_key, ldap_system, who, method, path, data,
                             content_type, status):
    headers = {"admin": {"X-Api-Key": admin_key}, "reader": {"X-Api-Key": reader_key}, "anonymous": {}}[who]
    if content_type:
        headers["Content-Type"] = content_type
    before = stored_state(client, admin)
    response = client.open(path, method=method, data=data, headers=headers)
    code = {400: "BAD_REQUEST", 401: "UNAUTHORISED", 403: "FORBIDDEN", 404: "NOT_FOUND",
            415: "UNSUPPORTED_MEDIA_TYPE"}[status]
    assert_error(response, status, code)
    assert stored_state(client, admin) == before


def test_a_key_stops_working_when_it_expires(app, client, ldap_system):
    key = make_key(app, Role.READER, expires_at=utcnow() + timedelta(hours=1))
    assert call(client, "GET", SYSTEMS, None, key).status_code == 200
    with app.app_context():
        db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).expires_at = utcnow()
        db.session.commit()
    assert_error(call(client, "GET", SYSTEMS, None, key), 401, "UNAUTHORISED")


# The infrastructure key: JIM_INFRASTRUCTURE_API_KEY is an Administrator key the service ensures exists.

# Random, as a real one is: a word of it could be in a path or a message, and look like a leak.
INFRASTRUCTURE_KEY = "jim_JozndVmdAhwAU_cC3xnl530E7d_CjD7iwE9sH-tk39A"


@pytest.fixture
def start(app_config):
    """create_app on the test's database with more configuration; each app's connections closed at the end."""
    started = []

    def start(**config):
        started.append(create_app({**app_config, **config}))
        return started[-1]

    yield start
    for app in started:
        with app.app_context():
            db.engine.dispose()


def infrastructure_keys(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(ApiKey.key_hash == hash_key(INFRASTRUCTURE_KEY)))


def test_infrastructure_key_is_made_at_start_up_once(app, start):
    """``app`` has just emptied the database, so the key exists only if each start-up makes it."""
    assert infrastructure_keys(app) == 0
    started = [start(JIM_INFRASTRUCTURE_API_KEY=INFRASTRUCTURE_KEY) for _ in range(2)]
    assert infrastructure_keys(app) == 1
    client = started[1].test_client()
    response = call(client, "POST", SYSTEMS, {"name": "By infrastructure", "connectorDefinitionId": 3},
                    INFRASTRUCTURE_KEY)
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(ApiKey.role).where(ApiKey.key_hash == hash_key(INFRASTRUCTURE_KEY))) == (
            "Administrator"
        )
    assert started[1].test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert infrastructure_keys(app) == 1


def test_infrastructure_key_is_made_by_init_db_on_an_empty_store(app, start):
    """A first deployment starts before its schema exists; init-db then makes the key."""
    with app.app_context():
        empty_store()
    fresh = start(JIM_INFRASTRUCTURE_API_KEY=INFRASTRUCTURE_KEY)
    result = fresh.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert not shows(result.output, INFRASTRUCTURE_KEY)
    assert infrastructure_keys(app) == 1
    assert call(fresh.test_client(), "GET", SYSTEMS, None, INFRASTRUCTURE_KEY).status_code == 200
    assert fresh.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert infrastructure_keys(app) == 1


@pytest.mark.parametrize(
    "key",
    ["jim_short", "jim_" + "A" * 42, "JIM_" + "A" * 43, "key_" + "A" * 43, "A" * 47, "jim_" + "A" * 42 + "!",
     "jim_" + "A" * 42 + " ", " jim_" + "A" * 43, "jim_" + "A" * 43 + "\n"],
)
def test_malformed_infrastructure_key_refuses_to_start(start, key):
    with pytest.raises(ValueError, match="JIM_INFRASTRUCTURE_API_KEY") as refused:
        start(JIM_INFRASTRUCTURE_API_KEY=key)
    assert "token_hex" in str(refused.value)  # it says how to make a good one, in JIM's format
    assert not shows(str(refused.value), key.strip())
