"""A loopback HTTP server that gives every request a fixed answer, and keeps what it was asked.

For what a real service provider never does: answer HTML, JSON of another kind, an endless body, a redirect.
"""
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict


@dataclass
class Canned:
    base: str
    requests: list[Request] = field(default_factory=list)  # in the order they came
    hung_up: threading.Event = field(default_factory=threading.Event)  # a client left an endless body


@contextmanager
def canned_http(status: int = 200, headers: dict | None = None, body: bytes = b"", endless: bool = False,
                pause: float = 0, host: str = "127.0.0.1", bodies: dict[str, bytes] | None = None):
    """Yields a ``Canned`` whose ``base`` answers ``status``, ``headers`` and ``body`` to every GET (the body of
    ``bodies`` whose key the path ends with, if one does); an ``endless`` body repeats, ``pause`` seconds apart,
    until the client hangs up."""
    canned = Canned("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            canned.requests.append(Request(self.path, dict(self.headers)))
            answer = next((given for ending, given in (bodies or {}).items() if self.path.endswith(ending)), body)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if not endless and "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                self.wfile.write(answer)
                while endless:
                    time.sleep(pause)
                    self.wfile.write(answer)
                    self.wfile.flush()
            except OSError:
                canned.hung_up.set()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    canned.base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield canned
    finally:
        server.shutdown()
        server.server_close()
