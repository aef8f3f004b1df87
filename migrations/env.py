"""Alembic's environment, run by ``flask --app app db ...``: the app's engine and its models' metadata.

Logging stays the service's own (JSON on stdout); alembic.ini configures none.
"""
import logging

from alembic import context
from flask import current_app
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger("alembic.env")
extension = current_app.extensions["migrate"]


def render_item(kind, item, _autogen_context):
    """Our column types (UTC times, sealed secrets) as the plain types they store, so that a migration
    never imports the models: it must keep working as they change."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


def skip_empty_revision(_context, _revision, directives):
    # `db migrate` with no change in the models writes no empty revision.
    if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online():
    options = {"process_revision_directives": skip_empty_revision, "render_item": render_item}
    options.update(extension.configure_args)
    with extension.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=extension.db.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
