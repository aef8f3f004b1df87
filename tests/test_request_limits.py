"""Real gunicorn as gunicorn.conf.py sets it up: bodies over JIM_MAX_BODY_BYTES, its request-line and header
limits, its timeout for a client that stalls and for a request that waits on the database, a stop that lets
requests in flight finish, and forwarded headers that it does not believe."""
import fcntl
import json
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from loopback import call
from raw_http import connect, elapsed, read_answer, request, send_chunked
from servers import gunicorn, gunicorn_server
from silent import silent_server

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


def test_gunicorn_believes_no_forwarded_header(bare_server):
    """Only the app decides whom to believe (JIM_TRUSTED_PROXIES, none here): a client cannot make the service
    think it was reached over https, which would show in the address of a redirect."""
    status, headers, _ = request(bare_server, "GET /api/swagger HTTP/1.1\r\nHost: jim\r\nX-Forwarded-Proto: https\r\n"
                                              "X-Forwarded-Ssl: on\r\nX-Forwarded-For: 198.51.100.7\r\n\r\n")
    assert status == 308
    assert headers["location"] == "http://jim/api/swagger/"


@pytest.fixture
def write_lock_held(database_url):
    """Another writer holds the SQLite store's write lock (BEGIN IMMEDIATE) until it commits; yields its commit."""
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    yield lambda: holder.execute("COMMIT")
    holder.close()


def writing(database_url) -> bool:
    """Whether one of the service's writers has taken its turn on the store (the writers' queue lock is held)."""
    lock = os.open(database_url.removeprefix("sqlite:///") + ".write-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(lock)  # releases the lock if it was taken here
    return False


@pytest.fixture
def silent_directory_system(client, admin, ldap_system):
    """System 1, an LDAP system whose directory accepts connections and never answers, with a Connection
    Timeout past the import's own time limit: only that limit ends the import."""
    with silent_server() as (host, port):
        settings = {"1": {"stringValue": f"ldap://{host}:{port}"}, "2": {"stringValue": "cn=JIM,dc=example,dc=com"},
                    "3": {"stringValue": "never-answered-Pw1"}, "6": {"intValue": 60}}
        assert client.put(f"{SYSTEMS}/1", json={"settingValues": settings}, headers=admin).status_code == 200
        yield


@pytest.mark.parametrize("store", ["sqlite"])  # the lock is SQLite's file
def test_an_import_that_talks_its_whole_time_and_waits_out_the_database_answers_before_the_worker_timeout(
    app, database_url, admin_key, silent_directory_system, write_lock_held
):
    """The longest request, with gunicorn's and the service's default timeouts: an import talks for its whole
    time limit (JIM_CONNECTOR_TIMEOUT_SECONDS, 20 s), then waits out the database to record its failure
    (JIM_DATABASE_TIMEOUT_SECONDS, 10 s). It answers 503 in the envelope; gunicorn (40 s) kills no worker."""
    with gunicorn(database_url, TEST_ENCRYPTION_KEY, "--workers", "1") as base:
        started = time.monotonic()
        answer = call(base, "POST", f"{SYSTEMS}/1/import-schema", admin_key, None)
        assert (answer.status, answer.json["code"]) == (503, "SERVICE_UNAVAILABLE")
        assert 29 <= elapsed(started) < 40


@pytest.mark.parametrize("store", ["sqlite"])  # the lock is SQLite's file
def test_a_request_waiting_on_the_database_gets_its_503_before_the_worker_timeout(
    app, database_url, admin_key, ldap_system, write_lock_held
):
    """With gunicorn's and the service's default timeouts, a write that waits out the database's answers 503 in
    the envelope: the worker is not killed under it first."""
    with gunicorn(database_url, TEST_ENCRYPTION_KEY, "--workers", "1") as base:
        started = time.monotonic()
        answer = call(base, "PUT", f"{SYSTEMS}/1", admin_key, {"name": "Waits"})
        assert (answer.status, answer.json["code"]) == (503, "SERVICE_UNAVAILABLE")
        assert elapsed(started) >= 9  # it waited JIM_DATABASE_TIMEOUT_SECONDS, 10 by default


@pytest.mark.parametrize("store", ["sqlite"])
def test_a_request_in_flight_is_answered_when_gunicorn_stops(app, database_url, admin_key, ldap_system,
                                                            write_lock_held):
    with gunicorn_server(database_url, TEST_ENCRYPTION_KEY, "--workers", "1") as server, ThreadPoolExecutor(1) as pool:
        answer = pool.submit(call, server.base, "PUT", f"{SYSTEMS}/1", admin_key, {"name": "Finished"})
        deadline = time.monotonic() + 30
        while not writing(database_url):  # the PUT is in flight, waiting for the lock
            assert time.monotonic() < deadline, "the PUT never reached its write"
            time.sleep(0.01)
        server.process.send_signal(signal.SIGTERM)  # a restart's graceful stop
        stopping = threading.Timer(1, write_lock_held)  # the write goes on for a second into the stop
        stopping.start()
        assert answer.result(timeout=60).status == 200
        stopping.join()
        server.process.wait(timeout=30)
