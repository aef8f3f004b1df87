"""Request bodies are read, up to JIM_MAX_BODY_BYTES, before the app sees the request.

A chunked body declares no length, and Werkzeug stops reading one at the limit without saying that more
followed (a body cut there could even still parse). Here it is measured: one over the limit reaches the app
declared one byte over it, so that reading it raises the usual 413. A body in memory also cannot keep a
write transaction (which on SQLite holds the write lock) waiting on a slow client. A body declared larger
than the limit is not read at all: the app answers 413 without it.
"""
import io


class BufferedBody:
    """WSGI middleware: the body as a sized, in-memory stream when it is within the limit."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        declared = environ.get("CONTENT_LENGTH", "")
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            body = environ["wsgi.input"].read(self.limit + 1)
        elif declared.isdigit() and 0 < int(declared) <= self.limit:
            body = environ["wsgi.input"].read(int(declared))
        else:
            return self.app(environ, start_response)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)
