"""Talking to a connected system: its connector's discovery, run with the stored settings.

The settings are checked offline first, and nothing is attempted while they fail. The secrets are
revealed in memory for the one call, which ``connectors.runner`` bounds by JIM_CONNECTOR_TIMEOUT_SECONDS
and scrubs of them. No database transaction or lock is held meanwhile: the import writes its result
afterwards, and refuses it (409) if the settings changed in between. A failed import records that the
settings do not work (``settingValuesValid`` false); a preview records nothing. Either failure is logged at
WARNING with its reason, which holds no secret (the runner scrubbed it; the offline checks never quote one).
"""
import logging
from enum import Enum
from pathlib import Path

from flask import current_app
from marshmallow import ValidationError

import systems
from auth import caller
from connectors import limits, runner
from connectors.interface import ConnectorError, ImportLimits, Settings
from database import db
from encryption import Secret
from errors import BadRequest, Conflict
from history import ChangeAction
from systems import StoredSystem

log = logging.getLogger(__name__)


class Discovery(Enum):
    """What can be discovered: what a connector that cannot is told, how a failed import of it is recorded
    (None: it is no import, and records nothing), and its size check."""

    SCHEMA = ("{connector} has no schema to import.", ChangeAction.SCHEMA_IMPORT_FAILED, limits.check_schema)
    HIERARCHY = ("{connector} has no hierarchy to import: only a directory has partitions and containers.",
                 ChangeAction.HIERARCHY_IMPORT_FAILED, limits.check_hierarchy)
    DIRECTORY_SERVERS = ("The '{connector}' connector does not support directory server discovery.", None,
                         lambda found, most: None)

    def of(self, connector):
        return {Discovery.SCHEMA: connector.discover_schema, Discovery.HIERARCHY: connector.discover_hierarchy,
                Discovery.DIRECTORY_SERVERS: connector.discover_directory_servers}[self]


def settings_for(system: StoredSystem) -> Settings:
    """The system's values as its connector reads them: each secret revealed, here and for this call only."""
    values = {setting_id: value.reveal() if isinstance(value, Secret) else value
              for setting_id, value in system.values.items()}
    secrets = tuple(values[setting_id] for setting_id, value in system.values.items() if isinstance(value, Secret))
    config = current_app.config
    most = ImportLimits(config["JIM_IMPORT_MAX_CONTAINERS"], config["JIM_IMPORT_MAX_OBJECT_TYPES"],
                        config["JIM_IMPORT_MAX_ATTRIBUTES"], config["JIM_IMPORT_MAX_BYTES"])
    return Settings(values, secrets, Path(config["JIM_CONNECTOR_FILES_ROOT"]), current_app.extensions["jim_private_paths"],
                    most)


def discover(system: StoredSystem, what: Discovery, record_failure: bool = True):
    """What the system's connector finds, or the failure, recorded (for an import) unless ``record_failure`` is
    false:
    settings that fail the offline checks are a ValidationError, and the connector's Refused (400) and
    Unreachable (502) pass on as they are."""
    cannot, _, check_size = what.value
    operation = what.of(system.connector)
    if operation is None:
        raise BadRequest(cannot.format(connector=system.connector.name))
    try:
        problems = systems.settings_problems(system)
        if problems:
            raise ValidationError(problems)
        settings = settings_for(system)
        # The request's read ends here: nothing of the store is held while the system takes its time.
        db.session.close()
        found = runner.run(operation, settings, current_app.config["JIM_CONNECTOR_TIMEOUT_SECONDS"])
        check_size(found, settings.limits)  # before anything is written: a system too big is refused, not half imported
        return found
    except (ValidationError, ConnectorError) as error:
        recorded = record_failure and what.value[1] is not None
        doing = "import" if recorded else "import preview" if what.value[1] is not None else "discovery"
        log.warning("The %s %s of connected system %s failed: %s", what.name.lower().replace("_", " "), doing,
                    system.id, reason_of(error), extra={"fields": {"connectedSystemId": system.id}})
        if recorded:
            record_failed_import(system, what)
        raise


def reason_of(error: ValidationError | ConnectorError) -> str:
    if isinstance(error, ConnectorError):
        return error.message
    return " ".join(f"{field}: {' '.join(messages)}" for field, messages in error.messages.items())


def record_failed_import(seen: StoredSystem, what: Discovery):
    """The settings did not work: settingValuesValid false, unless the system changed since it was read (its
    new settings are unvalidated already, and this failure is not theirs)."""
    _, action, _ = what.value
    with systems.writing() as write:
        system = systems.read_locked(write.connection, seen.id)
        if system.version == seen.version:
            systems.save(write, system, systems.validated(system, False), action, caller())


def require_same_settings(seen: StoredSystem, system: StoredSystem):
    """An import's result is written only for the settings it was made with."""
    if system.values != seen.values:
        raise Conflict(f"The settings of connected system {system.id} changed while it was being imported; "
                       "import again.")
