"""A TCP relay between the service and PostgreSQL that a test can cut and restore, as a real outage would:
the open connections are reset and new ones are refused until it is restored."""
import socket
import threading


class Relay:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up.is_set():
                client.close()  # the connection is refused as soon as it is made
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            threading.Thread(target=self.pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client), daemon=True).start()

    def pump(self, source: socket.socket, sink: socket.socket):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self.drop(source, sink)

    def drop(self, *sockets: socket.socket):
        with self.lock:
            for sock in sockets:
                self.sockets.discard(sock)
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked on it
                except OSError:
                    pass
                sock.close()

    def cut(self):
        self.up.clear()
        with self.lock:
            sockets = list(self.sockets)
        self.drop(*sockets)

    def restore(self):
        self.up.set()

    def close(self):
        self.cut()
        self.listener.close()
