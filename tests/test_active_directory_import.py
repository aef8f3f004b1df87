"""A Full Import from the throwaway Samba AD DC (tests/samba_dc.py) through the API, on both stores, as an AD
administrator runs one: users and groups of a container scope, a group's members kept as the DNs the DC writes,
and a group of more members than MaxValRange imported whole.
"""
from conftest import SYSTEMS
from importing import imported, select_type
from samba_dc import (  # noqa: F401  samba_dc: the session's DC
    BIG_GROUP_DN,
    BIG_GROUP_MEMBERS,
    IMPORT_OU,
    samba_dc,
)
from test_active_directory import configure, dc_settings
from test_full_import import (  # noqa: F401  (its fixtures: the files folder and the task queue)
    app_config, full_import_profile, objects, ran, task_queue_url)

SCOPE = f"include {IMPORT_OU}\nexclude OU=Left Out,{IMPORT_OU}"


def member_values(client, admin, system_id: int, object_id: str) -> list[dict]:
    """Every value of the object's member, page by page."""
    found, page = [], 1
    while True:
        answer = client.get(f"{SYSTEMS}/{system_id}/connector-space/{object_id}/attributes/member/values",
                            headers=admin, query_string={"page": page, "pageSize": 100})
        assert answer.status_code == 200, answer.json
        found.extend(answer.json["items"])
        if page * 100 >= answer.json["totalCount"]:
            return found
        page += 1


def test_users_and_groups_of_a_container_scope_with_a_group_past_max_val_range(client, admin, app, ldap_system,
                                                                               samba_dc):
    system_id = ldap_system["id"]
    configure(client, admin, system_id, **dc_settings(samba_dc))
    imported(client, admin, system_id)
    hierarchy = client.post(f"{SYSTEMS}/{system_id}/import-hierarchy", headers={"X-Api-Key": admin["X-Api-Key"]})
    assert hierarchy.status_code == 200, hierarchy.json
    scoped = client.put(f"{SYSTEMS}/{system_id}/container-scope-text", json={"text": SCOPE}, headers=admin)
    assert scoped.status_code == 200, scoped.json
    select_type(client, admin, system_id, "user", "sAMAccountName", ["displayName", "distinguishedName"])
    select_type(client, admin, system_id, "group", "sAMAccountName", ["member"])
    profile_id = full_import_profile(client, admin, system_id)
    activity = ran(client, admin, app, system_id, profile_id)
    assert activity["status"] == "Complete", activity
    found = objects(client, admin, system_id, pageSize=100)
    # Lee is in the OU the scope leaves out; the service account and the domain's own groups are outside it.
    assert set(found) == {"ann", "ben", "Everyone", "Pair"}
    assert found["ann"]["displayName"] == "Ann Import"
    everyone = member_values(client, admin, system_id, found["Everyone"]["id"])
    members = {f"CN=Member {number:04d},OU=Many,{IMPORT_OU}" for number in range(BIG_GROUP_MEMBERS - 2)}
    members |= {f"CN=Ann Import,{IMPORT_OU}", f"CN=Ben Import,OU=Staff,{IMPORT_OU}"}
    assert len(everyone) == BIG_GROUP_MEMBERS
    assert {value["stringValue"] for value in everyone} == members, BIG_GROUP_DN
    # A member outside the scope is still the DN the DC wrote: a reference, not the object it names.
    pair = member_values(client, admin, system_id, found["Pair"]["id"])
    assert {value["stringValue"] for value in pair} == {f"CN=Ann Import,{IMPORT_OU}",
                                                           f"CN=Lee Import,OU=Left Out,{IMPORT_OU}"}
    again = ran(client, admin, app, system_id, profile_id)
    assert (again["status"], again["executionStats"]["totalUnchanged"]) == ("Complete", 4), again
