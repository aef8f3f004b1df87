"""API keys over REST, as JIM's /apikeys: JIM's ApiKeyDto, the key shown once, JIM's key format, existing keys
working, who may, partial changes all or nothing, and the two rules: the infrastructure key is the environment's,
and no key can take the service's last working Administrator access away."""
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auth import create_key, ensure_infrastructure_key
from conftest import SYSTEMS
from database import db
from envelope import assert_error
from leaks import shows
from models import ApiKey, Role, utcnow

KEYS = "/api/v1/apikeys"
JIMS_FORMAT = re.compile(r"jim_ak_[0-9a-f]{64}")
DTO_FIELDS = ["id", "name", "description", "keyPrefix", "createdAt", "expiresAt", "lastUsedAt", "lastUsedFromIp",
              "isEnabled", "isInfrastructureKey", "roles"]
ADMINISTRATOR = [{"id": 1, "name": "Administrator", "builtIn": True}]
READER = [{"id": 2, "name": "Reader", "builtIn": True}]


def headers(key: str) -> dict:
    return {"X-Api-Key": key}


def create(client, admin, status=201, **body):
    response = client.post(KEYS, json={"name": "CI/CD Pipeline", **body}, headers=admin)
    assert response.status_code == status, response.json
    return response.json


def listed(client, admin) -> dict:
    """Each key as the list shows it, by name."""
    return {key["name"]: key for key in client.get(KEYS, headers=admin).json}


def works(client, key: str) -> int:
    """What a key gets for a GET that any role may make."""
    return client.get(SYSTEMS, headers=headers(key)).status_code


def stored_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ApiKey))


def my_id(client, admin) -> str:
    return listed(client, admin)["test-administrator"]["id"]


def test_a_new_key_is_jims_format_shown_once(client, admin, caplog):
    caplog.set_level(logging.DEBUG)
    created = client.post(KEYS, json={"name": "CI/CD Pipeline", "roleIds": [2], "description": "For the build"},
                          headers=admin)
    assert created.status_code == 201
    body = created.json
    assert list(body) == [*DTO_FIELDS, "key"]
    assert JIMS_FORMAT.fullmatch(body["key"])
    assert body["keyPrefix"] == body["key"][:12]
    assert (body["name"], body["description"], body["roles"], body["isEnabled"]) == (
        "CI/CD Pipeline", "For the build", READER, True)
    assert (body["lastUsedAt"], body["lastUsedFromIp"], body["expiresAt"]) == (None, None, None)
    assert created.headers["Location"] == f"http://localhost{KEYS}/{body['id']}"
    assert created.headers["Cache-Control"] == "no-store"
    # Never again: not when read, not in the list, not in a log line; only its display prefix is shown.
    again = client.get(f"{KEYS}/{body['id']}", headers=admin)
    assert again.json == {field: body[field] for field in DTO_FIELDS}
    secret = body["key"][len(body["keyPrefix"]):]
    assert not shows(client.get(KEYS, headers=admin).get_data(as_text=True), secret)
    assert not shows(caplog.text, secret)
    assert works(client, body["key"]) == 200


def test_keys_made_before_keep_working_and_get_an_id(app, client, admin, admin_key):
    """The keys of this service's own format (jim_ and 43 URL-safe characters), made by the operator command,
    authenticate, and are listed and managed like new ones."""
    with app.app_context():
        old = "jim_" + "Q" * 43
        create_key("before", Role.READER, key=old)
    assert works(client, old) == 200
    before = listed(client, admin)["before"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", before["id"])
    assert client.put(f"{KEYS}/{before['id']}", json={"isEnabled": False}, headers=admin).status_code == 200
    assert works(client, old) == 401


@pytest.mark.parametrize("role_ids, roles, status", [
    ([1], ADMINISTRATOR, 200),
    ([2], READER, 200),
    ([2, 1], ADMINISTRATOR, 200),  # Administrator includes Reader
    ([], [], 403),  # New-JIMApiKey's default: a key that may only ask who it is
])
def test_roles_by_jims_ids(client, admin, role_ids, roles, status):
    created = create(client, admin, roleIds=role_ids)
    assert created["roles"] == roles
    assert works(client, created["key"]) == status
    me = client.get("/api/v1/userinfo", headers=headers(created["key"])).json
    assert me["roles"] == [role["name"] for role in roles]
    assert (me["authorised"], me["isAdministrator"]) == (bool(roles), roles == ADMINISTRATOR)


@pytest.mark.parametrize("body, fields", [
    ({"name": ""}, {"name"}),
    ({"name": None}, {"name"}),
    ({"name": "x" * 201}, {"name"}),
    ({}, {"name"}),
    ({"name": "x", "roleIds": [3]}, {"roleIds"}),
    ({"name": "x", "roleIds": ["1"]}, {"roleIds.0"}),  # the entry named by its place
    ({"name": "x", "roleIds": 1}, {"roleIds"}),
    ({"name": "x", "expiresAt": "2000-01-01T00:00:00Z"}, {"expiresAt"}),  # past: it would never work
    ({"name": "x", "expiresAt": "0001-01-01T00:00:00+02:00"}, {"expiresAt"}),
    ({"name": "x", "expiresAt": "tomorrow"}, {"expiresAt"}),
    ({"name": "x", "description": "d" * 1001}, {"description"}),
    ({"name": "x", "changeReason": "r" * 1001}, {"changeReason"}),
    ({"name": "x", "key": "jim_ak_" + "0" * 64}, {"key"}),  # no one chooses their own key
    ({"name": "", "roleIds": [9], "isEnabled": True}, {"name", "roleIds", "isEnabled"}),  # every problem at once
])
def test_a_create_that_breaks_a_rule_creates_nothing(app, client, admin, body, fields):
    before = stored_count(app)
    response = client.post(KEYS, json=body, headers=admin)
    assert set(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == fields
    assert stored_count(app) == before


def test_an_expiry_as_the_module_sends_it(client, admin):
    """New-JIMApiKey sends ToUniversalTime().ToString('o'): seven fractional digits and a Z."""
    moment = utcnow() + timedelta(days=30)
    sent = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    created = create(client, admin, roleIds=[2], expiresAt=sent)
    assert created["expiresAt"] == moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    naive = create(client, admin, name="naive", expiresAt="2099-06-01T12:00:00")  # no offset: UTC
    assert naive["expiresAt"] == "2099-06-01T12:00:00.000000Z"


def test_a_change_changes_only_the_fields_given(client, admin):
    created = create(client, admin, roleIds=[2], description="Build", expiresAt="2099-01-01T00:00:00Z")
    path = f"{KEYS}/{created['id']}"
    renamed = client.put(path, json={"name": "Renamed"}, headers=admin).json
    assert renamed == {**{field: created[field] for field in DTO_FIELDS}, "name": "Renamed"}
    changed = client.put(path, json={"description": "", "roleIds": [1], "expiresAt": None, "changeReason": "why"},
                         headers=admin).json
    assert (changed["description"], changed["roles"], changed["expiresAt"]) == (None, ADMINISTRATOR, None)
    assert client.get(path, headers=admin).json == changed


def test_disabled_keys_stop_at_once_and_can_be_enabled_again(client, admin):
    created = create(client, admin, roleIds=[2])
    path = f"{KEYS}/{created['id']}"
    assert client.put(path, json={"isEnabled": False}, headers=admin).json["isEnabled"] is False
    assert works(client, created["key"]) == 401
    assert client.put(path, json={"isEnabled": True}, headers=admin).json["isEnabled"] is True
    assert works(client, created["key"]) == 200


def test_a_revoked_key_is_never_enabled_again(runner, client, admin):
    created = create(client, admin, roleIds=[2])
    assert runner.invoke(args=["api-key", "revoke", created["keyPrefix"]]).exit_code == 0
    path = f"{KEYS}/{created['id']}"
    assert client.get(path, headers=admin).json["isEnabled"] is False
    body = assert_error(client.put(path, json={"isEnabled": True}, headers=admin), 409, "CONFLICT")
    assert "revoked" in body["message"]
    assert works(client, created["key"]) == 401


def test_an_expiry_in_the_past_ends_a_key(client, admin):
    created = create(client, admin, roleIds=[2])
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    assert client.put(f"{KEYS}/{created['id']}", json={"expiresAt": past}, headers=admin).status_code == 200
    assert works(client, created["key"]) == 401


@pytest.mark.parametrize("body, fields", [
    ({"name": None}, {"name"}),
    ({"name": " "}, {"name"}),
    ({"isEnabled": "false"}, {"isEnabled"}),
    ({"roleIds": [0]}, {"roleIds"}),
    ({"enabled": False}, {"enabled"}),
    ({"name": "New", "roleIds": [5]}, {"roleIds"}),  # the valid name is not written either
])
def test_a_change_that_breaks_a_rule_changes_nothing(client, admin, body, fields):
    created = create(client, admin, roleIds=[2])
    path = f"{KEYS}/{created['id']}"
    before = client.get(path, headers=admin).json
    assert set(assert_error(client.put(path, json=body, headers=admin), 400, "VALIDATION_ERROR")[
        "validationErrors"]) == fields
    assert client.get(path, headers=admin).json == before


def test_a_deleted_key_is_gone_and_stops_at_once(client, admin):
    created = create(client, admin, roleIds=[1])
    path = f"{KEYS}/{created['id']}"
    assert client.delete(f"{path}?changeReason=Pipeline%20retired", headers=admin).status_code == 204
    assert works(client, created["key"]) == 401
    assert_error(client.get(path, headers=admin), 404, "NOT_FOUND")
    assert_error(client.delete(path, headers=admin), 404, "NOT_FOUND")
    assert created["name"] not in listed(client, admin)


def test_a_delete_takes_only_a_change_reason(client, admin):
    created = create(client, admin, roleIds=[2])
    response = client.delete(f"{KEYS}/{created['id']}?force=true", headers=admin)
    assert set(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == {"force"}
    assert created["name"] in listed(client, admin)


@pytest.mark.parametrize("change", [
    {"isEnabled": False}, {"roleIds": [2]}, {"roleIds": []}, {"expiresAt": "2001-01-01T00:00:00Z"}, None,
], ids=["disable", "demote", "no-role", "expire", "delete"])
def test_the_last_administrator_key_cannot_take_itself_away(client, admin, admin_key, change):
    path = f"{KEYS}/{my_id(client, admin)}"
    before = client.get(path, headers=admin).json
    response = client.put(path, json=change, headers=admin) if change else client.delete(path, headers=admin)
    body = assert_error(response, 409, "CONFLICT")
    assert body["message"].startswith("This would leave no working Administrator key")
    assert client.get(path, headers=admin).json == before
    assert works(client, admin_key) == 200


def test_with_another_working_administrator_a_key_may_retire_itself(client, admin, admin_key):
    other = create(client, admin, name="break-glass", roleIds=[1])
    disabled = create(client, admin, name="disabled", roleIds=[1])
    client.put(f"{KEYS}/{disabled['id']}", json={"isEnabled": False}, headers=admin)
    expired = create(client, admin, name="expired", roleIds=[1])
    client.put(f"{KEYS}/{expired['id']}", json={"expiresAt": "2001-01-01T00:00:00Z"}, headers=admin)
    create(client, admin, name="reader", roleIds=[2])
    mine = f"{KEYS}/{my_id(client, admin)}"
    assert client.delete(mine, headers=admin).status_code == 204
    assert works(client, admin_key) == 401
    # Now break-glass is the last working one: neither a disabled nor an expired Administrator key counts.
    theirs = f"{KEYS}/{other['id']}"
    assert_error(client.delete(theirs, headers=headers(other["key"])), 409, "CONFLICT")


def test_the_infrastructure_key_is_its_environments(app, client):
    infrastructure = "jim_ak_" + "5" * 64
    app.config["JIM_INFRASTRUCTURE_API_KEY"] = infrastructure
    with app.app_context():
        ensure_infrastructure_key(infrastructure)
    admin = headers(infrastructure)
    shown = listed(client, admin)["infrastructure"]
    assert (shown["isInfrastructureKey"], shown["roles"]) == (True, ADMINISTRATOR)
    other = create(client, admin, name="another", roleIds=[1])  # so that the last-key rule does not decide
    for response in (client.put(f"{KEYS}/{shown['id']}", json={"name": "x"}, headers=admin),
                     client.put(f"{KEYS}/{shown['id']}", json={"isEnabled": False}, headers=headers(other["key"])),
                     client.delete(f"{KEYS}/{shown['id']}", headers=headers(other["key"]))):
        assert "JIM_INFRASTRUCTURE_API_KEY" in assert_error(response, 409, "CONFLICT")["message"]
    assert works(client, infrastructure) == 200


def test_naming_an_existing_key_the_infrastructure_key_marks_it(app, client, admin, admin_key):
    with app.app_context():
        ensure_infrastructure_key(admin_key)
    assert listed(client, admin)["test-administrator"]["isInfrastructureKey"] is True


@pytest.mark.parametrize("method, path", [
    ("GET", KEYS), ("POST", KEYS), ("GET", f"{KEYS}/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("PUT", f"{KEYS}/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("DELETE", f"{KEYS}/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
])
def test_only_an_administrator_may_see_or_manage_keys(app, client, reader_key, method, path):
    """As JIM's: its whole controller is Administrator; a Reader does not see who holds keys either."""
    before = stored_count(app)
    assert_error(client.open(path, method=method, json={"name": "x"}, headers=headers(reader_key)), 403,
                 "FORBIDDEN")
    assert_error(client.open(path, method=method, json={"name": "x"}), 401, "UNAUTHORISED")
    assert stored_count(app) == before


@pytest.mark.parametrize("key_id", ["1", "not-a-guid", "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                    "3fa85f64571745 62b3fc2c963f66afa6"])
def test_an_id_that_names_no_key_is_a_404(client, admin, key_id):
    for method in ("GET", "PUT", "DELETE"):
        assert_error(client.open(f"{KEYS}/{key_id}", method=method, json={"name": "x"}, headers=admin), 404,
                     "NOT_FOUND")


def test_a_guid_in_capitals_names_the_same_key(client, admin):
    created = create(client, admin, roleIds=[2])
    assert client.get(f"{KEYS}/{created['id'].upper()}", headers=admin).json["id"] == created["id"]


def test_userinfo_says_who_is_calling(client, admin_key, reader_key):
    assert client.get("/api/v1/userinfo", headers=headers(admin_key)).json == {
        "authorised": True, "isAdministrator": True, "name": "test-administrator", "authMethod": "api_key",
        "metaverseObjectId": None, "roles": ["Administrator"], "message": None}
    reader = client.get("/api/v1/userinfo", headers=headers(reader_key)).json
    assert (reader["authorised"], reader["isAdministrator"], reader["roles"]) == (True, False, ["Reader"])
    assert_error(client.get("/api/v1/userinfo"), 401, "UNAUTHORISED")


def test_the_operator_command_lists_disabled_keys_as_such(app, runner, client, admin):
    created = create(client, admin, roleIds=[2])
    client.put(f"{KEYS}/{created['id']}", json={"isEnabled": False}, headers=admin)
    line = next(line for line in runner.invoke(args=["api-key", "list"]).output.splitlines()
                if created["keyPrefix"] in line)
    assert "\tdisabled\t" in line
    created_by_command = runner.invoke(args=["api-key", "create", "--name", "ops", "--role", "Reader"])
    assert JIMS_FORMAT.fullmatch(created_by_command.output.strip().splitlines()[-1])

