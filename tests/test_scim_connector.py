"""The SCIM connector's schema import as the API shows it, against a real SCIM 2.0 service provider
(scim2-server) and against servers that misbehave as no provider should: the status, the envelope and its
message, the stored object types and the history, and never the token."""
import json
import logging
import secrets
import time
from urllib.parse import quote

import pytest

from canned_http import canned_http
from conftest import SYSTEMS
from connectors import scim
from envelope import assert_error
from leaks import shows
from scim_provider import scim_provider
from servers import free_port
from silent import silent_server

TOKEN = "scim-" + secrets.token_urlsafe(24)
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
SYSTEM = f"{SYSTEMS}/1"


@pytest.fixture(scope="module")
def provider():
    with scim_provider(TOKEN) as base:
        yield base


class Api:
    """The service as an administrator's client sees it. No answer may show the token."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def __call__(self, method: str, path: str, **kwargs):
        response = self.client.open(path, method=method, headers=self.headers, **kwargs)
        assert not shows(response.get_data(as_text=True), TOKEN)
        return response

    def configure(self, base: str, token: str | None = TOKEN, method: str = scim.STATIC_BEARER_TOKEN,
                  timeout: int | None = None):
        """System 1, a SCIM system with these settings."""
        if self("GET", SYSTEM).status_code == 404:
            created = self("POST", SYSTEMS, json={"name": "SaaS", "connectorDefinitionId": 4})
            assert created.status_code == 201, created.json
        values = {str(scim.BASE_URL.id): {"stringValue": base},
                  str(scim.AUTHENTICATION_METHOD.id): {"stringValue": method}}
        if token is not None:
            values[str(scim.BEARER_TOKEN.id)] = {"stringValue": token}
        if timeout is not None:
            values[str(scim.CONNECTION_TIMEOUT.id)] = {"intValue": timeout}
        answer = self("PUT", SYSTEM, json={"settingValues": values})
        assert answer.status_code == 200, answer.json

    def import_schema(self):
        return self("POST", f"{SYSTEM}/import-schema")


@pytest.fixture
def api(client, admin):
    return Api(client, admin)


def imported(api: Api, base: str, **settings) -> dict:
    """{object type: {attribute name: attribute}} as a successful import stores them."""
    api.configure(base, **settings)
    answer = api.import_schema()
    assert answer.status_code == 200, answer.json
    assert answer.json["settingValuesValid"] is True
    listed = api("GET", f"{SYSTEM}/object-types")
    assert listed.status_code == 200, listed.json
    return {object_type["name"]: {a["name"]: a for a in object_type["attributes"]} for object_type in listed.json}


def described(types: dict) -> dict:
    return {name: {attribute: (a["type"], a["attributePlurality"], a["writability"])
                   for attribute, a in attributes.items()} for name, attributes in types.items()}


def refused(api: Api, base: str, status: int = 400, code: str = "BAD_REQUEST", **settings) -> str:
    """The message of a failed import."""
    api.configure(base, **settings)
    return assert_error(api.import_schema(), status, code)["message"]


def unreachable(api: Api, base: str, **settings) -> str:
    return refused(api, base, 502, "BAD_GATEWAY", **settings)


@pytest.mark.parametrize("slash", ["", "/"], ids=["without-slash", "with-slash"])
def test_a_good_token_imports_each_resource_type_with_its_attributes(api, provider, slash):
    types = described(imported(api, provider + slash))

    assert sorted(types) == ["Group", "User"]
    user, group = types["User"], types["Group"]
    expected_user = {
        "id": ("Text", "SingleValued", "ReadOnly"),
        "externalId": ("Text", "SingleValued", "Writable"),
        "userName": ("Text", "SingleValued", "Writable"),
        "name.givenName": ("Text", "SingleValued", "Writable"),
        "active": ("Boolean", "SingleValued", "Writable"),
        "emails.value": ("Text", "MultiValued", "Writable"),
        "emails.primary": ("Boolean", "MultiValued", "Writable"),
        "groups.value": ("Reference", "MultiValued", "ReadOnly"),
        "groups.display": ("Text", "MultiValued", "ReadOnly"),
        "x509Certificates.value": ("Binary", "MultiValued", "Writable"),
        f"{ENTERPRISE}:employeeNumber": ("Text", "SingleValued", "Writable"),
        f"{ENTERPRISE}:manager.value": ("Reference", "SingleValued", "Writable"),
        f"{ENTERPRISE}:manager.displayName": ("Text", "SingleValued", "ReadOnly"),
    }
    assert {name: user.get(name) for name in expected_user} == expected_user
    # A complex attribute is its sub-attributes; it holds no value of its own.
    assert {"name", "emails", "groups", f"{ENTERPRISE}:manager"}.isdisjoint(user)
    assert {name: group.get(name) for name in ("id", "externalId", "displayName", "members.value")} == {
        "id": ("Text", "SingleValued", "ReadOnly"),
        "externalId": ("Text", "SingleValued", "Writable"),
        "displayName": ("Text", "SingleValued", "Writable"),
        "members.value": ("Reference", "MultiValued", "Writable"),
    }


def test_the_import_is_in_the_history_and_each_attribute_names_its_schema(api, provider):
    user = imported(api, provider)["User"]
    assert user["userName"]["className"] == CORE_USER
    assert user[f"{ENTERPRISE}:employeeNumber"]["className"] == ENTERPRISE
    [record, *_] = api("GET", f"{SYSTEM}/history").json["items"]
    assert record["action"] == "SchemaImported"
    changes = {change["field"]: (change["oldValue"], change["newValue"]) for change in record["changes"]}
    assert set(changes) == {"objectTypes.Group", "objectTypes.User", "settingValuesValid"}
    assert changes["objectTypes.User"][0] is None
    assert {"id", "emails.value", f"{ENTERPRISE}:manager.value"} <= set(changes["objectTypes.User"][1])


def test_a_base_url_with_a_trailing_slash_is_asked_for_the_same_paths(api):
    # A provider that normalises "//" (scim2-server does) hides the difference; one that does not, 404s.
    with canned_http(200, {"Content-Type": "text/html"}) as server:
        refused(api, f"{server.base}/v2/")
    assert [request.path for request in server.requests] == ["/v2/ServiceProviderConfig"]


def test_a_providers_own_resource_type_maps_every_scim_type(api, tmp_path):
    device = "urn:example:scim:schemas:Device"
    attributes = [
        {"name": "serialNumber", "type": "string", "multiValued": False, "mutability": "immutable"},
        {"name": "ports", "type": "integer", "multiValued": False},
        {"name": "weight", "type": "decimal", "multiValued": False},
        {"name": "purchased", "type": "dateTime", "multiValued": False},
        {"name": "tags", "type": "string", "multiValued": True},
        {"name": "manual", "type": "reference", "multiValued": False, "referenceTypes": ["external"]},
        {"name": "firmware", "type": "binary", "multiValued": False, "mutability": "readOnly"},
        {"name": "owner", "type": "complex", "multiValued": False, "mutability": "readOnly",
         "subAttributes": [{"name": "name", "type": "string", "multiValued": False}]},
        {"name": "accessories", "type": "complex", "multiValued": True, "subAttributes": []},
    ]
    schemas = [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": device, "name": "Device",
                "attributes": attributes}]
    resource_types = [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "Device",
                       "name": "Device", "endpoint": "/Devices", "schema": device}]
    with scim_provider(TOKEN, tmp_path, schemas, resource_types) as base:
        api.configure(base)
        preview = api("POST", f"{SYSTEM}/import-schema/preview")
        types = described(imported(api, base))

    assert types == {"Device": {
        "externalId": ("Text", "SingleValued", "Writable"),
        "firmware": ("Binary", "SingleValued", "ReadOnly"),
        "id": ("Text", "SingleValued", "ReadOnly"),
        "manual": ("Reference", "SingleValued", "Writable"),
        "owner.name": ("Text", "SingleValued", "ReadOnly"),  # read-only as its parent is
        "ports": ("Number", "SingleValued", "Writable"),
        "purchased": ("DateTime", "SingleValued", "Writable"),
        "serialNumber": ("Text", "SingleValued", "Writable"),  # immutable: written once, at creation
        "tags": ("Text", "MultiValued", "Writable"),
        "weight": ("Decimal", "SingleValued", "Writable"),
    }}
    assert preview.json["discoveryWarnings"] == [
        "Device: the complex attribute accessories has no sub-attributes and was left out."]


def test_a_wrong_token_is_refused_with_what_the_provider_said(api, provider):
    message = refused(api, provider, token="wrong-" + secrets.token_urlsafe(24))
    assert message == (
        f"The service provider did not accept the bearer token (GET {provider}/ResourceTypes answered 401 "
        f"Unauthorized: Authorization failure. The authorization header is invalid or missing)."
    )


def test_no_token_where_one_is_needed_is_refused(api, provider):
    message = refused(api, provider, token=None, method="None")
    assert message.startswith("The service provider asks for credentials and Authentication Method is None "
                              f"(GET {provider}/ResourceTypes answered 401 Unauthorized")


@pytest.mark.parametrize("method, needs", [
    (scim.OAUTH, {"306": "https://login.example.com/token", "307": "jim", "308": "secret"}),
    (scim.BASIC, {"310": "jim", "311": "secret"}),
    (scim.CUSTOM_HEADER, {"312": "X-Api-Key", "313": "secret"}),
])
def test_jims_other_authentication_methods_are_refused_before_anything_is_sent(api, method, needs):
    """Stored and shown as JIM's, but this service cannot authenticate with them yet: an import does not go
    out unauthenticated instead. Nothing listens at the Base URL, so an attempt would be a 502."""
    api.configure(f"http://127.0.0.1:{free_port()}/v2", method=method)
    values = {setting_id: {"stringValue": value} for setting_id, value in needs.items()}
    assert api("PUT", SYSTEM, json={"settingValues": values}).status_code == 200
    assert assert_error(api.import_schema(), 400, "BAD_REQUEST")["message"] == (
        f"This service cannot authenticate with {method} yet; it authenticates to a SCIM provider with Static "
        "Bearer Token or None.")


def test_a_base_url_that_is_not_the_scim_endpoint_is_refused_for_its_404(api, provider):
    base = provider.replace("/v2", "/scim/v2")
    assert refused(api, base) == (
        f"The service provider has no such endpoint (GET {base}/ServiceProviderConfig answered 404 Not Found: "
        f"No SCIM endpoint at '/scim/v2/ServiceProviderConfig'): the Base URL should be its SCIM base URL, such "
        f"as https://example.com/scim/v2."
    )


@pytest.mark.parametrize("timeout, deadline, said", [
    (1, 20, "within 1 seconds, the Connection Timeout."),
    (30, 2, "within the import's time limit of 2 seconds."),
], ids=["connection-timeout", "deadline"])
def test_a_server_that_never_answers_is_unreachable_within_the_time_allowed(api, app, timeout, deadline, said):
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = deadline
    with silent_server() as (host, port):
        started = time.monotonic()
        message = unreachable(api, f"http://{host}:{port}/v2", timeout=timeout)
        elapsed = time.monotonic() - started
    allowed = min(timeout, deadline)
    # At the deadline the connector's read timeout and the runner's own wait race to say so, in like words.
    assert message.endswith(said)
    assert allowed - 0.1 < elapsed < allowed + 2


@pytest.mark.parametrize("base, expected", [
    ("http://127.0.0.1:{closed}/v2", "Connection refused."),
    ("http://no-such-host.invalid/v2", "Name or service not known."),
    ("https://{provider}", "TLS failed: [SSL: WRONG_VERSION_NUMBER] wrong version number."),
], ids=["refused", "unresolvable", "tls"])
def test_a_provider_that_cannot_be_reached_is_unreachable(api, provider, base, expected):
    base = base.format(closed=free_port(), provider=provider.removeprefix("http://"))
    message = unreachable(api, base)
    assert message.startswith(f"Could not connect to the service provider for GET {base}/ServiceProviderConfig")
    assert message.endswith(expected)


SCIM_ERROR = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "403",
              "detail": "This client may not read the schema."}
JSON = {"Content-Type": "application/json"}
REFUSED, UNREACHABLE = (400, "BAD_REQUEST"), (502, "BAD_GATEWAY")


@pytest.mark.parametrize("status, headers, body, answer, message", [
    (200, {"Content-Type": "text/html; charset=utf-8"}, b"<html><body>Sign in</body></html>", REFUSED,
     "GET {url} answered an HTML page, not SCIM JSON: the Base URL should be the service provider's SCIM base "
     "URL, such as https://example.com/scim/v2."),
    (200, JSON, b'{"hello": "world"}', REFUSED,
     "GET {url} answered JSON that is not SCIM: it does not name the schema "
     "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig."),
    (200, JSON, b"Sign in", REFUSED, "GET {url} answered something that is not JSON."),
    (200, JSON, b"[" * 100_000, REFUSED, "GET {url} answered something that is not JSON."),
    (200, {"Content-Type": "application/xml"}, b"<config/>", REFUSED,
     "GET {url} answered application/xml, not SCIM JSON."),
    (403, {"Content-Type": "application/scim+json"}, json.dumps(SCIM_ERROR).encode(), REFUSED,
     "The service provider refused access (GET {url} answered 403 Forbidden: This client may not read the schema.)."),
    (503, {"Content-Type": "text/plain"}, b"Down for\nmaintenance", UNREACHABLE,
     "The service provider is not available (GET {url} answered 503 Service Unavailable: Down for maintenance)."),
    (302, {"Location": "/login?next=/v2"}, b"", REFUSED,
     "GET {url} answered 302 Found, to /login?next=/v2: redirects are not followed; set the Base URL to where the "
     "service provider is."),
    (200, {**JSON, "Content-Encoding": "gzip"}, b"not gzip at all", REFUSED,
     "GET {url} answered a body that its Content-Encoding (gzip) does not decode."),
], ids=["html", "other-json", "not-json", "too-deep", "xml", "forbidden", "unavailable", "redirect-same-host",
        "undecodable"])
def test_an_answer_that_is_not_a_scim_document_is_shown_for_what_it_is(api, status, headers, body, answer, message):
    with canned_http(status, headers, body) as server:
        shown = refused(api, f"{server.base}/v2", *answer)
    assert shown == message.format(url=f"{server.base}/v2/ServiceProviderConfig")


def test_a_redirect_to_another_host_is_not_followed_and_the_token_stays_home(api):
    with canned_http(200, JSON, b"{}", host="127.0.0.2") as elsewhere:
        target = f"{elsewhere.base}/v2/ServiceProviderConfig"
        with canned_http(307, {"Location": target}) as server:
            message = refused(api, f"{server.base}/v2")
    assert message.startswith(f"GET {server.base}/v2/ServiceProviderConfig answered 307 Temporary Redirect, "
                              f"to {target}: redirects are not followed")
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert elsewhere.requests == []


@pytest.mark.parametrize("headers, body, endless", [
    ({}, b" " * 65536, True),  # read to its end, it would never be refused
    ({"Content-Length": str(10 * 2**30)}, b"", False),  # read at all, it would be found cut short
], ids=["streamed", "declared"])
def test_an_oversized_answer_is_refused_without_reading_it_all(api, headers, body, endless):
    with canned_http(200, {**JSON, **headers}, body, endless) as server:
        message = refused(api, f"{server.base}/v2", timeout=5)
    assert message == (f"The service provider's answer to GET {server.base}/v2/ServiceProviderConfig is "
                       f"larger than 1 MiB, more than any SCIM schema needs; it was not read.")


def test_an_answer_that_trickles_in_is_abandoned_at_the_deadline(api, app):
    app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"] = 2
    with canned_http(200, JSON, b" ", endless=True, pause=0.2) as server:
        started = time.monotonic()
        unreachable(api, f"{server.base}/v2", timeout=30)
        assert time.monotonic() - started < 3
        # The connector stops reading too, rather than leave its thread on the connection.
        assert server.hung_up.wait(3)


def test_a_token_no_header_can_carry_is_refused_before_anything_is_sent(api):
    with canned_http(200, JSON, b"{}") as server:
        message = refused(api, f"{server.base}/v2", token=TOKEN + " é")
    assert message == ("The Bearer Token holds characters an HTTP header cannot carry (spaces, line breaks or "
                       "non-ASCII characters).")
    assert server.requests == []


def test_a_provider_that_echoes_the_token_does_not_get_it_shown(api):
    echo = {**SCIM_ERROR, "status": "401", "detail": f"The token {TOKEN} has expired."}
    with canned_http(401, {"Content-Type": "application/scim+json"}, json.dumps(echo).encode()) as server:
        message = refused(api, f"{server.base}/v2")  # the Api checks the answer for the token
    assert message.startswith("The service provider did not accept the bearer token")
    assert "has expired" in message


# Tokens a provider may echo in another form than it was sent, each run of eight of whose characters holds one
# that JSON escapes (") or a URL encodes (/): what the provider says holds only that form of them.
QUOTED_TOKEN = "".join(secrets.token_hex(3) + '"' for _ in range(5))
SLASHED_TOKEN = "".join(secrets.token_hex(3) + "/" for _ in range(5))


@pytest.mark.parametrize("token, status, headers, body", [
    (QUOTED_TOKEN, 503, {"Content-Type": "text/plain"},
     f'{{"error": "bad token", "token": "{json.dumps(QUOTED_TOKEN)[1:-1]}"}}'.encode()),
    (SLASHED_TOKEN, 302, {"Location": f"/login?token={quote(SLASHED_TOKEN, safe='')}"}, b""),
], ids=["json-escaped", "url-encoded"])
def test_a_token_echoed_escaped_or_encoded_is_hidden_too(api, token, status, headers, body):
    with canned_http(status, headers, body) as server:
        api.configure(f"{server.base}/v2", token=token)
        message = api.import_schema().json["message"]
    assert server.requests[0].headers["Authorization"] == f"Bearer {token}"
    assert "********" in message  # what was echoed is there, hidden
    for form in (token, json.dumps(token)[1:-1], quote(token, safe="")):
        assert not any(form[start:start + 8] in message for start in range(len(form) - 7)), message


def test_the_token_is_in_no_log_line_or_history_record(api, provider, caplog):
    caplog.set_level(logging.DEBUG)
    imported(api, provider)
    refused(api, provider + "/nowhere")
    history = api("GET", f"{SYSTEM}/history")  # the Api checks the answer for the token
    assert {"Created", "Updated", "SchemaImported"} <= {record["action"] for record in history.json["items"]}
    assert "HTTP Request: GET" in caplog.text  # httpx's own lines were captured
    # httpcore's DEBUG lines quote the answers' headers, where a provider may echo the token: held back.
    assert "send_request_headers" not in caplog.text
    assert not shows(caplog.text, TOKEN)


def listed(resources: list, total: int | None = None) -> bytes:
    return json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                       "totalResults": len(resources) if total is None else total, "Resources": resources}).encode()


SERVICE_PROVIDER_CONFIG = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "patch": {"supported": False}, "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": False, "maxResults": 0}, "changePassword": {"supported": False},
    "sort": {"supported": False}, "etag": {"supported": False}, "authenticationSchemes": []}


def test_what_no_consistent_provider_serves_is_left_out_with_a_warning(api):
    """Discovery documents scim2-server refuses to serve, from a server of the test's own, as a provider would
    send them: a resource type twice, a schema /Schemas lacks, an attribute twice, a complex sub-attribute, a
    paged list."""
    device, extra, absent = "urn:example:Device", "urn:example:Extra", "urn:example:Absent"
    string = {"type": "string", "multiValued": False}
    schema = "urn:ietf:params:scim:schemas:core:2.0:Schema"
    schemas = listed([
        {"schemas": [schema], "id": device, "attributes": [
            {"name": "externalId", **string},  # restating a common attribute: no news
            {"name": "ports", **string},
            {"name": "Ports", **string},
            {"name": "site", "type": "complex", "multiValued": False, "subAttributes": [
                {"name": "room", **string},
                {"name": "rack", "type": "complex", "multiValued": False, "subAttributes": [{"name": "u", **string}]},
            ]},
        ]},
        {"schemas": [schema], "id": extra, "attributes": [{"name": "ports", **string}]},
    ], total=5)
    resource_type = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
    resource_types = listed([
        {"schemas": [resource_type], "id": "Device", "name": "Device", "endpoint": "/Devices", "schema": device,
         "schemaExtensions": [{"schema": extra, "required": False}, {"schema": absent, "required": False}]},
        {"schemas": [resource_type], "id": "DEVICE", "name": "DEVICE", "endpoint": "/DEVICES", "schema": device},
        {"schemas": [resource_type], "id": "Printer", "name": "Printer", "endpoint": "/Printers", "schema": absent},
    ])
    bodies = {"/ServiceProviderConfig": json.dumps(SERVICE_PROVIDER_CONFIG).encode(),
              "/ResourceTypes": resource_types, "/Schemas": schemas}
    with canned_http(200, {"Content-Type": "application/scim+json"}, bodies=bodies) as server:
        api.configure(f"{server.base}/v2")
        preview = api("POST", f"{SYSTEM}/import-schema/preview")
        types = imported(api, f"{server.base}/v2")
    assert preview.status_code == 200, preview.json
    assert {name: list(attributes) for name, attributes in types.items()} == {
        "Device": ["externalId", "id", "ports", "site.room", f"{extra}:ports"],  # as GET lists them, by name
    }
    assert preview.json["discoveryWarnings"] == [
        "The service provider has 5 schemas and listed 2; the rest were not read.",
        f"Device: the schema extension {absent} was left out: /Schemas does not have it.",
        "Device: the attribute Ports is defined twice; the second was left out.",
        "Device: the complex sub-attribute site.rack was left out.",
        "The resource type DEVICE is listed twice; the second was left out.",
        f"The resource type Printer was left out: /Schemas has no schema {absent}.",
    ]
