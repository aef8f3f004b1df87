"""The user's own document, verbatim: every example in seed-update-connected-system.txt.

test_deployment sends the curl examples, as written, to a fresh install made by scripts/serve.
"""
import json

from conftest import SYSTEMS
from leaks import shows

# The two request bodies of the seed's curl examples, byte for byte.
SEED_NAME_AND_DESCRIPTION = """{
    "name": "Corporate LDAP (Production)",
    "description": "Primary directory for all employee accounts"
  }"""
SEED_SETTINGS = """{
    "settingValues": {
      "1": { "stringValue": "ldap://directory.example.com:389" },
      "2": { "stringValue": "CN=JIM,OU=Service,DC=example,DC=com" },
      "3": { "stringValue": "s3cur3p@ssw0rd" }
    }
  }"""
# The seed's description of settingValues, with all five types.
SEED_SETTING_TYPES = """{
  "settingValues": {
    "1": { "stringValue": "ldap://directory.example.com:389" },
    "2": { "stringValue": "CN=ServiceAccount,OU=Service,DC=example,DC=com" },
    "3": { "stringValue": "s3cur3p@ssw0rd" },
    "4": { "intValue": 389 },
    "5": { "checkboxValue": true }
  }
}"""


def put(client, key, body, **headers):
    return client.put(
        f"{SYSTEMS}/1", data=body, headers={"X-Api-Key": key, "Content-Type": "application/json", **headers}
    )


def test_update_name_and_description(client, admin_key, ldap_system):
    response = put(client, admin_key, SEED_NAME_AND_DESCRIPTION)
    assert response.status_code == 200
    assert response.json["name"] == "Corporate LDAP (Production)"
    assert response.json["description"] == "Primary directory for all employee accounts"
    assert response.json["lastUpdated"].endswith("Z")


def test_configure_connector_settings(client, admin_key, ldap_system):
    response = put(client, admin_key, SEED_SETTINGS)
    assert response.status_code == 200
    values = response.json["settingValues"]
    assert values["1"] == {"name": "Host", "type": "String", "stringValue": "ldap://directory.example.com:389"}
    assert values["2"]["stringValue"] == "CN=JIM,OU=Service,DC=example,DC=com"
    assert values["3"] == {"name": "Password", "type": "StringEncrypted", "hasValue": True}
    assert not shows(response.get_data(as_text=True), "s3cur3p@ssw0rd")


def test_every_setting_type_of_the_seed(client, admin_key, ldap_system):
    response = put(client, admin_key, SEED_SETTING_TYPES)
    assert response.status_code == 200
    values = response.json["settingValues"]
    assert values["4"]["intValue"] == 389
    assert values["5"]["checkboxValue"] is True


def test_answer_is_what_a_get_returns(client, admin_key, ldap_system):
    answer = put(client, admin_key, SEED_SETTINGS).json
    assert client.get(f"{SYSTEMS}/1", headers={"X-Api-Key": admin_key}).json == answer


def test_settings_change_resets_setting_values_valid(client, admin, admin_key, ldap_system):
    put(client, admin_key, SEED_SETTING_TYPES)
    validated = client.post(f"{SYSTEMS}/1/validate-settings", headers=admin).json
    assert validated["valid"] is True and validated["connectedSystem"]["settingValuesValid"] is True
    assert put(client, admin_key, SEED_SETTINGS).json["settingValuesValid"] is False


def test_powershell_module_requests(client, admin_key, ldap_system):
    """Set-JIMConnectedSystem: the same bodies, with Accept: application/json and the header spelled X-API-Key."""
    settings = {"1": {"stringValue": "ldap://directory.example.com:389"},
                "2": {"stringValue": "CN=JIM,OU=Service,DC=example,DC=com"},
                "3": {"stringValue": "s3cur3p@ssw0rd"}}
    headers = {"X-API-Key": admin_key, "Accept": "application/json", "Content-Type": "application/json; charset=utf-8"}
    for body in ({"name": "Corporate LDAP (Production)", "description": "Primary directory for all employee accounts"},
                 {"settingValues": settings}):
        response = client.put(f"{SYSTEMS}/1", data=json.dumps(body), headers=headers)
        assert response.status_code == 200, response.json
