"""The LDAP connector against a real Active Directory: a throwaway Samba AD domain controller (tests/samba_dc.py),
through the API, as an AD administrator would use it: LDAPS with the DC's CA, a service account, and what the DC
itself says its entries may hold.
"""
import pytest

from conftest import SYSTEMS
from connectors import ldap
from envelope import assert_error
from leaks import shows
from samba_dc import BASE, SERVICE_DN, SERVICE_PASSWORD, samba_dc  # noqa: F401  samba_dc: the session's DC


def configure(client, admin, system_id: int, **values):
    body = {"settingValues": {str(getattr(ldap, name).id): {getattr(ldap, name).value_key: value}
                              for name, value in values.items()}}
    response = client.put(f"{SYSTEMS}/{system_id}", json=body, headers=admin)
    assert response.status_code == 200, response.json
    return response


def dc_settings(dc, **more) -> dict:
    """The service account over LDAPS, trusting the DC's CA (setting 15)."""
    return {"HOST": dc.ldaps_url, "USERNAME": SERVICE_DN, "PASSWORD": SERVICE_PASSWORD,
            "TRUSTED_CA_CERTIFICATES": dc.ca_pem, **more}


def post(client, admin, system_id: int, what: str):
    return client.post(f"{SYSTEMS}/{system_id}/{what}", headers={"X-Api-Key": admin["X-Api-Key"]})


@pytest.fixture
def ad_system(client, admin, ldap_system, samba_dc):
    """The LDAP system, configured for the DC."""
    configure(client, admin, ldap_system["id"], **dc_settings(samba_dc))
    return ldap_system["id"]


def test_a_schema_import_over_ldaps_with_the_dcs_ca(client, admin, ad_system):
    response = post(client, admin, ad_system, "import-schema")
    assert response.status_code == 200, response.json
    assert response.json["settingValuesValid"] is True
    assert {"user", "group", "computer", "contact", "organizationalUnit"} <= {
        t["name"] for t in response.json["objectTypes"]}
    assert not shows(response.get_data(as_text=True), SERVICE_PASSWORD)


def test_a_simple_bind_without_tls_is_refused_as_the_dc_refuses_it(client, admin, ad_system, samba_dc):
    configure(client, admin, ad_system, HOST=samba_dc.url)
    body = assert_error(post(client, admin, ad_system, "import-schema"), 400, "BAD_REQUEST")
    assert body["message"] == (f"The directory refused to let {SERVICE_DN} bind: strongerAuthRequired (8). "
                               f"It said: BindSimple: Transport encryption required.")
