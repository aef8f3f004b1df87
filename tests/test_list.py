"""The list of connected systems: paging, sorting, the case-insensitive filter, and its parameters in any case."""
import pytest

from conftest import SYSTEMS
from envelope import assert_error


def create(client, admin, name, connector=3) -> dict:
    response = client.post(SYSTEMS, json={"name": name, "connectorDefinitionId": connector}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def listing(client, headers, query=""):
    response = client.get(f"{SYSTEMS}?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_empty_list(client, reader):
    assert listing(client, reader) == {"items": [], "totalCount": 0, "page": 1, "pageSize": 25, "totalPages": 0,
                                       "hasNextPage": False, "hasPreviousPage": False}


def test_list_items_are_summaries(client, admin, ldap_system):
    item = listing(client, admin)["items"][0]
    assert item == {
        "id": 1, "name": "Corporate LDAP", "description": None, "created": ldap_system["created"],
        "lastUpdated": None, "status": "Active", "settingValuesValid": False, "connectorId": 3,
        "connectorName": "JIM LDAP Connector",
    }


@pytest.fixture
def five_systems(client, admin):
    return [create(client, admin, f"System {n}")["id"] for n in range(1, 6)]


# The list's tables are read-only over one set of systems, so each row is a subtest of one test per store.

PAGING = (
    # query, ids, page, pageSize, totalPages, hasNextPage, hasPreviousPage
    [
        ("", [1, 2, 3, 4, 5], 1, 25, 1, False, False),
        ("pageSize=1", [1], 1, 1, 5, True, False),
        ("pageSize=2", [1, 2], 1, 2, 3, True, False),
        ("pageSize=2&page=2", [3, 4], 2, 2, 3, True, True),
        ("pageSize=2&page=3", [5], 3, 2, 3, False, True),
        ("pageSize=2&page=4", [], 4, 2, 3, False, True),
        ("pageSize=4&page=2", [5], 2, 4, 2, False, True),
        ("pageSize=5", [1, 2, 3, 4, 5], 1, 5, 1, False, False),
        ("pageSize=6", [1, 2, 3, 4, 5], 1, 6, 1, False, False),
        ("pageSize=100", [1, 2, 3, 4, 5], 1, 100, 1, False, False),
        ("page=1000000", [], 1_000_000, 25, 1, False, True),
    ]
)


def test_paging(client, reader, five_systems, subtests):
    for query, ids, page, size, pages, has_next, has_previous in PAGING:
        with subtests.test(query):
            answer = listing(client, reader, query)
            assert [item["id"] for item in answer["items"]] == ids
            assert (answer["totalCount"], answer["page"], answer["pageSize"], answer["totalPages"]) == (
                5, page, size, pages)
            assert (answer["hasNextPage"], answer["hasPreviousPage"]) == (has_next, has_previous)


REFUSED_QUERIES = (
    # query, the parameter the answer names
    [
        ("page=0", "page"), ("page=-1", "page"), ("page=1000001", "page"), ("page=abc", "page"),
        ("page=1.5", "page"), ("page=", "page"), ("page=99999999999999999999", "page"),
        ("pageSize=0", "pageSize"), ("pageSize=101", "pageSize"), ("pageSize=-5", "pageSize"),
        ("pageSize=ten", "pageSize"), ("pageSize=", "pageSize"),
        ("sortBy=id", "sortBy"), ("sortBy=", "sortBy"), ("sortBy=name;drop", "sortBy"),
        ("sortDirection=up", "sortDirection"), ("sortDirection=", "sortDirection"),
        ("filter=" + "x" * 201, "filter"), ("filter=a%00b", "filter"),
        ("foo=1", "foo"), ("page_size=10", "page_size"), ("sort=name", "sort"),
    ]
)


def test_list_refuses(client, reader, five_systems, subtests):
    for query, field in REFUSED_QUERIES:
        with subtests.test(query):
            body = assert_error(client.get(f"{SYSTEMS}?{query}", headers=reader), 400, "VALIDATION_ERROR")
            assert set(body["validationErrors"]) == {field}


NAMES = ["beta", "Alpha", "gamma", "ALPHA two", "Delta"]  # ids 1-5, in that order; connectors below
CONNECTOR_OF = [3, 1, 4, 2, 3]  # LDAP, File, SCIM, SQL, LDAP


@pytest.fixture
def named_systems(client, admin):
    return [create(client, admin, name, connector)["id"] for name, connector in zip(NAMES, CONNECTOR_OF)]


ORDERS = (
    # query, ids in the order answered
    [
        ("", [2, 4, 1, 5, 3]),  # by name, ignoring case
        ("sortBy=name", [2, 4, 1, 5, 3]),
        ("sortBy=name&sortDirection=asc", [2, 4, 1, 5, 3]),
        ("sortBy=name&sortDirection=desc", [3, 5, 1, 4, 2]),
        ("sortBy=created", [1, 2, 3, 4, 5]),
        ("sortBy=created&sortDirection=desc", [5, 4, 3, 2, 1]),
        # File, LDAP, LDAP, SCIM, SQL; ties by id, in the direction asked
        ("sortBy=connectorName", [2, 1, 5, 3, 4]),
        ("sortBy=connectorName&sortDirection=desc", [4, 3, 5, 1, 2]),
        ("SORTBY=CONNECTORNAME&SortDirection=DESC", [4, 3, 5, 1, 2]),
        ("sortby=Created&sortdirection=Desc", [5, 4, 3, 2, 1]),
        ("sortBy=name&pageSize=2&page=2", [1, 5]),
        ("PAGESIZE=2&PAGE=3", [3]),
        ("pagesize=2&Page=1&sortBy=created", [1, 2]),
    ]
)


def test_sorting_and_parameter_names_in_any_case(client, reader, named_systems, subtests):
    for query, ids in ORDERS:
        with subtests.test(query):
            assert [item["id"] for item in listing(client, reader, query)["items"]] == ids


FILTERED_NAMES = ["Corporate LDAP", "ldap backup", "ÉCOLE Centrale", "Petite école", "Straße 1", "100% HR", "100 HR",
                  "HR_Feed", "HRxFeed", "back\\slash", "a/b"]

FILTERS = (
    # filter, the names it finds
    [
        ("ldap", ["Corporate LDAP", "ldap backup"]),
        ("LDAP", ["Corporate LDAP", "ldap backup"]),
        ("LdAp", ["Corporate LDAP", "ldap backup"]),
        ("école", ["ÉCOLE Centrale", "Petite école"]),
        ("ÉCOLE", ["ÉCOLE Centrale", "Petite école"]),
        ("STRASSE", ["Straße 1"]),
        ("%", ["100% HR"]),
        ("100%", ["100% HR"]),
        ("_", ["HR_Feed"]),
        ("r_f", ["HR_Feed"]),
        ("\\", ["back\\slash"]),
        ("/", ["a/b"]),
        ("nothing like it", []),
        ("", ["100 HR", "100% HR", "a/b", "back\\slash", "Corporate LDAP", "ÉCOLE Centrale", "HR_Feed", "HRxFeed",
              "ldap backup", "Petite école", "Straße 1"]),
    ]
)


def test_filter_is_case_insensitive_and_literal(client, admin, reader, subtests):
    for name in FILTERED_NAMES:
        create(client, admin, name)
    for filter_, names in FILTERS:
        with subtests.test(filter_):
            answer = client.get(SYSTEMS, query_string={"filter": filter_, "sortBy": "name"}, headers=reader).json
            assert sorted(item["name"] for item in answer["items"]) == sorted(names)
            assert answer["totalCount"] == len(names)


def test_filter_and_paging_together(client, admin, reader):
    for n in range(1, 8):
        create(client, admin, f"{'Match' if n % 2 else 'Other'} {n}")
    answer = listing(client, reader, "filter=match&pageSize=3&page=2")
    assert [item["name"] for item in answer["items"]] == ["Match 7"]
    assert (answer["totalCount"], answer["totalPages"], answer["hasNextPage"], answer["hasPreviousPage"]) == (
        4, 2, False, True)
