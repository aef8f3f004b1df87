"""Requests to a real server over loopback, one connection each, as a script's HTTP client makes them."""
import http.client
import json
import ssl
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


def call(base: str, method: str, path: str, key: str | None, body: dict | None = None, headers: dict | None = None,
         *, source: str | None = None, tls: ssl.SSLContext | None = None, timeout: float = TIMEOUT_SECONDS) -> Answer:
    """One request; a lost connection (a killed worker) raises ``OSError`` or ``http.client.HTTPException``.

    ``source`` is the client's own loopback address (such as 127.0.0.3); ``tls`` the context of an https base.
    """
    address = urlsplit(base)
    options = {"timeout": timeout, "source_address": (source, 0) if source else None}
    if address.scheme == "https":
        connection = http.client.HTTPSConnection(address.hostname, address.port, context=tls, **options)
    else:
        connection = http.client.HTTPConnection(address.hostname, address.port, **options)
    sent = {**({"X-Api-Key": key} if key is not None else {}), **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=sent)
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, response.headers, json.loads(data) if data else None)
    finally:
        connection.close()
