"""JIM's requireSecureTransport, initialPasswordTimeToLive and unresolvedReferenceHandling on the PUT of a
connected system: stored, shown with JIM's defaults, validated with every other field at once, recorded in the
history. Set-JIMConnectedSystem's own requests are in test_cmdlets."""
import pytest

from conftest import SYSTEMS
from envelope import assert_error
from importing import history

SYSTEM = f"{SYSTEMS}/1"
DEFAULTS = {"initialPasswordTimeToLive": None, "requireSecureTransport": False, "unresolvedReferenceHandling": "Error"}


def shown(system: dict) -> dict:
    return {key: system[key] for key in DEFAULTS}


def test_stored_shown_and_recorded(client, admin, reader, ldap_system):
    assert shown(ldap_system) == DEFAULTS
    body = {"requireSecureTransport": True, "initialPasswordTimeToLive": "30.00:00:00",
            "unresolvedReferenceHandling": "Warn", "changeReason": "Directory move in January"}
    response = client.put(SYSTEM, json=body, headers=admin)
    assert response.status_code == 200, response.json
    expected = {"initialPasswordTimeToLive": "30.00:00:00", "requireSecureTransport": True,
                "unresolvedReferenceHandling": "Warn"}
    assert shown(response.json) == expected == shown(client.get(SYSTEM, headers=reader).json)
    assert response.json["lastUpdated"] is not None
    assert response.json["settingValuesValid"] is False  # not a setting value: left as it was
    record = history(client, reader, 1)[0]
    assert record["changeReason"] == "Directory move in January"
    assert record["changes"] == [
        {"field": "requireSecureTransport", "oldValue": False, "newValue": True},
        {"field": "initialPasswordTimeToLive", "oldValue": None, "newValue": "30.00:00:00"},
        {"field": "unresolvedReferenceHandling", "oldValue": "Error", "newValue": "Warn"}]
    # The same again is no change: no new version, no record.
    again = client.put(SYSTEM, json={key: body[key] for key in expected}, headers=admin)
    assert again.json["lastUpdated"] == response.json["lastUpdated"] and again.headers["ETag"] == response.headers["ETag"]
    assert len(history(client, reader, 1)) == 2


@pytest.mark.parametrize("sent, stored", [
    ("7.00:00:00", "7.00:00:00"),  # TimeSpan.ToString('c') of New-TimeSpan -Days 7
    ("01:30:00", "01:30:00"),
    ("1:30:00", "01:30:00"),
    ("0.12:00:00", "12:00:00"),
    ("00:00:00.5", "00:00:00.5000000"),
    ("10675199.02:48:05.4775807", "10675199.02:48:05.4775807"),  # TimeSpan.MaxValue
])
def test_a_time_to_live_is_kept_in_timespans_canonical_form(client, admin, ldap_system, sent, stored):
    response = client.put(SYSTEM, json={"initialPasswordTimeToLive": sent}, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["initialPasswordTimeToLive"] == stored


def test_null_sets_jims_default_time_to_live_again(client, admin, ldap_system):
    assert client.put(SYSTEM, json={"initialPasswordTimeToLive": "14.00:00:00"}, headers=admin).status_code == 200
    response = client.put(SYSTEM, json={"initialPasswordTimeToLive": None}, headers=admin)
    assert response.json["initialPasswordTimeToLive"] is None


@pytest.mark.parametrize("field, value", [
    ("initialPasswordTimeToLive", "00:00:00"),  # JIM would quietly use its default instead
    ("initialPasswordTimeToLive", "-7.00:00:00"),
    ("initialPasswordTimeToLive", "24:00:00"),
    ("initialPasswordTimeToLive", "7 days"),
    ("initialPasswordTimeToLive", "P7D"),
    ("initialPasswordTimeToLive", 604800),
    ("initialPasswordTimeToLive", "10675199.02:48:05.4775808"),
    ("requireSecureTransport", "true"),
    ("requireSecureTransport", 1),
    ("requireSecureTransport", None),
    ("unresolvedReferenceHandling", "Skip"),
    ("unresolvedReferenceHandling", None),
    ("unresolvedReferenceHandling", 0),
])
def test_a_bad_value_is_refused(client, admin, ldap_system, field, value):
    envelope = assert_error(client.put(SYSTEM, json={field: value}, headers=admin), 400, "VALIDATION_ERROR")
    assert list(envelope["validationErrors"]) == [field]
    assert client.get(SYSTEM, headers=admin).json == ldap_system


def test_every_problem_is_reported_with_the_others_and_nothing_is_written(client, admin, ldap_system):
    body = {"name": " ", "settingValues": {"4": {"intValue": "389"}}, "requireSecureTransport": "yes",
            "initialPasswordTimeToLive": "7", "unresolvedReferenceHandling": "Skip"}
    envelope = assert_error(client.put(SYSTEM, json=body, headers=admin), 400, "VALIDATION_ERROR")
    assert set(envelope["validationErrors"]) == {"name", "settingValues.4", "requireSecureTransport",
                                                 "initialPasswordTimeToLive", "unresolvedReferenceHandling"}
    assert client.get(SYSTEM, headers=admin).json == ldap_system


def test_the_handling_is_taken_in_any_case(client, admin, ldap_system):
    # Set-JIMConnectedSystem's ValidateSet takes -UnresolvedReferenceHandling in any case and sends it as typed.
    response = client.put(SYSTEM, json={"unresolvedReferenceHandling": "ignore"}, headers=admin)
    assert response.json["unresolvedReferenceHandling"] == "Ignore"
