"""Configuration: every setting read from the environment, with an explicit default.

Nothing else in the service reads the environment; the application factory builds a ``Config`` and hands
it to Flask, and tests pass their own values on top.
"""
import os

from connectors.interface import ImportLimits

MEBIBYTE = 1024 * 1024


def database_url(raw: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL for DATABASE_URL: the embedded SQLite file when unset, psycopg 3 for PostgreSQL."""
    if not raw:
        return "sqlite:///" + os.path.join(instance_path, "jim.db")
    for scheme in ("postgres://", "postgresql://"):
        # PaaS platforms hand out postgres://; SQLAlchemy needs the driver named.
        if raw.startswith(scheme):
            return "postgresql+psycopg://" + raw[len(scheme):]
    return raw


def comma_separated(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def flag(raw: str | None, default: bool) -> bool:
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


class Config:
    """The service's settings. Each one is listed, with its variable and default, in the README."""

    def __init__(self, environ=os.environ, instance_path: str = "instance"):
        self.SQLALCHEMY_DATABASE_URI = database_url(environ.get("DATABASE_URL"), instance_path)
        # Several keys may be given during a rotation: the first encrypts, all decrypt.
        self.JIM_ENCRYPTION_KEYS = comma_separated(environ.get("JIM_ENCRYPTION_KEY"))
        self.JIM_INFRASTRUCTURE_API_KEY = environ.get("JIM_INFRASTRUCTURE_API_KEY") or None
        self.MAX_CONTENT_LENGTH = int(environ.get("JIM_MAX_BODY_BYTES", MEBIBYTE))
        self.JIM_DATABASE_TIMEOUT_SECONDS = float(environ.get("JIM_DATABASE_TIMEOUT_SECONDS", 10))
        self.JIM_LOG_LEVEL = environ.get("JIM_LOG_LEVEL", "INFO").upper()
        self.JIM_RATE_LIMIT_ENABLED = flag(environ.get("JIM_RATE_LIMIT_ENABLED"), True)
        self.JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE = int(environ.get("JIM_RATE_LIMIT_AUTHENTICATED_PER_MINUTE", 300))
        self.JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE = int(
            environ.get("JIM_RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE", 30)
        )
        # The default deployment is several gunicorn workers on one machine: a file beside the embedded
        # store gives them one shared count; several instances share Redis instead.
        self.JIM_RATE_LIMIT_STORAGE_URI = environ.get("JIM_RATE_LIMIT_STORAGE_URI") or (
            "jim-sqlite:///" + os.path.join(instance_path, "rate-limits.db")
        )
        # Several deployments (staging, production) may share one Redis; each counts under its own prefix.
        self.JIM_RATE_LIMIT_KEY_PREFIX = environ.get("JIM_RATE_LIMIT_KEY_PREFIX", "jim")
        self.JIM_TRUSTED_PROXIES = comma_separated(environ.get("JIM_TRUSTED_PROXIES"))
        # Connectors read files only from here (the File connector's File Path must lie inside it).
        self.JIM_CONNECTOR_FILES_ROOT = os.path.abspath(
            environ.get("JIM_CONNECTOR_FILES_ROOT") or os.path.join(instance_path, "connector-files")
        )
        # No import talks to its system longer than this in all; with the database's wait to record it, below
        # gunicorn's worker timeout, so an import always answers.
        self.JIM_CONNECTOR_TIMEOUT_SECONDS = float(environ.get("JIM_CONNECTOR_TIMEOUT_SECONDS", 20))
        # The most one import brings (connectors/limits.py): a system past one is refused before anything is
        # written. Raised, an import may outlast gunicorn's timeout (bench/big_systems.py measures what fits).
        most = ImportLimits()
        self.JIM_IMPORT_MAX_CONTAINERS = int(environ.get("JIM_IMPORT_MAX_CONTAINERS", most.containers))
        self.JIM_IMPORT_MAX_OBJECT_TYPES = int(environ.get("JIM_IMPORT_MAX_OBJECT_TYPES", most.object_types))
        self.JIM_IMPORT_MAX_ATTRIBUTES = int(environ.get("JIM_IMPORT_MAX_ATTRIBUTES", most.attributes))
        self.JIM_IMPORT_MAX_BYTES = int(environ.get("JIM_IMPORT_MAX_BYTES", most.bytes))
        # Full Imports run on a task queue (Huey): its SQLite file in the instance folder, so that one machine needs
        # nothing else, or the Redis this URL names, so that several machines share the work.
        self.JIM_TASK_QUEUE_URL = environ.get("JIM_TASK_QUEUE_URL") or (
            "sqlite:///" + os.path.join(instance_path, "tasks.db"))
        self.JIM_WORKER_THREADS = int(environ.get("JIM_WORKER_THREADS", 2))
