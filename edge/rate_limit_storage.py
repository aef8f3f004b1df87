"""A ``limits`` storage in a SQLite file, so that the gunicorn workers of one machine share one count.

Per-process memory would give each worker a limit of its own, and Redis may not be running where the
embedded SQLite store is the default. ``limits`` registers every ``Storage`` subclass under the schemes it
names, so this one answers ``jim-sqlite:////absolute/path/rate-limits.db`` (SQLAlchemy's form: three
slashes, then the path). It serves the fixed-window strategy: one counter and its expiry per key, counted
by one atomic UPSERT per request.
"""
import os
import sqlite3
import threading
import time

from limits.storage import Storage

SCHEME = "jim-sqlite"
PURGE_INTERVAL_SECONDS = 60


class SQLiteStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, timeout: float = 2, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri[len(SCHEME + ":///"):]
        # A worker waits this long for another's write; past it the limiter falls back to memory.
        self.timeout = float(timeout)
        self.local = threading.local()
        self.next_purge = 0.0

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def connection(self) -> sqlite3.Connection:
        # One connection per thread and per process: a forked worker must not share its parent's.
        if getattr(self.local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # counters need not survive a power cut
            connection.execute(
                "CREATE TABLE IF NOT EXISTS counters"
                " (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL)"
            )
            self.local.connection, self.local.pid = connection, os.getpid()
        return self.local.connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        self.purge(now)
        # One statement, so atomic across workers; an expired counter starts a new window. fetchall steps
        # the statement to its end, which commits it and releases the write lock.
        rows = self.connection().execute(
            "INSERT INTO counters (key, count, expires) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET"
            " count = CASE WHEN expires <= ?4 THEN ?2 ELSE count + ?2 END,"
            " expires = CASE WHEN expires <= ?4 THEN ?3 ELSE expires END"
            " RETURNING count",
            (key, amount, now + expiry, now),
        ).fetchall()
        return rows[0][0]

    def get(self, key: str) -> int:
        row = self.connection().execute(
            "SELECT count FROM counters WHERE key = ? AND expires > ?", (key, time.time())
        ).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self.connection().execute(
            "SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)
        ).fetchone()
        return row[0] if row else now

    def check(self) -> bool:
        try:
            self.connection().execute("SELECT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int:
        return self.connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self.connection().execute("DELETE FROM counters WHERE key = ?", (key,))

    def purge(self, now: float):
        """Drop expired counters now and then, so the file holds only the current windows."""
        if now >= self.next_purge:
            self.next_purge = now + PURGE_INTERVAL_SECONDS
            self.connection().execute("DELETE FROM counters WHERE expires <= ?", (now,))
