"""Calling a connector: one deadline for the whole call, and no secret in anything that comes back.

The connector bounds each of its steps by the deadline (``Deadline.bound``); the runner also runs it on a
thread of its own and stops waiting when the deadline passes, so that no library that ignores a timeout can
hold the request past it. Then it cuts the connections the connector registered (``Deadline.expire``), so
that nothing goes on reading from the system, and gives the thread ``ENDING_SECONDS`` to see that and end.

What a connector raises may quote what its driver said, and a driver may quote what it was given: every
message is scrubbed of the call's secrets, whole or in part, before it leaves. What it raises that is no
connector's error (a library choking on an answer, a bug) is a 502 too, and its traceback is logged.
"""
import ctypes
import ctypes.util
import json
import logging
import queue
import re
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

log = logging.getLogger(__name__)

# No run of this many characters of a secret may be shown: enough to make a guess of the rest useless.
SECRET_RUN = 8
HIDDEN = "********"
# How long, once its connections are cut, a connector's thread is given to end; a thread that reads from a
# cut connection ends at once, one that is busy with what it read at its next step.
ENDING_SECONDS = 2
# Of what an unexpected error says, only the start is shown.
SAID_CHARACTERS = 200


def _malloc_trim():
    """glibc's malloc_trim, or None on a C library without it."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


# glibc keeps what a thread frees in that thread's own arena, ready for reuse: after an import that read tens
# of megabytes it would hold them for good. malloc_trim hands them back to the system.
MALLOC_TRIM = _malloc_trim()


def scrub(message: str, secrets: tuple[str, ...]) -> str:
    """``message`` without any run of ``SECRET_RUN`` characters of a secret, as given, JSON-escaped or URL-encoded.

    A secret shorter than the run is hidden where it stands whole, not inside a longer word of letters and
    digits: hidden everywhere, a one-letter password would mask that letter in every word of the message, and
    a word that merely holds it does not tell it. An empty secret has nothing to hide.
    """
    for secret in filter(None, secrets):
        for form in {secret, json.dumps(secret)[1:-1], quote(secret, safe="")}:
            if len(form) < SECRET_RUN:
                message = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", HIDDEN, message)
                continue
            for start in range(len(form) - SECRET_RUN + 1):
                message = message.replace(form[start:start + SECRET_RUN], HIDDEN)
    return message


def connector_error(error: BaseException, secrets: tuple[str, ...]) -> ConnectorError:
    """What the caller raises for what a connector raised: its own error, scrubbed; anything else (a library
    choking on an answer, a bug) a 502 that says briefly what, its traceback, scrubbed, in the log."""
    if isinstance(error, ConnectorError):
        return type(error)(scrub(error.message, secrets))
    log.error("a connector failed:\n%s", scrub("".join(traceback.format_exception(error)), secrets))
    said = scrub(" ".join(f"{type(error).__name__}: {error}".split()), secrets)[:SAID_CHARACTERS]
    return Unreachable(f"The connector could not make sense of what the connected system answered ({said}); the "
                       f"service's log has the details.")


def run(discovery, settings: Settings, deadline_seconds: float):
    """``discovery(settings, deadline)``, finished within ``deadline_seconds`` or ``Unreachable``."""
    deadline = Deadline(deadline_seconds, settings.limits.bytes)
    outcome: dict = {}

    def call():
        # Only what the request's thread needs is kept, not the error's frames: they hold all that was read.
        try:
            outcome["result"] = discovery(settings, deadline)
        except BaseException as error:  # handed to the request's thread as a connector's error
            outcome["error"] = connector_error(error, settings.secrets)

    worker = threading.Thread(target=call, name="connector", daemon=True)
    worker.start()
    worker.join(deadline_seconds)
    in_time = not worker.is_alive()
    deadline.expire()
    worker.join(ENDING_SECONDS)
    if worker.is_alive():
        log.warning("a connector's thread is still running %g seconds after its import's deadline", ENDING_SECONDS)
    elif MALLOC_TRIM is not None:
        MALLOC_TRIM(0)
    if not in_time:
        raise Unreachable(f"The connected system did not answer within the import's time limit of "
                          f"{deadline_seconds:g} seconds.")
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if isinstance(result, DiscoveredSchema):  # its warnings may quote what the system said, as messages do
        result = replace(result, warnings=tuple(scrub(warning, settings.secrets) for warning in result.warnings))
    return result


# Objects handed over from the reading thread at a time, and how many such batches may wait: what a read holds
# in memory beyond the connector's own page is at most their product.
HANDOVER_OBJECTS = 500
HANDOVER_WAITING = 4
HANDOVER_SECONDS = 0.2  # a slow system's objects are handed over this often, however few


def read_objects(connector: Connector, settings: Settings, scope: ReadScope, step_seconds: float,
                 may_read: threading.Event | None = None) -> Iterator[ImportedObject]:
    """The objects in ``scope``, as the connector reads them, each step (a page, a fetch of rows) finished
    within ``step_seconds`` or ``Unreachable``; however long the whole read takes.

    The connector reads on a thread of its own, a bounded queue ahead of the caller, so that no library that
    ignores a timeout can hold the caller past a step's time; what it raises is scrubbed of the secrets, as
    ``run`` scrubs. Closing the iterator, or a step that does not finish in time, cuts the connections under the
    connector, as ``run`` does. While ``may_read`` is clear, the reading thread takes no further object from
    the connector, so that it leaves the interpreter to the caller.
    """
    handed: queue.Queue = queue.Queue(HANDOVER_WAITING)
    stopped = threading.Event()
    deadline = Deadline(step_seconds, settings.limits.bytes)
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
            for found in connector.read_objects(settings, scope, deadline):
                if may_read is not None:
                    may_read.wait()
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
            if isinstance(item, BaseException):
                raise connector_error(item, settings.secrets) from None
            yield from item
    finally:
        stopped.set()
        deadline.expire()  # a read given up on, or stopped early, reads no further
