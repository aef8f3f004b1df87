"""A TCP relay between the service and a server that a test can cut and restore, as a real outage would
(the open connections are reset and new ones are refused until it is restored), or hold: the server's
answers wait, as a slow server's would, until the test releases them."""
import socket
import threading


class Relay:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.answering = threading.Event()  # cleared: the server's answers are held back
        self.answering.set()
        self.connected = threading.Event()  # set once a client has connected
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
            self.connected.set()
            threading.Thread(target=self.pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, self.answering), daemon=True).start()

    def pump(self, source: socket.socket, sink: socket.socket, gate: threading.Event | None = None):
        try:
            while data := source.recv(65536):
                if gate is not None:
                    gate.wait()
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

    def hold(self):
        self.answering.clear()

    def release(self):
        self.answering.set()

    def close(self):
        self.cut()
        self.listener.close()
