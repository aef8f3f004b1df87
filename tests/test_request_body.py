"""The body buffer in front of the app: bodies within JIM_MAX_BODY_BYTES arrive whole and sized; a
chunked body over it arrives declared over it, and one declared over it is never read."""
import io

import pytest

from edge.request_body import BufferedBody

LIMIT = 10


def seen_by_app(environ: dict) -> dict:
    """The environ the app is given, its body as the app reads it, and how much of the client's stream had been
    read before the app began."""
    client_stream = environ["wsgi.input"]
    seen = {}

    def app(environ, _start_response):
        seen.update(environ, read_before_the_app=client_stream.tell())
        seen["body"] = environ["wsgi.input"].read()
        return []

    BufferedBody(app, LIMIT)(environ, None)
    return seen


@pytest.mark.parametrize("size", [1, LIMIT - 1, LIMIT, LIMIT + 1, 5 * LIMIT])
def test_a_chunked_body_is_measured(size):
    seen = seen_by_app({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(b"x" * size)})
    assert "HTTP_TRANSFER_ENCODING" not in seen
    assert int(seen["CONTENT_LENGTH"]) == min(size, LIMIT + 1)  # over the limit: Werkzeug answers 413
    assert seen["read_before_the_app"] == len(seen["body"]) == min(size, LIMIT + 1)


def test_a_body_within_the_limit_is_read_before_the_app_runs():
    """So that a slow client cannot hold a write transaction (SQLite's write lock) open while it sends."""
    stream = io.BytesIO(b"{}" + b"trailing bytes past the declared length")
    seen = seen_by_app({"CONTENT_LENGTH": "2", "wsgi.input": stream})
    assert seen["read_before_the_app"] == 2  # all of it, and no more than declared
    assert seen["body"] == b"{}"


def test_a_body_declared_over_the_limit_is_left_unread():
    stream = io.BytesIO(b"x" * 100)
    seen = seen_by_app({"CONTENT_LENGTH": "100000000", "wsgi.input": stream})
    assert seen["CONTENT_LENGTH"] == "100000000" and seen["read_before_the_app"] == 0
