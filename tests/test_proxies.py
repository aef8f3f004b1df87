"""Trusted proxies: X-Forwarded-For, -Proto and -Host count only from a peer in JIM_TRUSTED_PROXIES."""
import pytest

from edge.proxies import TrustedProxies

TRUSTED = ["10.0.0.1", "192.168.0.0/16", "::1"]


def seen_by_app(peer: str, trusted=TRUSTED, **headers) -> dict:
    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "HTTP_HOST": "internal:8000"}
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    seen = {}
    TrustedProxies(lambda environ, _start: seen.update(environ) or [], trusted)(environ, None)
    return seen


@pytest.mark.parametrize(
    "peer, forwarded_for, client",
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer cannot name another address
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("192.168.4.2", "198.51.100.1", "198.51.100.1"),  # within a trusted range
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),  # a dual-stack socket's IPv4 peer
        ("10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own claim is not believed
        ("10.0.0.1", "198.51.100.1, 192.168.1.1", "198.51.100.1"),  # a chain of trusted proxies
        ("10.0.0.1", "192.168.1.2, 192.168.1.1", "192.168.1.2"),  # only trusted hops: the leftmost
        ("10.0.0.1", "198.51.100.1, not-an-address", "10.0.0.1"),  # malformed: believe nothing further
        ("10.0.0.1", "198.51.100.1:4711", "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
    ],
)
def test_the_client_address(peer, forwarded_for, client):
    assert seen_by_app(peer, x_forwarded_for=forwarded_for)["REMOTE_ADDR"] == client


def test_scheme_and_host_from_a_trusted_proxy():
    seen = seen_by_app("10.0.0.1", x_forwarded_proto="https", x_forwarded_host="jim.example.com")
    assert (seen["wsgi.url_scheme"], seen["HTTP_HOST"]) == ("https", "jim.example.com")
    seen = seen_by_app("10.0.0.1", x_forwarded_proto="ftp", x_forwarded_host="bad host/")
    assert (seen["wsgi.url_scheme"], seen["HTTP_HOST"]) == ("http", "internal:8000")


def test_an_untrusted_peers_forwarded_headers_are_dropped():
    seen = seen_by_app(
        "203.0.113.9", x_forwarded_for="198.51.100.1", x_forwarded_proto="https", x_forwarded_host="evil.example"
    )
    assert (seen["REMOTE_ADDR"], seen["wsgi.url_scheme"], seen["HTTP_HOST"]) == ("203.0.113.9", "http", "internal:8000")
    assert not any(name.startswith("HTTP_X_FORWARDED") for name in seen)


def test_no_trusted_proxies_by_default():
    seen = seen_by_app("127.0.0.1", trusted=[], x_forwarded_for="198.51.100.1")
    assert seen["REMOTE_ADDR"] == "127.0.0.1"


def test_a_malformed_setting_is_refused_at_start():
    with pytest.raises(ValueError, match="JIM_TRUSTED_PROXIES"):
        TrustedProxies(None, ["10.0.0.300"])
