"""`{id}` is a positive 64-bit integer; anything else is a 404 in the envelope, whatever the method."""
import pytest

from conftest import SYSTEMS

PAST_64_BITS = str(2**63)


@pytest.mark.parametrize("method, path", [
    ("GET", f"{SYSTEMS}/{PAST_64_BITS}"),
    ("PUT", f"{SYSTEMS}/{PAST_64_BITS}"),
    ("DELETE", f"{SYSTEMS}/{PAST_64_BITS}"),
    ("POST", f"{SYSTEMS}/{PAST_64_BITS}/validate-settings"),
    ("GET", f"/api/v1/synchronisation/connector-definitions/{PAST_64_BITS}"),
])
def test_an_id_past_64_bits_is_not_found(client, admin, method, path):
    # Found by the fuzzer: PUT and DELETE answered 405, naming GET as allowed.
    response = client.open(path, method=method, headers=admin, json={})
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"


@pytest.mark.parametrize("system_id", [2**31, 2**63 - 1])
@pytest.mark.parametrize("method, suffix", [("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/validate-settings")])
def test_a_64_bit_id_of_no_system_is_not_found(client, admin, system_id, method, suffix):
    # Found by the fuzzer: PostgreSQL answered 500 for an id past 32 bits, the stored ids' width.
    response = client.open(f"{SYSTEMS}/{system_id}{suffix}", method=method, headers=admin, json={})
    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"
