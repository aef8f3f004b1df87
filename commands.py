"""Operator commands: ``flask --app app init-db``, ``api-key create|list|revoke`` and ``reencrypt``."""
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import String, cast, or_, select

import systems
from auth import create_key, ensure_infrastructure_key
from connectors import ldap
from database import db
from history import ChangeAction
from models import ApiKey, Role, seed_catalog, utcnow

EXAMPLE_SYSTEM_NAME = "Corporate LDAP"


def init_app(app):
    # The commands say they need the app (with_appcontext): the flask command pushes its context for every
    # command anyway, but app.test_cli_runner() does so only for commands that ask.
    app.cli.add_command(init_db)
    app.cli.add_command(api_key)
    app.cli.add_command(reencrypt)


@click.command("init-db")
@click.option("--with-example", is_flag=True, help="Also create an example LDAP connected system if there is none.")
@with_appcontext
def init_db(with_example):
    """Create or upgrade the schema (the migrations), seed the connector catalog; safe to run again."""
    upgrade()
    seed_catalog()
    ensure_infrastructure_key(current_app.config["JIM_INFRASTRUCTURE_API_KEY"])
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")
    if with_example and systems.list_page(None, "name", False, 1, 1)[1] == 0:
        example = systems.created(EXAMPLE_SYSTEM_NAME, "An example system for trying the API.", ldap.CONNECTOR)
        with systems.writing() as write:
            # No API key made it: it has no Created record.
            system = systems.save(write, None, example, ChangeAction.CREATED, by=None)
        click.echo(f"Created example connected system {system.id}: {system.name}.")


@click.group("api-key")
def api_key():
    """Create, list and revoke API keys."""


def key_name(_context, _parameter, value: str) -> str:
    """The name is stored in a 200-character column: refused here, not by the database."""
    if not value.strip() or len(value) > 200:
        raise click.BadParameter("must be 1-200 characters, and not only white space.")
    return value


@api_key.command("create")
@click.option("--name", required=True, callback=key_name,
              help="What the key is for, shown in lists and the change history.")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role], case_sensitive=False))
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="The key stops working after this many days.")
@with_appcontext
def create(name, role, expires_in_days):
    """Create a key and print it, alone on the last line. It is shown only this once."""
    role = next(r for r in Role if r.value.lower() == role.lower())
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    key, plaintext = create_key(name, role, expires_at)
    expiry = f"expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else "does not expire"
    click.echo(f"Created API key {key.id} {key.name!r} ({key.role}, {key.prefix}..., {expiry}).")
    click.echo("Store it now: it is shown only this once.")
    click.echo(plaintext)


@api_key.command("list")
@with_appcontext
def list_keys():
    """List the keys: id, prefix, role, status and name; never the keys themselves."""
    now = utcnow()
    for key in db.session.scalars(select(ApiKey).order_by(ApiKey.id)):
        expires = f"{key.expires_at:%Y-%m-%d}" if key.expires_at else "never"
        click.echo(f"{key.id}\t{key.prefix}...\t{key.role}\t{key.status(now)}\texpires {expires}\t{key.name}")


@api_key.command("revoke")
@click.argument("key")
@with_appcontext
def revoke(key):
    """Revoke a key, named by its id or its display prefix; it stops working at once."""
    # The id is compared as text: any argument is safe to compare, where a number past the id column's range
    # would make the database fail.
    condition = or_(ApiKey.prefix == key.removesuffix("..."), cast(ApiKey.id, String) == key)
    matches = db.session.scalars(select(ApiKey).where(condition)).all()
    if len(matches) != 1:
        raise click.ClickException(f"{len(matches) or 'No'} keys match {key!r}; name one by its id.")
    matches[0].revoked_at = matches[0].revoked_at or utcnow()
    db.session.commit()
    click.echo(f"Revoked API key {matches[0].id} {matches[0].name!r}.")


@click.command("reencrypt")
@with_appcontext  # also when invoked through app.cli, as tests do, not only through the flask command
def reencrypt():
    """Rewrite every stored secret under the first key of JIM_ENCRYPTION_KEY, all in one transaction.

    If any secret cannot be read with the configured keys, nothing is rewritten: a rotation must not leave some
    secrets behind under a key that is about to be removed.
    """
    with systems.writing() as write:
        count, unreadable = systems.reencrypt_secrets(write)
        if unreadable:
            raise click.ClickException(
                f"No configured key can read {len(unreadable)} secret(s) ({'; '.join(unreadable)}); nothing was "
                "rewritten. Add the key they were written under to JIM_ENCRYPTION_KEY, or set those settings again."
            )
    click.echo(f"Re-encrypted {count} secret(s) under the first key of JIM_ENCRYPTION_KEY.")
