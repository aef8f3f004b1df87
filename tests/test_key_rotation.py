"""Key rotation: several keys (the first encrypts, all decrypt), `reencrypt`, and secrets no key can read."""
import os
import subprocess
import sys
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from app import create_app
from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from database import db
from leaks import shows
from models import setting_values_table
from servers import PROJECT

SYSTEM = f"{SYSTEMS}/1"
PASSWORD = "s3cur3p@ssw0rd"
VALID_SETTINGS = {"1": {"stringValue": "ldap.example.com"}, "2": {"stringValue": "CN=JIM,DC=example,DC=com"},
                  "3": {"stringValue": PASSWORD}}
NEW_KEY = Fernet.generate_key().decode()


@contextmanager
def service_with_keys(app_config, *keys):
    """The service as it runs after JIM_ENCRYPTION_KEY was changed, over the same database."""
    app = create_app({**app_config, "JIM_ENCRYPTION_KEYS": list(keys)})
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def stored_tokens(app) -> list[str]:
    with app.app_context():
        return [secret.token for secret in db.session.scalars(
            select(setting_values_table.c.secret_value).where(setting_values_table.c.secret_value.is_not(None)))]


@pytest.fixture
def configured_system(client, admin, ldap_system):
    """System 1 with valid settings, its password written under the original key."""
    assert client.put(SYSTEM, json={"settingValues": VALID_SETTINGS}, headers=admin).status_code == 200


def test_a_secret_no_key_can_read_is_a_validation_error_not_a_500(app_config, admin, configured_system):
    with service_with_keys(app_config, NEW_KEY) as app:
        client = app.test_client()
        shown = client.get(SYSTEM, headers=admin)
        assert shown.status_code == 200
        assert shown.json["settingValues"]["3"] == {"name": "Password", "type": "StringEncrypted", "hasValue": True}
        validated = client.post(f"{SYSTEM}/validate-settings", headers=admin)
        assert validated.status_code == 200
        assert validated.json["valid"] is False
        assert list(validated.json["validationErrors"]) == ["settingValues.3"]
        assert "encryption key" in validated.json["validationErrors"]["settingValues.3"][0]
        # Setting it again under the new key mends it.
        client.put(SYSTEM, json={"settingValues": {"3": {"stringValue": PASSWORD}}}, headers=admin)
        assert client.post(f"{SYSTEM}/validate-settings", headers=admin).json["valid"] is True


def test_the_first_key_encrypts_and_every_key_decrypts(app_config, admin, configured_system):
    with service_with_keys(app_config, NEW_KEY, TEST_ENCRYPTION_KEY) as app:
        client = app.test_client()
        assert client.post(f"{SYSTEM}/validate-settings", headers=admin).json["valid"] is True
        client.put(SYSTEM, json={"settingValues": {"3": {"stringValue": "n3wp@ss"}}}, headers=admin)
    with service_with_keys(app_config, NEW_KEY) as app:
        assert app.test_client().post(f"{SYSTEM}/validate-settings", headers=admin).json["validationErrors"] == {}


def test_reencrypt_moves_every_secret_to_the_first_key(app, app_config, admin, configured_system):
    client = app.test_client()
    client.post(SYSTEMS, json={"name": "Payroll DB", "connectorDefinitionId": 2}, headers=admin)
    client.put(f"{SYSTEMS}/2", json={"settingValues": {"206": {"stringValue": "db-pass"}}}, headers=admin)
    old_tokens = stored_tokens(app)
    with service_with_keys(app_config, NEW_KEY, TEST_ENCRYPTION_KEY) as rotating:
        result = rotating.test_cli_runner().invoke(args=["reencrypt"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 2 secret(s)" in result.output
    assert not shows(result.output, PASSWORD) and not shows(result.output, NEW_KEY)
    assert set(stored_tokens(app)).isdisjoint(old_tokens)
    with service_with_keys(app_config, NEW_KEY) as rotated:
        client = rotated.test_client()
        for system in (SYSTEM, f"{SYSTEMS}/2"):
            validated = client.post(f"{system}/validate-settings", headers=admin).json
            assert not any("encryption key" in message for messages in validated["validationErrors"].values()
                           for message in messages)
        # Re-encrypting changes nothing a client can see, so it is no entry in the history.
        assert [r["action"] for r in client.get(f"{SYSTEMS}/2/history", headers=admin).json["items"]] == [
            "Updated", "Created"]


def test_reencrypt_keeps_the_etag(app, app_config, admin, configured_system):
    before = app.test_client().get(SYSTEM, headers=admin).headers["ETag"]
    with service_with_keys(app_config, NEW_KEY, TEST_ENCRYPTION_KEY) as rotating:
        assert rotating.test_cli_runner().invoke(args=["reencrypt"]).exit_code == 0
    assert app.test_client().get(SYSTEM, headers=admin).headers["ETag"] == before


def test_reencrypt_rewrites_nothing_when_a_secret_cannot_be_read(app, app_config, admin, configured_system):
    client = app.test_client()
    client.post(SYSTEMS, json={"name": "Payroll DB", "connectorDefinitionId": 2}, headers=admin)
    with service_with_keys(app_config, NEW_KEY) as other:
        # Written under NEW_KEY only: the original key cannot read it.
        other.test_client().put(f"{SYSTEMS}/2", json={"settingValues": {"206": {"stringValue": "db-pass"}}},
                                headers=admin)
    before = stored_tokens(app)
    result = app.test_cli_runner().invoke(args=["reencrypt"])
    assert result.exit_code != 0
    assert "connected system 2 setting 206" in result.output
    assert "nothing was rewritten" in result.output
    assert not shows(result.output, "db-pass")
    assert stored_tokens(app) == before


def test_reencrypt_with_no_secrets_says_so(runner):
    result = runner.invoke(args=["reencrypt"])
    assert result.exit_code == 0
    assert "Re-encrypted 0 secret(s)" in result.output


def test_the_documented_command_rotates_as_an_operator_runs_it(app, database_url, configured_system):
    environ = {**os.environ, "DATABASE_URL": database_url.replace("+psycopg", ""),
               "JIM_ENCRYPTION_KEY": f"{NEW_KEY},{TEST_ENCRYPTION_KEY}"}
    before = stored_tokens(app)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "reencrypt"], cwd=PROJECT, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Re-encrypted 1 secret(s)" in result.stdout
    assert set(stored_tokens(app)).isdisjoint(before)
    output = result.stdout + result.stderr
    assert not shows(output, PASSWORD) and not shows(output, NEW_KEY)
