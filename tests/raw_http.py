"""Requests written byte by byte, for what an HTTP library will not send: lies about the body's length,
chunked bodies, oversized request lines and headers."""
import socket
import time


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def read_answer(sock: socket.socket, seconds: float = 30) -> tuple[int, dict, bytes]:
    """Status, headers (lower-case names) and body of the answer, read until the server closes."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass  # whatever arrived before the reset or the timeout is the answer
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def request(base: str, head: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    with connect(base) as sock:
        try:
            sock.sendall(head.encode("latin-1") + body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        return read_answer(sock)


def send_chunked(sock: socket.socket, total: int, chunk_size: int = 65536) -> int:
    """Send ``total`` bytes as chunks (stopping when the server closes); returns how many were sent."""
    sent = 0
    try:
        while sent < total:
            chunk = b" " * min(chunk_size, total - sent)
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def elapsed(since: float) -> float:
    return time.monotonic() - since
