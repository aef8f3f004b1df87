"""Headers on every answer: no content sniffing, and no caching of configuration that can hold secrets."""


def init_app(app):
    @app.after_request
    def protect(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response
