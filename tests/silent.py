"""A server that accepts connections and never answers: the kernel completes each handshake, nobody reads.

A client without a read timeout waits on it forever, which is what the connectors' timeouts are tested against.
"""
import socket
from contextlib import contextmanager


@contextmanager
def silent_server():
    """Yields the (host, port) of a loopback socket that listens and is never read."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    try:
        yield listener.getsockname()
    finally:
        listener.close()
