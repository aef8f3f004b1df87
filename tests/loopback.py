"""Requests to a real server over loopback, one connection each, as a script's HTTP client makes them."""
import http.client
import json
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

SYSTEMS_PATH = "/api/v1/synchronisation/connected-systems"
# Generous: on a loaded machine a request may wait long for the write lock; a test must not fail for that.
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    json: object

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


def call(base: str, method: str, path: str, key: str, body: dict | None = None, headers: dict | None = None) -> Answer:
    """One request; a lost connection (a killed worker) raises ``OSError`` or ``http.client.HTTPException``."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT_SECONDS)
    sent = {"X-Api-Key": key, **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=sent)
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, response.headers, json.loads(data) if data else None)
    finally:
        connection.close()
