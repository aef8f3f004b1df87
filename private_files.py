"""The service's own files, which no connector may read: the instance folder (the embedded store, its key, the
rate limits' counts, the task queue), and the database, task queue and rate-limit files wherever their URLs put
them.

A files root that is or holds any of them is refused when the service starts, and again at each read if it is
a link that points elsewhere since; a File Path that is a hard link to one is refused when it is opened
(connectors.file). A path inside the root resolves to none of them otherwise: the root holds none.
"""
from pathlib import Path

from sqlalchemy.engine import make_url

from connectors.file import held_by
from edge.rate_limit_storage import SCHEME as RATE_LIMIT_SCHEME
from encryption import KEY_FILE


class FilesRootError(Exception):
    """The service cannot start: its files root would let a File system read the service's own files."""


def private_paths(app) -> tuple[Path, ...]:
    """The service's own folder and files, every symbolic link resolved."""
    paths = [Path(app.instance_path), Path(app.instance_path) / KEY_FILE]
    for stored in ("SQLALCHEMY_DATABASE_URI", "JIM_TASK_QUEUE_URL"):  # the store, and the task queue's
        url = make_url(app.config[stored])
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            paths.append(Path(url.database))
    rate_limits = app.config["JIM_RATE_LIMIT_STORAGE_URI"]
    if rate_limits.startswith(f"{RATE_LIMIT_SCHEME}:///"):
        paths.append(Path(rate_limits.removeprefix(f"{RATE_LIMIT_SCHEME}:///")))
    return tuple(path.resolve() for path in paths)


def init_app(app):
    """Refuses a files root that is, or holds, one of the service's own files; keeps them for the connectors."""
    private = private_paths(app)
    root = Path(app.config["JIM_CONNECTOR_FILES_ROOT"]).resolve()
    held = held_by(root, private)
    if held is not None:
        raise FilesRootError(
            f"JIM_CONNECTOR_FILES_ROOT ({root}) holds the service's own {held} (its instance folder, database or "
            f"key), which a File system could then read: give it a folder of its own, such as the default, "
            f"connector-files in the instance folder.")
    app.extensions["jim_private_paths"] = private
