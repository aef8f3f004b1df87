"""A connected system made through the API, its schema imported, and what the API then shows of it."""
import itertools
import threading

from conftest import SYSTEMS
from connectors import CONNECTORS
from ldap_directory import SERVICE_DN, SERVICE_PASSWORD

NUMBERS = itertools.count(1)


def new_system(client, admin, connector_id: int, values: dict) -> int:
    """A new system of the connector, with ``values`` (setting id: value) stored; its id."""
    name = f"Import {next(NUMBERS)}"
    created = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": connector_id},
                          headers=admin)
    assert created.status_code == 201, created.json
    system_id = created.json["id"]
    set_values(client, admin, system_id, connector_id, values)
    return system_id


def set_values(client, admin, system_id: int, connector_id: int, values: dict):
    settings = CONNECTORS[connector_id].settings_by_id
    body = {"settingValues": {str(setting_id): {settings[setting_id].value_key: value}
                              for setting_id, value in values.items()}}
    changed = client.put(f"{SYSTEMS}/{system_id}", json=body, headers=admin)
    assert changed.status_code == 200, changed.json


def import_schema(client, admin, system_id: int):
    return client.post(f"{SYSTEMS}/{system_id}/import-schema", headers={"X-Api-Key": admin["X-Api-Key"]})


def preview(client, admin, system_id: int):
    return client.post(f"{SYSTEMS}/{system_id}/import-schema/preview", headers={"X-Api-Key": admin["X-Api-Key"]})


def object_types(client, admin, system_id: int) -> dict:
    """{object type: {attribute: (type, plurality, writability)}} as GET object-types shows them."""
    listed = client.get(f"{SYSTEMS}/{system_id}/object-types", headers=admin)
    assert listed.status_code == 200, listed.json
    return {object_type["name"]: {attribute["name"]: (attribute["type"], attribute["attributePlurality"],
                                                      attribute["writability"])
                                  for attribute in object_type["attributes"]}
            for object_type in listed.json}


def imported(client, admin, system_id: int) -> dict:
    """Import the schema, which must succeed; then what GET object-types shows."""
    answer = import_schema(client, admin, system_id)
    assert answer.status_code == 200, answer.json
    assert answer.json["settingValuesValid"] is True
    return object_types(client, admin, system_id)


def imported_hierarchy(client, admin, system_id: int, directory) -> list[dict]:
    """Point an LDAP system at ``directory`` (the run's slapd) as its service account, import its hierarchy,
    which must succeed; then what GET partitions shows."""
    set_values(client, admin, system_id, 3, {1: directory.url, 2: SERVICE_DN, 3: SERVICE_PASSWORD})
    answer = client.post(f"{SYSTEMS}/{system_id}/import-hierarchy", headers={"X-Api-Key": admin["X-Api-Key"]})
    assert answer.status_code == 200, answer.json
    return client.get(f"{SYSTEMS}/{system_id}/partitions", headers=admin).json


FAILED_ACTIONS = {"import-schema": "SchemaImportFailed", "import-hierarchy": "HierarchyImportFailed"}


def failed(client, admin, system_id: int, status: int, path: str = "import-schema") -> str:
    """Import (the schema, or what ``path`` names), which must fail with ``status``; its message. The system
    starts validated (validate-settings records its settings as passing the offline checks), so that the
    failure's own record shows: ``settingValuesValid`` turned false by the failure's history record, and
    nothing imported."""
    validated = client.post(f"{SYSTEMS}/{system_id}/validate-settings", headers=admin)
    assert validated.status_code == 200 and validated.json["valid"] is True, validated.json
    answer = client.post(f"{SYSTEMS}/{system_id}/{path}", headers={"X-Api-Key": admin["X-Api-Key"]})
    assert answer.status_code == status, answer.json
    assert answer.json["code"] == {400: "BAD_REQUEST", 502: "BAD_GATEWAY"}[status]
    system = client.get(f"{SYSTEMS}/{system_id}", headers=admin).json
    assert system["settingValuesValid"] is False
    assert system["objectTypes"] == []
    partitions = client.get(f"{SYSTEMS}/{system_id}/partitions", headers=admin)
    assert partitions.status_code == 200 and partitions.json == []
    [record, *_] = history(client, admin, system_id)
    assert (record["action"], record["changes"]) == (
        FAILED_ACTIONS[path], [{"field": "settingValuesValid", "oldValue": True, "newValue": False}])
    return answer.json["message"]


def history(client, headers, system_id: int) -> list[dict]:
    """The system's change history, newest first."""
    response = client.get(f"{SYSTEMS}/{system_id}/history", headers=headers, query_string={"pageSize": 100})
    assert response.status_code == 200, response.json
    return response.json["items"]


def answered_while_held(app, relay, key: str, url: str, during):
    """The answer to a POST of ``url`` whose system, behind ``relay``, answers only after ``during()`` has run
    while the import waited for it."""
    relay.hold()
    answers = []
    talking = threading.Thread(target=lambda: answers.append(
        app.test_client().post(url, headers={"X-Api-Key": key})))
    talking.start()
    try:
        assert relay.connected.wait(10), "the import never connected"
        during()
    finally:
        relay.release()
        talking.join(30)
    return answers[0]


def select_type(client, admin, system_id: int, type_name: str, external_id: str, attributes: list[str],
                secondary: str | None = None) -> int:
    """Select the object type, ``attributes`` and its external id (and secondary); its id."""
    types = {t["name"]: t for t in client.get(f"{SYSTEMS}/{system_id}/object-types", headers=admin).json}
    chosen = types[type_name]
    assert client.put(f"{SYSTEMS}/{system_id}/object-types/{chosen['id']}", json={"selected": True},
                      headers=admin).status_code == 200
    by_name = {a["name"]: a for a in chosen["attributes"]}
    edits = {str(by_name[name]["id"]): {"selected": True} for name in attributes}
    edits[str(by_name[external_id]["id"])] = {"selected": True, "isExternalId": True}
    if secondary:
        edits[str(by_name[secondary]["id"])] = {"selected": True, "isSecondaryExternalId": True}
    answer = client.put(f"{SYSTEMS}/{system_id}/object-types/{chosen['id']}/attributes",
                        json={"attributes": edits}, headers=admin)
    assert answer.status_code == 200, answer.json
    return chosen["id"]



def run_queued(app) -> int:
    """Every task waiting in the app's task queue, run here as the worker runs it; how many."""
    queue, _ = app.extensions["task_queue"].made()
    ran = 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        ran += 1
    return ran
