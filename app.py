"""The application factory and the API's routes.

Each route reads as a straight line: authenticate, find the resource, load the body with a schema, apply it
in one transaction, dump the answer with a schema. Errors are raised; ``errors`` answers them.
"""
import json
import logging
import os

from flask import Blueprint, Flask, current_app, g, request, url_for
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import raiseload
from werkzeug.routing import BaseConverter

import auth
import commands
import database
import encryption
import edge
import errors
import history
import openapi
from auth import requires
from connectors import CONNECTORS
from conditional import require_match, stop_if_not_modified, tagged
from config import Config
from database import db, write_transaction
from errors import BadRequest, NotFound, ServiceUnavailable, UnsupportedMediaType
from models import ChangeAction, ConnectedSystem, ConnectorDefinition, Role
from schemas import (
    connected_system_schema,
    connector_definition_schema,
    create_schema,
    health_schema,
    history_page_schema,
    list_query_schema,
    page_of,
    page_query_schema,
    settings_validation_schema,
    summary_page_schema,
    update_schemas,
    version_schema,
)
from systems import apply_update, lock_system, peek_system, read_locked_system, read_system

SERVICE_NAME = "jim-connected-systems"
SERVICE_VERSION = "1.0.0"

log = logging.getLogger(__name__)


class IdConverter(BaseConverter):
    """A positive decimal id. Anything else (abc, -1, 0, 01, 20 digits or more) matches no route: 404.

    An id past any row's (``models.ID_MAX``) is matched, and then found nowhere: refusing it here would make
    werkzeug answer PUT and DELETE with 405.
    """

    regex = r"[1-9][0-9]{0,18}"

    def to_python(self, value):
        return int(value)


def reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def reject_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("an object names the same key twice")
    return dict(pairs)


class StrictJSONProvider(DefaultJSONProvider):
    """Standard JSON only (no NaN or Infinity, no key given twice); answers keep their fields' declared order."""

    sort_keys = False

    def loads(self, s, **kwargs):
        try:
            return json.loads(s, parse_constant=reject_constant, object_pairs_hook=reject_duplicate_keys, **kwargs)
        except RecursionError:
            raise ValueError("it is nested too deeply") from None


def json_object() -> dict:
    """The request's body, which must be a JSON object."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("The body must be JSON, sent with Content-Type: application/json.")
    try:
        body = current_app.json.loads(request.get_data(cache=False))
    except ValueError as error:  # also invalid UTF-8, and numbers too long to read
        raise BadRequest(f"The body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


api = Blueprint("api", __name__, url_prefix="/api/v1")
SYSTEMS = "/synchronisation/connected-systems"
DEFINITIONS = "/synchronisation/connector-definitions"


@api.get("/health")
@api.get("/health/live")
def live():
    return health_schema.dump({"status": "Healthy"})


@api.get("/health/ready")
def ready():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise ServiceUnavailable() from None
    return health_schema.dump({"status": "Ready"})


@api.get("/health/version")
def version():
    return version_schema.dump({"name": SERVICE_NAME, "version": SERVICE_VERSION})


@api.get(DEFINITIONS)
@requires(Role.READER)
def list_connector_definitions():
    return connector_definition_schema.dump(sorted(CONNECTORS.values(), key=lambda c: c.id), many=True)


@api.get(DEFINITIONS + "/<id:definition_id>")
@requires(Role.READER)
def get_connector_definition(definition_id):
    if definition_id not in CONNECTORS:
        raise NotFound(f"Connector definition {definition_id} does not exist.")
    return connector_definition_schema.dump(CONNECTORS[definition_id])


@api.get(SYSTEMS)
@requires(Role.READER)
def list_connected_systems():
    query = list_query_schema.load(request.args)
    statement = select(ConnectedSystem).join(ConnectorDefinition).options(raiseload(ConnectedSystem.setting_values))
    if query["filter"]:
        statement = statement.where(ConnectedSystem.name_key.contains(query["filter"].casefold(), autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    column = {
        "name": ConnectedSystem.name_key,
        "created": ConnectedSystem.created,
        "connectorName": ConnectorDefinition.name,
    }[query["sort_by"]]
    if query["sort_direction"] == "desc":
        order = (column.desc(), ConnectedSystem.id.desc())
    else:
        order = (column.asc(), ConnectedSystem.id.asc())
    size = query["page_size"]
    systems = db.session.scalars(statement.order_by(*order).limit(size).offset((query["page"] - 1) * size)).all()
    return summary_page_schema.dump(page_of(systems, total, query["page"], size))


@api.post(SYSTEMS)
@requires(Role.ADMINISTRATOR)
def create_connected_system():
    fields = create_schema.load(json_object())
    with write_transaction() as connection:
        system = ConnectedSystem.create(
            fields["name"], fields.get("description"), CONNECTORS[fields["connector_definition_id"]]
        )
        history.record_created(connection, system, g.principal, fields.get("change_reason"))
    location = url_for(".get_connected_system", system_id=system.id, _external=True)  # as JIM: absolute
    return connected_system_schema.dump(system), 201, tagged(system, {"Location": location})


@api.get(SYSTEMS + "/<id:system_id>")
@requires(Role.READER)
def get_connected_system(system_id):
    system = read_system(system_id)
    stop_if_not_modified(system)
    return connected_system_schema.dump(system), tagged(system)


@api.put(SYSTEMS + "/<id:system_id>")
@requires(Role.ADMINISTRATOR)
def update_connected_system(system_id):
    # The body is validated before the write lock is taken, so that the lock is held only to read, diff, write
    # and commit. A system's connector never changes: a body valid for it now is valid under the lock.
    seen = peek_system(system_id)
    require_match(seen)  # a stale If-Match is refused whatever the body holds
    update = update_schemas[seen.connector_definition_id].load(json_object())
    with write_transaction() as connection:
        system = read_locked_system(connection, system_id)  # 404 if deleted meanwhile
        require_match(system)
        system, changes = apply_update(connection, system, update)
        history.record(connection, system.id, ChangeAction.UPDATED, changes, g.principal, update.get("change_reason"))
    return connected_system_schema.dump(system), tagged(system)


@api.delete(SYSTEMS + "/<id:system_id>")
@requires(Role.ADMINISTRATOR)
def delete_connected_system(system_id):
    with write_transaction() as connection:
        system = lock_system(system_id)
        require_match(system)
        history.record_deleted(connection, system, g.principal)
        db.session.delete(system)
    return "", 204


@api.post(SYSTEMS + "/<id:system_id>/validate-settings")
@requires(Role.ADMINISTRATOR)
def validate_settings(system_id):
    with write_transaction() as connection:
        system = lock_system(system_id)
        require_match(system)
        problems = system.settings_problems()
        changes = system.record_validation(not problems)
        history.record(connection, system.id, ChangeAction.SETTINGS_VALIDATED, changes, g.principal)
    answer = {
        "valid": not problems,
        "validation_errors": {f"settingValues.{setting_id}": messages for setting_id, messages in problems.items()},
        "connected_system": system,
    }
    return settings_validation_schema.dump(answer), tagged(system)


@api.get(SYSTEMS + "/<id:system_id>/history")
@requires(Role.READER)
def get_connected_system_history(system_id):
    """Newest first; a deleted system's history stays readable under its id."""
    query = page_query_schema.load(request.args)
    records, total = history.page_of_changes(system_id, query["page"], query["page_size"])
    return history_page_schema.dump(page_of(records, total, query["page"], query["page_size"]))


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """The service; ``instance_path`` (absolute) replaces Flask's instance folder, where the SQLite file and key live."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object(Config(os.environ, app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    # The instance folder holds the embedded store and its key: readable by the service's user only.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)

    app.json = StrictJSONProvider(app)
    app.url_map.converters["id"] = IdConverter
    edge.init_app(app)
    database.init_app(app)
    encryption.init_app(app)
    errors.init_app(app)
    commands.init_app(app)
    app.register_blueprint(api)
    openapi.init_app(app, SERVICE_VERSION)

    with app.app_context():
        try:
            auth.ensure_infrastructure_key(app.config["JIM_INFRASTRUCTURE_API_KEY"])
        except SQLAlchemyError as error:
            # The store may be down or not yet initialised; init-db ensures the key as well.
            log.warning("could not ensure the infrastructure API key now: %s", type(error).__name__)
    return app

