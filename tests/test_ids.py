"""`{id}` is a positive 64-bit integer; anything else, and an id that names nothing, is a 404 in the envelope,
whatever the method and whatever the precondition sent with it."""
from conftest import SYSTEMS
from envelope import assert_error

DEFINITIONS = "/api/v1/synchronisation/connector-definitions"

# Not ids at all: no route matches them.
NOT_IDS = ["abc", "-1", "0", "01", "1.0", "+1", "%201", "1e3", str(2**63), "9" * 19, "99999999999999999999999"]
# Ids that no system has: 2 is the next one, 2**31 is past the stored ids' 32 bits, 2**63 - 1 the largest id.
NO_SYSTEM = ["2", "99", str(2**31), str(2**63 - 1)]
NO_DEFINITION = ["5", "99", str(2**31), str(2**63 - 1)]

# System 1 exists, and holds no object type, attribute, partition or container.
NO_PART = ["1", "99", str(2**31), str(2**63 - 1)]

SELECTED = {"selected": True}
ROUTES = [
    # method, path of an id, ids that name nothing there, a body the route takes
    ("GET", f"{SYSTEMS}/{{}}", NO_SYSTEM, None),
    ("PUT", f"{SYSTEMS}/{{}}", NO_SYSTEM, {"name": "x"}),
    ("DELETE", f"{SYSTEMS}/{{}}", NO_SYSTEM, None),
    ("POST", f"{SYSTEMS}/{{}}/validate-settings", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/history", NO_SYSTEM, None),
    ("POST", f"{SYSTEMS}/{{}}/import-schema", NO_SYSTEM, None),
    ("POST", f"{SYSTEMS}/{{}}/import-schema/preview", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/object-types", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/object-types/1", NO_SYSTEM, None),
    ("PUT", f"{SYSTEMS}/{{}}/object-types/1", NO_SYSTEM, SELECTED),
    ("PUT", f"{SYSTEMS}/{{}}/object-types/1/attributes", NO_SYSTEM, {"attributes": {"1": SELECTED}}),
    ("PUT", f"{SYSTEMS}/{{}}/object-types/1/attributes/1", NO_SYSTEM, SELECTED),
    ("POST", f"{SYSTEMS}/{{}}/import-hierarchy", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/partitions", NO_SYSTEM, None),
    ("PUT", f"{SYSTEMS}/{{}}/partitions/1", NO_SYSTEM, SELECTED),
    ("PUT", f"{SYSTEMS}/{{}}/containers/1", NO_SYSTEM, SELECTED),
    ("GET", f"{SYSTEMS}/{{}}/deletion-preview", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/change-history", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/change-history/1", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/{{}}/change-history/compare?fromVersion=1&toVersion=1", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/1/change-history/{{}}", ["2", "99", str(2**31), str(2**63 - 1)], None),
    ("GET", f"{SYSTEMS}/{{}}/container-scope-text", NO_SYSTEM, None),
    ("PUT", f"{SYSTEMS}/{{}}/container-scope-text", NO_SYSTEM, {"text": ""}),
    ("GET", f"{SYSTEMS}/{{}}/run-profiles", NO_SYSTEM, None),
    ("POST", f"{SYSTEMS}/{{}}/run-profiles", NO_SYSTEM, {"name": "Full Import", "runType": "FullImport"}),
    ("PUT", f"{SYSTEMS}/{{}}/run-profiles/1", NO_SYSTEM, {"pageSize": 500}),
    ("DELETE", f"{SYSTEMS}/{{}}/run-profiles/1", NO_SYSTEM, None),
    ("GET", f"{SYSTEMS}/1/object-types/{{}}", NO_PART, None),
    ("PUT", f"{SYSTEMS}/1/object-types/{{}}", NO_PART, SELECTED),
    ("PUT", f"{SYSTEMS}/1/object-types/{{}}/attributes", NO_PART, {"attributes": {"1": SELECTED}}),
    ("PUT", f"{SYSTEMS}/1/object-types/{{}}/attributes/1", NO_PART, SELECTED),
    ("PUT", f"{SYSTEMS}/1/partitions/{{}}", NO_PART, SELECTED),
    ("PUT", f"{SYSTEMS}/1/containers/{{}}", NO_PART, SELECTED),
    ("PUT", f"{SYSTEMS}/1/run-profiles/{{}}", NO_PART, {"pageSize": 500}),
    ("DELETE", f"{SYSTEMS}/1/run-profiles/{{}}", NO_PART, None),
    ("GET", f"{DEFINITIONS}/{{}}", NO_DEFINITION, None),
]
# A precondition never turns a missing system into anything but a 404.
PRECONDITIONS = {"If-Match": "*", "If-None-Match": "*"}


def test_what_names_nothing_is_not_found(client, admin, ldap_system, subtests):
    """Refused requests change nothing, so each row is a subtest of one test per store."""
    for method, path, missing, body in ROUTES:
        for system_id in NOT_IDS + missing:
            # Found by the fuzzer: ids past 64 bits made PUT and DELETE answer 405, naming GET as allowed, and
            # ids past 32 bits made PostgreSQL answer 500.
            with subtests.test(method=method, path=path, id=system_id):
                response = client.open(path.format(system_id), method=method, json=body,
                                       headers={**admin, **PRECONDITIONS})
                assert_error(response, 404, "NOT_FOUND")
    assert client.get(f"{SYSTEMS}/1", headers=admin).json == ldap_system
    assert client.get(f"{SYSTEMS}/1/history", headers=admin).json["totalCount"] == 1
