"""Round trips to PostgreSQL: those of a PUT, those under its row lock, and those of a GET of one system.

    python bench/round_trips.py

To compare with an earlier commit, run this file from a checkout of that commit (a ``git worktree``), whose
``bench/run.py`` it uses.

The service runs in-process (Flask's test client) on a fresh PostgreSQL database, reached through a relay that
holds back every answer of the server by a set delay. Each request is timed with no delay and with one of
--delay-ms; the difference over the delay is how many times the request waited for the server: its round trips,
whatever the machine's load. "Under the lock" counts from the PUT's locking read (``... FOR UPDATE``) to its
answer. The PUT is the benchmark's (a new name and settings 1 and 2 of the LDAP connector).
"""
import argparse
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.engine import Engine

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import LDAP_CONNECTOR, PROJECT, SYSTEMS, postgres_database  # noqa: E402


class DelayingRelay:
    """A TCP relay to ``target`` that delivers each answer of the server ``delay`` seconds after it came."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.delay = 0.0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.target)
            for end in (client, server):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.pass_on, args=(client, server), daemon=True).start()
            held = queue.Queue()
            threading.Thread(target=self.hold, args=(server, held), daemon=True).start()
            threading.Thread(target=self.deliver, args=(held, client), daemon=True).start()

    @staticmethod
    def pass_on(source: socket.socket, sink: socket.socket):
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)

    def hold(self, source: socket.socket, held: queue.Queue):
        while data := source.recv(65536):
            held.put((time.perf_counter() + self.delay, data))
        held.put((0.0, b""))

    @staticmethod
    def deliver(held: queue.Queue, sink: socket.socket):
        while True:
            due, data = held.get()
            if not data:
                sink.shutdown(socket.SHUT_WR)
                return
            time.sleep(max(0.0, due - time.perf_counter()))
            sink.sendall(data)


def administrator_key(env: dict) -> str:
    """A new Administrator key, made with the service's own operator commands."""
    def flask(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=PROJECT, env=env,
                              capture_output=True, text=True, check=True)
        return done.stdout
    flask("init-db")
    return flask("api-key", "create", "--name", "round-trips", "--role", "Administrator").strip().splitlines()[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("JIM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=25, help="of each kind, after 5 to warm up")
    args = parser.parse_args(argv)

    with postgres_database(args.postgres) as database_url:
        host, port = database_url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
        relay = DelayingRelay((host, int(port)))
        env = {**os.environ, "DATABASE_URL": database_url, "JIM_ENCRYPTION_KEY": Fernet.generate_key().decode(),
               "JIM_RATE_LIMIT_STORAGE_URI": "memory://", "JIM_LOG_LEVEL": "WARNING"}  # no request log lines
        key = administrator_key(env)
        os.environ.update(env, DATABASE_URL=database_url.replace(f":{port}/", f":{relay.port}/"))
        from app import create_app
        client = create_app().test_client()
        headers = {"X-Api-Key": key}

        created = client.post(SYSTEMS, json={"name": "Round trips", "connectorDefinitionId": LDAP_CONNECTOR},
                              headers=headers)
        path = f"{SYSTEMS}/{created.json['id']}"
        locked_at = []
        event.listen(Engine, "before_cursor_execute",
                     lambda _conn, _cursor, statement, *_: "FOR UPDATE" in statement
                     and locked_at.append(time.perf_counter()))

        def put(number: int) -> tuple[float, float]:
            name = f"round-trips-{relay.delay}-{number}"
            body = {"name": f"Bench {name}", "settingValues": {
                "1": {"stringValue": f"ldap://dc-{name}.example.com:389"},
                "2": {"stringValue": f"CN=svc-{name},OU=Service,DC=example,DC=com"}}}
            started = time.perf_counter()
            answer = client.put(path, json=body, headers=headers)
            ended = time.perf_counter()
            assert answer.status_code == 200, answer.get_data(as_text=True)
            return ended - started, ended - locked_at[-1]

        def get(_number: int) -> tuple[float]:
            started = time.perf_counter()
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, answer.get_data(as_text=True)
            return (time.perf_counter() - started,)

        def median_times(request, delay: float) -> list[float]:
            relay.delay = delay
            runs = [request(number) for number in range(5 + args.requests)][5:]
            return [statistics.median(times) for times in zip(*runs)]

        delay = args.delay_ms / 1000
        print(f"round trips to PostgreSQL (answers held back {args.delay_ms:g} ms; medians of {args.requests}):")
        for label, request, parts in (("PUT", put, ("whole request", "from the locking read to the answer")),
                                      ("GET one", get, ("whole request",))):
            fast, slow = median_times(request, 0.0), median_times(request, delay)
            for part, without, with_delay in zip(parts, fast, slow):
                print(f"  {label:8} {part:38} {(with_delay - without) / delay:5.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
