"""The OpenAPI document and Swagger UI: ``/api/openapi.json`` and ``/api/swagger``, both without a key.

The document is derived from the marshmallow schemas that load requests and dump answers, so every rule
(lengths, ranges, enums, nullability) is written once, in ``schemas``. What this module adds is the table
``ENDPOINTS``: for each operation, the schemas it loads and dumps and the statuses it can answer.

To document a new endpoint, add a row to ``ENDPOINTS``. To document a new error status, add it to
``ERRORS`` (its description and headers; its body is the envelope) and to each row that can answer it, or
to a group such as ``STORE`` when all its operations can. A header of a success answer (``ETag``) goes in
the row's ``headers``. The test suite fails while a route of the ``api`` blueprint has no row, and the
fuzzer while an answer's status, headers or body are not as documented.
"""
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, jsonify
from flask_swagger_ui import get_swaggerui_blueprint
from marshmallow import Schema, fields

import schemas
from connectors.interface import VALUE_KEYS
from models import ID_MAX

TITLE = "JIM Connected Systems API"
DOCUMENT_URL = "/api/openapi.json"
SWAGGER_URL = "/api/swagger"
BUG = (500,)  # any operation
STORE = (*BUG, 503)  # an operation that reads the database: a bug, or the database unreachable
KEY = (401, 429)  # a Reader's key is enough; every keyed operation is rate limited
ADMINISTRATOR = (*KEY, 403)
BODY = (400, 413, 415)
TALKS = (400, 409, 502)  # an import: the system refused, the settings changed meanwhile, or it did not answer


@dataclass(frozen=True)
class ErrorResponse:
    description: str
    headers: dict = field(default_factory=dict)


ERRORS = {
    400: ErrorResponse("`VALIDATION_ERROR`: a field breaks a rule, each named in `validationErrors`; "
                  "`BAD_REQUEST`: the body is not a JSON object, `If-Match` is empty, (imports) the connected "
                  "system refused, as the message says, or (server certificate) the system makes no LDAPS "
                  "connection."),
    401: ErrorResponse("`UNAUTHORISED`: no key, or an unknown, revoked, disabled or expired one.",
                  {"WWW-Authenticate": "How to authenticate: `ApiKey header=\"X-Api-Key\"`."}),
    403: ErrorResponse("`FORBIDDEN`: the key lacks the Administrator role."),
    404: ErrorResponse("`NOT_FOUND`: no such resource."),
    409: ErrorResponse("`CONFLICT`: the name is in use, or (imports) the system's settings changed while it was "
                       "being imported, or (trust) the server presents another certificate than the thumbprint "
                       "names (`details`: JIM's `outcome` ThumbprintMismatch, `expectedThumbprint`, "
                       "`presentedThumbprint`), or (API keys) the key is the infrastructure key, revoked, or the "
                       "last working Administrator key."),
    412: ErrorResponse("`PRECONDITION_FAILED`: `If-Match` names none of the system's current tags; nothing "
                       "was written."),
    413: ErrorResponse("`PAYLOAD_TOO_LARGE`: the body is over the configured limit."),
    415: ErrorResponse("`UNSUPPORTED_MEDIA_TYPE`: the body is not sent as `application/json`."),
    429: ErrorResponse("`TOO_MANY_REQUESTS`: over the rate limit.",
                       {"Retry-After": "Whole seconds until the limit's window ends."}),
    500: ErrorResponse("`INTERNAL_ERROR`: a bug; the body holds no internal detail."),
    502: ErrorResponse("`BAD_GATEWAY`: the connected system could not be reached, or did not answer in time, "
                       "or (trust) offered no certificate to trust."),
    503: ErrorResponse("`SERVICE_UNAVAILABLE`: the database is unreachable (`/health/ready` adds JIM's `status` "
                       "`not_ready` and `reason` `database_unreachable`).",
                  {"Retry-After": "Seconds to wait before retrying."}),
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # under /api/v1, with OpenAPI's {parameter}
    operation_id: str
    summary: str
    tag: str
    errors: tuple[int, ...]
    answer: Schema | type[Schema] | None = None  # None: no body
    status: int = 200
    body: Schema | type[Schema] | None = None
    body_required: bool = True  # False: the operation may be called with no body at all
    query: type[Schema] | None = None
    examples: dict = field(default_factory=dict)  # request body examples by name
    public: bool = False  # no key needed
    headers: dict = field(default_factory=dict)  # of the success answer
    more_statuses: tuple[int, ...] = ()  # other success statuses, with the same answer and headers
    precondition: str | None = None  # "If-Match" (412 when stale) or "If-None-Match" (304 when unchanged)
    links: dict = field(default_factory=dict)  # of the success answer: operations its body gives ids to

    @property
    def path_parameters(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


def page_schema(item_schema: type[Schema]) -> Schema:
    """The list envelope as ``PageSchema(item_schema())`` dumps it, with its items' schema named."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(name, (schemas.PageSchema,), {"items": fields.List(fields.Nested(item_schema))})(item_schema())


# The seed's request bodies (seed-update-connected-system.txt), verbatim.
SEED_EXAMPLES = {
    "nameAndDescription": {
        "summary": "Update name and description",
        "value": {"name": "Corporate LDAP (Production)", "description": "Primary directory for all employee accounts"},
    },
    "connectorSettings": {
        "summary": "Configure connector settings",
        "value": {
            "settingValues": {
                "1": {"stringValue": "ldap://directory.example.com:389"},
                "2": {"stringValue": "CN=JIM,OU=Service,DC=example,DC=com"},
                "3": {"stringValue": "s3cur3p@ssw0rd"},
            }
        },
    },
    "everySettingType": {
        "summary": "A value of each setting type",
        "value": {
            "settingValues": {
                "1": {"stringValue": "ldap://directory.example.com:389"},
                "2": {"stringValue": "CN=ServiceAccount,OU=Service,DC=example,DC=com"},
                "3": {"stringValue": "s3cur3p@ssw0rd"},
                "4": {"intValue": 389},
                "5": {"checkboxValue": True},
            }
        },
    },
}
CREATE_EXAMPLES = {
    "ldap": {"summary": "An LDAP directory", "value": {"name": "Corporate LDAP", "connectorDefinitionId": 3}},
    "file": {"summary": "An HR export file", "value": {"name": "HR", "connectorDefinitionId": 1}},
}

SCOPE_TEXT_EXAMPLES = {
    "people": {"summary": "People, less its leavers; the top of Groups only",
               "value": {"text": "# managed by JIM\ninclude ou=People,dc=example,dc=com\n"
                                 "exclude ou=Leavers,ou=People,dc=example,dc=com\n"
                                 "include one-level ou=Groups,dc=example,dc=com"}},
    "nothing": {"summary": "No container in scope", "value": {"text": ""}},
}
RUN_PROFILE_EXAMPLES = {
    "fullImport": {"summary": "A Full Import, as New-JIMRunProfile sends it",
                   "value": {"name": "Full Import", "runType": "FullImport", "pageSize": 100}},
    "deltaImport": {"summary": "A Delta Import of 500 objects a page",
                    "value": {"name": "Delta Import", "runType": "DeltaImport", "pageSize": 500}},
}
HEALTH_TAG, DEFINITIONS_TAG, SYSTEMS_TAG = "Health", "Connector definitions", "Connected systems"
CERTIFICATE_TAG = "Server certificate"
CERTIFICATE_READ_EXAMPLES = {
    "unsavedHost": {"summary": "Read from an address not saved yet",
                    "value": {"settingValues": {"1": {"stringValue": "ldaps://directory.example.com:636"}}}},
}
CERTIFICATE_TRUST_EXAMPLES = {
    "thumbprint": {"summary": "Trust what the read showed",
                   "value": {"thumbprint": "7B44E1902CF6A83D5518BE7719A0C4D62F8E3B01",
                             "changeReason": "Directory moved to LDAPS"}},
}
SCHEMA_TAG = "Schema and hierarchy"
KEYS_TAG = "API keys"
API_KEY_EXAMPLES = {
    "administrator": {"summary": "A pipeline's Administrator key, expiring",
                      "value": {"name": "CI/CD Pipeline", "roleIds": [1], "expiresAt": "2099-12-31T00:00:00Z"}},
    "reader": {"summary": "A Reader key", "value": {"name": "Reporting", "roleIds": [2],
                                                    "description": "Reads the configuration for the reports"}},
}
API_KEY_UPDATE_EXAMPLES = {
    "disable": {"summary": "Disable a key", "value": {"isEnabled": False, "changeReason": "Pipeline retired"}},
    "asTheModuleSendsIt": {"summary": "As Set-JIMApiKey sends it: every field",
                           "value": {"name": "Reporting", "description": None, "roleIds": [2],
                                     "isEnabled": True, "expiresAt": None}},
}
RUN_PROFILES_TAG = "Run profiles"
IMPORT_TAG = "Full Import: activities and the connector space"
SYSTEM_PATH = "/synchronisation/connected-systems/{connectedSystemId}"
ETAG = {"ETag": "The system's version, for If-Match and If-None-Match."}
PRECONDITIONS = {
    "If-Match": "Write only if the system's ETag is one of these (or `*`); else 412 and nothing is written.",
    "If-None-Match": "Answer 304 with no body while the system's ETag is one of these (or `*`).",
}

ENDPOINTS = (
    Endpoint("get", "/health", "getHealth", "Health: `healthy`, as JIM's", HEALTH_TAG, BUG, schemas.HealthSchema,
             public=True),
    Endpoint("get", "/health/live", "getLiveness", "Liveness: `alive`", HEALTH_TAG, BUG, schemas.HealthSchema,
             public=True),
    Endpoint("get", "/health/ready", "getReadiness",
             "Readiness: `ready`, or 503 `not_ready` with its `reason` while the database is unreachable",
             HEALTH_TAG, STORE, schemas.HealthSchema, public=True),
    Endpoint("get", "/health/version", "getVersion", "The product and its version", HEALTH_TAG, BUG,
             schemas.VersionSchema, public=True),
    Endpoint("get", "/synchronisation/connector-definitions", "listConnectorDefinitions",
             "The connector catalog, each connector with its settings", DEFINITIONS_TAG, (*KEY, *STORE),
             schemas.ConnectorDefinitionSchema(many=True)),
    Endpoint("get", "/synchronisation/connector-definitions/{connectorDefinitionId}", "getConnectorDefinition",
             "One connector and its settings", DEFINITIONS_TAG, (*KEY, 404, *STORE), schemas.ConnectorDefinitionSchema),
    Endpoint("get", "/synchronisation/connector-definitions/by-name/{connectorName}", "getConnectorDefinitionByName",
             "One connector and its settings, by its name exactly", DEFINITIONS_TAG, (*KEY, 404, *STORE),
             schemas.ConnectorDefinitionSchema),
    Endpoint("get", "/synchronisation/connected-systems", "listConnectedSystems",
             "A page of connected systems", SYSTEMS_TAG, (400, *KEY, *STORE),
             page_schema(schemas.ConnectedSystemSummarySchema), query=schemas.ListQuerySchema),
    Endpoint("post", "/synchronisation/connected-systems", "createConnectedSystem",
             "Create a connected system, holding its connector's defaults", SYSTEMS_TAG,
             (*BODY, *ADMINISTRATOR, 409, *STORE), schemas.ConnectedSystemSchema, 201,
             schemas.ConnectedSystemCreateSchema, examples=CREATE_EXAMPLES,
             headers={"Location": "The new system's address.", **ETAG}),
    Endpoint("get", SYSTEM_PATH, "getConnectedSystem", "A connected system", SYSTEMS_TAG, (*KEY, 404, *STORE),
             schemas.ConnectedSystemSchema, headers=ETAG, precondition="If-None-Match"),
    Endpoint("put", SYSTEM_PATH, "updateConnectedSystem",
             "Update a connected system: only the fields given change, all or nothing", SYSTEMS_TAG,
             (*BODY, *ADMINISTRATOR, 404, 409, 412, *STORE), schemas.ConnectedSystemSchema,
             body=schemas.ConnectedSystemUpdateSchema(connector=None), examples=SEED_EXAMPLES, headers=ETAG,
             precondition="If-Match"),
    Endpoint("delete", SYSTEM_PATH, "deleteConnectedSystem",
             "Delete a connected system; its change history stays readable", SYSTEMS_TAG,
             (400, *ADMINISTRATOR, 404, 412, *STORE), schemas.DeletionResultSchema, query=schemas.DeleteQuerySchema,
             precondition="If-Match"),
    Endpoint("get", SYSTEM_PATH + "/deletion-preview", "getConnectedSystemDeletionPreview",
             "What deleting the system would take with it", SYSTEMS_TAG, (*KEY, 404, *STORE),
             schemas.DeletionPreviewSchema, headers=ETAG),
    Endpoint("post", SYSTEM_PATH + "/validate-settings", "validateConnectedSystemSettings",
             "Run the connector's offline checks over the stored settings", SYSTEMS_TAG,
             (400, *ADMINISTRATOR, 404, 412, *STORE), schemas.SettingsValidationSchema, headers=ETAG,
             precondition="If-Match"),
    Endpoint("post", SYSTEM_PATH + "/import-schema", "importConnectedSystemSchema",
             "Connect with the stored settings and import the system's object types and attributes", SYSTEMS_TAG,
             (*BODY, *ADMINISTRATOR, 404, 412, *TALKS, *STORE), schemas.ConnectedSystemSchema,
             body=schemas.ImportOptionsSchema, body_required=False, headers=ETAG, precondition="If-Match"),
    Endpoint("post", SYSTEM_PATH + "/import-schema/preview", "previewConnectedSystemSchemaImport",
             "What a schema import would change; nothing is written", SYSTEMS_TAG,
             (*BODY, *ADMINISTRATOR, 404, 502, *STORE), schemas.SchemaPreviewSchema,
             body=schemas.ImportOptionsSchema, body_required=False),
    Endpoint("get", SYSTEM_PATH + "/object-types", "listConnectedSystemObjectTypes",
             "The imported object types, each with its attributes", SCHEMA_TAG, (400, *KEY, 404, *STORE),
             schemas.ObjectTypeSchema(many=True), headers=ETAG, precondition="If-None-Match",
             query=schemas.ObjectTypesQuerySchema),
    Endpoint("get", SYSTEM_PATH + "/object-types/{objectTypeId}", "getConnectedSystemObjectType",
             "One imported object type with its attributes", SCHEMA_TAG, (*KEY, 404, *STORE),
             schemas.ObjectTypeSchema, headers=ETAG),
    Endpoint("put", SYSTEM_PATH + "/object-types/{objectTypeId}", "updateConnectedSystemObjectType",
             "Select an object type, or say what becomes of its contributions", SCHEMA_TAG,
             (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.ObjectTypeSchema,
             body=schemas.ObjectTypeUpdateSchema, headers=ETAG, precondition="If-Match"),
    Endpoint("put", SYSTEM_PATH + "/object-types/{objectTypeId}/attributes/{attributeId}",
             "updateConnectedSystemAttribute", "Select an attribute, or make it the (secondary) external id",
             SCHEMA_TAG, (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.AttributeSchema,
             body=schemas.AttributeUpdateSchema, headers=ETAG, precondition="If-Match"),
    Endpoint("put", SYSTEM_PATH + "/object-types/{objectTypeId}/attributes", "updateConnectedSystemAttributes",
             "Update several attributes of an object type: all or nothing", SCHEMA_TAG,
             (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.BulkAttributesResultSchema,
             body=schemas.BulkAttributesUpdateSchema, headers=ETAG, precondition="If-Match"),
    Endpoint("post", SYSTEM_PATH + "/import-hierarchy", "importConnectedSystemHierarchy",
             "A directory's partitions and containers, imported with the stored settings", SCHEMA_TAG,
             (*BODY, *ADMINISTRATOR, 404, 412, *TALKS, *STORE), schemas.HierarchyImportSchema,
             body=schemas.NoOptionsSchema, body_required=False, headers=ETAG, precondition="If-Match"),
    Endpoint("get", SYSTEM_PATH + "/partitions", "listConnectedSystemPartitions",
             "The imported partitions, each with its tree of containers", SCHEMA_TAG, (400, *KEY, 404, *STORE),
             schemas.PartitionSchema(many=True), headers=ETAG, precondition="If-None-Match",
             query=schemas.PartitionsQuerySchema),
    Endpoint("put", SYSTEM_PATH + "/partitions/{partitionId}", "updateConnectedSystemPartition",
             "Select a partition", SCHEMA_TAG, (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.PartitionSchema,
             body=schemas.SelectionUpdateSchema, headers=ETAG, precondition="If-Match"),
    Endpoint("put", SYSTEM_PATH + "/containers/{containerId}", "updateConnectedSystemContainer",
             "Select or exclude a container, or say how far its selection reaches", SCHEMA_TAG,
             (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.ContainerSchema,
             body=schemas.ContainerUpdateSchema, headers=ETAG, precondition="If-Match"),
    Endpoint("get", SYSTEM_PATH + "/container-scope-text", "getContainerScopeText",
             "The container scope as text, one statement a line", SCHEMA_TAG, (*KEY, 404, *STORE),
             schemas.ContainerScopeTextSchema, headers=ETAG),
    Endpoint("put", SYSTEM_PATH + "/container-scope-text", "updateContainerScopeText",
             "Replace the container scope with what the text states: all of it, or nothing and every line "
             "that cannot apply", SCHEMA_TAG, (*BODY, *ADMINISTRATOR, 404, 412, *STORE),
             schemas.ContainerScopeTextSchema, body=schemas.ContainerScopeTextSchema, headers=ETAG,
             examples=SCOPE_TEXT_EXAMPLES, precondition="If-Match"),
    # Run profiles
    Endpoint("get", SYSTEM_PATH + "/run-profiles", "listRunProfiles", "The system's run profiles, oldest first",
             RUN_PROFILES_TAG, (*KEY, 404, *STORE), schemas.RunProfileSchema(many=True), headers=ETAG),
    Endpoint("post", SYSTEM_PATH + "/run-profiles", "createRunProfile",
             "Create a run profile: a run type the connector can run, on one of the system's partitions or none",
             RUN_PROFILES_TAG, (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.RunProfileSchema, 201,
             schemas.RunProfileCreateSchema, examples=RUN_PROFILE_EXAMPLES,
             headers={"Location": "The system's run profiles, as JIM answers.", **ETAG}, precondition="If-Match"),
    Endpoint("put", SYSTEM_PATH + "/run-profiles/{runProfileId}", "updateRunProfile",
             "Update a run profile: absent or null leaves a field as it is; the run type never changes",
             RUN_PROFILES_TAG, (*BODY, *ADMINISTRATOR, 404, 412, *STORE), schemas.RunProfileSchema,
             body=schemas.RunProfileUpdateSchema, headers=ETAG, precondition="If-Match"),
    Endpoint("delete", SYSTEM_PATH + "/run-profiles/{runProfileId}", "deleteRunProfile", "Delete a run profile",
             RUN_PROFILES_TAG, (400, *ADMINISTRATOR, 404, 412, *STORE), status=204, headers=ETAG,
             precondition="If-Match"),
    # Full Import
    Endpoint("post", SYSTEM_PATH + "/run-profiles/{runProfileId}/execute", "executeRunProfile",
             "Queue a Full Import for the worker; follow its activity. One run of a system at a time", IMPORT_TAG,
             (*BODY, *ADMINISTRATOR, 404, 409, *STORE), schemas.RunProfileExecutionSchema, 202,
             schemas.NoOptionsSchema, body_required=False,
             links={"getActivity": {"operationId": "getActivity",
                                    "parameters": {"activityId": "$response.body#/activityId"}},
                    "getActivityProgress": {"operationId": "getActivityProgress",
                                            "parameters": {"activityId": "$response.body#/activityId"}}}),
    Endpoint("get", "/activities", "listActivities", "The activities, newest first", IMPORT_TAG,
             (400, *KEY, *STORE), page_schema(schemas.ActivityHeaderSchema), query=schemas.ActivitiesQuerySchema,
             links={name: {"operationId": name, "parameters": {"activityId": "$response.body#/items/0/id"}}
                    for name in ("getActivity", "getActivityProgress", "getActivityStats", "listActivityItems")}),
    Endpoint("get", "/activities/{activityId}", "getActivity", "An activity, with its counts", IMPORT_TAG,
             (*KEY, 404, *STORE), schemas.ActivityDetailSchema),
    Endpoint("get", "/activities/{activityId}/progress", "getActivityProgress",
             "What Start-JIMRunProfile -Wait polls: status, counts, message", IMPORT_TAG, (*KEY, 404, *STORE),
             schemas.ActivityProgressSchema),
    Endpoint("get", "/activities/{activityId}/stats", "getActivityStats",
             "Objects added, updated, unchanged, deleted, and errors", IMPORT_TAG, (*KEY, 404, *STORE),
             schemas.ActivityStatsSchema),
    Endpoint("get", "/activities/{activityId}/items", "listActivityItems",
             "Each object's outcome: added, updated, deleted, or an error", IMPORT_TAG, (400, *KEY, 404, *STORE),
             page_schema(schemas.ActivityItemSchema), query=schemas.PageQuerySchema),
    Endpoint("get", SYSTEM_PATH + "/connector-space", "listConnectorSpaceObjects",
             "The system's imported objects, newest first", IMPORT_TAG, (400, *KEY, 404, *STORE),
             page_schema(schemas.ConnectorSpaceObjectSchema), query=schemas.ConnectorSpaceQuerySchema,
             links={name: {"operationId": name, "parameters": {"objectId": "$response.body#/items/0/id"}}
                    for name in ("getConnectorSpaceObject",)}),
    Endpoint("get", SYSTEM_PATH + "/connector-space/count", "countConnectorSpaceObjects",
             "How many objects the system's connector space holds (a JSON integer)", IMPORT_TAG,
             (400, *KEY, 404, *STORE), {"type": "integer", "minimum": 0}, query=schemas.ConnectorSpaceCountQuerySchema),
    Endpoint("get", SYSTEM_PATH + "/connector-space/{objectId}", "getConnectorSpaceObject",
             "An imported object with its values, each multi-valued attribute's capped", IMPORT_TAG,
             (*KEY, 404, *STORE), schemas.ConnectorSpaceObjectDetailSchema),
    Endpoint("get", SYSTEM_PATH + "/connector-space/{objectId}/attributes/{attributeName}/values",
             "listConnectorSpaceAttributeValues", "One attribute's values of an object, paged", IMPORT_TAG,
             (400, *KEY, 404, *STORE), page_schema(schemas.AttributeValueSchema),
             query=schemas.AttributeValuesQuerySchema),
    Endpoint("post", SYSTEM_PATH + "/clear", "clearConnectorSpace",
             "Remove every object of the system's connector space (not while it is being imported)", IMPORT_TAG,
             (*BODY, *ADMINISTRATOR, 404, 409, *STORE), body=schemas.NoOptionsSchema, body_required=False,
             query=schemas.ClearQuerySchema),
    # What a directory told of itself, in JIM's shapes
    Endpoint("get", SYSTEM_PATH + "/capabilities", "getConnectedSystemCapabilities",
             "Facts the connector detected at the last schema import (an LDAP directory's type, vendor, DNS host "
             "name, paging); empty before one, and for other connectors", SYSTEMS_TAG, (*KEY, 404, *STORE),
             schemas.CapabilitySchema(many=True)),
    Endpoint("get", SYSTEM_PATH + "/password-policy", "getConnectedSystemPasswordPolicy",
             "The password policy the last schema import read (Active Directory's domain root); all null but "
             "`fineGrainedPolicySignal` where none was read", SYSTEMS_TAG, (*KEY, 404, *STORE),
             schemas.PasswordPolicySchema),
    Endpoint("get", SYSTEM_PATH + "/directory-servers", "getConnectedSystemDirectoryServers",
             "The domain controllers of an Active Directory or Samba AD directory, asked now with the stored "
             "settings, by host name (an Administrator's, as it binds with the stored password); 400 for another "
             "directory or connector", SYSTEMS_TAG,
             (400, *ADMINISTRATOR, 404, 502, *STORE), schemas.DirectoryServerSchema(many=True)),
    Endpoint("get", SYSTEM_PATH + "/server-certificate", "getConnectedSystemServerCertificate",
             "The certificate the server presents over the stored settings, and the check it fails; nothing is "
             "stored", CERTIFICATE_TAG, (400, *KEY, 404, 502, *STORE), schemas.ServerCertificateSchema),
    Endpoint("post", SYSTEM_PATH + "/server-certificate", "readConnectedSystemServerCertificate",
             "The same read with unsaved settingValues laid over the stored ones; nothing is stored",
             CERTIFICATE_TAG, (*BODY, *ADMINISTRATOR, 404, 502, *STORE), schemas.ServerCertificateSchema,
             body=schemas.ServerCertificateReadSchema(connector=None), body_required=False,
             examples=CERTIFICATE_READ_EXAMPLES),
    Endpoint("post", SYSTEM_PATH + "/server-certificate/trust", "trustConnectedSystemServerCertificate",
             "Read the certificate again and add the one the thumbprint names (the server's own or its issuer's) "
             "to Trusted CA Certificates: 201 Trusted, 200 AlreadyTrusted", CERTIFICATE_TAG,
             (*BODY, *ADMINISTRATOR, 404, 409, 412, 502, *STORE), schemas.TrustResultSchema, 201,
             schemas.ServerCertificateTrustSchema(connector=None), examples=CERTIFICATE_TRUST_EXAMPLES,
             headers=ETAG, more_statuses=(200,), precondition="If-Match"),
    Endpoint("get", SYSTEM_PATH + "/change-history", "getConnectedSystemChangeHistory",
             "The system's configuration versions, newest first, each with its diff against the one before",
             SYSTEMS_TAG, (400, *KEY, 404, *STORE), page_schema(schemas.ChangeHistoryItemSchema),
             query=schemas.PageQuerySchema),
    Endpoint("get", SYSTEM_PATH + "/change-history/{changeVersion}", "getConnectedSystemChange",
             "One version: the whole configuration it left, and its diff against the one before", SYSTEMS_TAG,
             (*KEY, 404, *STORE), schemas.ChangeDetailSchema),
    Endpoint("get", SYSTEM_PATH + "/change-history/compare", "compareConnectedSystemChanges",
             "Any two versions compared", SYSTEMS_TAG, (400, *KEY, 404, *STORE), schemas.DiffSchema,
             query=schemas.CompareQuerySchema),
    Endpoint("get", SYSTEM_PATH + "/history", "getConnectedSystemHistory",
             "The system's change history, newest first; a deleted system's stays readable", SYSTEMS_TAG,
             (400, *KEY, 404, *STORE), page_schema(schemas.ChangeRecordSchema), query=schemas.PageQuerySchema),
    # API keys and who is calling
    Endpoint("get", "/userinfo", "getUserInfo", "Who the key calling is, and its role", KEYS_TAG, (*KEY, *STORE),
             schemas.UserInfoSchema),
    Endpoint("get", "/apikeys", "listApiKeys", "Every API key, never the key itself", KEYS_TAG,
             (*ADMINISTRATOR, *STORE), schemas.ApiKeySchema(many=True)),
    Endpoint("post", "/apikeys", "createApiKey", "Create an API key in JIM's format; the key is shown this once",
             KEYS_TAG, (*BODY, *ADMINISTRATOR, *STORE), schemas.ApiKeyCreatedSchema, 201, schemas.ApiKeyCreateSchema,
             examples=API_KEY_EXAMPLES, headers={"Location": "The new key's address."}),
    Endpoint("get", "/apikeys/{apiKeyId}", "getApiKey", "An API key, never the key itself", KEYS_TAG,
             (*ADMINISTRATOR, 404, *STORE), schemas.ApiKeySchema),
    Endpoint("put", "/apikeys/{apiKeyId}", "updateApiKey",
             "Change an API key: only the fields given; never the infrastructure key, never the last working "
             "Administrator key out of that role", KEYS_TAG, (*BODY, *ADMINISTRATOR, 404, 409, *STORE),
             schemas.ApiKeySchema, body=schemas.ApiKeyUpdateSchema, examples=API_KEY_UPDATE_EXAMPLES),
    Endpoint("delete", "/apikeys/{apiKeyId}", "deleteApiKey",
             "Delete an API key: never the infrastructure key, nor the last working Administrator key", KEYS_TAG,
             (400, *ADMINISTRATOR, 404, 409, *STORE), status=204, query=schemas.ApiKeyDeleteQuerySchema),
)

PARAMETERS = {
    "connectedSystemId": "The connected system's id.",
    "connectorDefinitionId": "The connector definition's id.",
    "objectTypeId": "The object type's id, one of the system's.",
    "attributeId": "The attribute's id, one of the object type's.",
    "partitionId": "The partition's id, one of the system's.",
    "containerId": "The container's id, one of the system's.",
    "runProfileId": "The run profile's id, one of the system's.",
    "activityId": "The activity's id (a GUID), as execute answers it.",
    "objectId": "The connector space object's id (a GUID).",
    "attributeName": "The attribute's name, in any case.",
    "changeVersion": "A version of the system's configuration: its ETag's number after the change.",
    "connectorName": "The connector definition's name, exactly (`JIM LDAP Connector`).",
    "apiKeyId": "The API key's id, a GUID.",
}
ID_PARAMETER = {"schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": ID_MAX}, "example": 1}
# The path parameters that are not ids.
TEXT_PARAMETERS = {
    "connectorName": {"schema": {"type": "string", "minLength": 1}, "example": "JIM LDAP Connector"},
    "activityId": {"schema": {"type": "string", "format": "uuid"}},
    "objectId": {"schema": {"type": "string", "format": "uuid"}},
    "attributeName": {"schema": {"type": "string", "minLength": 1}, "example": "name"},
    "apiKeyId": {"schema": {"type": "string", "format": "uuid"}, "example": "3fa85f64-5717-4562-b3fc-2c963f66afa6"},
}

# The value object of a settingValues entry in a request: one key, chosen by the setting's type.
VALUE_SCHEMAS = {
    "stringValue": {
        "type": "string",
        "maxLength": schemas.SETTING_STRING_MAX,
        "pattern": schemas.allowed_characters(multiline=True),
        "description": "String, StringEncrypted, Text, DropDown and File settings; line breaks, tabs and "
                       "bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) only in Text; "
                       "a DropDown's value is one of its allowed values.",
    },
    "intValue": {"type": "integer", "format": "int32", "minimum": schemas.INT32_MIN, "maximum": schemas.INT32_MAX,
                 "description": "Integer settings."},
    "checkboxValue": {"type": "boolean", "description": "CheckBox settings."},
}


def setting_value_input() -> dict:
    types = {key: sorted(str(t) for t, k in VALUE_KEYS.items() if k == key) for key in VALUE_SCHEMAS}
    return {
        "description": "Exactly one of these keys, the one the setting's type takes; null clears the setting.",
        "oneOf": [
            {
                "title": f"{key} ({', '.join(types[key])})",
                "type": "object",
                "properties": {key: {**schema, "nullable": True}},
                "required": [key],
                "additionalProperties": False,
            }
            for key, schema in VALUE_SCHEMAS.items()
        ],
    }


def custom_fields(self, field, **kwargs) -> dict:
    """What apispec cannot see in schemas.py's own fields: their rules live in code, not validators."""
    if isinstance(field, schemas.SettingValues):
        return {
            "type": "object",
            "description": "Setting id (a decimal integer, as a string) to its new value. Ids and types are the "
                           "connector's: see the connector definitions.",
            "additionalProperties": {"$ref": "#/components/schemas/SettingValueInput"},
        }
    if isinstance(field, schemas.AttributeEdits):
        return {
            "type": "object",
            "description": "Attribute id (a decimal integer, as a string) to the fields to change.",
            "additionalProperties": {"$ref": "#/components/schemas/AttributeUpdate"},
        }
    if isinstance(field, schemas.TimeSpan):
        return {"type": "string", "pattern": f"^{schemas.TIMESPAN.pattern}$", "example": "7.00:00:00",
                "description": "A .NET TimeSpan, [d.]hh:mm:ss[.fffffff], longer than zero; null: JIM's default of "
                               "seven days."}
    if isinstance(field, schemas.AnyCaseChoice):
        return {"type": "string", "enum": list(field.choices), "description": "In any case; answered in this one."}
    if isinstance(field, schemas.Unchangeable):
        return {"description": f"Refused whatever its value: {field.message}"}
    if isinstance(field, fields.Constant):
        return constant(field.constant)
    if isinstance(field, fields.Enum):  # apispec lists the values but names no type
        return {"type": "string"} if issubclass(field.enum, str) or not field.by_value else {}
    if not isinstance(field, schemas.CleanString):
        return {}
    properties = {"maxLength": field.max_length, "pattern": field.pattern}
    if isinstance(field, schemas.Name):
        properties.update(minLength=1, description="At least one letter, number, punctuation mark or symbol: not "
                                                   "only white space or invisible characters.")
    return properties


def constant(value) -> dict:
    if value is None:  # a field kept for JIM's shape that this service always leaves empty
        return {"type": "string", "nullable": True, "enum": [None]}
    if value == []:  # a list of JIM's that this service has nothing to put in (a built-in connector's files)
        return {"type": "array", "items": {}, "maxItems": 0}
    if value == {}:  # a map of JIM's shape that this service leaves empty
        return {"type": "object", "maxProperties": 0}
    json_type = {bool: "boolean", int: "integer", str: "string"}[type(value)]
    return {"type": json_type, "enum": [value]}


def build_document(version: str) -> dict:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=TITLE,
        version=version,
        openapi_version="3.0.3",
        plugins=[plugin],
        info={"description": "The Connected Systems configuration API of JIM. Send an API key in `X-Api-Key`."},
        servers=[{"url": "/api/v1"}],
        security=[{"ApiKey": []}],
    )
    plugin.converter.map_to_openapi_type(schemas.UTCTimestamp, "string", "date-time")
    plugin.converter.add_attribute_function(custom_fields)
    spec.components.security_scheme("ApiKey", {"type": "apiKey", "in": "header", "name": "X-Api-Key"})
    spec.components.schema("SettingValueInput", setting_value_input())
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    for status, response in ERRORS.items():
        spec.components.response(str(status), {
            "description": response.description,
            "headers": headers(response.headers),
            "content": {"application/json": {"schema": "Error"}},
        })
    paths: dict[str, dict] = {}
    for endpoint in ENDPOINTS:
        paths.setdefault(endpoint.path, {})[endpoint.method] = operation(endpoint)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def headers(described: dict) -> dict:
    return {name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in described.items()}


def operation(endpoint: Endpoint) -> dict:
    success = {"description": endpoint.summary, "headers": headers(endpoint.headers)}
    if endpoint.links:
        success["links"] = endpoint.links
    if endpoint.answer is not None:
        success["content"] = {"application/json": {"schema": endpoint.answer}}
    parameters = [
        {"in": "path", "name": name, "required": True, "description": PARAMETERS[name],
         **TEXT_PARAMETERS.get(name, ID_PARAMETER)}
        for name in endpoint.path_parameters
    ]
    if endpoint.query is not None:
        parameters.append({"in": "query", "schema": endpoint.query})
    if endpoint.precondition is not None:
        parameters.append({"in": "header", "name": endpoint.precondition, "required": False,
                           "description": PRECONDITIONS[endpoint.precondition], "schema": {"type": "string"}})
    result = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": parameters,
        "responses": {**{str(status): success for status in (endpoint.status, *endpoint.more_statuses)},
                      **{str(status): str(status) for status in endpoint.errors}},
    }
    if endpoint.precondition == "If-None-Match":
        result["responses"]["304"] = {"description": "Unchanged since the tag given; no body.",
                                      "headers": headers(ETAG)}
    if endpoint.body is not None:
        result["requestBody"] = {
            "required": endpoint.body_required,
            "content": {"application/json": {"schema": endpoint.body, "examples": endpoint.examples}},
        }
    if endpoint.public:
        result["security"] = []
    return result


docs = Blueprint("docs", __name__)


@docs.get(DOCUMENT_URL)
def document():
    return jsonify(current_app.extensions["jim_openapi"])


def init_app(app, version: str):
    app.extensions["jim_openapi"] = build_document(version)
    app.register_blueprint(docs)
    # Every asset comes from the flask-swagger-ui package, so the page works without internet access;
    # validatorUrl null keeps Swagger UI from sending the document to an outside validator.
    app.register_blueprint(get_swaggerui_blueprint(
        SWAGGER_URL, DOCUMENT_URL, config={"app_name": TITLE, "validatorUrl": None},
    ))
