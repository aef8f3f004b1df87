"""API keys: each request reads its key afresh, so a revocation or an expiry applies from the next request on."""
from datetime import timedelta

import pytest

from conftest import SYSTEMS, make_key
from models import Role, utcnow

SYSTEM = f"{SYSTEMS}/1"


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": ""}, {"X-Api-Key": "jim_" + "a" * 43}, {"X-Api-Key": "nope"}])
def test_no_key_or_an_unknown_one_is_401(client, ldap_system, headers):
    response = client.get(SYSTEM, headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORISED"
    assert response.headers["WWW-Authenticate"]


def test_a_revoked_key_stops_working_at_the_next_request(app, client, runner, admin, reader_key, ldap_system):
    headers = {"X-Api-Key": reader_key}
    assert client.get(SYSTEM, headers=headers).status_code == 200
    with app.app_context():  # as the flask command gives it
        assert runner.invoke(args=["api-key", "revoke", reader_key[:12]]).exit_code == 0
    assert client.get(SYSTEM, headers=headers).status_code == 401
    assert client.get(SYSTEM, headers=admin).status_code == 200


def test_an_expired_key_is_401(app, client, ldap_system):
    expired = make_key(app, Role.ADMINISTRATOR, expires_at=utcnow() - timedelta(seconds=1))
    current = make_key(app, Role.ADMINISTRATOR, expires_at=utcnow() + timedelta(days=1))
    assert client.put(SYSTEM, json={"name": "x"}, headers={"X-Api-Key": expired}).status_code == 401
    assert client.put(SYSTEM, json={"name": "x"}, headers={"X-Api-Key": current}).status_code == 200


def test_a_reader_may_read_but_not_write(client, reader, ldap_system):
    assert client.get(SYSTEM, headers=reader).status_code == 200
    refused = client.put(SYSTEM, json={"name": "x"}, headers=reader)
    assert refused.status_code == 403 and refused.json["code"] == "FORBIDDEN"
    assert client.get(SYSTEM, headers=reader).json["name"] == "Corporate LDAP"


def test_authentication_comes_before_existence_and_the_body(client, reader, ldap_system):
    assert client.put(f"{SYSTEMS}/99", data="not json", headers={"Content-Type": "application/json"}).status_code == 401
    assert client.put(f"{SYSTEMS}/99", data="not json", headers=reader).status_code == 403
