"""PUT /connected-systems/{id}: the contract's rules as tables of good and bad bodies, all or nothing."""
import json

import pytest

from conftest import SYSTEMS
from envelope import assert_error

URL = f"{SYSTEMS}/1"


def put(client, headers, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.put(URL, data=data, headers=headers)


def applied(client, headers, body) -> dict:
    """The answer to a PUT that must succeed."""
    response = put(client, headers, body)
    assert response.status_code == 200, response.json
    return response.json


def stored(client, headers):
    return client.get(URL, headers=headers).json


# Each bad body and the one field validationErrors must name for it.
BAD = [
    # name: 1-200 characters, not only white space, no control characters, never null
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "\t\n"}, "name"),
    ({"name": "a" * 201}, "name"),
    ({"name": "🚀" * 201}, "name"),
    ({"name": None}, "name"),
    ({"name": 5}, "name"),
    ({"name": True}, "name"),
    ({"name": ["a"]}, "name"),
    ({"name": {"a": 1}}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"name": "a\nb"}, "name"),
    ({"name": "a\tb"}, "name"),
    ({"name": "bell\x07"}, "name"),
    ({"name": "del\x7f"}, "name"),
    ({"name": "c1\x85"}, "name"),
    ('{"name": "half \\ud800 a surrogate"}', "name"),
    (b'{"name": "\xed\xa0\x80"}', "name"),  # a lone surrogate, UTF-8 encoded: readable JSON, not storable text
    # ... no bidirectional controls, which show text in another order than it reads ...
    ({"name": "invoice\u202etxt.exe"}, "name"),  # RIGHT-TO-LEFT OVERRIDE
    ({"name": "\u202aLDAP\u202c"}, "name"),  # an embedding and its POP DIRECTIONAL FORMATTING
    ({"name": "HR \u2066admin\u2069"}, "name"),  # an isolate
    ({"name": "HR \u2067x\u2069"}, "name"),
    ({"name": "HR \u2068x\u2069"}, "name"),
    ({"name": "HR\u200e"}, "name"),  # the marks: invisible, they only make names look alike
    ({"name": "HR\u200f"}, "name"),
    ({"name": "HR\u061c"}, "name"),
    # ... and something to see, not only invisible or format characters
    ({"name": "\u200b"}, "name"),
    ({"name": "\u2060\ufeff"}, "name"),
    ({"name": "\u200b \u200b"}, "name"),
    ({"name": "\u200d"}, "name"),  # a joiner with nothing to join
    ({"name": "\u00ad"}, "name"),  # SOFT HYPHEN
    ({"name": "\ufe0f\u034f"}, "name"),  # a variation selector, COMBINING GRAPHEME JOINER
    ({"name": "\u3164"}, "name"),  # HANGUL FILLER, a letter that shows as nothing
    ({"name": "\U000e0041\U000e0042"}, "name"),  # tag characters
    # description: at most 1000 characters, line breaks allowed, nothing else of control
    ({"description": "a" * 1001}, "description"),
    ({"description": 5}, "description"),
    ({"description": False}, "description"),
    ({"description": ["a"]}, "description"),
    ({"description": "a\x00b"}, "description"),
    ({"description": "a\x1bb"}, "description"),
    ('{"description": "\\ud800"}', "description"),
    # maxExportParallelism: a JSON integer 1-16, or null
    ({"maxExportParallelism": 0}, "maxExportParallelism"),
    ({"maxExportParallelism": 17}, "maxExportParallelism"),
    ({"maxExportParallelism": -1}, "maxExportParallelism"),
    ({"maxExportParallelism": True}, "maxExportParallelism"),
    ({"maxExportParallelism": False}, "maxExportParallelism"),
    ({"maxExportParallelism": "4"}, "maxExportParallelism"),
    ({"maxExportParallelism": 4.5}, "maxExportParallelism"),
    ({"maxExportParallelism": 4.0}, "maxExportParallelism"),
    ({"maxExportParallelism": [4]}, "maxExportParallelism"),
    ({"maxExportParallelism": {"value": 4}}, "maxExportParallelism"),
    ({"maxExportParallelism": 10**30}, "maxExportParallelism"),
    ('{"maxExportParallelism": 1e400}', "maxExportParallelism"),
    ('{"maxExportParallelism": -0.0}', "maxExportParallelism"),
    # changeReason: at most 2000 characters
    ({"changeReason": "a" * 2001}, "changeReason"),
    ({"changeReason": 7}, "changeReason"),
    # fields that do not exist, or that a client may not set
    ({"nmae": "Typo"}, "nmae"),
    ({"id": 2}, "id"),
    ({"settingValuesValid": True}, "settingValuesValid"),
    ({"connector": {"id": 1}}, "connector"),
    ({"lastUpdated": "2026-01-01T00:00:00Z"}, "lastUpdated"),
    # settingValues: an object keyed by the connector's setting ids
    ({"settingValues": None}, "settingValues"),
    ({"settingValues": []}, "settingValues"),
    ({"settingValues": "1"}, "settingValues"),
    ({"settingValues": {"abc": {"stringValue": "x"}}}, "settingValues.abc"),
    ({"settingValues": {"01": {"stringValue": "x"}}}, "settingValues.01"),
    ({"settingValues": {"-1": {"stringValue": "x"}}}, "settingValues.-1"),
    ({"settingValues": {" 1": {"stringValue": "x"}}}, "settingValues. 1"),
    ({"settingValues": {"999": {"stringValue": "x"}}}, "settingValues.999"),
    ({"settingValues": {"99999999999999999999999": {"intValue": 1}}}, "settingValues.99999999999999999999999"),
    ({"settingValues": {"101": {"stringValue": "a setting of the File connector"}}}, "settingValues.101"),
    ({"settingValues": {"1": "ldap://x"}}, "settingValues.1"),
    ({"settingValues": {"1": None}}, "settingValues.1"),
    ({"settingValues": {"1": {}}}, "settingValues.1"),
    ({"settingValues": {"1": {"stringValue": "x", "intValue": 1}}}, "settingValues.1"),
    ({"settingValues": {"1": {"value": "x"}}}, "settingValues.1"),
    # ... whose value has the type of the setting
    ({"settingValues": {"4": {"stringValue": "389"}}}, "settingValues.4"),
    ({"settingValues": {"1": {"intValue": 5}}}, "settingValues.1"),
    ({"settingValues": {"5": {"stringValue": "true"}}}, "settingValues.5"),
    ({"settingValues": {"3": {"checkboxValue": True}}}, "settingValues.3"),
    ({"settingValues": {"4": {"intValue": "389"}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": 389.5}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": 389.0}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": True}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": [389]}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": 2**31}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": -(2**31) - 1}}}, "settingValues.4"),
    ({"settingValues": {"4": {"intValue": 10**40}}}, "settingValues.4"),
    ({"settingValues": {"5": {"checkboxValue": "true"}}}, "settingValues.5"),
    ({"settingValues": {"5": {"checkboxValue": 1}}}, "settingValues.5"),
    ({"settingValues": {"5": {"checkboxValue": 0}}}, "settingValues.5"),
    ({"settingValues": {"1": {"stringValue": 5}}}, "settingValues.1"),
    ({"settingValues": {"1": {"stringValue": ["x"]}}}, "settingValues.1"),
    ({"settingValues": {"1": {"stringValue": {"x": 1}}}}, "settingValues.1"),
    # ... and strings the store can hold: at most 4000 characters, no NUL, line breaks only in Text
    ({"settingValues": {"1": {"stringValue": "a" * 4001}}}, "settingValues.1"),
    ({"settingValues": {"15": {"stringValue": "a" * 4001}}}, "settingValues.15"),
    ({"settingValues": {"1": {"stringValue": "host\x00name"}}}, "settingValues.1"),
    ({"settingValues": {"15": {"stringValue": "pem\x00"}}}, "settingValues.15"),
    ({"settingValues": {"1": {"stringValue": "host\nname"}}}, "settingValues.1"),
    ({"settingValues": {"2": {"stringValue": "CN=a\tb"}}}, "settingValues.2"),
    ({"settingValues": {"3": {"stringValue": "pass\r\nword"}}}, "settingValues.3"),
    ({"settingValues": {"3": {"stringValue": "a" * 4001}}}, "settingValues.3"),
    ('{"settingValues": {"1": {"stringValue": "\\udfff"}}}', "settingValues.1"),
    # ... and no bidirectional controls in single-line settings: String, StringEncrypted, DropDown
    ({"settingValues": {"1": {"stringValue": "ldap://corp\u202e.example.com"}}}, "settingValues.1"),
    ({"settingValues": {"2": {"stringValue": "CN=\u2066admin\u2069"}}}, "settingValues.2"),
    ({"settingValues": {"3": {"stringValue": "pass\u200fword"}}}, "settingValues.3"),
    ({"settingValues": {"7": {"stringValue": "Simple\u200e"}}}, "settingValues.7"),
    # ... and a DropDown value among its allowed values, exactly
    ({"settingValues": {"7": {"stringValue": "Kerberos"}}}, "settingValues.7"),
    ({"settingValues": {"7": {"stringValue": "simple"}}}, "settingValues.7"),
    ({"settingValues": {"7": {"stringValue": ""}}}, "settingValues.7"),
    ({"settingValues": {"11": {"stringValue": "Archive"}}}, "settingValues.11"),
]


@pytest.mark.parametrize("body, field", BAD, ids=[f"{i}-{field}" for i, (_, field) in enumerate(BAD)])
def test_bad_body_is_refused_and_nothing_is_written(client, admin, ldap_system, body, field):
    before = stored(client, admin)
    # A valid change rides along with the bad one: all or nothing means it is not written either.
    if isinstance(body, dict):
        body = {"description": "Must not be written", **body}
    response = put(client, admin, body)
    assert list(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == [field]
    assert stored(client, admin) == before


# Each good body and what the answer then shows, at the path given.
GOOD = [
    ({"name": "a"}, ["name"], "a"),
    ({"name": "a" * 200}, ["name"], "a" * 200),
    ({"name": "🚀" * 200}, ["name"], "🚀" * 200),
    ({"name": "Répertoire 名前 Ελληνικά"}, ["name"], "Répertoire 名前 Ελληνικά"),
    ({"name": "  kept as given  "}, ["name"], "  kept as given  "),
    # Joiners within real words and emoji sequences, and a Thai word break, are text, not deception.
    ({"name": "سامانه\u200cهای منابع انسانی"}, ["name"], "سامانه\u200cهای منابع انسانی"),  # Persian ZWNJ
    ({"name": "क्\u200dष मानव संसाधन"}, ["name"], "क्\u200dष मानव संसाधन"),  # Devanagari ZWJ
    ({"name": "👩\u200d💻 Developers ❤\ufe0f"}, ["name"], "👩\u200d💻 Developers ❤\ufe0f"),
    ({"name": "ระบบ\u200bบุคคล"}, ["name"], "ระบบ\u200bบุคคล"),
    ({"name": "מערכת משאבי אנוש (HR)"}, ["name"], "מערכת משאבי אנוש (HR)"),
    ({"description": "a" * 1000}, ["description"], "a" * 1000),
    ({"description": "line one\nline two\r\n\tindented"}, ["description"], "line one\nline two\r\n\tindented"),
    # Multi-line text is prose, where right-to-left writers need the bidirectional controls.
    ({"description": "\u202bשלום LDAP\u202c\u200f"}, ["description"], "\u202bשלום LDAP\u202c\u200f"),
    ({"description": None}, ["description"], None),
    ({"description": ""}, ["description"], None),
    ({"maxExportParallelism": 1}, ["maxExportParallelism"], 1),
    ({"maxExportParallelism": 16}, ["maxExportParallelism"], 16),
    ({"maxExportParallelism": None}, ["maxExportParallelism"], None),
    ({"changeReason": "r" * 2000}, ["name"], "Corporate LDAP"),
    ({"changeReason": None}, ["name"], "Corporate LDAP"),
    ({}, ["name"], "Corporate LDAP"),
    ({"settingValues": {}}, ["name"], "Corporate LDAP"),
    ({"settingValues": {"4": {"intValue": 2**31 - 1}}}, ["settingValues", "4", "intValue"], 2**31 - 1),
    ({"settingValues": {"4": {"intValue": -(2**31)}}}, ["settingValues", "4", "intValue"], -(2**31)),
    ({"settingValues": {"4": {"intValue": 0}}}, ["settingValues", "4", "intValue"], 0),
    ({"settingValues": {"4": {"intValue": None}}}, ["settingValues", "4", "intValue"], None),
    ({"settingValues": {"5": {"checkboxValue": True}}}, ["settingValues", "5", "checkboxValue"], True),
    ({"settingValues": {"5": {"checkboxValue": None}}}, ["settingValues", "5", "checkboxValue"], None),
    ({"settingValues": {"1": {"stringValue": "a" * 4000}}}, ["settingValues", "1", "stringValue"], "a" * 4000),
    ({"settingValues": {"1": {"stringValue": ""}}}, ["settingValues", "1", "stringValue"], ""),
    ({"settingValues": {"2": {"stringValue": "CORP\\jim-svc"}}}, ["settingValues", "2", "stringValue"], "CORP\\jim-svc"),
    ({"settingValues": {"7": {"stringValue": "NTLM"}}}, ["settingValues", "7", "stringValue"], "NTLM"),
    ({"settingValues": {"7": {"stringValue": None}}}, ["settingValues", "7", "stringValue"], None),
    ({"settingValues": {"15": {"stringValue": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}}},
     ["settingValues", "15", "stringValue"], "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
    ({"settingValues": {"15": {"stringValue": "# \u2067תעודה\u2069\n"}}}, ["settingValues", "15", "stringValue"],
     "# \u2067תעודה\u2069\n"),
    ({"settingValues": {"3": {"stringValue": "pä$$wörd 🔑"}}}, ["settingValues", "3", "hasValue"], True),
    ({"settingValues": {"3": {"stringValue": "a" * 4000}}}, ["settingValues", "3", "hasValue"], True),
    ({"settingValues": {"3": {"stringValue": None}}}, ["settingValues", "3", "hasValue"], False),
]


@pytest.mark.parametrize("body, path, expected", GOOD, ids=[f"{i}" for i in range(len(GOOD))])
def test_good_body_is_applied(client, admin, ldap_system, body, path, expected):
    response = put(client, admin, body)
    assert response.status_code == 200, response.json
    shown = response.json
    for step in path:
        shown = shown[step]
    assert shown == expected
    assert stored(client, admin) == response.json


def test_every_problem_is_reported_at_once(client, admin, ldap_system):
    response = put(client, admin, {
        "name": "",
        "description": "d" * 1001,
        "maxExportParallelism": 0,
        "unknown": 1,
        "settingValues": {"4": {"intValue": "x"}, "5": {"checkboxValue": 2}, "999": {"stringValue": "x"},
                          "1": {"stringValue": "fine"}},
    })
    assert set(assert_error(response, 400, "VALIDATION_ERROR")["validationErrors"]) == {
        "name", "description", "maxExportParallelism", "unknown",
        "settingValues.4", "settingValues.5", "settingValues.999",
    }


def test_each_system_is_checked_against_its_own_connector(client, admin, ldap_system):
    """The update schemas are shared by every request; each keeps its own connector's settings."""
    file_system = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin)
    assert file_system.status_code == 201
    file_url = f"{SYSTEMS}/{file_system.json['id']}"
    for url, own, other in ((URL, "1", "101"), (file_url, "101", "1"), (URL, "1", "101")):
        assert client.put(url, json={"settingValues": {own: {"stringValue": "x"}}}, headers=admin).status_code == 200
        refused = client.put(url, json={"settingValues": {other: {"stringValue": "x"}}}, headers=admin)
        assert list(assert_error(refused, 400, "VALIDATION_ERROR")["validationErrors"]) == [f"settingValues.{other}"]


def test_a_file_setting_is_single_line_too(client, admin):
    """File Path is of the File connector, which the table's LDAP system has not."""
    file_system = client.post(SYSTEMS, json={"name": "HR", "connectorDefinitionId": 1}, headers=admin).json
    refused = client.put(f"{SYSTEMS}/{file_system['id']}", headers=admin,
                         json={"settingValues": {"101": {"stringValue": "hr\u202excs.csv"}}})
    assert list(refused.json["validationErrors"]) == ["settingValues.101"]


def test_the_errors_name_the_setting(client, admin, ldap_system):
    response = put(client, admin, {"settingValues": {"4": {"stringValue": "389"}}})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert "Port" in response.json["validationErrors"]["settingValues.4"][0]
    assert "intValue" in response.json["validationErrors"]["settingValues.4"][0]


def test_absent_fields_are_unchanged(client, admin, ldap_system):
    applied(client, admin, {"name": "Directory", "description": "About", "maxExportParallelism": 4,
                            "settingValues": {"1": {"stringValue": "dc01.example.com"}}})
    answer = applied(client, admin, {"description": "Only this"})
    assert answer["name"] == "Directory"
    assert answer["maxExportParallelism"] == 4
    assert answer["settingValues"]["1"]["stringValue"] == "dc01.example.com"
    assert answer["description"] == "Only this"


def test_settings_of_another_system_are_untouched(client, admin, ldap_system):
    other = client.post(SYSTEMS, json={"name": "Other", "connectorDefinitionId": 3}, headers=admin).json
    applied(client, admin, {"settingValues": {"1": {"stringValue": "changed.example.com"}}})
    assert client.get(f"{SYSTEMS}/{other['id']}", headers=admin).json == other


# Real changes of a setting, clears included.
SETTING_CHANGES = [
    pytest.param({"4": {"intValue": 636}}, id="new-integer"),
    pytest.param({"4": {"intValue": None}}, id="cleared-integer"),
    pytest.param({"1": {"stringValue": None}}, id="cleared-string"),
    pytest.param({"5": {"checkboxValue": True}}, id="new-checkbox"),
    pytest.param({"3": {"stringValue": "n3w-p@ssw0rd"}}, id="new-secret"),
    pytest.param({"3": {"stringValue": None}}, id="cleared-secret"),
]


@pytest.mark.parametrize("values", SETTING_CHANGES)
def test_a_real_change_of_a_setting_resets_validity(client, admin, ldap_system, values):
    configure_completely(client, admin)
    validated = client.post(f"{URL}/validate-settings", headers=admin)
    assert validated.status_code == 200 and validated.json["valid"] is True, validated.json
    answer = applied(client, admin, {"settingValues": values})
    assert answer["settingValuesValid"] is False
    assert stored(client, admin) == answer


@pytest.mark.parametrize("body", [
    {"name": "Renamed"},
    {"description": "Described"},
    {"maxExportParallelism": 8},
    {"changeReason": "nothing else"},
    {},
    {"settingValues": {"15": {"stringValue": None}}},  # clears a setting that holds nothing
])
def test_a_change_of_no_setting_keeps_validity(client, admin, ldap_system, body):
    configure_completely(client, admin)
    assert client.post(f"{URL}/validate-settings", headers=admin).json["valid"] is True
    assert applied(client, admin, body)["settingValuesValid"] is True


def test_resending_stored_values_changes_nothing(client, admin, ldap_system):
    settings = configure_completely(client, admin)
    before = client.post(f"{URL}/validate-settings", headers=admin).json["connectedSystem"]
    # The same values again, the password included: no change, so still valid and not updated.
    answer = put(client, admin, {"name": before["name"], "description": before["description"],
                                 "maxExportParallelism": before["maxExportParallelism"], "settingValues": settings})
    assert answer.status_code == 200
    assert answer.json == before


def test_last_updated_moves_only_on_a_change(client, admin, ldap_system):
    assert ldap_system["lastUpdated"] is None
    first = applied(client, admin, {"name": "Changed"})["lastUpdated"]
    assert first is not None and first.endswith("Z")
    assert applied(client, admin, {"name": "Changed"})["lastUpdated"] == first
    assert applied(client, admin, {"name": "Changed again"})["lastUpdated"] > first


def test_clearing_a_setting(client, admin, ldap_system):
    applied(client, admin, {"settingValues": {"1": {"stringValue": "dc01"}, "3": {"stringValue": "secret"}}})
    answer = applied(client, admin, {"settingValues": {"1": {"stringValue": None}, "3": {"stringValue": None}}})
    assert answer["settingValues"]["1"]["stringValue"] is None
    assert answer["settingValues"]["3"]["hasValue"] is False
    assert stored(client, admin) == answer


@pytest.mark.parametrize("field, value, clearing", [
    ("description", "Primary directory", None),
    ("description", "Primary directory", ""),
    ("maxExportParallelism", 4, None),
])
def test_null_clears_a_stored_field(client, admin, ldap_system, field, value, clearing):
    held = put(client, admin, {field: value})
    assert held.status_code == 200 and held.json[field] == value, held.json
    answer = put(client, admin, {field: clearing})
    assert answer.status_code == 200, answer.json
    assert answer.json[field] is None
    assert answer.headers["ETag"] != held.headers["ETag"]  # a change, so a new version
    assert stored(client, admin) == answer.json


def configure_completely(client, admin) -> dict:
    """Every required LDAP setting holds a valid value; returns the settings sent."""
    settings = {
        "1": {"stringValue": "ldap://directory.example.com:389"},
        "2": {"stringValue": "CN=JIM,OU=Service,DC=example,DC=com"},
        "3": {"stringValue": "s3cur3p@ssw0rd"},
        "4": {"intValue": 389},
        "6": {"intValue": 10},
        "7": {"stringValue": "Simple"},
    }
    applied(client, admin, {"settingValues": settings})
    return settings
