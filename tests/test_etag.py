"""Conditional requests: a strong ETag on every answer carrying a system, If-Match on writes, If-None-Match on GET."""
import pytest

from conftest import SYSTEMS

SYSTEM = f"{SYSTEMS}/1"
RENAME = {"name": "Renamed"}


def etag(client, headers) -> str:
    return client.get(SYSTEM, headers=headers).headers["ETag"]


def test_every_answer_carrying_a_system_has_a_strong_etag(client, admin, ldap_system):
    created = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin)
    answers = [
        created,
        client.get(SYSTEM, headers=admin),
        client.put(SYSTEM, json=RENAME, headers=admin),
        client.post(f"{SYSTEM}/validate-settings", headers=admin),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201)
        tag = answer.headers["ETag"]
        assert tag.startswith('"') and tag.endswith('"') and len(tag) > 2  # strong: no W/ prefix
    assert created.headers["ETag"] != answers[1].headers["ETag"]  # two systems never share a tag


def test_etag_changes_exactly_when_the_system_changes(client, admin, ldap_system):
    first = etag(client, admin)
    assert etag(client, admin) == first
    renamed = client.put(SYSTEM, json=RENAME, headers=admin)
    assert renamed.headers["ETag"] != first
    assert etag(client, admin) == renamed.headers["ETag"]
    no_op = client.put(SYSTEM, json={**RENAME, "changeReason": "again"}, headers=admin)
    assert no_op.status_code == 200
    assert no_op.headers["ETag"] == renamed.headers["ETag"]
    # settingValuesValid stays false (the required settings are empty): validation changes nothing.
    assert client.post(f"{SYSTEM}/validate-settings", headers=admin).headers["ETag"] == renamed.headers["ETag"]
    changed = client.put(SYSTEM, json={"settingValues": {"4": {"intValue": 636}}}, headers=admin)
    assert changed.headers["ETag"] not in (first, renamed.headers["ETag"])


@pytest.mark.parametrize("if_match", ["{current}", "*", '"0-0", {current}', '"0-0",{current}'])
def test_put_with_a_matching_if_match_is_applied(client, admin, ldap_system, if_match):
    header = if_match.format(current=etag(client, admin))
    response = client.put(SYSTEM, json=RENAME, headers={**admin, "If-Match": header})
    assert response.status_code == 200
    assert response.json["name"] == "Renamed"


@pytest.mark.parametrize("if_match", ["{stale}", "W/{current}", '"0-0"'])
def test_put_with_an_if_match_that_does_not_match_is_refused_and_writes_nothing(client, admin, ldap_system, if_match):
    stale = etag(client, admin)
    current = client.put(SYSTEM, json={"description": "moved on"}, headers=admin).headers["ETag"]
    header = if_match.format(stale=stale, current=current)
    response = client.put(SYSTEM, json=RENAME, headers={**admin, "If-Match": header})
    assert response.status_code == 412
    assert response.json["code"] == "PRECONDITION_FAILED"
    after = client.get(SYSTEM, headers=admin)
    assert after.json["name"] == "Corporate LDAP"
    assert after.headers["ETag"] == current


def test_a_stale_if_match_wins_over_an_invalid_body(client, admin, ldap_system):
    stale = etag(client, admin)
    client.put(SYSTEM, json=RENAME, headers=admin)
    response = client.put(SYSTEM, json={"name": ""}, headers={**admin, "If-Match": stale})
    assert response.status_code == 412


def test_delete_honours_if_match(client, admin, ldap_system):
    stale = etag(client, admin)
    current = client.put(SYSTEM, json=RENAME, headers=admin).headers["ETag"]
    refused = client.delete(SYSTEM, headers={**admin, "If-Match": stale})
    assert refused.status_code == 412 and refused.json["code"] == "PRECONDITION_FAILED"
    assert client.get(SYSTEM, headers=admin).status_code == 200
    assert client.delete(SYSTEM, headers={**admin, "If-Match": current}).status_code == 200
    assert client.get(SYSTEM, headers=admin).status_code == 404


def test_validate_settings_honours_if_match(client, admin, ldap_system):
    settings = {"1": {"stringValue": "ldap.example.com"}, "2": {"stringValue": "CN=JIM,DC=example,DC=com"},
                "3": {"stringValue": "secret"}}
    stale = etag(client, admin)
    current = client.put(SYSTEM, json={"settingValues": settings}, headers=admin).headers["ETag"]
    refused = client.post(f"{SYSTEM}/validate-settings", headers={**admin, "If-Match": stale})
    assert refused.status_code == 412
    assert client.get(SYSTEM, headers=admin).json["settingValuesValid"] is False
    validated = client.post(f"{SYSTEM}/validate-settings", headers={**admin, "If-Match": current})
    assert validated.status_code == 200 and validated.json["valid"] is True
    assert validated.headers["ETag"] != current
    assert validated.headers["ETag"] == etag(client, admin)


@pytest.mark.parametrize("if_none_match", ["{current}", "W/{current}", "*", '"0-0", {current}'])
def test_get_with_a_current_if_none_match_is_304_without_a_body(client, reader, ldap_system, if_none_match):
    current = etag(client, reader)
    response = client.get(SYSTEM, headers={**reader, "If-None-Match": if_none_match.format(current=current)})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == current


def test_get_with_a_stale_if_none_match_answers_the_system(client, admin, reader, ldap_system):
    stale = etag(client, reader)
    client.put(SYSTEM, json=RENAME, headers=admin)
    response = client.get(SYSTEM, headers={**reader, "If-None-Match": stale})
    assert response.status_code == 200
    assert response.json["name"] == "Renamed"


def test_if_none_match_does_not_skip_authentication(client, reader, ldap_system):
    current = etag(client, reader)
    assert client.get(SYSTEM, headers={"If-None-Match": current}).status_code == 401


def test_a_deleted_and_recreated_system_never_takes_an_old_etag(client, admin, ldap_system):
    """Ids are never reused, so an ETag read before a delete cannot match the system created after it."""
    old = etag(client, admin)
    assert client.delete(SYSTEM, headers=admin).status_code == 200
    created = client.post(SYSTEMS, json={"name": "Corporate LDAP", "connectorDefinitionId": 3}, headers=admin)
    assert created.json["id"] != 1
    assert created.headers["ETag"] != old


def test_an_empty_if_match_is_a_bad_request_and_writes_nothing(client, admin, ldap_system):
    """A script whose ETag variable was never set sends an empty header: say so, do not claim a change."""
    response = client.put(f"{SYSTEMS}/1", json={"name": "Not written"}, headers={**admin, "If-Match": ""})
    assert response.status_code == 400
    assert response.json["code"] == "BAD_REQUEST"
    assert "If-Match" in response.json["message"]
    assert client.get(f"{SYSTEMS}/1", headers=admin).json["name"] == "Corporate LDAP"
