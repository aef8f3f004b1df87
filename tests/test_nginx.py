"""The proxy deployment: Debian's nginx with the repository's site (deploy/nginx.conf.template) in front of a
real gunicorn, over loopback.

nginx connects to gunicorn from 127.0.0.1, the one trusted proxy. Test clients connect from addresses of
their own (127.0.0.3, 127.0.0.4), to nginx or, as a client that bypasses it would, straight to gunicorn.
"""
import json
import socket
import time
from contextlib import ExitStack

import pytest

from conftest import SYSTEMS, TEST_ENCRYPTION_KEY
from loopback import call
from nginx import Proxy, nginx
from servers import free_port, gunicorn

pytestmark = pytest.mark.slow
BEHIND_NGINX = pytest.mark.parametrize("store", ["sqlite"])  # one store: the proxy is what is tested

MAX_BODY_BYTES = 4096
CLIENT, OTHER_CLIENT = "127.0.0.3", "127.0.0.4"
SPOOFED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}


@pytest.fixture
def service_environment(key_prefix):
    return {
        "JIM_TRUSTED_PROXIES": "127.0.0.1",
        "JIM_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
        "JIM_RATE_LIMIT_ENABLED": "true",
        "JIM_RATE_LIMIT_KEY_PREFIX": key_prefix,
        "JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE": "1000",
        "JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE": "5",
    }


@pytest.fixture
def deployment(app, database_url, service_environment):
    """gunicorn with two sync workers, and nginx in front of it: yields (gunicorn's base URL, the proxy)."""
    with (
        gunicorn(database_url, TEST_ENCRYPTION_KEY, "--workers", "2", env=service_environment) as upstream,
        nginx(upstream, service_environment) as proxy,
    ):
        yield upstream, proxy


def through(proxy: Proxy, method: str, path: str, key: str | None = None, body: dict | None = None, **options):
    return call(proxy.base, method, path, key, body, tls=proxy.tls, **options)


def connect(base: str, proxy: Proxy | None = None) -> socket.socket:
    host, port = base.split("://")[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    return proxy.tls.wrap_socket(sock, server_hostname=host) if proxy else sock


def slow_clients(stack: ExitStack, base: str, proxy: Proxy | None, headers: int, bodies: int):
    """Clients that send part of their headers, or their headers and part of their body, and then stall."""
    for _ in range(headers):
        stack.enter_context(connect(base, proxy)).sendall(
            f"GET {SYSTEMS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: jim_".encode()
        )
    for _ in range(bodies):
        stack.enter_context(connect(base, proxy)).sendall(
            f"PUT {SYSTEMS}/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 1000\r\n\r\n{{\"name\": \"".encode()
        )
    time.sleep(0.5)  # long enough for a sync worker to take each that reaches gunicorn


def seconds_to_answer(base: str, key: str, **options) -> float:
    started = time.monotonic()
    assert call(base, "GET", SYSTEMS, key, timeout=3, **options).status == 200
    return time.monotonic() - started


@BEHIND_NGINX
def test_slow_clients_do_not_delay_others(deployment, admin_key):
    upstream, proxy = deployment
    # Straight to gunicorn, two slow clients hold both sync workers: nobody else is served.
    with ExitStack() as stack:
        slow_clients(stack, upstream, None, headers=2, bodies=0)
        with pytest.raises(TimeoutError):
            seconds_to_answer(upstream, admin_key)
    # Through nginx, which reads each request whole before gunicorn sees it, many do not delay anyone.
    with ExitStack() as stack:
        slow_clients(stack, proxy.base, proxy, headers=32, bodies=8)
        waits = [seconds_to_answer(proxy.base, admin_key, tls=proxy.tls) for _ in range(20)]
    assert max(waits) < 2, waits  # a request that waited for a worker held by a slow client would time out


@BEHIND_NGINX
def test_the_clients_own_address_reaches_the_limits(deployment):
    """Anonymous requests count against the client's own address, whatever X-Forwarded-For it sends."""
    upstream, proxy = deployment
    statuses = [through(proxy, "GET", SYSTEMS, source=CLIENT, headers=SPOOFED).status for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert through(proxy, "GET", SYSTEMS, source=OTHER_CLIENT).status == 401
    # Straight to gunicorn the same client is the same address, and its X-Forwarded-For is ignored.
    assert call(upstream, "GET", SYSTEMS, None, source=CLIENT, headers={"X-Forwarded-For": OTHER_CLIENT}).status == 429
    assert call(upstream, "GET", SYSTEMS, None, source=OTHER_CLIENT).status == 401


@BEHIND_NGINX
def test_urls_are_the_proxys(deployment, admin_key):
    """nginx terminates TLS: the service's URLs are https, at the host the client asked nginx for, whatever
    X-Forwarded-Proto and -Host the client sends."""
    upstream, proxy = deployment
    body = {"name": "HR", "connectorDefinitionId": 1}
    created = through(proxy, "POST", SYSTEMS, admin_key, body, source=CLIENT, headers=SPOOFED)
    assert created.status == 201
    assert created.headers["Location"] == f"{proxy.base}{SYSTEMS}/{created.json['id']}"
    # Straight to gunicorn, a client's forwarded headers are ignored: plain http, gunicorn's own address.
    body = {"name": "Payroll", "connectorDefinitionId": 1}
    spoofed = {**SPOOFED, "X-Forwarded-Proto": "https"}
    created = call(upstream, "POST", SYSTEMS, admin_key, body, source=CLIENT, headers=spoofed)
    assert created.status == 201
    assert created.headers["Location"] == f"{upstream}{SYSTEMS}/{created.json['id']}"


@BEHIND_NGINX
def test_the_body_limit_is_the_services(deployment, admin_key):
    """nginx refuses a body over JIM_MAX_BODY_BYTES, in the service's envelope; one at the limit reaches it."""
    _, proxy = deployment
    at_limit = json.dumps({"name": "HR", "connectorDefinitionId": 1, "description": ""})
    at_limit = at_limit[:-1] + " " * (MAX_BODY_BYTES - len(at_limit)) + "}"
    for body, status in ((at_limit, 201), (at_limit + " ", 413)):
        with connect(proxy.base, proxy) as sock:
            sock.sendall(
                f"POST {SYSTEMS} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {admin_key}\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode()
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, content = answer.partition(b"\r\n\r\n")
        assert head.split()[1] == str(status).encode(), head
        if status == 413:
            assert b"application/json" in head.lower()
            envelope = json.loads(content)
            assert envelope["code"] == "PAYLOAD_TOO_LARGE" and envelope["timestamp"]


def test_a_service_that_is_down_answers_the_envelope(service_environment):
    with nginx(f"http://127.0.0.1:{free_port()}", service_environment) as proxy:
        answer = through(proxy, "GET", SYSTEMS)
    assert answer.status == 503
    assert answer.json["code"] == "SERVICE_UNAVAILABLE" and answer.headers["Retry-After"] == "5"
