"""X-Forwarded-For, -Proto and -Host, believed only from the proxies the operator trusts.

Werkzeug's ProxyFix trusts a number of hops, whoever sent them. Here the immediate peer must be listed in
JIM_TRUSTED_PROXIES (addresses or CIDR ranges); from anyone else the three headers are dropped, so a
client cannot choose its own address to escape a rate limit. Behind a chain of trusted proxies the client
is the last address in X-Forwarded-For, read from the right, that is not itself a trusted proxy.
"""
import ipaddress
import re

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")
HOST = re.compile(r"([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")


def address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:  # a dual-stack socket's form of an IPv4 peer
        return ip.ipv4_mapped
    return ip


def last(value: str) -> str:
    """The value the nearest proxy set: the last of a comma-separated list."""
    return value.rsplit(",", 1)[-1].strip()


class TrustedProxies:
    """WSGI middleware that applies the forwarded headers of trusted peers and drops everyone else's."""

    def __init__(self, app, trusted: list[str]):
        self.app = app
        try:
            self.networks = [ipaddress.ip_network(entry, strict=False) for entry in trusted]
        except ValueError as error:
            raise ValueError(f"JIM_TRUSTED_PROXIES: {error}") from None

    def is_trusted(self, ip) -> bool:
        return ip is not None and any(ip in network for network in self.networks)

    def __call__(self, environ, start_response):
        forwarded = {name: environ.pop(name) for name in FORWARDED if name in environ}
        peer = address(environ.get("REMOTE_ADDR", ""))
        if forwarded and self.is_trusted(peer):
            self.apply(environ, peer, forwarded)
        return self.app(environ, start_response)

    def apply(self, environ: dict, peer, forwarded: dict):
        client = peer
        for hop in reversed(forwarded.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            if not self.is_trusted(client):
                break
            hop_address = address(hop)
            if hop_address is None:  # a malformed entry: believe nothing further left
                break
            client = hop_address
        environ["REMOTE_ADDR"] = str(client)
        proto = last(forwarded.get("HTTP_X_FORWARDED_PROTO", "")).lower()
        if proto in ("http", "https"):
            environ["wsgi.url_scheme"] = proto
        host = last(forwarded.get("HTTP_X_FORWARDED_HOST", ""))
        if HOST.fullmatch(host):
            environ["HTTP_HOST"] = host
