"""The SCIM connector's requests: one GET of a SCIM document, bounded in time and size, its failures told as
a connector tells them (``Refused`` when the service provider answered, ``Unreachable`` when it did not).

No redirect is followed: at discovery a redirect means the Base URL is not where the service provider is,
the token would go wherever the redirect points, and provisioning's POST and PATCH do not survive one.
"""
import json
import logging
import re
import ssl

import httpx
from pydantic import ValidationError
from scim2_models import Context, Error, ScimPolicy

from connectors.interface import Deadline, Refused, Unreachable

# httpcore's DEBUG lines quote each answer's headers, and a provider may echo there what it was sent, the
# token included: its lines stop at INFO, whatever level the service logs at.
logging.getLogger("httpcore").setLevel(logging.INFO)
# RFC 7643's own schemas, all of them, are 26 KB; 1 MiB holds some 3,500 attributes described as fully, 40
# times as many. The cap bounds the work too: 1 MiB of the tersest definitions (27,500) takes scim2-models
# about 3 s to validate, 4 MiB 16 s, most of an import's deadline. Not read past this.
MAX_BODY_BYTES = 1024 * 1024
# Of a refusal's body only the start is read, for what the provider said.
MAX_ERROR_BODY_BYTES = 64 * 1024
SAID_CHARACTERS = 200
JSON_MEDIA_TYPES = ("application/scim+json", "application/json")
# A gateway's word that the provider behind it could not be reached or is down: the provider did not answer.
UNAVAILABLE = (502, 503, 504)
# Providers put attributes of their own into the discovery documents: ignored, not refused.
TOLERANT = ScimPolicy(unknown=ScimPolicy.Unknown.ignore)
# What RFC 6750's b64token and every real token is made of: visible ASCII, which a header can carry.
TOKEN_CHARACTERS = re.compile(r"[\x21-\x7e]+")


def client(bearer_token: str | None) -> httpx.Client:
    """A client that sends the token, when there is one, to the Base URL's host alone."""
    headers = {"Accept": "application/scim+json, application/json"}
    if bearer_token is not None:
        if not TOKEN_CHARACTERS.fullmatch(bearer_token):
            raise Refused("The Bearer Token holds characters an HTTP header cannot carry (spaces, line breaks "
                          "or non-ASCII characters).")
        headers["Authorization"] = f"Bearer {bearer_token}"
    return httpx.Client(headers=headers, follow_redirects=False)


def get(client: httpx.Client, url: str, model, step_seconds: float, deadline: Deadline, params=None):
    """The SCIM document at ``url``, validated as ``model`` (a scim2-models message or resource), or, when
    ``model`` is a schema's URN, the JSON document that names it.

    Connecting and each read wait at most ``step_seconds``, and never past the deadline.
    """
    seconds = deadline.bound(step_seconds)

    def cut_on_expiry(event: str, info: dict):  # httpcore's trace of each connection it opens
        if event == "connection.connect_tcp.complete":
            deadline.cut_on_expiry(info["return_value"].get_extra_info("socket"))

    try:
        with client.stream("GET", url, params=params, timeout=seconds,
                           extensions={"trace": cut_on_expiry}) as response:
            if not response.is_success:
                raise _refusal(response, url, _body(response, MAX_ERROR_BODY_BYTES, deadline))
            body = _body(response, MAX_BODY_BYTES, deadline)
    except httpx.TimeoutException:
        limit = (f"the import's time limit of {deadline.seconds:g} seconds" if seconds < step_seconds
                 else f"{step_seconds:g} seconds, the Connection Timeout")
        raise Unreachable(f"The service provider did not answer GET {url} within {limit}.") from None
    except httpx.ConnectError as error:
        raise Unreachable(f"Could not connect to the service provider for GET {url}: {_reason(error)}.") from None
    except httpx.TransportError as error:
        raise Unreachable(f"The connection to the service provider failed during GET {url}: {error}.") from None
    except httpx.InvalidURL as error:
        raise Refused(f"The Base URL is not a URL the connector can use: {error}.") from None
    except httpx.DecodingError:  # it answered, with a body that is not what it said
        encoding = _brief(response.headers.get("Content-Encoding", ""))
        raise Refused(f"GET {url} answered a body that its Content-Encoding ({encoding}) does not decode.") from None
    if body is None:
        raise Refused(f"The service provider's answer to GET {url} is larger than {MAX_BODY_BYTES // 2**20} MiB, "
                      f"more than any SCIM schema needs; it was not read.")
    return _document(response, url, body, model)


def _body(response: httpx.Response, limit: int, deadline: Deadline) -> bytes | None:
    """The body, or None when it is longer than ``limit``: known from Content-Length without reading it, else
    found by reading no further than the limit. A body that trickles in stops at the deadline."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    for chunk in response.iter_bytes():
        deadline.received(len(chunk))
        body += chunk
        if len(body) > limit:
            return None
        deadline.remaining()
    return bytes(body)


def _document(response: httpx.Response, url: str, body: bytes, model):
    media_type = _media_type(response)
    if media_type == "text/html":
        raise Refused(f"GET {url} answered an HTML page, not SCIM JSON: the Base URL should be the service "
                      f"provider's SCIM base URL, such as https://example.com/scim/v2.")
    if media_type and media_type not in JSON_MEDIA_TYPES:
        raise Refused(f"GET {url} answered {_brief(media_type)}, not SCIM JSON.")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(f"GET {url} answered something that is not JSON.") from None
    expected = model if isinstance(model, str) else str(model.__schema__)
    # scim2-models accepts a document that names no schema; RFC 7643 has every SCIM document name its own.
    if not isinstance(document, dict) or expected not in (document.get("schemas") or []):
        raise Refused(f"GET {url} answered JSON that is not SCIM: it does not name the schema {expected}.")
    if isinstance(model, str):  # the document as JSON: a page of resources is read, not validated whole
        return document
    try:
        return model.model_validate(document, scim_ctx=Context.RESOURCE_QUERY_RESPONSE, scim_policy=TOLERANT)
    except ValidationError as error:
        first = error.errors()[0]  # its location and message, never the input it quotes
        where = ".".join(str(step) for step in first["loc"])
        raise Refused(f"GET {url} answered JSON that is not valid SCIM: "
                      f"{_brief(where + ': ' if where else '')}{_brief(first['msg'])}.") from None


def _refusal(response: httpx.Response, url: str, body: bytes | None) -> Exception:
    status = response.status_code
    heard = f"GET {url} answered {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    if response.has_redirect_location:
        location = _brief(response.headers["Location"])
        return Refused(f"{heard}, to {location}: redirects are not followed; set the Base URL to where the "
                       f"service provider is.")
    said = _said(response, body)
    heard += f": {said}" if said else ""
    token_sent = "Authorization" in response.request.headers
    if status == 401 and token_sent:
        return Refused(f"The service provider did not accept the bearer token ({heard}).")
    if status == 401:
        return Refused(f"The service provider asks for credentials and Authentication Method is None ({heard}).")
    if status == 403:
        return Refused(f"The service provider refused access ({heard}).")
    if status == 404:
        return Refused(f"The service provider has no such endpoint ({heard}): the Base URL should be its SCIM "
                       f"base URL, such as https://example.com/scim/v2.")
    if status in UNAVAILABLE:
        return Unreachable(f"The service provider is not available ({heard}).")
    return Refused(f"The service provider refused the request ({heard}).")


def _said(response: httpx.Response, body: bytes | None) -> str:
    """What the provider said about a refusal, briefly: a SCIM error's detail, or a plain-text body."""
    if not body:
        return ""
    media_type = _media_type(response)
    if media_type == "text/plain":
        return _brief(body.decode("utf-8", "replace"))
    if media_type not in JSON_MEDIA_TYPES:
        return ""
    try:
        error = Error.model_validate(json.loads(body), scim_policy=TOLERANT)
    except (ValueError, RecursionError):  # pydantic's ValidationError is a ValueError
        return ""
    return _brief(error.detail or "")


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("Content-Type", "").partition(";")[0].strip().lower()


def _reason(error: httpx.ConnectError) -> str:
    cause = error.__cause__  # httpcore's error, raised while handling the ssl module's
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return "TLS failed: " + re.sub(r" \(_ssl\.c:\d+\)$", "", str(cause))  # less OpenSSL's source line
    return str(error)


def _brief(text: str) -> str:
    """One line of at most ``SAID_CHARACTERS``: a provider's words may be long, or hold line breaks."""
    line = " ".join(text.split())
    return line if len(line) <= SAID_CHARACTERS else line[:SAID_CHARACTERS - 1] + "…"
