"""Calling a connector: one deadline for the whole call, and no secret in anything that comes back.

The connector bounds each of its steps by the deadline (``Deadline.bound``); the runner also runs it on a
thread of its own and stops waiting when the deadline passes, so that no library that ignores a timeout can
hold the request past it. Nothing waits for a call abandoned that way: it ends when its own timeouts fire, or
when its peer closes (a PostgreSQL server that took a query and then went silent holds it that long).

What a connector raises may quote what its driver said, and a driver may quote what it was given: every
message is scrubbed of the call's secrets, whole or in part, before it leaves.
"""
import json
import threading
import traceback
from dataclasses import replace
from urllib.parse import quote

from connectors.interface import ConnectorError, Deadline, DiscoveredSchema, Settings, Unreachable

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
