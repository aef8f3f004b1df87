"""The application factory and the API's routes.

Each route reads as a straight line: authenticate, find the resource, load the body with a schema, apply it
in one transaction, dump the answer with a schema. Errors are raised; ``errors`` answers them.
"""
import json
import logging
import os
from dataclasses import asdict, replace

from flask import Blueprint, Flask, current_app, request, url_for
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BaseConverter

import activities
import api_keys
import auth
import commands
import connector_space
import database
import edge
import encryption
import errors
import full_import
import openapi
import private_files
import server_certificates
import systems
import worker
from auth import caller, requires
from conditional import require_match, stop_if_not_modified, tagged
from config import Config
from connectors import CONNECTORS
from connectors.interface import RunType
from database import db
from discovery import Discovery, discover, require_same_settings
from errors import MESSAGES, BadRequest, Conflict, NotFound, NotReady, UnsupportedMediaType
from history import ChangeAction
from models import ID_DIGITS, Role, utcnow
from schemas import (
    activities_query_schema,
    activity_detail_schema,
    activity_items_page_schema,
    activity_page_schema,
    activity_progress_schema,
    activity_stats_schema,
    api_key_create_schema,
    api_key_created_schema,
    api_key_delete_query_schema,
    api_key_schema,
    api_key_update_schema,
    attribute_schema,
    attribute_update_schema,
    attribute_values_page_schema,
    attribute_values_query_schema,
    bulk_attributes_result_schema,
    bulk_attributes_update_schema,
    capability_schema,
    certificate_read_schemas,
    certificate_trust_schemas,
    change_detail_schema,
    change_history_page_schema,
    clear_query_schema,
    compare_query_schema,
    connected_system_schema,
    connector_definition_schema,
    connector_space_count_query_schema,
    connector_space_object_schema,
    connector_space_page_schema,
    connector_space_query_schema,
    container_scope_text_schema,
    container_update_schema,
    create_schema,
    delete_query_schema,
    deletion_preview_schema,
    deletion_result_schema,
    diff_schema,
    directory_server_schema,
    health_schema,
    hierarchy_import_schema,
    history_page_schema,
    import_options_schema,
    list_query_schema,
    no_options_schema,
    object_type_schema,
    object_type_update_schema,
    object_types_query_schema,
    page_query_schema,
    paged,
    partitions_query_schema,
    password_policy_schema,
    run_profile_create_schema,
    run_profile_execution_schema,
    run_profile_schema,
    run_profile_update_schema,
    schema_preview_schema,
    selection_update_schema,
    server_certificate_schema,
    settings_validation_schema,
    shown_hierarchy,
    shown_object_types,
    summary_page_schema,
    trust_result_schema,
    update_schemas,
    user_info_schema,
    version_schema,
)
from systems import container_scope, deletion, discovered_facts, hierarchy, object_types, run_profiles, snapshots

PRODUCT = "JIM Connected Systems API"
SERVICE_VERSION = "1.0.0"

log = logging.getLogger(__name__)


class IdConverter(BaseConverter):
    """A positive decimal id, with no more digits than the largest id (``models.ID_MAX``) has: anything else
    (abc, -1, 0, 01, a longer number) matches no route, a 404.

    An id past ``ID_MAX`` with as many digits is matched, and then found nowhere (``systems.in_range``):
    refusing it here would make werkzeug answer PUT and DELETE with 405.
    """

    regex = rf"[1-9][0-9]{{0,{ID_DIGITS - 1}}}"

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
        raise UnsupportedMediaType(MESSAGES[415])
    try:
        body = current_app.json.loads(request.get_data(cache=False))
    except ValueError as error:  # also invalid UTF-8, and numbers too long to read
        raise BadRequest(f"The body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def json_object_or_nothing() -> dict:
    """The request's body as a JSON object, or an empty one when there is no body (then with any Content-Type)."""
    if not request.content_length:  # also a body that is not sent, which Werkzeug reads as none
        return {}
    return json_object()


api = Blueprint("api", __name__, url_prefix="/api/v1")
SYSTEMS_PATH = "/synchronisation/connected-systems"
SYSTEM_PATH = SYSTEMS_PATH + "/<id:system_id>"
DEFINITIONS_PATH = "/synchronisation/connector-definitions"


@api.get("/health")
def health():
    return health_schema.dump({"status": "healthy", "timestamp": utcnow()})


@api.get("/health/live")
def live():
    return health_schema.dump({"status": "alive", "timestamp": utcnow()})


@api.get("/health/ready")
def ready():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise NotReady("database_unreachable") from None
    return health_schema.dump({"status": "ready", "timestamp": utcnow()})


@api.get("/health/version")
def version():
    return version_schema.dump({"product": PRODUCT, "version": SERVICE_VERSION})


@api.get(DEFINITIONS_PATH)
@requires(Role.READER)
def list_connector_definitions():
    return connector_definition_schema.dump(sorted(CONNECTORS.values(), key=lambda c: c.id), many=True)


@api.get(DEFINITIONS_PATH + "/<id:definition_id>")
@requires(Role.READER)
def get_connector_definition(definition_id):
    if definition_id not in CONNECTORS:
        raise NotFound(f"Connector definition {definition_id} does not exist.")
    return connector_definition_schema.dump(CONNECTORS[definition_id])


@api.get(DEFINITIONS_PATH + "/by-name/<name>")
@requires(Role.READER)
def get_connector_definition_by_name(name):
    """The name exactly as the catalog spells it, as JIM's own lookup matches it."""
    found = [connector for connector in CONNECTORS.values() if connector.name == name]
    if not found:
        raise NotFound(f"There is no connector definition named {name!r}.")
    return connector_definition_schema.dump(found[0])


@api.get(SYSTEMS_PATH)
@requires(Role.READER)
def list_connected_systems():
    query = list_query_schema.load(request.args)
    items, total = systems.list_page(
        query["filter"], query["sort_by"], query["sort_direction"] == "desc", query["page"], query["page_size"]
    )
    return summary_page_schema.dump(paged(items, total, query["page"], query["page_size"]))


@api.post(SYSTEMS_PATH)
@requires(Role.ADMINISTRATOR)
def create_connected_system():
    fields = create_schema.load(json_object())
    new = systems.created(fields["name"], fields.get("description"), CONNECTORS[fields["connector_definition_id"]])
    with systems.writing() as write:
        system = systems.save(write, None, new, ChangeAction.CREATED, caller(), fields.get("change_reason"))
    location = url_for(".get_connected_system", system_id=system.id, _external=True)  # as JIM: absolute
    return connected_system_schema.dump(system), 201, tagged(system, {"Location": location})


@api.get(SYSTEM_PATH)
@requires(Role.READER)
def get_connected_system(system_id):
    system = systems.read(system_id)
    stop_if_not_modified(system)
    return connected_system_schema.dump(system), tagged(system)


@api.put(SYSTEM_PATH)
@requires(Role.ADMINISTRATOR)
def update_connected_system(system_id):
    # The body is validated before the write lock is taken, so that the lock is held only to read, diff, write
    # and commit. A system's connector never changes: a body valid for it now is valid under the lock.
    seen = systems.peek(system_id)
    require_match(seen)  # a stale If-Match is refused whatever the body holds
    update = update_schemas[seen.connector_definition_id].load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)  # 404 if deleted meanwhile
        require_match(system)
        after = systems.updated(system, update["fields"], update.get("setting_values", {}))
        system = systems.save(write, system, after, ChangeAction.UPDATED, caller(), update.get("change_reason"))
    return connected_system_schema.dump(system), tagged(system)


@api.delete(SYSTEM_PATH)
@requires(Role.ADMINISTRATOR)
def delete_connected_system(system_id):
    """As JIM answers it: what became of the deletion, and the activity (the history's record) of it."""
    require_match(systems.peek(system_id))
    query = delete_query_schema.load(request.args)
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        systems.save(write, system, None, ChangeAction.DELETED, caller(), query["change_reason"])
    activity_id = write.record["activity_id"] if write.record else None
    return deletion_result_schema.dump({"activity_id": activity_id})


@api.get(SYSTEM_PATH + "/deletion-preview")
@requires(Role.READER)
def get_deletion_preview(system_id):
    system = systems.read(system_id)
    return deletion_preview_schema.dump(deletion.preview(db.session.connection(), system)), tagged(system)


@api.post(SYSTEM_PATH + "/validate-settings")
@requires(Role.ADMINISTRATOR)
def validate_settings(system_id):
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        problems = systems.settings_problems(system)
        after = systems.validated(system, not problems)
        system = systems.save(write, system, after, ChangeAction.SETTINGS_VALIDATED, caller())
    answer = {"valid": not problems, "validation_errors": problems, "connected_system": system}
    return settings_validation_schema.dump(answer), tagged(system)


@api.post(SYSTEM_PATH + "/import-schema")
@requires(Role.ADMINISTRATOR)
def import_schema(system_id):
    """Connect with the stored settings and merge what is found; the talking is done holding no lock."""
    seen = systems.read(system_id)
    require_match(seen)
    import_options_schema.load(json_object_or_nothing())
    discovered = discover(seen, Discovery.SCHEMA)
    # Merged before the write lock is taken, so that it is held only to write; again under it if the system
    # changed meanwhile.
    merge = object_types.merged(system_id, object_types.read_all(db.session.connection(), system_id), discovered)
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        require_same_settings(seen, system)
        if system.version != seen.version:
            merge = object_types.merged(system_id, object_types.read_all(write.connection, system_id), discovered)
        systems.save(write, system, systems.validated(system, True), ChangeAction.SCHEMA_IMPORTED, caller(),
                     parts=(merge,))
        discovered_facts.record(write, system_id, discovered)
    system = systems.read(system_id)
    return connected_system_schema.dump(system), tagged(system)


@api.post(SYSTEM_PATH + "/import-schema/preview")
@requires(Role.ADMINISTRATOR)
def preview_schema_import(system_id):
    """The same discovery, compared with what is stored; nothing is written, whatever the outcome."""
    system = systems.read(system_id)
    import_options_schema.load(json_object_or_nothing())
    discovered = discover(system, Discovery.SCHEMA, record_failure=False)
    stored = object_types.read_all(db.session.connection(), system_id)
    return schema_preview_schema.dump(object_types.compare(stored, discovered))


@api.get(SYSTEM_PATH + "/object-types")
@requires(Role.READER)
def list_object_types(system_id):
    query = object_types_query_schema.load(request.args)
    system = systems.peek(system_id)
    stop_if_not_modified(system)
    found = object_types.shown_all(db.session.connection(), system_id, shown_object_types, query["selected"],
                                   query["include_attributes"])
    return found, tagged(system)


@api.get(SYSTEM_PATH + "/object-types/<id:object_type_id>")
@requires(Role.READER)
def get_object_type(system_id, object_type_id):
    system = systems.peek(system_id)
    found = object_types.read_one(db.session.connection(), system_id, object_type_id)
    return object_type_schema.dump(found), tagged(system)


@api.put(SYSTEM_PATH + "/object-types/<id:object_type_id>")
@requires(Role.ADMINISTRATOR)
def update_object_type(system_id, object_type_id):
    require_match(systems.peek(system_id))
    object_types.read_one(db.session.connection(), system_id, object_type_id)  # 404 before the body is read
    flags = object_type_update_schema.load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id, object_types=False)
        require_match(system)
        object_type = object_types.read_one(write.connection, system_id, object_type_id)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(),
                              parts=(object_types.type_selected(object_type, flags),))
    return object_type_schema.dump(replace(object_type, **flags)), tagged(system)


@api.put(SYSTEM_PATH + "/object-types/<id:object_type_id>/attributes/<id:attribute_id>")
@requires(Role.ADMINISTRATOR)
def update_attribute(system_id, object_type_id, attribute_id):
    require_match(systems.peek(system_id))
    object_types.find_attribute(object_types.read_one(db.session.connection(), system_id, object_type_id),
                                attribute_id)  # 404 before the body is read
    flags = attribute_update_schema.load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id, object_types=False)
        require_match(system)
        object_type = object_types.read_one(write.connection, system_id, object_type_id)
        selection, attribute = object_types.attribute_selected(object_type, attribute_id, flags)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(selection,))
    return attribute_schema.dump(attribute), tagged(system)


@api.put(SYSTEM_PATH + "/object-types/<id:object_type_id>/attributes")
@requires(Role.ADMINISTRATOR)
def update_attributes(system_id, object_type_id):
    require_match(systems.peek(system_id))
    object_types.read_one(db.session.connection(), system_id, object_type_id)  # 404 before the body is read
    edits = bulk_attributes_update_schema.load(json_object())["attributes"]
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id, object_types=False)
        require_match(system)
        object_type = object_types.read_one(write.connection, system_id, object_type_id)
        selection, updated = object_types.attributes_selected(object_type, edits)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(selection,))
    return bulk_attributes_result_schema.dump({"updated_attributes": updated}), tagged(system)


@api.post(SYSTEM_PATH + "/import-hierarchy")
@requires(Role.ADMINISTRATOR)
def import_hierarchy(system_id):
    """Connect with the stored settings and merge the partitions and containers found; no lock while talking,
    and the merge computed before the lock is taken, so that it is held only to write."""
    seen = systems.read(system_id)
    require_match(seen)
    no_options_schema.load(json_object_or_nothing())
    discovered = discover(seen, Discovery.HIERARCHY)
    merge = hierarchy.merged(system_id, hierarchy.read_all(db.session.connection(), system_id), discovered)
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        require_same_settings(seen, system)
        if system.version != seen.version:  # changed meanwhile: merged again with what it holds now
            merge = hierarchy.merged(system_id, hierarchy.read_all(write.connection, system_id), discovered)
        part, changes = merge
        system = systems.save(write, system, systems.validated(system, True), ChangeAction.HIERARCHY_IMPORTED,
                              caller(), parts=(part,))
    return hierarchy_import_schema.dump(changes), tagged(system)


@api.get(SYSTEM_PATH + "/partitions")
@requires(Role.READER)
def list_partitions(system_id):
    query = partitions_query_schema.load(request.args)
    system = systems.peek(system_id)
    stop_if_not_modified(system)
    found = hierarchy.trees(db.session.connection(), system_id, shown_hierarchy, selected=query["selected"])
    return found, tagged(system)


@api.put(SYSTEM_PATH + "/partitions/<id:partition_id>")
@requires(Role.ADMINISTRATOR)
def update_partition(system_id, partition_id):
    require_match(systems.peek(system_id))
    hierarchy.read_partition(db.session.connection(), system_id, partition_id)  # 404 before the body is read
    flags = selection_update_schema.load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id, object_types=False)
        require_match(system)
        partition = hierarchy.read_partition(write.connection, system_id, partition_id)
        selection = hierarchy.partition_selected(partition, flags.get("selected", partition.selected))
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(selection,))
    # As JIM answers it: the partition read again, with its tree.
    return hierarchy.tree(db.session.connection(), system_id, partition_id, shown_hierarchy), tagged(system)


@api.put(SYSTEM_PATH + "/containers/<id:container_id>")
@requires(Role.ADMINISTRATOR)
def update_container(system_id, container_id):
    require_match(systems.peek(system_id))
    hierarchy.read_container(db.session.connection(), system_id, container_id)  # 404 before the body is read
    flags = container_update_schema.load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id, object_types=False)
        require_match(system)
        container = hierarchy.read_container(write.connection, system_id, container_id)
        change = hierarchy.container_changed(container, flags)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(change,))
    # As JIM answers it: the container read again, with its children.
    return hierarchy.with_children(db.session.connection(), system_id, container_id, shown_hierarchy), tagged(system)


@api.get(SYSTEM_PATH + "/container-scope-text")
@requires(Role.READER)
def get_container_scope_text(system_id):
    system = systems.peek(system_id)
    text = container_scope.project(*hierarchy.read_all(db.session.connection(), system_id))
    return container_scope_text_schema.dump({"text": text}), tagged(system)


@api.put(SYSTEM_PATH + "/container-scope-text")
@requires(Role.ADMINISTRATOR)
def update_container_scope_text(system_id):
    require_match(systems.peek(system_id))
    text = container_scope_text_schema.load(json_object())["text"]
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        scope, text = container_scope.applied(text, *hierarchy.read_all(write.connection, system_id))
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(scope,))
    return container_scope_text_schema.dump({"text": text}), tagged(system)


# --- Run profiles (JIM's; executing one is not here yet) -------------------------------------------------

RUN_PROFILES_PATH = SYSTEM_PATH + "/run-profiles"


@api.get(RUN_PROFILES_PATH)
@requires(Role.READER)
def list_run_profiles(system_id):
    system = systems.peek(system_id)
    profiles = run_profiles.read_all(db.session.connection(), system_id)
    return run_profile_schema.dump(profiles, many=True), tagged(system)


@api.post(RUN_PROFILES_PATH)
@requires(Role.ADMINISTRATOR)
def create_run_profile(system_id):
    require_match(systems.peek(system_id))
    fields = run_profile_create_schema.load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        profile, creation = run_profiles.create(write.connection, system_id, system.connector,
                                                hierarchy.read_partitions(write.connection, system_id), fields)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(creation,))
    location = url_for(".list_run_profiles", system_id=system_id, _external=True)  # as JIM: the list
    return run_profile_schema.dump(profile), 201, tagged(system, {"Location": location})


@api.put(RUN_PROFILES_PATH + "/<id:run_profile_id>")
@requires(Role.ADMINISTRATOR)
def update_run_profile(system_id, run_profile_id):
    require_match(systems.peek(system_id))
    run_profiles.find(run_profiles.read_all(db.session.connection(), system_id), system_id,
                      run_profile_id)  # 404 before the body is read
    fields = run_profile_update_schema.load(json_object())
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        profile = run_profiles.find(run_profiles.read_all(write.connection, system_id), system_id, run_profile_id)
        profile, change = run_profiles.changed(profile, system.connector,
                                               hierarchy.read_partitions(write.connection, system_id), fields)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(), parts=(change,))
    return run_profile_schema.dump(profile), tagged(system)


@api.delete(RUN_PROFILES_PATH + "/<id:run_profile_id>")
@requires(Role.ADMINISTRATOR)
def delete_run_profile(system_id, run_profile_id):
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        profile = run_profiles.find(run_profiles.read_all(write.connection, system_id), system_id, run_profile_id)
        system = systems.save(write, system, system, ChangeAction.UPDATED, caller(),
                              parts=(run_profiles.deleted(profile),))
    return "", 204, tagged(system)


# --- Full Import: execute, activities, the connector space ----------------------------------------------

@api.post(RUN_PROFILES_PATH + "/<id:run_profile_id>/execute")
@requires(Role.ADMINISTRATOR)
def execute_run_profile(system_id, run_profile_id):
    """Queue the run for the worker: 202 with the activity to follow. One run of a system at a time."""
    systems.peek(system_id)  # an unknown system is a 404 before its runs are looked at
    no_options_schema.load(json_object_or_nothing())
    activities.seen()
    activities.fail_lost(system_id, worker.waiting)
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        profile = run_profiles.find(run_profiles.read_all(write.connection, system_id), system_id, run_profile_id)
        if profile.run_type != RunType.FULL_IMPORT:
            raise BadRequest(f"Run profile {profile.id} is a {profile.run_type}: this service runs Full Imports "
                             f"only, and does not support {profile.run_type} runs yet.")
        try:
            full_import.plan(write.connection, system, profile)
        except full_import.CannotRun as reason:
            raise BadRequest(str(reason)) from None
        running = activities.running_of(write.connection, system_id)
        if running is not None:
            raise Conflict(f"Connected system {system_id} is being imported already (activity {running}); "
                           f"wait for it to finish.")
        activity = activities.created(system, profile, caller().name)
        write.add(activities.INSERT_ACTIVITY, activity)
    worker.enqueue(activity["id"], activity["task_id"])
    answer = {"activity_id": activity["id"], "task_id": activity["task_id"], "warnings": [],
              "message": f"Run Profile '{profile.name}' has been queued for execution."}
    return run_profile_execution_schema.dump(answer), 202


ACTIVITY_PATH = "/activities/<uuid:activity_id>"


def activity_or_404(activity_id):
    activities.seen()
    row = activities.find(db.session.connection(), str(activity_id))
    if row is None:
        raise NotFound(f"Activity with ID {activity_id} not found.")
    return row


@api.get("/activities")
@requires(Role.READER)
def list_activities():
    query = activities_query_schema.load(request.args)
    activities.seen()
    rows, total = activities.page(db.session.connection(), query["page"], query["page_size"],
                                  query.get("connected_system_id"), query["search"])
    return activity_page_schema.dump(paged(rows, total, query["page"], query["page_size"]))


@api.get(ACTIVITY_PATH)
@requires(Role.READER)
def get_activity(activity_id):
    return activity_detail_schema.dump(activity_or_404(activity_id))


@api.get(ACTIVITY_PATH + "/progress")
@requires(Role.READER)
def get_activity_progress(activity_id):
    row, now = activity_or_404(activity_id), utcnow()
    return activity_progress_schema.dump({"row": row, "now": now, "elapsed": activities.elapsed(row, now)})


@api.get(ACTIVITY_PATH + "/stats")
@requires(Role.READER)
def get_activity_stats(activity_id):
    return activity_stats_schema.dump(activity_or_404(activity_id))


@api.get(ACTIVITY_PATH + "/items")
@requires(Role.READER)
def list_activity_items(activity_id):
    activity_or_404(activity_id)
    query = page_query_schema.load(request.args)
    rows, total = activities.items_page(db.session.connection(), str(activity_id), query["page"],
                                        query["page_size"])
    items = [{**row._mapping, "id": activities.item_id(row.activity_id, row.position)} for row in rows]
    return activity_items_page_schema.dump(paged(items, total, query["page"], query["page_size"]))


CONNECTOR_SPACE_PATH = SYSTEM_PATH + "/connector-space"
OBJECT_PATH = CONNECTOR_SPACE_PATH + "/<uuid:object_id>"


@api.get(CONNECTOR_SPACE_PATH)
@requires(Role.READER)
def list_connector_space(system_id):
    systems.peek(system_id)
    query = connector_space_query_schema.load(request.args)
    connection = db.session.connection()
    rows, total = connector_space.page(connection, system_id, query.get("object_type_id"), query["search"],
                                       query["page"], query["page_size"], query["sort_descending"])
    names = connector_space.id_attribute_names(connection, {row.object_type_id for row in rows})
    items = [{**row._mapping, **names.get(row.object_type_id, {})} for row in rows]
    return connector_space_page_schema.dump(paged(items, total, query["page"], query["page_size"]))


@api.get(CONNECTOR_SPACE_PATH + "/count")
@requires(Role.READER)
def count_connector_space(system_id):
    systems.peek(system_id)
    query = connector_space_count_query_schema.load(request.args)
    return current_app.json.response(connector_space.count(db.session.connection(), system_id,
                                                           query.get("object_type_id")))


def object_or_404(system_id, object_id):
    system = systems.read(system_id)
    row = connector_space.find(db.session.connection(), system_id, str(object_id))
    if row is None:
        raise NotFound(f"Object with ID {object_id} not found in Connected System {system_id}.")
    return system, row


@api.get(OBJECT_PATH)
@requires(Role.READER)
def get_connector_space_object(system_id, object_id):
    system, row = object_or_404(system_id, object_id)
    shown = connector_space.detail(db.session.connection(), row)
    return connector_space_object_schema.dump({**shown, "connected_system_name": system.name})


@api.get(OBJECT_PATH + "/attributes/<attribute_name>/values")
@requires(Role.READER)
def list_attribute_values(system_id, object_id, attribute_name):
    _, row = object_or_404(system_id, object_id)
    query = attribute_values_query_schema.load(request.args)
    values = connector_space.values_named(db.session.connection(), row, attribute_name, query["search"])
    start = (query["page"] - 1) * query["page_size"]
    return attribute_values_page_schema.dump(paged(values[start:start + query["page_size"]], len(values),
                                                   query["page"], query["page_size"]))


@api.post(SYSTEM_PATH + "/clear")
@requires(Role.ADMINISTRATOR)
def clear_connector_space(system_id):
    """Every object of the system's connector space removed; with deleteChangeHistory, its runs' items too."""
    query = clear_query_schema.load(request.args)
    no_options_schema.load(json_object_or_nothing())
    activities.seen()
    with systems.writing() as write:
        systems.read_locked(write.connection, system_id)
        running = activities.running_of(write.connection, system_id)
        if running is not None:
            raise Conflict(f"Connected system {system_id} is being imported (activity {running}); its connector "
                           f"space can be cleared once the run ends.")
        connector_space.clear(write.connection, system_id)
        if query["delete_change_history"]:
            activities.forget_items(write.connection, system_id)
    return "", 200
@api.get(SYSTEM_PATH + "/capabilities")
@requires(Role.READER)
def get_capabilities(system_id):
    """What the system told of itself at its last schema import; untagged, as it is no part of the system."""
    systems.peek(system_id)
    found = discovered_facts.read(db.session.connection(), system_id)
    return capability_schema.dump(found.capabilities, many=True)


@api.get(SYSTEM_PATH + "/password-policy")
@requires(Role.READER)
def get_password_policy(system_id):
    systems.peek(system_id)
    found = discovered_facts.read(db.session.connection(), system_id)
    return password_policy_schema.dump(found.shown_policy())


@api.get(SYSTEM_PATH + "/directory-servers")
@requires(Role.ADMINISTRATOR)
def list_directory_servers(system_id):
    """Asked of the directory now, with the stored settings; nothing is written, whatever the outcome."""
    found = discover(systems.read(system_id), Discovery.DIRECTORY_SERVERS)
    return directory_server_schema.dump(found, many=True)


@api.get(SYSTEM_PATH + "/server-certificate")
@requires(Role.READER)
def get_server_certificate(system_id):
    """What the server presents over the stored settings; nothing is stored."""
    reading = server_certificates.read(systems.read(system_id), {})
    return server_certificate_schema.dump(reading)


@api.post(SYSTEM_PATH + "/server-certificate")
@requires(Role.ADMINISTRATOR)
def read_server_certificate(system_id):
    """The same read, with unsaved settingValues laid over the stored ones; nothing is stored."""
    system = systems.read(system_id)
    drafts = certificate_read_schemas[system.connector_definition_id].load(json_object_or_nothing())
    reading = server_certificates.read(system, drafts.get("setting_values", {}))
    return server_certificate_schema.dump(reading)


@api.post(SYSTEM_PATH + "/server-certificate/trust")
@requires(Role.ADMINISTRATOR)
def trust_server_certificate(system_id):
    """Read the certificate again, and trust the one the thumbprint names; no lock while talking."""
    seen = systems.read(system_id)
    require_match(seen)
    body = certificate_trust_schemas[seen.connector_definition_id].load(json_object())
    reading = server_certificates.read(seen, body.get("setting_values", {}))
    certificate = server_certificates.confirmed(reading, body["thumbprint"])
    with systems.writing() as write:
        system = systems.read_locked(write.connection, system_id)
        require_match(system)
        trust = server_certificates.trusted(seen, system, reading, certificate, caller().name)
        system = systems.save(write, system, trust.after, ChangeAction.UPDATED, caller(),
                              body.get("change_reason") or trust.reason)
    status = 201 if trust.outcome is server_certificates.TrustOutcome.TRUSTED else 200
    return trust_result_schema.dump(trust), status, tagged(system)


# --- Change history at JIM's paths: one store of versions with /history, which shows its records' changes ---

CHANGE_HISTORY_PATH = SYSTEM_PATH + "/change-history"


@api.get(CHANGE_HISTORY_PATH)
@requires(Role.READER)
def get_change_history(system_id):
    """Newest first, each version with its diff against the one before; a deleted system's stay readable."""
    query = page_query_schema.load(request.args)
    items, total = snapshots.page(system_id, query["page"], query["page_size"])
    return change_history_page_schema.dump(paged(items, total, query["page"], query["page_size"]))


@api.get(CHANGE_HISTORY_PATH + "/<id:change_version>")
@requires(Role.READER)
def get_change_version(system_id, change_version):
    return change_detail_schema.dump(snapshots.version(system_id, change_version))


@api.get(CHANGE_HISTORY_PATH + "/compare")
@requires(Role.READER)
def compare_change_versions(system_id):
    query = compare_query_schema.load(request.args)
    return diff_schema.dump(snapshots.comparison(system_id, query["from_version"], query["to_version"]))


@api.get(SYSTEM_PATH + "/history")
@requires(Role.READER)
def get_connected_system_history(system_id):
    """Newest first; a deleted system's history stays readable under its id."""
    query = page_query_schema.load(request.args)
    records, total = systems.history_page(system_id, query["page"], query["page_size"])
    return history_page_schema.dump(paged(records, total, query["page"], query["page_size"]))


API_KEYS_PATH = "/apikeys"
API_KEY_PATH = API_KEYS_PATH + "/<uuid:key_id>"


@api.get("/userinfo")
@requires(None)
def get_user_info():
    return user_info_schema.dump(caller())


@api.get(API_KEYS_PATH)
@requires(Role.ADMINISTRATOR)
def list_api_keys():
    return api_key_schema.dump(api_keys.read_all(), many=True)


@api.post(API_KEYS_PATH)
@requires(Role.ADMINISTRATOR)
def create_api_key():
    fields = api_key_create_schema.load(json_object())
    key, plaintext = api_keys.create(fields, caller())
    location = url_for(".get_api_key", key_id=key.public_id, _external=True)
    return api_key_created_schema.dump({**asdict(key), "key": plaintext}), 201, {"Location": location}


@api.get(API_KEY_PATH)
@requires(Role.ADMINISTRATOR)
def get_api_key(key_id):
    return api_key_schema.dump(api_keys.read(str(key_id)))


@api.put(API_KEY_PATH)
@requires(Role.ADMINISTRATOR)
def update_api_key(key_id):
    api_keys.read(str(key_id))  # 404 before the body is read
    changes = api_key_update_schema.load(json_object())
    return api_key_schema.dump(api_keys.change(str(key_id), changes, caller()))


@api.delete(API_KEY_PATH)
@requires(Role.ADMINISTRATOR)
def delete_api_key(key_id):
    query = api_key_delete_query_schema.load(request.args)
    api_keys.remove(str(key_id), caller(), query.get("change_reason"))
    return "", 204


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
    private_files.init_app(app)
    encryption.init_app(app)
    errors.init_app(app)
    commands.init_app(app)
    worker.init_app(app)
    app.register_blueprint(api)
    openapi.init_app(app, SERVICE_VERSION)

    with app.app_context():
        try:
            auth.ensure_infrastructure_key(app.config["JIM_INFRASTRUCTURE_API_KEY"])
        except SQLAlchemyError as error:
            # The store may be down or not yet initialised; init-db ensures the key as well.
            log.warning("could not ensure the infrastructure API key now: %s", type(error).__name__)
    return app

