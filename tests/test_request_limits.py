"""Request limits against real gunicorn: bodies over JIM_MAX_BODY_BYTES, gunicorn's request-line and
header limits, and its timeout for a client that stalls."""
import json
import runpy
import time

import pytest

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from raw_http import connect, elapsed, read_answer, request, send_chunked
from servers import PROJECT, gunicorn

pytestmark = pytest.mark.slow
LIMIT = 64 * 1024


@pytest.fixture
def server(app, database_url, ldap_system):
    with gunicorn(
        database_url.replace("+psycopg", ""), TEST_ENCRYPTION_KEY, "--workers", "2", "--timeout", "5",
        env={"JIM_MAX_BODY_BYTES": str(LIMIT)},
    ) as base:
        yield base


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory):
    """gunicorn alone, for what it refuses before the app: no store is touched."""
    database = tmp_path_factory.mktemp("bare") / "jim.db"
    with gunicorn(f"sqlite:///{database}", TEST_ENCRYPTION_KEY, "--workers", "2", "--timeout", "5") as base:
        yield base


def put_head(key: str, framing: str) -> str:
    return (
        f"PUT {SYSTEMS}/1 HTTP/1.1\r\nHost: jim\r\nX-Api-Key: {key}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    )


def assert_too_large(status, body):
    assert status == 413
    assert json.loads(body)["code"] == "PAYLOAD_TOO_LARGE"


def test_a_declared_length_over_the_limit_is_refused_unread(server, admin_key):
    """Content-Length says 100 MB and 1 KB follows: the answer comes without waiting for the rest."""
    started = time.monotonic()
    status, _, body = request(server, put_head(admin_key, "Content-Length: 100000000"), b"{" + b" " * 1023)
    assert_too_large(status, body)
    assert elapsed(started) < 20


def test_a_chunked_body_over_the_limit_is_refused(server, admin_key):
    with connect(server) as sock:
        sock.sendall(put_head(admin_key, "Transfer-Encoding: chunked").encode())
        sent = send_chunked(sock, 8 * LIMIT)
        status, _, body = read_answer(sock)
    assert_too_large(status, body)
    assert sent >= LIMIT


def test_a_body_within_the_limit_is_served(server, admin_key):
    body = json.dumps({"description": "x" * 900}).encode()
    status, _, answer = request(server, put_head(admin_key, f"Content-Length: {len(body)}"), body)
    assert status == 200, answer


@pytest.mark.parametrize(
    "head, status",
    [
        (f"GET /api/v1/health?{'a' * 5000} HTTP/1.1\r\nHost: jim\r\n\r\n", 414),
        ("GET /api/v1/health HTTP/1.1\r\nHost: jim\r\n" + "".join(f"X-H{n}: v\r\n" for n in range(70)) + "\r\n", 431),
        (f"GET /api/v1/health HTTP/1.1\r\nHost: jim\r\nX-Big: {'a' * 9000}\r\n\r\n", 431),
    ],
    ids=["request-line", "header-count", "header-size"],
)
def test_gunicorn_refuses_requests_over_its_limits(bare_server, head, status):
    answer_status, headers, _ = request(bare_server, head)
    assert answer_status == status
    assert "server" not in headers


def test_a_client_that_stalls_is_cut_off(bare_server):
    """Half a request, then silence: the worker is replaced after its timeout, not held for ever.

    gunicorn answers its own 500 page as it aborts the worker, or just closes the connection."""
    started = time.monotonic()
    with connect(bare_server) as sock:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: jim\r\n")
        sock.settimeout(60)
        try:
            answer = sock.recv(1024)
        except ConnectionResetError:
            answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 500 ")
    assert elapsed(started) < 45  # --timeout 5, on a slow machine
    status, _, _ = request(bare_server, "GET /api/v1/health/live HTTP/1.1\r\nHost: jim\r\n\r\n")
    assert status == 200


def test_the_configured_limits_are_deliberate():
    settings = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))
    assert settings["timeout"] == 30 and settings["graceful_timeout"] == 20
    assert (settings["limit_request_line"], settings["limit_request_fields"], settings["limit_request_field_size"]) == (
        4094, 60, 8190,
    )
    assert settings["accesslog"] is None  # the app's JSON line is the one line per request
    assert settings["forwarded_allow_ips"] == "" and settings["secure_scheme_headers"] == {}
