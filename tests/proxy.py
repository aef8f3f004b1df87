"""A reverse proxy for the scale-out tests: round-robin over the instances, appending its peer's address
to X-Forwarded-For as nginx does, and connecting to them from an address of its own (127.0.0.2), so that
the instances can trust it and nobody else."""
import http.client
import itertools
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROXY_ADDRESS = "127.0.0.2"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "server", "date"}


class Forward(BaseHTTPRequestHandler):
    def do_GET(self):
        target = self.server.next_backend()
        forwarded_for = ", ".join(filter(None, [self.headers.get("X-Forwarded-For"), self.client_address[0]]))
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = forwarded_for
        upstream = http.client.HTTPConnection(*target, timeout=30, source_address=(PROXY_ADDRESS, 0))
        try:
            upstream.request(self.command, self.path, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass  # the instances log each request themselves


class RoundRobin(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, backends: list[str]):
        super().__init__(("127.0.0.1", 0), Forward)
        addresses = (base.removeprefix("http://").rsplit(":", 1) for base in backends)
        targets = [(host, int(port)) for host, port in addresses]
        self.cycle = itertools.cycle(targets)
        self.lock = threading.Lock()
        self.served = dict.fromkeys(targets, 0)

    def next_backend(self) -> tuple[str, int]:
        with self.lock:
            target = next(self.cycle)
            self.served[target] += 1
        return target


@contextmanager
def round_robin(backends: list[str]):
    """Serve the proxy on a free loopback port; yields it, with its base URL as ``base``."""
    proxy = RoundRobin(backends)
    proxy.base = f"http://127.0.0.1:{proxy.server_address[1]}"
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
