"""Secrets at rest: a StringEncrypted setting is stored as a Fernet token and is a ``Secret`` in memory.

A ``Secret`` holds only ciphertext. Its value appears nowhere by accident (not in repr, str, a log line or an
exception) and the column type that stores it accepts nothing else, so plaintext cannot reach the database.
"""
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

KEY_FILE = "encryption.key"
HOW_TO_MAKE_A_KEY = (
    "make one with: python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\""
)


class EncryptionKeyError(RuntimeError):
    """The service cannot start without a usable encryption key."""


class UnreadableSecret(Exception):
    """No configured key can decrypt this secret (it was written under a key that is no longer configured)."""


class Secret:
    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    @classmethod
    def seal(cls, plaintext: str) -> "Secret":
        return cls(cipher().encrypt(plaintext.encode()).decode())

    def reveal(self) -> str:
        try:
            return cipher().decrypt(self.token.encode()).decode()
        except InvalidToken:
            raise UnreadableSecret("no configured encryption key can read this secret") from None

    def is_readable(self) -> bool:
        """Whether a configured key can decrypt it; the plaintext is dropped at once."""
        try:
            self.reveal()
        except UnreadableSecret:
            return False
        return True

    def rotated(self) -> "Secret":
        """The same secret encrypted under the first configured key."""
        try:
            return Secret(cipher().rotate(self.token.encode()).decode())
        except InvalidToken:
            raise UnreadableSecret("no configured encryption key can read this secret") from None

    def __eq__(self, other):
        """The same ciphertext: the same stored secret (sealing one plaintext twice gives two tokens)."""
        return isinstance(other, Secret) and other.token == self.token

    __hash__ = None  # a secret is a value, never a key

    def __repr__(self):
        return "Secret('***')"

    __str__ = __repr__


class EncryptedSecret(TypeDecorator):
    """A column that stores a ``Secret``'s token and refuses anything that is not sealed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Secret):
            raise TypeError("only a sealed Secret may be stored in an encrypted column")
        return value.token

    def process_result_value(self, value, dialect):
        return None if value is None else Secret(value)


def cipher() -> MultiFernet:
    return current_app.extensions["jim_encryption"]


def init_app(app):
    keys = app.config["JIM_ENCRYPTION_KEYS"]
    if not keys:
        if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            raise EncryptionKeyError(f"JIM_ENCRYPTION_KEY must be set when the store is PostgreSQL; {HOW_TO_MAKE_A_KEY}")
        keys = [key_from_file(os.path.join(app.instance_path, KEY_FILE))]
    try:
        fernets = [Fernet(key) for key in keys]
    except ValueError:
        # The message names which key is wrong, never what it holds.
        raise EncryptionKeyError(f"JIM_ENCRYPTION_KEY holds a value that is not a Fernet key; {HOW_TO_MAKE_A_KEY}") from None
    app.extensions["jim_encryption"] = MultiFernet(fernets)


def key_from_file(path: str) -> str:
    """The embedded store's key, generated once into the instance folder and readable by its owner only.

    Several workers may start at once: each writes a candidate, and os.link lets exactly one become the key.
    """
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        candidate = f"{path}.{os.getpid()}"
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(Fernet.generate_key().decode())
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(candidate)
    with open(path) as file:
        return file.read().strip()
