"""The edge: what every request passes through around the API, knowing nothing of connected systems.

``init_app`` wires it in the one order that works, so that the order is code:

1. WSGI middleware, outermost first as a request meets it: ``proxies`` settles the client's address and
   scheme before anything reads them, then ``request_body`` reads the body in full (or refuses it) before
   Flask sees the request.
2. Flask hooks, in the order they run: ``request_log`` first, so that its request id and clock cover all
   that follows; then ``rate_limits``, which counts the request against the caller that ``proxies`` and
   ``auth`` settled; ``response_headers`` on every answer, errors included.
"""


def init_app(app):
    # Imported here: gunicorn's logging configuration names edge.log_format, and importing the package for it
    # must not load the service (rate_limits needs auth, auth the database) into gunicorn's master.
    from edge import log_format, rate_limits, request_log, response_headers  # noqa: PLC0415
    from edge.proxies import TrustedProxies  # noqa: PLC0415
    from edge.request_body import BufferedBody  # noqa: PLC0415

    log_format.configure_logging(app.config["JIM_LOG_LEVEL"])
    # Each wrapper goes around the one before it: the last one wrapped sees the request first.
    app.wsgi_app = BufferedBody(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["JIM_TRUSTED_PROXIES"])
    request_log.init_app(app)
    rate_limits.init_app(app)
    response_headers.init_app(app)
