"""The OpenAPI document and Swagger UI: served without a key, valid, complete, derived from the schemas."""
import json
import re

import pytest
from openapi_spec_validator import validate

from connectors.interface import VALUE_KEYS
from test_seed import SEED_NAME_AND_DESCRIPTION, SEED_SETTING_TYPES, SEED_SETTINGS

PARAMETER = re.compile(r"\{[^}]+\}|<[^>]+>")


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")  # no key
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def test_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"] == "3.0.3"


def test_every_route_is_documented_and_nothing_else(app, document):
    served = {
        (method.lower(), PARAMETER.sub("{}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(method, PARAMETER.sub("{}", path)) for path, item in document["paths"].items() for method in item}
    assert documented == served
    assert document["servers"] == [{"url": "/api/v1"}]


def test_every_error_answer_is_the_envelope(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response == {"$ref": f"#/components/responses/{status}"}, (method, path, status)
    for response in document["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    envelope = document["components"]["schemas"]["Error"]["properties"]
    assert set(envelope) == {"code", "message", "details", "validationErrors", "timestamp"}


def test_statuses_each_operation_can_answer(document):
    put = document["paths"]["/synchronisation/connected-systems/{connectedSystemId}"]["put"]
    assert set(put["responses"]) == {"200", "400", "401", "403", "404", "409", "412", "413", "415", "429", "500", "503"}
    assert "WWW-Authenticate" in document["components"]["responses"]["401"]["headers"]
    live = document["paths"]["/health/live"]["get"]
    assert set(live["responses"]) == {"200", "500"}


def test_api_key_security_scheme(document):
    assert document["components"]["securitySchemes"] == {
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
    }
    assert document["security"] == [{"ApiKey": []}]
    assert document["paths"]["/health/ready"]["get"]["security"] == []


def test_fields_carry_their_rules(document):
    schemas = document["components"]["schemas"]
    update = schemas["ConnectedSystemUpdate"]
    assert update["additionalProperties"] is False
    assert update["properties"]["name"] | {"description": None} == {
        "type": "string", "minLength": 1, "maxLength": 200,
        "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$",
        "description": None,
    }
    assert update["properties"]["description"]["maxLength"] == 1000
    assert update["properties"]["description"]["nullable"] is True
    assert update["properties"]["changeReason"]["maxLength"] == 2000
    assert update["properties"]["maxExportParallelism"] == {
        "type": "integer", "minimum": 1, "maximum": 16, "nullable": True
    }
    assert update["properties"]["settingValues"]["additionalProperties"] == {
        "$ref": "#/components/schemas/SettingValueInput"
    }
    value_keys = [key for one_of in schemas["SettingValueInput"]["oneOf"] for key in one_of["properties"]]
    assert sorted(value_keys) == sorted(set(VALUE_KEYS.values()))  # every key a setting type takes
    int_value = schemas["SettingValueInput"]["oneOf"][1]["properties"]["intValue"]
    assert (int_value["minimum"], int_value["maximum"]) == (-(2**31), 2**31 - 1)
    assert schemas["ConnectedSystemCreate"]["required"] == ["connectorDefinitionId", "name"]
    assert schemas["ConnectedSystemCreate"]["properties"]["connectorDefinitionId"]["enum"] == [1, 2, 3, 4]
    shown = schemas["ConnectedSystem"]["properties"]
    assert shown["created"] == {"type": "string", "format": "date-time"}
    assert shown["status"]["enum"] == ["Active"]
    assert shown["settingValues"]["additionalProperties"] == {"$ref": "#/components/schemas/ShownSettingValue"}
    assert "hasValue" in schemas["ShownSettingValue"]["properties"]


def test_list_parameters_come_from_the_query_schema(document):
    operation = document["paths"]["/synchronisation/connected-systems"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
    assert set(parameters) == {"page", "pageSize", "sortBy", "sortDirection", "filter"}
    assert parameters["pageSize"] == {"type": "integer", "default": 25, "minimum": 1, "maximum": 100}
    assert parameters["sortBy"]["enum"] == ["name", "created", "connectorName"]  # the contract's spelling
    assert parameters["sortDirection"]["enum"] == ["asc", "desc"]


def test_seed_examples_are_in_the_document(document):
    put = document["paths"]["/synchronisation/connected-systems/{connectedSystemId}"]["put"]
    examples = [example["value"] for example in put["requestBody"]["content"]["application/json"]["examples"].values()]
    assert examples == [json.loads(body) for body in (SEED_NAME_AND_DESCRIPTION, SEED_SETTINGS, SEED_SETTING_TYPES)]


def test_swagger_ui_is_served_by_the_service(client):
    assert client.get("/api/swagger").status_code == 308
    page = client.get("/api/swagger/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '"url": "/api/openapi.json"' in html
    assert '"validatorUrl": null' in html  # nothing is sent to an outside validator
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/api/swagger/swagger-ui-bundle.js", "/api/swagger/swagger-ui.css"} <= set(assets)
    for asset in assets:
        assert asset.startswith("/api/swagger/"), asset  # no CDN: the page works without internet access
        with client.get(asset) as response:  # closes the file it sends
            assert response.status_code == 200, asset
