"""Container scope: a container's ``excluded`` and ``scope`` (its PUT), and the whole scope as JIM's text
(GET/PUT container-scope-text), against the hierarchy of the run's slapd: People (with Contractors and
"Sales, EMEA" beneath it), Groups and Service under dc=example,dc=com. The module's cmdlets are in test_cmdlets.
"""
import pytest

from conftest import SYSTEMS
from envelope import assert_error
from importing import history, imported_hierarchy
from ldap_directory import SUFFIX

PEOPLE, GROUPS = f"ou=People,{SUFFIX}", f"ou=Groups,{SUFFIX}"
CONTRACTORS = f"ou=Contractors,{PEOPLE}"


@pytest.fixture
def containers(client, admin, ldap_system, ldap_directory) -> dict:
    """The LDAP system's containers by DN, after a hierarchy import."""
    [partition] = imported_hierarchy(client, admin, ldap_system["id"], ldap_directory)
    found, queue = {}, list(partition["containers"])
    while queue:
        container = queue.pop()
        found[container["externalId"]] = container
        queue.extend(container["childContainers"])
    return found


def scope_text(client, headers, system_id=1):
    response = client.get(f"{SYSTEMS}/{system_id}/container-scope-text", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["text"]


def put_text(client, headers, text, system_id=1):
    return client.put(f"{SYSTEMS}/{system_id}/container-scope-text", json={"text": text}, headers=headers)


def stored(client, headers, system_id=1) -> dict:
    """What GET partitions shows of each container's scope, and of each partition's selection, by DN."""
    shown, queue = {}, []
    for partition in client.get(f"{SYSTEMS}/{system_id}/partitions", headers=headers).json:
        shown[partition["externalId"]] = partition["selected"]
        queue.extend(partition["containers"])
    while queue:
        container = queue.pop()
        shown[container["externalId"]] = (container["selected"], container["excluded"], container["scope"])
        queue.extend(container["childContainers"])
    return shown


def etag(client, headers, system_id=1) -> str:
    return client.get(f"{SYSTEMS}/{system_id}", headers=headers).headers["ETag"]


def test_a_container_is_excluded_or_reaches_one_level(client, admin, reader, containers):
    people, contractors = containers[PEOPLE], containers[CONTRACTORS]
    assert (people["excluded"], people["scope"]) == (False, "Subtree")  # JIM's defaults
    before = etag(client, admin)
    # -Scope is passed on as typed: ValidateSet takes it in any case.
    response = client.put(f"{SYSTEMS}/1/containers/{people['id']}", json={"selected": True, "scope": "onelevel"},
                          headers=admin)
    assert response.status_code == 200, response.json
    assert (response.json["selected"], response.json["excluded"], response.json["scope"]) == (True, False, "OneLevel")
    assert response.headers["ETag"] == etag(client, admin) != before
    response = client.put(f"{SYSTEMS}/1/containers/{contractors['id']}", json={"excluded": True}, headers=admin)
    assert response.status_code == 200 and response.json["excluded"] is True
    shown = stored(client, reader)
    assert (shown[PEOPLE], shown[CONTRACTORS]) == ((True, False, "OneLevel"), (False, True, "Subtree"))
    assert history(client, reader, 1)[0]["changes"] == [
        {"field": f"containers.{CONTRACTORS}.excluded", "oldValue": False, "newValue": True}]


def test_a_container_is_never_both_selected_and_excluded(client, admin, containers):
    people = containers[PEOPLE]
    path = f"{SYSTEMS}/1/containers/{people['id']}"
    envelope = assert_error(client.put(path, json={"selected": True, "excluded": True}, headers=admin),
                            400, "VALIDATION_ERROR")
    assert set(envelope["validationErrors"]) == {"selected", "excluded"}
    assert client.put(path, json={"selected": True}, headers=admin).status_code == 200
    # Against what is stored, as JIM judges it: excluding a selected container, without deselecting it.
    before = etag(client, admin)
    envelope = assert_error(client.put(path, json={"excluded": True}, headers=admin), 400, "VALIDATION_ERROR")
    assert list(envelope["validationErrors"]) == ["excluded"]
    assert "cannot be both selected and excluded" in envelope["validationErrors"]["excluded"][0]
    assert etag(client, admin) == before and stored(client, admin)[PEOPLE] == (True, False, "Subtree")
    response = client.put(path, json={"selected": False, "excluded": True}, headers=admin)
    assert (response.json["selected"], response.json["excluded"]) == (False, True)
    assert_error(client.put(path, json={"scope": "Base"}, headers=admin), 400, "VALIDATION_ERROR")


def test_scope_text_applied_and_read_back_canonical(client, admin, reader, containers):
    assert scope_text(client, reader) == ""  # nothing stated yet
    before = etag(client, admin)
    text = (f"# Managed by the identity team\n\n"
            f"  INCLUDE OU=People, DC=example, DC=com  \r\n"
            f"-ou=contractors,ou=people,dc=example,dc=com\n"
            f"+ One-Level {GROUPS}\n")
    response = put_text(client, admin, text)
    assert response.status_code == 200, response.json
    canonical = f"include one-level {GROUPS}\ninclude {PEOPLE}\nexclude {CONTRACTORS}"
    assert response.json == {"text": canonical}
    assert response.headers["ETag"] == etag(client, admin) != before
    assert scope_text(client, reader) == canonical
    shown = stored(client, reader)
    assert shown[SUFFIX] is True  # naming a container selects its partition
    assert (shown[GROUPS], shown[PEOPLE], shown[CONTRACTORS]) == (
        (True, False, "OneLevel"), (True, False, "Subtree"), (False, True, "Subtree"))
    assert shown[f"ou=Service,{SUFFIX}"] == (False, False, "Subtree")
    # The canonical text applied back changes nothing: no new version, no history record.
    records = len(history(client, reader, 1))
    assert put_text(client, admin, canonical).json == {"text": canonical}
    assert etag(client, admin) == response.headers["ETag"] and len(history(client, reader, 1)) == records


def test_every_line_that_cannot_apply_is_reported_and_nothing_changes(client, admin, containers):
    assert put_text(client, admin, f"include {GROUPS}").status_code == 200
    before, shown = etag(client, admin), stored(client, admin)
    text = "\n".join([
        f"include {PEOPLE}",
        "select ou=Service,dc=example,dc=com",  # 2: no such directive
        f"include ou=Nowhere,{SUFFIX}",  # 3: no such container
        f"exclude {PEOPLE.upper()}",  # 4: People again
        f"include {CONTRACTORS}",  # 5: People's include already covers it
        "exclude",  # 6: names nothing
    ])
    envelope = assert_error(put_text(client, admin, text), 400, "VALIDATION_ERROR")
    errors = envelope["validationErrors"]["text"]
    assert [error.split(":", 1)[0] for error in errors] == ["line 2", "line 3", "line 4", "line 5", "line 6"]
    assert "already stated on line 1" in errors[2] and "already covered by the statement on line 1" in errors[3]
    assert etag(client, admin) == before and stored(client, admin) == shown
    assert scope_text(client, admin) == f"include {GROUPS}"


def test_what_an_ancestor_reaches_decides_what_is_redundant(client, admin, containers):
    # A one-level include does not reach the containers beneath it, so including one of them says something.
    assert put_text(client, admin, f"include one-level {PEOPLE}\ninclude {CONTRACTORS}").status_code == 200
    # An exclusion carved out of an included subtree, and a re-inclusion inside it, each say something too.
    sales = next(dn for dn in containers if dn.startswith("ou=Sales"))
    response = put_text(client, admin, f"include {PEOPLE}\nexclude {CONTRACTORS}\n")
    assert response.status_code == 200, response.json
    envelope = assert_error(put_text(client, admin, f"exclude {PEOPLE}\nexclude {sales}"), 400, "VALIDATION_ERROR")
    assert envelope["validationErrors"]["text"][0].startswith("line 2: ")


def test_empty_text_clears_the_scope_and_keeps_the_partition(client, admin, containers):
    assert put_text(client, admin, f"include {PEOPLE}\nexclude {CONTRACTORS}").status_code == 200
    response = put_text(client, admin, "# nothing for now\n")
    assert response.status_code == 200 and response.json == {"text": ""}
    shown = stored(client, admin)
    assert shown[SUFFIX] is True
    assert all(value[:2] == (False, False) for dn, value in shown.items() if dn != SUFFIX)


def test_a_system_without_a_hierarchy_states_nothing(client, admin):
    created = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin).json
    assert scope_text(client, admin, created["id"]) == ""
    assert put_text(client, admin, "", created["id"]).json == {"text": ""}
    envelope = assert_error(put_text(client, admin, f"include {PEOPLE}", created["id"]), 400, "VALIDATION_ERROR")
    assert envelope["validationErrors"]["text"][0].startswith(f"line 1: No Container with the path '{PEOPLE}'")


@pytest.mark.parametrize("body", [{}, {"text": None}, {"text": 1}, {"text": "", "mode": "replace"},
                                  {"text": "include ou=A\x00"}])
def test_a_bad_body_is_refused(client, admin, ldap_system, body):
    envelope = assert_error(client.put(f"{SYSTEMS}/1/container-scope-text", json=body, headers=admin),
                            400, "VALIDATION_ERROR")
    assert set(envelope["validationErrors"]) <= {"text", "mode"}


def test_readers_read_it_and_stale_tags_change_nothing(client, admin, reader, containers):
    assert_error(put_text(client, reader, f"include {PEOPLE}"), 403, "FORBIDDEN")
    stale = etag(client, admin)
    assert put_text(client, admin, f"include {PEOPLE}").status_code == 200
    assert_error(put_text(client, {**admin, "If-Match": stale}, ""), 412, "PRECONDITION_FAILED")
    assert scope_text(client, reader) == f"include {PEOPLE}"
    assert_error(client.put(f"{SYSTEMS}/1/containers/{containers[GROUPS]['id']}", json={"excluded": True},
                            headers={**admin, "If-Match": stale}), 412, "PRECONDITION_FAILED")
