"""The JIM PowerShell module's cmdlets, as the requests they send (TetronIO/JIM, src/JIM.PowerShell/Public/).

Each function is one cmdlet, named after it: it builds its requests as the cmdlet's ``.ps1`` does (method,
path, query, body, which parameters it sends only when given) and sends them as the module's private
``Invoke-JIMApi`` does: ``Accept: application/json``, the key in ``X-API-Key``, ``Content-Type:
application/json``, the body as ``ConvertTo-Json -Depth 10`` writes it. It returns what the cmdlet outputs,
and raises ``CmdletError`` with the message the cmdlet shows when the service refuses. Tests then check what
the cmdlet reads from the answer. ``UNSET`` stands for a parameter not given (``$PSBoundParameters`` lacks it).

``MODULE_CMDLETS`` lists the module's connected-system, run-profile, API-key, connector-definition, history
and connection cmdlets as of the commit named below; the README's compatibility table lists each with its test
or the reason it cannot work, and ``test_cmdlets`` holds the two in step.
"""
import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import quote

MODULE_COMMIT = "199d33b3836910b2e7b1e88f2d969298126ad4ff"  # TetronIO/JIM, 2026-08-22
MODULE_CMDLETS = {
    "ApiKeys": ("Get-JIMApiKey", "New-JIMApiKey", "Remove-JIMApiKey", "Set-JIMApiKey"),
    "Certificates": ("Add-JIMCertificate", "Export-JIMCertificate", "Get-JIMCertificate", "Remove-JIMCertificate",
                     "Set-JIMCertificate", "Test-JIMCertificate"),
    "ConnectedSystems": (
        "Approve-JIMConnectedSystemServerCertificate", "Clear-JIMConnectedSystem", "Get-JIMConnectedSystem",
        "Get-JIMConnectedSystemCapability", "Get-JIMConnectedSystemContainerScopeText",
        "Get-JIMConnectedSystemDeletionPreview", "Get-JIMConnectedSystemDirectoryServer",
        "Get-JIMConnectedSystemObject", "Get-JIMConnectedSystemObjectAttributeValue",
        "Get-JIMConnectedSystemObjectChangeHistory", "Get-JIMConnectedSystemObjectType",
        "Get-JIMConnectedSystemPartition", "Get-JIMConnectedSystemPasswordPolicy",
        "Get-JIMConnectedSystemPasswordSynchronisation", "Get-JIMConnectedSystemServerCertificate",
        "Get-JIMConnectedSystemUnresolvedReferenceCount", "Get-JIMPendingExport",
        "Import-JIMConnectedSystemHierarchy", "Import-JIMConnectedSystemSchema", "New-JIMConnectedSystem",
        "Remove-JIMConnectedSystem", "Set-JIMConnectedSystem", "Set-JIMConnectedSystemAttribute",
        "Set-JIMConnectedSystemContainer", "Set-JIMConnectedSystemContainerScopeText",
        "Set-JIMConnectedSystemObjectPassword", "Set-JIMConnectedSystemObjectType",
        "Set-JIMConnectedSystemPartition", "Set-JIMConnectedSystemPasswordSynchronisation",
    ),
    "Connection": ("Connect-JIM", "Disconnect-JIM", "Test-JIMConnection"),
    "History": ("Get-JIMConfigurationChangeHistory",),
    "RunProfiles": ("Get-JIMRunProfile", "New-JIMRunProfile", "Remove-JIMRunProfile", "Set-JIMRunProfile",
                    "Start-JIMRunProfile"),
    "Synchronisation": ("Get-JIMConnectorDefinition",),
    "System": ("Get-JIMHealth", "Get-JIMUserInfo", "Get-JIMVersion"),
}

UNSET = object()
SYSTEMS = "/api/v1/synchronisation/connected-systems"
DEFINITIONS = "/api/v1/synchronisation/connector-definitions"
JSON_DEPTH = 10  # ConvertTo-Json -Depth 10


class CmdletError(Exception):
    """What a cmdlet shows when the service refuses: Invoke-JIMApi's message, with the answer kept for tests."""

    def __init__(self, message: str, status: int, body):
        super().__init__(message)
        self.status = status
        self.body = body


def convert_to_json(value, depth: int = 0):
    """``ConvertTo-Json -Depth 10``: indented by two spaces; past the depth, an object becomes its type name."""
    return json.dumps(truncated(value, depth), indent=2, ensure_ascii=False)


def truncated(value, depth: int):
    if isinstance(value, dict):
        if depth >= JSON_DEPTH:
            return "System.Collections.Hashtable"
        return {str(key): truncated(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if depth >= JSON_DEPTH:
            return " ".join(map(str, value))
        return [truncated(item, depth + 1) for item in value]
    return value


def escape_data_string(value: str) -> str:
    """``[System.Uri]::EscapeDataString``: everything but RFC 3986's unreserved characters."""
    return quote(value, safe="")


def is_truthy(body) -> bool:
    """PowerShell's ``if ($Body)``: a hashtable is true even when empty; an empty string or array is not."""
    return isinstance(body, dict) or bool(body)


@dataclass
class Session:
    """``$script:JIMConnection`` after ``Connect-JIM -Url ... -ApiKey ...``: a Flask test client and the key."""

    client: object
    api_key: str

    def invoke(self, endpoint: str, method: str = "GET", body=None):
        """``Invoke-JIMApi``: the answer's JSON (None for an empty answer), or ``CmdletError``."""
        headers = {"Accept": "application/json", "X-API-Key": self.api_key}
        data = None
        if is_truthy(body):
            data = body if isinstance(body, str) else convert_to_json(body)
        response = self.client.open(endpoint, method=method, data=data, headers=headers,
                                    content_type="application/json")
        return answer(response)


def answer(response):
    """What ``Invoke-RestMethod -MaximumRedirection 0`` and Invoke-JIMApi's error handling make of a response."""
    text = response.get_data(as_text=True)
    parsed = json.loads(text) if text.strip() else None
    status = response.status_code
    if status < 300:
        return parsed
    message = text
    if isinstance(parsed, dict):
        message = parsed.get("message") or parsed.get("Message") or text
        details = [f"  - {field}: {problem}" for field, problems in (parsed.get("validationErrors") or {}).items()
                   for problem in problems]
        if details:
            message = message + "\n" + "\n".join(details)
    if status == 401:
        message = "Authentication failed. Your API key may be invalid or expired. Use Connect-JIM to reconnect."
    elif status == 403:
        message = "Access denied. You are authenticated but not authorised to perform this operation."
    elif status == 404:
        message = f"Resource not found: {message}"
    else:
        message = f"JIM API error ({status}): {message}"
    raise CmdletError(message, status, parsed)


def anonymous(client, endpoint: str):
    """``Invoke-RestMethod -Uri $uri -Method GET -Headers @{Accept = 'application/json'}``: the health cmdlets
    call the service without a key."""
    return answer(client.get(endpoint, headers={"Accept": "application/json"}))


def items(answer_) -> list:
    """PowerShell enumerates an array answer; ``$null`` (an empty answer) enumerates to nothing."""
    if answer_ is None:
        return []
    return answer_ if isinstance(answer_, list) else [answer_]


# Connection and System


def connect_jim(client, api_key: str) -> tuple[Session, dict]:
    """Connect-JIM -Url ... -ApiKey ...: GET /health (the connection test), then Get-JIMServerVersion."""
    session = Session(client, api_key)
    health = session.invoke("/api/v1/health")
    try:
        version = session.invoke("/api/v1/health/version")["version"]
    except CmdletError:
        version = None  # Get-JIMServerVersion: "Could not retrieve server version"
    preview = api_key[:8] + "..." + api_key[-4:] if len(api_key) > 12 else "***"
    shown = {"AuthMethod": "ApiKey", "ApiKey": preview, "Connected": True, "ServerVersion": version,
             "Authorised": True, "Status": (health or {}).get("status") or "Connected"}
    return session, shown


def test_jim_connection(session: Session) -> dict:
    """Test-JIMConnection: GET /health; Status is the answer's status."""
    try:
        health = session.invoke("/api/v1/health")
    except CmdletError as error:
        return {"Connected": False, "Status": "Error", "Message": str(error)}
    return {"Connected": True, "Status": (health or {}).get("status") or "Healthy", "Message": "Connection successful"}


test_jim_connection.__test__ = False  # a cmdlet, not a pytest test


def get_jim_health(client, ready: bool = False, live: bool = False):
    """Get-JIMHealth [-Ready | -Live]: anonymous."""
    endpoint = "/api/v1/health/ready" if ready else "/api/v1/health/live" if live else "/api/v1/health"
    return anonymous(client, endpoint)


def get_jim_version(client):
    """Get-JIMVersion: anonymous GET /health/version."""
    return anonymous(client, "/api/v1/health/version")


def get_jim_user_info(session: Session):
    """Get-JIMUserInfo."""
    return session.invoke("/api/v1/userinfo")


# Connector definitions


def get_jim_connector_definition(session: Session, id: int | None = None, name: str | None = None):
    """Get-JIMConnectorDefinition [-Id | -Name]: the list is output one definition at a time."""
    if id is not None:
        return session.invoke(f"{DEFINITIONS}/{id}")
    if name is not None:
        return session.invoke(f"{DEFINITIONS}/by-name/{escape_data_string(name)}")
    return items(session.invoke(DEFINITIONS))


# Connected systems


def get_jim_connected_system(session: Session, id: int | None = None, name: str | None = None,
                             object_types: bool = False, deletion_preview: bool = False):
    """Get-JIMConnectedSystem [-Id [-ObjectTypes | -DeletionPreview]] [-Name pattern]: the list reads the
    first page's ``items`` and filters them with ``-like``."""
    if id is not None:
        suffix = "/object-types" if object_types else "/deletion-preview" if deletion_preview else ""
        return session.invoke(f"{SYSTEMS}/{id}{suffix}")
    response = session.invoke(SYSTEMS)
    found = response["items"] if isinstance(response, dict) and response.get("items") is not None else items(response)
    if name:
        found = [system for system in found if like(system["name"], name)]
    return found


def like(value: str, pattern: str) -> bool:
    """PowerShell's ``-like``: a case-insensitive wildcard match."""
    return fnmatchcase(value.lower(), pattern.lower())


def new_jim_connected_system(session: Session, name: str, connector_definition_id: int, description: str = "",
                             change_reason=UNSET, pass_thru: bool = True):
    """New-JIMConnectedSystem -Name -ConnectorDefinitionId [-Description] [-ChangeReason] -PassThru."""
    body = {"name": name, "connectorDefinitionId": connector_definition_id}
    if description:
        body["description"] = description
    if change_reason is not UNSET:
        body["changeReason"] = change_reason
    result = session.invoke(SYSTEMS, "POST", body)
    return result if pass_thru else None


def set_jim_connected_system(session: Session, id: int, name: str = "", description=UNSET, setting_values=None,
                             max_export_parallelism=UNSET, require_secure_transport=UNSET,
                             initial_password_time_to_live=UNSET, unresolved_reference_handling=UNSET,
                             change_reason=UNSET, pass_thru: bool = True):
    """Set-JIMConnectedSystem: ``setting_values`` is the caller's hashtable (keys made strings, as the cmdlet
    does); ``initial_password_time_to_live`` a string in TimeSpan's "c" format. Nothing to send: no request."""
    body = {}
    if name:
        body["name"] = name
    if description is not UNSET:
        body["description"] = description
    if setting_values:
        body["settingValues"] = {str(key): value for key, value in setting_values.items()}
    if max_export_parallelism is not UNSET:
        body["maxExportParallelism"] = max_export_parallelism
    if require_secure_transport is not UNSET:
        body["requireSecureTransport"] = bool(require_secure_transport)
    if initial_password_time_to_live is not UNSET:
        body["initialPasswordTimeToLive"] = initial_password_time_to_live
    if unresolved_reference_handling is not UNSET:
        body["unresolvedReferenceHandling"] = unresolved_reference_handling
    if not body:
        return None  # Write-Warning "No updates specified."
    if change_reason is not UNSET:
        body["changeReason"] = change_reason
    result = session.invoke(f"{SYSTEMS}/{id}", "PUT", body)
    return result if pass_thru else None


def remove_jim_connected_system(session: Session, id: int, change_reason=UNSET):
    """Remove-JIMConnectedSystem -Id -Force [-ChangeReason]: reads the name first (a failure there is only
    shown), then DELETE, with the reason in the query."""
    try:
        session.invoke(f"{SYSTEMS}/{id}")
    except CmdletError:
        pass
    endpoint = f"{SYSTEMS}/{id}"
    if change_reason is not UNSET:
        endpoint += f"?changeReason={escape_data_string(change_reason)}"
    return session.invoke(endpoint, "DELETE")


def get_jim_connected_system_deletion_preview(session: Session, connected_system_id: int) -> dict:
    """Get-JIMConnectedSystemDeletionPreview -ConnectedSystemId."""
    return session.invoke(f"{SYSTEMS}/{connected_system_id}/deletion-preview")


def import_jim_connected_system_schema(session: Session, id: int, preview: bool = False,
                                       disable_dependents: bool = False, remove_dependents: bool = False):
    """Import-JIMConnectedSystemSchema -Id [-Preview] [-DisableDependents | -RemoveDependents] -PassThru:
    the cmdlet counts the answer's ``objectTypes``."""
    if disable_dependents and remove_dependents:
        raise ValueError("-DisableDependents and -RemoveDependents are mutually exclusive")
    if preview:
        return session.invoke(f"{SYSTEMS}/{id}/import-schema/preview", "POST")
    body = None
    if disable_dependents:
        body = {"disableDependents": True}
    if remove_dependents:
        body = {"removeDependents": True}
    return session.invoke(f"{SYSTEMS}/{id}/import-schema", "POST", body)


def import_jim_connected_system_hierarchy(session: Session, id: int):
    """Import-JIMConnectedSystemHierarchy -Id -PassThru."""
    return session.invoke(f"{SYSTEMS}/{id}/import-hierarchy", "POST")


def get_jim_connected_system_object_type(session: Session, connected_system_id: int, include_internal=False):
    """Get-JIMConnectedSystemObjectType: internal types are hidden unless selected or asked for."""
    found = items(session.invoke(f"{SYSTEMS}/{connected_system_id}/object-types"))
    return [t for t in found if include_internal or not t.get("isInternal") or t.get("selected")]


def set_jim_connected_system_object_type(session: Session, connected_system_id: int, object_type_id: int,
                                         selected=UNSET, remove_contributed_attributes_on_obsoletion=UNSET):
    """Set-JIMConnectedSystemObjectType -PassThru."""
    body = {}
    if selected is not UNSET:
        body["selected"] = selected
    if remove_contributed_attributes_on_obsoletion is not UNSET:
        body["removeContributedAttributesOnObsoletion"] = remove_contributed_attributes_on_obsoletion
    if not body:
        return None
    return session.invoke(f"{SYSTEMS}/{connected_system_id}/object-types/{object_type_id}", "PUT", body)


def set_jim_connected_system_attribute(session: Session, connected_system_id: int, object_type_id: int,
                                       attribute_id: int | None = None, attribute_updates: dict | None = None,
                                       selected=UNSET, is_external_id=UNSET, is_secondary_external_id=UNSET,
                                       type=UNSET):
    """Set-JIMConnectedSystemAttribute, single (-AttributeId) or bulk (-AttributeUpdates) -PassThru."""
    base = f"{SYSTEMS}/{connected_system_id}/object-types/{object_type_id}/attributes"
    if attribute_updates is not None:
        if not attribute_updates:
            return None
        body = {"attributes": {str(key): value for key, value in attribute_updates.items()}}
        return session.invoke(base, "PUT", body)
    body = {}
    for key, value in (("selected", selected), ("isExternalId", is_external_id),
                       ("isSecondaryExternalId", is_secondary_external_id)):
        if value is not UNSET:
            body[key] = value
    if type is not UNSET:
        body["type"] = "Number" if type == "Integer" else type
    if not body:
        return None
    return session.invoke(f"{base}/{attribute_id}", "PUT", body)


def get_jim_connected_system_partition(session: Session, connected_system_id: int) -> list:
    """Get-JIMConnectedSystemPartition."""
    return items(session.invoke(f"{SYSTEMS}/{connected_system_id}/partitions"))


def set_jim_connected_system_partition(session: Session, connected_system_id: int, partition_id: int,
                                       selected=UNSET):
    """Set-JIMConnectedSystemPartition -PassThru."""
    if selected is UNSET:
        return None
    body = {"selected": selected}
    return session.invoke(f"{SYSTEMS}/{connected_system_id}/partitions/{partition_id}", "PUT", body)


def set_jim_connected_system_container(session: Session, connected_system_id: int, container_id: int,
                                       selected=UNSET, excluded=UNSET, scope=UNSET):
    """Set-JIMConnectedSystemContainer -PassThru."""
    body = {}
    for key, value in (("selected", selected), ("excluded", excluded), ("scope", scope)):
        if value is not UNSET:
            body[key] = value
    if not body:
        return None
    return session.invoke(f"{SYSTEMS}/{connected_system_id}/containers/{container_id}", "PUT", body)


def get_jim_connected_system_container_scope_text(session: Session, connected_system_id: int) -> str:
    """Get-JIMConnectedSystemContainerScopeText: outputs the answer's text."""
    return session.invoke(f"{SYSTEMS}/{connected_system_id}/container-scope-text")["text"]


def set_jim_connected_system_container_scope_text(session: Session, connected_system_id: int, text: str) -> str:
    """Set-JIMConnectedSystemContainerScopeText -PassThru: outputs the canonical text answered."""
    body = {"text": text}
    return session.invoke(f"{SYSTEMS}/{connected_system_id}/container-scope-text", "PUT", body)["text"]


def get_jim_configuration_change_history(session: Session, id: int, page: int = 1, page_size: int = 20,
                                         version: int | None = None, compare_from: int | None = None,
                                         compare_to: int | None = None):
    """Get-JIMConfigurationChangeHistory -Type ConnectedSystem -Id [-Page -PageSize | -Version | -CompareFrom
    -CompareTo]: a page's items one at a time, a version's detail, or the comparison."""
    base = f"{SYSTEMS}/{id}/change-history"
    if version is not None:
        return session.invoke(f"{base}/{version}")
    if compare_from is not None:
        return session.invoke(f"{base}/compare?fromVersion={compare_from}&toVersion={compare_to}")
    return session.invoke(f"{base}?page={page}&pageSize={page_size}")["items"]


# Server certificate


def convert_to_jim_setting_value_updates(setting_values: dict) -> dict:
    """ConvertTo-JIMSettingValueUpdates: each value under the key its .NET type picks (a bool is no int there)."""
    def shaped(value):
        if isinstance(value, bool):
            return {"checkboxValue": value}
        if isinstance(value, int):
            return {"intValue": value}
        return {"stringValue": str(value)}
    return {str(key): shaped(value) for key, value in setting_values.items()}


def get_jim_connected_system_server_certificate(session: Session, connected_system_id: int, setting_values=UNSET):
    """Get-JIMConnectedSystemServerCertificate [-SettingValues]: GET, or the POST when unsaved values are given."""
    endpoint = f"{SYSTEMS}/{connected_system_id}/server-certificate"
    if setting_values is UNSET:
        return session.invoke(endpoint)
    return session.invoke(endpoint, "POST", {"settingValues": convert_to_jim_setting_value_updates(setting_values)})


def approve_jim_connected_system_server_certificate(session: Session, connected_system_id: int, thumbprint: str,
                                                    change_reason: str = "", setting_values=UNSET,
                                                    pass_thru: bool = False):
    """Approve-JIMConnectedSystemServerCertificate -Thumbprint [-ChangeReason] [-SettingValues] [-PassThru]."""
    body = {"thumbprint": thumbprint}
    if change_reason:
        body["changeReason"] = change_reason
    if setting_values is not UNSET:
        body["settingValues"] = convert_to_jim_setting_value_updates(setting_values)
    response = session.invoke(f"{SYSTEMS}/{connected_system_id}/server-certificate/trust", "POST", body)
    return response if pass_thru else None


# Run profiles


def get_jim_run_profile(session: Session, connected_system_id: int, name: str | None = None) -> list:
    """Get-JIMRunProfile -ConnectedSystemId [-Name pattern]: each profile output with ConnectedSystemId added."""
    found = items(session.invoke(f"{SYSTEMS}/{connected_system_id}/run-profiles"))
    if name:
        found = [profile for profile in found if like(profile["name"], name)]
    return [{**profile, "ConnectedSystemId": connected_system_id} for profile in found]


def new_jim_run_profile(session: Session, connected_system_id: int, name: str, run_type: str, page_size: int = 100,
                        partition_id=UNSET, file_path: str = "", verify_import_content_hashes: bool = False):
    """New-JIMRunProfile -PassThru: pageSize always (its default 100); -VerifyImportContentHashes is a switch."""
    body = {"name": name, "runType": run_type, "pageSize": page_size}
    if partition_id is not UNSET:
        body["partitionId"] = partition_id
    if file_path:
        body["filePath"] = file_path
    if verify_import_content_hashes:
        body["verifyImportContentHashes"] = True
    result = session.invoke(f"{SYSTEMS}/{connected_system_id}/run-profiles", "POST", body)
    return {**result, "ConnectedSystemId": connected_system_id}


def set_jim_run_profile(session: Session, connected_system_id: int, run_profile_id: int, name: str = "",
                        page_size=UNSET, partition_id=UNSET, file_path=UNSET, verify_import_content_hashes=UNSET):
    """Set-JIMRunProfile -PassThru: only the parameters given (-FilePath '' too); none given, no request."""
    body = {}
    if name:
        body["name"] = name
    for key, value in (("pageSize", page_size), ("partitionId", partition_id), ("filePath", file_path),
                       ("verifyImportContentHashes", verify_import_content_hashes)):
        if value is not UNSET:
            body[key] = value
    if not body:
        return None  # Write-Warning "No updates specified."
    result = session.invoke(f"{SYSTEMS}/{connected_system_id}/run-profiles/{run_profile_id}", "PUT", body)
    return {**result, "ConnectedSystemId": connected_system_id}


def remove_jim_run_profile(session: Session, connected_system_id: int, run_profile_id: int):
    """Remove-JIMRunProfile -Force -PassThru: finds the profile in the list (not there: the cmdlet stops with
    "Run Profile not found"), then DELETE; outputs the profile as listed."""
    profiles = items(session.invoke(f"{SYSTEMS}/{connected_system_id}/run-profiles"))
    existing = next((profile for profile in profiles if profile["id"] == run_profile_id), None)
    if existing is None:
        raise CmdletError(f"Run Profile not found: {run_profile_id}", 404, None)
    session.invoke(f"{SYSTEMS}/{connected_system_id}/run-profiles/{run_profile_id}", "DELETE")
    return existing


# API keys


def get_jim_api_key(session: Session, id: str | None = None, name: str | None = None):
    """Get-JIMApiKey [-Id guid | -Name pattern]."""
    if id is not None:
        return session.invoke(f"/api/v1/apikeys/{id}")
    found = items(session.invoke("/api/v1/apikeys"))
    if name:
        found = [key for key in found if like(key["name"], name)]
    return found


def new_jim_api_key(session: Session, name: str, description: str = "", role_ids=(), expires_at=UNSET,
                    change_reason: str = ""):
    """New-JIMApiKey -Name [-Description] [-RoleIds] [-ExpiresAt] [-ChangeReason] -PassThru; ``expires_at`` an
    aware datetime, sent as ``ToUniversalTime().ToString('o')`` (seven fractional digits and Z)."""
    body = {"name": name, "roleIds": list(role_ids)}
    if description:
        body["description"] = description
    if expires_at is not UNSET:
        body["expiresAt"] = round_trip(expires_at)
    if change_reason:
        body["changeReason"] = change_reason
    return session.invoke("/api/v1/apikeys", "POST", body)


def round_trip(moment) -> str:
    """.NET's "o" format of a UTC DateTime: 2026-12-03T07:00:00.0000000Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def set_jim_api_key(session: Session, id: str, name: str = "", description=UNSET, role_ids=UNSET,
                    expires_at=UNSET, enable: bool = False, disable: bool = False, change_reason: str = ""):
    """Set-JIMApiKey -Id [-Name] [-Description] [-RoleIds] [-ExpiresAt] [-Enable | -Disable] -PassThru: reads
    the key, then PUTs every field, the ones not given as they were read. ``expires_at=None`` removes the
    expiry."""
    existing = session.invoke(f"/api/v1/apikeys/{id}")
    body = {
        "name": name or existing["name"],
        "description": existing["description"] if description is UNSET else description,
        "roleIds": [role["id"] for role in existing["roles"]] if role_ids is UNSET else list(role_ids),
        "isEnabled": existing["isEnabled"],
    }
    if expires_at is UNSET:
        body["expiresAt"] = existing["expiresAt"]
    else:
        body["expiresAt"] = round_trip(expires_at) if expires_at else None
    if enable:
        body["isEnabled"] = True
    elif disable:
        body["isEnabled"] = False
    if change_reason:
        body["changeReason"] = change_reason
    return session.invoke(f"/api/v1/apikeys/{id}", "PUT", body)


def remove_jim_api_key(session: Session, id: str, change_reason: str = ""):
    """Remove-JIMApiKey -Id -Force -PassThru: reads the key (not found: the cmdlet stops), then DELETE; outputs
    the key as read."""
    existing = session.invoke(f"/api/v1/apikeys/{id}")
    endpoint = f"/api/v1/apikeys/{id}"
    if change_reason:
        endpoint += f"?changeReason={escape_data_string(change_reason)}"
    session.invoke(endpoint, "DELETE")
    return existing


# What the connector learns of its system (issue 19)


def get_jim_connected_system_capability(session: Session, connected_system_id: int) -> list:
    """Get-JIMConnectedSystemCapability: output one capability at a time."""
    return items(session.invoke(f"{SYSTEMS}/{connected_system_id}/capabilities"))


def get_jim_connected_system_password_policy(session: Session, id: int):
    """Get-JIMConnectedSystemPasswordPolicy -Id."""
    return session.invoke(f"{SYSTEMS}/{id}/password-policy", "GET")


def get_jim_connected_system_directory_server(session: Session, connected_system_id: int) -> list:
    """Get-JIMConnectedSystemDirectoryServer: output one domain controller at a time."""
    return items(session.invoke(f"{SYSTEMS}/{connected_system_id}/directory-servers"))


def clear_jim_connected_system(session: Session, id: int, keep_change_history: bool = False):
    """Clear-JIMConnectedSystem -Id -Force [-KeepChangeHistory]: reads the name first (a failure there is only
    shown), then POSTs with no body."""
    try:
        session.invoke(f"{SYSTEMS}/{id}")
    except CmdletError:
        pass
    delete_change_history = "false" if keep_change_history else "true"
    return session.invoke(f"{SYSTEMS}/{id}/clear?deleteChangeHistory={delete_change_history}", "POST")


# Running a run profile, and what it read (issue 22)

FINISHED = ("Complete", "CompleteWithWarning", "CompleteWithError", "FailedWithError", "Cancelled")


def start_jim_run_profile(session: Session, connected_system_id: int, run_profile_id: int, wait: bool = False,
                          worker=None, polls: int = 20):
    """Start-JIMRunProfile -ConnectedSystemId -RunProfileId [-Wait]: POST execute; with -Wait, GET the activity's
    progress until its status is a finished one. ``worker`` stands for the service's worker between polls (a
    test runs the queued task there); the cmdlet sleeps instead."""
    response = session.invoke(f"{SYSTEMS}/{connected_system_id}/run-profiles/{run_profile_id}/execute", "POST")
    if not wait:
        return response
    for _ in range(polls):
        if worker is not None:
            worker()
        progress = session.invoke(f"/api/v1/activities/{response['activityId']}/progress")
        if (progress.get("status") or "Running") in FINISHED:
            return progress
    raise TimeoutError(f"Timeout waiting for Run Profile execution. Activity ID: {response['activityId']}.")


def get_jim_connected_system_object(session: Session, connected_system_id: int, id: str | None = None,
                                    count: bool = False, object_type_id: int | None = None, search: str = "",
                                    page: int = 1, page_size: int = 50):
    """Get-JIMConnectedSystemObject: -Id one object; -Count the count ({objectTypeId}); else a page of the list
    (Get-JIMConnectedSystemObjectListEndpoint's query), output one object at a time."""
    base = f"{SYSTEMS}/{connected_system_id}/connector-space"
    if id is not None:
        return session.invoke(f"{base}/{id}")
    if count:
        query = f"?objectTypeId={object_type_id}" if object_type_id is not None else ""
        return session.invoke(f"{base}/count{query}")
    endpoint = f"{base}?page={page}&pageSize={page_size}"
    if search:
        endpoint += f"&search={escape_data_string(search)}"
    if object_type_id:
        endpoint += f"&objectTypeId={object_type_id}"
    return items(session.invoke(endpoint)["items"])


def get_jim_connected_system_object_attribute_value(session: Session, connected_system_id: int, cso_id: str,
                                                    attribute_name: str, search: str = "", page: int = 1,
                                                    page_size: int = 50) -> list:
    """Get-JIMConnectedSystemObjectAttributeValue (a page): output each of the page's ``items``."""
    endpoint = (f"{SYSTEMS}/{connected_system_id}/connector-space/{cso_id}/attributes/"
                f"{escape_data_string(attribute_name)}/values?page={page}&pageSize={page_size}")
    if search:
        endpoint += f"&search={escape_data_string(search)}"
    return items(session.invoke(endpoint)["items"])
