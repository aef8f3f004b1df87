"""Calling a connector: one deadline for the whole call, and no secret in anything that comes back.

The connector bounds each of its steps by the deadline (``Deadline.bound``); the runner also runs it on a
thread of its own and stops waiting when the deadline passes, so that no library that ignores a timeout can
hold the request past it. Nothing waits for a call abandoned that way: it ends when its own timeouts fire, or
when its peer closes (a PostgreSQL server that took a query and then went silent holds it that long).

What a connector raises may quote what its driver said, and a driver may quote what it was given: every
message is scrubbed of the call's secrets, whole or in part, before it leaves.
"""
import json
import queue
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote

from connectors.interface import (
    Connector,
    ConnectorError,
    Deadline,
    DiscoveredSchema,
    ImportedObject,
    ReadScope,
    Settings,
    Unreachable,
)

# No run of this many characters of a secret may be shown: enough to make a guess of the rest useless.
SECRET_RUN = 8
HIDDEN = "********"


class ConnectorFailed(Exception):
    """A connector failed in a way it does not describe (a bug): its scrubbed traceback, for the log."""


def scrub(message: str, secrets: tuple[str, ...]) -> str:
    """``message`` without any run of ``SECRET_RUN`` characters of a secret, as given, JSON-escaped or URL-encoded."""
    for secret in secrets:
        for form in {secret, json.dumps(secret)[1:-1], quote(secret, safe="")}:
            run = min(SECRET_RUN, len(form))
            for start in range(len(form) - run + 1):
                message = message.replace(form[start:start + run], HIDDEN)
    return message


def run(discovery, settings: Settings, deadline_seconds: float):
    """``discovery(settings, deadline)``, finished within ``deadline_seconds`` or ``Unreachable``."""
    deadline = Deadline(deadline_seconds)
    outcome: dict = {}

    def call():
        try:
            outcome["result"] = discovery(settings, deadline)
        except BaseException as error:  # handed to the request's thread, which decides
            outcome["error"] = error

    worker = threading.Thread(target=call, name="connector", daemon=True)
    worker.start()
    worker.join(deadline_seconds)
    if worker.is_alive():
        raise Unreachable(f"The connected system did not answer within the import's time limit of "
                          f"{deadline_seconds:g} seconds.")
    error = outcome.get("error")
    if isinstance(error, ConnectorError):
        raise type(error)(scrub(error.message, settings.secrets)) from None
    if error is not None:
        description = "".join(traceback.format_exception(error))
        raise ConnectorFailed(scrub(description, settings.secrets)) from None
    result = outcome["result"]
    if isinstance(result, DiscoveredSchema):  # its warnings may quote what the system said, as messages do
        result = replace(result, warnings=tuple(scrub(warning, settings.secrets) for warning in result.warnings))
    return result


# Objects handed over from the reading thread at a time, and how many such batches may wait: what a read holds
# in memory beyond the connector's own page is at most their product.
HANDOVER_OBJECTS = 500
HANDOVER_WAITING = 4
HANDOVER_SECONDS = 0.2  # a slow system's objects are handed over this often, however few


def read_objects(connector: Connector, settings: Settings, scope: ReadScope,
                 step_seconds: float) -> Iterator[ImportedObject]:
    """The objects in ``scope``, as the connector reads them, each step (a page, a fetch of rows) finished
    within ``step_seconds`` or ``Unreachable``; however long the whole read takes.

    The connector reads on a thread of its own, a bounded queue ahead of the caller, so that no library that
    ignores a timeout can hold the caller past a step's time; what it raises is scrubbed of the secrets, as
    ``run`` scrubs. Closing the iterator stops the read at its next object.
    """
    handed: queue.Queue = queue.Queue(HANDOVER_WAITING)
    stopped = threading.Event()
    END = object()

    def hand(item) -> bool:
        while not stopped.is_set():
            try:
                handed.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read():
        batch, since = [], time.monotonic()
        try:
            for found in connector.read_objects(settings, scope, Deadline(step_seconds)):
                batch.append(found)
                if len(batch) >= HANDOVER_OBJECTS or time.monotonic() - since >= HANDOVER_SECONDS:
                    if not hand(batch):
                        return
                    batch, since = [], time.monotonic()
            if batch and not hand(batch):
                return
            hand(END)
        except BaseException as error:  # handed to the caller's thread, which decides
            hand(error)

    reader = threading.Thread(target=read, name="connector-read", daemon=True)
    reader.start()
    try:
        while True:
            try:
                item = handed.get(timeout=step_seconds)
            except queue.Empty:
                raise Unreachable(f"The connected system did not answer within {step_seconds:g} seconds while its "
                                  f"objects were being read.") from None
            if item is END:
                return
            if isinstance(item, ConnectorError):
                raise type(item)(scrub(item.message, settings.secrets)) from None
            if isinstance(item, BaseException):
                raise ConnectorFailed(scrub("".join(traceback.format_exception(item)), settings.secrets)) from None
            yield from item
    finally:
        stopped.set()
