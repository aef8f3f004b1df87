"""validate-settings: each connector's offline checks over the stored settings, and the outcome stored.

The contract's checks: required settings hold a value, numbers are in range, URLs parse, and a setting required
only when another holds a given value is required then. Each connector's table below holds, for every such
rule, a value on each side of it.
"""
from datetime import UTC, datetime

import pytest

from conftest import SYSTEMS

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

# Every setting of each connector at a valid value: each check's case below changes one rule's settings.
COMPLETE = {
    1: {"101": {"stringValue": "hr/people.csv"}, "102": {"stringValue": ";"}, "103": {"stringValue": "|"},
        "104": {"stringValue": "person"}, "105": {"checkboxValue": True}},
    2: {"201": {"stringValue": "PostgreSQL"}, "202": {"stringValue": "db.example.com"}, "203": {"intValue": 5432},
        "204": {"stringValue": "hr"}, "205": {"stringValue": "jim"}, "206": {"stringValue": "s3cur3p@ssw0rd"},
        "207": {"intValue": 30}, "208": {"stringValue": "public"}},
    3: {"1": {"stringValue": "ldap://directory.example.com:389"},
        "2": {"stringValue": "CN=JIM,OU=Service,DC=example,DC=com"}, "3": {"stringValue": "s3cur3p@ssw0rd"},
        "4": {"intValue": 389}, "5": {"checkboxValue": False}, "6": {"intValue": 10}, "7": {"stringValue": "Simple"},
        "8": {"intValue": 300}, "9": {"intValue": 3}, "10": {"intValue": 1000}, "11": {"stringValue": "Delete"},
        "12": {"stringValue": "userAccountControl"}, "13": {"intValue": 4}, "14": {"checkboxValue": False},
        "15": {"stringValue": PEM}},
    4: {"301": {"stringValue": "https://scim.example.com/v2"}, "302": {"stringValue": "Static Bearer Token"},
        "303": {"stringValue": "token"}, "304": {"intValue": 30}, "305": {"intValue": 3},
        "306": {"stringValue": "https://login.example.com/token"}, "307": {"stringValue": "jim"},
        "308": {"stringValue": "secret"}, "310": {"stringValue": "jim"}, "311": {"stringValue": "secret"},
        "312": {"stringValue": "X-Api-Key"}, "313": {"stringValue": "secret"}},
}


def cleared(*setting_ids, key="stringValue") -> dict:
    return {setting_id: {key: None} for setting_id in setting_ids}


def number(setting_id: str, value: int) -> dict:
    return {setting_id: {"intValue": value}}


def text(setting_id: str, value: str) -> dict:
    return {setting_id: {"stringValue": value}}


# connector: [(what changes from COMPLETE, the settings validate-settings names)]
CHECKS = {
    1: [
        (cleared("101"), {"101"}),  # File Path: required
        (text("101", ""), {"101"}),
        (cleared("102", "103", "104"), set()),
        (text("102", ";;"), {"102"}),  # Delimiter: one character, not a quote
        (text("102", '"'), {"102"}),
        (text("102", ","), set()),
        (text("103", ";"), {"103"}),  # Multi-Value Delimiter: not the Delimiter, nor its default
        ({**cleared("102"), **text("103", ",")}, {"103"}),
        ({**text("102", "|"), **cleared("103")}, {"103"}),
        ({**text("102", "\\t"), **text("103", "\\t")}, {"103"}),
        (text("103", ","), set()),
        (cleared("105", key="checkboxValue"), set()),
    ],
    2: [
        (cleared("201"), {"201"}),  # Database Type, Host, Database Name, Username, Password: required
        (cleared("202"), {"202"}),
        (text("202", ""), {"202"}),
        (cleared("204"), {"204"}),
        (cleared("205"), {"205"}),
        (cleared("206"), {"206"}),
        (cleared("208"), set()),
        (cleared("203", "207", key="intValue"), set()),
        (number("203", 0), {"203"}),  # Port: 1-65535
        (number("203", 1), set()),
        (number("203", 65535), set()),
        (number("203", 65536), {"203"}),
        (number("207", 0), {"207"}),  # Connection Timeout: positive
        (number("207", 1), set()),
        ({**cleared("202", "206"), **number("203", -1)}, {"202", "203", "206"}),  # every problem at once
        # Host: one host, by name or address, and nothing a driver would take as more (a socket, a list)
        (text("202", "127.0.0.1"), set()),
        (text("202", "::1"), set()),
        (text("202", "fe80::1%eth0"), set()),
        (text("202", "db.example.com."), set()),
        (text("202", "/var/run/postgresql"), {"202"}),
        (text("202", "localhost,127.0.0.1"), {"202"}),
        (text("202", "fe80::1%eth0,127.0.0.1"), {"202"}),
        (text("202", "db.example.com:5432"), {"202"}),
        (text("202", "[::1]"), {"202"}),
        (text("202", "host=db port=5432"), {"202"}),
        (text("202", "-db.example.com"), {"202"}),
        (text("202", "a" * 64 + ".example.com"), {"202"}),
        # Oracle Database Identified By: required for Oracle; then the service name or the SID it names
        (text("201", "Oracle Database"), {"209"}),
        ({**text("201", "Oracle Database"), **text("209", "Service Name")}, {"210"}),
        ({**text("201", "Oracle Database"), **text("209", "Service Name"), **text("210", "HRPROD")}, set()),
        ({**text("201", "Oracle Database"), **text("209", "SID")}, {"211"}),
        ({**text("201", "Oracle Database"), **text("209", "SID"), **text("211", "HRPROD")}, set()),
    ],
    3: [
        (cleared("1"), {"1"}),  # Host, Username, Password, Port, Connection Timeout, Authentication Type: required
        (text("1", ""), {"1"}),
        (cleared("2"), {"2"}),
        (cleared("3"), {"3"}),
        (cleared("4", key="intValue"), {"4"}),
        (cleared("6", key="intValue"), {"6"}),
        (cleared("7"), {"7"}),
        (cleared("11", "12", "15"), set()),
        (cleared("8", "9", "10", "13", key="intValue"), set()),
        (cleared("5", "14", key="checkboxValue"), set()),
        (number("4", 0), {"4"}),  # Port: 1-65535
        (number("4", 1), set()),
        (number("4", 65535), set()),
        (number("4", 65536), {"4"}),
        (number("4", -389), {"4"}),
        (number("6", 0), {"6"}),  # Connection Timeout: positive
        (number("6", 1), set()),
        (number("8", 0), {"8"}),  # Search Timeout: positive
        (number("8", 1), set()),
        (number("9", -1), {"9"}),  # Maximum Retries: 0-100
        (number("9", 0), set()),
        (number("9", 100), set()),
        (number("9", 101), {"9"}),
        (number("10", -1), {"10"}),  # Retry Delay (ms): not negative
        (number("10", 0), set()),
        (number("13", 0), {"13"}),  # Export Concurrency: 1-64
        (number("13", 1), set()),
        (number("13", 64), set()),
        (number("13", 65), {"13"}),
        ({**text("11", "Disable"), **cleared("12")}, {"12"}),  # Disable Attribute: required when Disable
        ({**text("11", "Disable"), **text("12", "")}, {"12"}),
        (text("11", "Disable"), set()),
        ({**text("11", "Delete"), **cleared("12")}, set()),
        (cleared("11", "12"), set()),
        # Host: a host name, or an ldap:// or ldaps:// URL naming one
        (text("1", "directory.example.com"), set()),
        (text("1", "ldaps://directory.example.com"), {"4"}),  # TLS, and Port still LDAP's 389
        ({**text("1", "ldaps://directory.example.com"), **number("4", 636)}, set()),
        (text("1", "ldaps://directory.example.com:389"), {"1"}),
        (text("1", "ldaps://directory.example.com:3269"), {"1"}),  # a global catalog's
        ({**text("1", "directory.example.com"), **number("4", 3268)}, {"4"}),
        (text("1", "ldap://directory.example.com:636"), {"1"}),  # plain LDAP to LDAPS's port
        ({**text("1", "directory.example.com"), **number("4", 636)}, {"4"}),
        ({**text("1", "directory.example.com"), **number("4", 636), "5": {"checkboxValue": True}}, set()),
        ({**text("1", "directory.example.com"), "5": {"checkboxValue": True}}, set()),  # as the seed sets it
        (text("1", "http://directory.example.com"), {"1"}),
        (text("1", "ldap://"), {"1"}),
        (text("1", "ldap://directory.example.com:99999"), {"1"}),
        (text("1", "ldap://127.0.0.1:0"), {"1"}),  # no port 0: ldap3 would take it for 389
        (text("1", "ldap://127.0.0.1:1"), set()),
        (text("1", "not a host"), {"1"}),
        # Username: a bind DN, DOMAIN\user or user@domain
        (text("2", "jim"), {"2"}),
        (text("2", "jim@example.com"), set()),
        ({**text("7", "NTLM"), **text("2", "EXAMPLE\\jim")}, set()),
    ],
    4: [
        (cleared("301"), {"301"}),  # Base URL, Authentication Method: required
        (cleared("302"), {"302"}),
        ({**text("302", "Static Bearer Token"), **cleared("303")}, {"303"}),  # Bearer Token: with that method
        ({**text("302", "None"), **cleared("303")}, set()),
        # Each of JIM's other methods needs its own settings (which this service stores, and cannot use yet)
        ({**text("302", "OAuth 2.0 Client Credentials"), **cleared("306", "307", "308")}, {"306", "307", "308"}),
        (text("302", "OAuth 2.0 Client Credentials"), set()),
        ({**text("302", "OAuth 2.0 Client Credentials"), **text("306", "ftp://login.example.com")}, {"306"}),
        ({**text("302", "HTTP Basic"), **cleared("310", "311")}, {"310", "311"}),
        (text("302", "HTTP Basic"), set()),
        ({**text("302", "Custom Header"), **cleared("312", "313")}, {"312", "313"}),
        (text("302", "Custom Header"), set()),
        (cleared("304", "305", key="intValue"), set()),
        (number("304", 0), {"304"}),  # Connection Timeout: positive
        (number("304", 1), set()),
        (number("305", -1), {"305"}),  # Maximum Retries: 0-100
        (number("305", 0), set()),
        (number("305", 100), set()),
        (number("305", 101), {"305"}),
        # Base URL: an http:// or https:// URL naming a host
        (text("301", "http://localhost:8080/scim"), set()),
        (text("301", "not a url"), {"301"}),
        (text("301", "scim.example.com"), {"301"}),
        (text("301", "ftp://scim.example.com"), {"301"}),
        (text("301", "https://"), {"301"}),
        (text("301", "https://scim.example.com:0/v2"), {"301"}),
    ],
}
CONNECTOR_IDS = {1: "file", 2: "sql", 3: "ldap", 4: "scim"}


def create(client, admin, connector) -> dict:
    response = client.post(SYSTEMS, json={"name": f"System {connector}", "connectorDefinitionId": connector},
                           headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def put_settings(client, admin, system_id, values) -> dict:
    response = client.put(f"{SYSTEMS}/{system_id}", json={"settingValues": values}, headers=admin)
    assert response.status_code == 200, response.json
    return response.json


def validate(client, admin, system_id) -> dict:
    response = client.post(f"{SYSTEMS}/{system_id}/validate-settings", headers=admin)
    assert response.status_code == 200, response.json
    assert set(response.json) == {"valid", "validationErrors", "connectedSystem"}
    assert response.json["connectedSystem"] == client.get(f"{SYSTEMS}/{system_id}", headers=admin).json
    assert response.json["connectedSystem"]["settingValuesValid"] is response.json["valid"]
    assert response.json["valid"] is (not response.json["validationErrors"])
    for messages in response.json["validationErrors"].values():
        assert messages and all(isinstance(message, str) and message for message in messages)
    return response.json


def named(problems: set[str]) -> set[str]:
    return {f"settingValues.{setting_id}" for setting_id in problems}


@pytest.mark.parametrize("connector", CHECKS, ids=CONNECTOR_IDS.get)
def test_each_check_of_each_connector(client, admin, subtests, connector):
    """Each row sets every setting again, so that the rows are subtests of one system per connector and store."""
    system_id = create(client, admin, connector)["id"]
    put_settings(client, admin, system_id, COMPLETE[connector])
    assert validate(client, admin, system_id)["validationErrors"] == {}
    for changes, problems in CHECKS[connector]:
        with subtests.test(str(changes)):
            put_settings(client, admin, system_id, {**COMPLETE[connector], **changes})
            assert set(validate(client, admin, system_id)["validationErrors"]) == named(problems)


@pytest.mark.parametrize("connector, problems", [
    (1, {"101"}),
    (2, {"201", "202", "204", "205", "206"}),
    (3, {"1", "2", "3"}),  # Port, Connection Timeout and Authentication Type have defaults
    (4, {"301", "303"}),  # the default Authentication Method is Static Bearer Token, so the token is required
], ids=CONNECTOR_IDS.values())
def test_a_new_system_misses_its_required_settings_without_a_default(client, admin, connector, problems):
    system = create(client, admin, connector)
    answer = validate(client, admin, system["id"])
    assert set(answer["validationErrors"]) == named(problems)
    assert answer["connectedSystem"]["lastUpdated"] is None  # settingValuesValid stayed false: nothing changed


def parse_time(value: str) -> datetime:
    assert value.endswith("Z")
    return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=UTC)


def test_a_port_that_cannot_answer_as_asked_says_which_to_use(client, admin):
    system_id = create(client, admin, 3)["id"]
    put_settings(client, admin, system_id, {**COMPLETE[3], **text("1", "ldaps://directory.example.com")})
    assert validate(client, admin, system_id)["validationErrors"] == {"settingValues.4": [
        "389 is LDAP's port without TLS, and this Host asks for LDAPS: use 636, or an ldap:// Host."]}


def test_last_updated_moves_only_when_the_outcome_changes(client, admin, ldap_system):
    assert validate(client, admin, 1)["connectedSystem"]["lastUpdated"] is None  # false, still false
    stamp = put_settings(client, admin, 1, COMPLETE[3])["lastUpdated"]
    assert validate(client, admin, 1)["connectedSystem"]["lastUpdated"] is not None  # false to true
    valid_since = client.get(f"{SYSTEMS}/1", headers=admin).json["lastUpdated"]
    assert parse_time(valid_since) > parse_time(stamp)
    assert validate(client, admin, 1)["connectedSystem"]["lastUpdated"] == valid_since  # true, still true
    changed = put_settings(client, admin, 1, number("4", 70000))  # a change: false again
    assert changed["settingValuesValid"] is False
    assert validate(client, admin, 1)["connectedSystem"]["lastUpdated"] == changed["lastUpdated"]  # false, still


def test_the_outcome_is_stored(client, admin, ldap_system):
    put_settings(client, admin, 1, COMPLETE[3])
    assert validate(client, admin, 1)["valid"] is True
    assert client.get(f"{SYSTEMS}/1", headers=admin).json["settingValuesValid"] is True
    assert client.get(SYSTEMS, headers=admin).json["items"][0]["settingValuesValid"] is True
