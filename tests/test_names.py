"""Names are unique among connected systems whatever their case: a create or a rename to a name in use is 409."""
from conftest import SYSTEMS
from envelope import assert_error

# Names in use: "Corporate LDAP" (system 1), "École" and "Straße" (2 and 3); system 4, "Other", is renamed.
IN_USE = ["Corporate LDAP", "corporate ldap", "CORPORATE LDAP", "Corporate ldap", "École", "ÉCOLE", "école",
          "STRASSE", "strasse"]


def created(client, admin, name, connector=1) -> dict:
    response = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": connector}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def test_a_name_in_use_in_any_case_is_a_conflict(client, admin, ldap_system, subtests):
    """Refused writes change nothing, so each name is a subtest of one test per store."""
    created(client, admin, "École")
    created(client, admin, "Straße")
    other = created(client, admin, "Other")
    before = client.get(SYSTEMS, headers=admin).json
    for name in IN_USE:
        with subtests.test(name):
            creating = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": 1}, headers=admin)
            renaming = client.put(f"{SYSTEMS}/{other['id']}", json={"name": name, "description": "not written"},
                                  headers=admin)
            for response in (creating, renaming):
                body = assert_error(response, 409, "CONFLICT")
                assert body["message"] == f"A connected system named {name!r} already exists."
            assert client.get(SYSTEMS, headers=admin).json == before


def test_a_system_may_change_the_case_of_its_own_name(client, admin, ldap_system):
    response = client.put(f"{SYSTEMS}/1", json={"name": "CORPORATE LDAP"}, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["name"] == "CORPORATE LDAP"


def test_a_deleted_systems_name_is_free_again(client, admin, ldap_system):
    assert client.delete(f"{SYSTEMS}/1", headers=admin).status_code == 200
    assert created(client, admin, "CORPORATE LDAP", 3)["id"] == 2


def test_a_renamed_systems_old_name_is_free_again(client, admin, ldap_system):
    assert client.put(f"{SYSTEMS}/1", json={"name": "Directory"}, headers=admin).status_code == 200
    created(client, admin, "corporate ldap")
    assert_error(client.post(SYSTEMS, json={"name": "DIRECTORY", "connectorDefinitionId": 1}, headers=admin),
                 409, "CONFLICT")
