"""A TCP proxy between zebros and PostgreSQL that can play a database server that hangs.

    proxy = HangingProxy(target_port)   # listens on a free loopback port: proxy.port
    proxy.hang()       # cuts every connection it carries; from then on takes new ones and
                       # never answers (what a client sees of a server that stopped answering,
                       # or of one the network cut off after the handshake)
    proxy.forward()    # lets new connections through to the target again
    proxy.freeze()     # holds what either side sends, every connection left open, and takes
                       # new ones without answering (a server that stopped with connections
                       # open: SIGSTOP, or a host that hangs while its kernel still acknowledges)
    proxy.thaw()       # delivers what it held, as a server that wakes up reads its buffers
    proxy.close()

Standard library only; a thread per direction of each forwarded connection.
"""

import socket
import threading


class HangingProxy:

    def __init__(self, target_port):
        self.target_port = target_port
        self._lock = threading.Lock()
        self._hanging = False
        self._links = []   # forwarded sockets, both ends, to cut on hang()
        self._held = []    # connections taken while hanging, never answered
        self._closed = False
        self._flowing = threading.Event()  # cleared while frozen
        self._flowing.set()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self._listener.getsockname()[1]
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def url_for(self, database_url):
        """`database_url` (postgres://user@127.0.0.1:PORT/db) through this proxy."""
        head, _, rest = database_url.rpartition(f":{self.target_port}/")
        if not head:
            raise ValueError(f"{database_url} is not on port {self.target_port}")
        return f"{head}:{self.port}/{rest}"

    def hang(self):
        self._switch(hanging=True)

    def forward(self):
        self._switch(hanging=False)

    def freeze(self):
        self._flowing.clear()

    def thaw(self):
        self._flowing.set()

    def _switch(self, hanging):
        """Sets the mode and cuts what the other kept: the forwarded connections when it starts
        hanging, the unanswered ones when it forwards again."""
        with self._lock:
            self._hanging = hanging
            if hanging:
                cut, self._links = self._links, []
            else:
                cut, self._held = self._held, []
        for sock in cut:
            _cut(sock)

    def close(self):
        with self._lock:
            self._closed = True
            socks = self._links + self._held
            self._links, self._held = [], []
        self._flowing.set()  # lets held pumps and links run into the cut sockets and end
        _cut(self._listener)
        for sock in socks:
            _cut(sock)

    def _accept(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                if self._closed:
                    _cut(client)
                    return
                if self._hanging:
                    self._held.append(client)
                    continue
            threading.Thread(target=self._link, args=(client,), daemon=True).start()

    def _link(self, client):
        """Connects `client` to the target (once thawed) and forwards both ways."""
        self._flowing.wait()
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            _cut(client)
            return
        with self._lock:
            if self._closed:
                cut = True
            else:
                cut = False
                self._links += [client, upstream]
        if cut:
            _cut(client)
            _cut(upstream)
            return
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(source, sink, self._flowing),
                             daemon=True).start()


def _pump(source, sink, flowing):
    try:
        while data := source.recv(65536):
            flowing.wait()
            sink.sendall(data)
    except OSError:
        pass
    _cut(source)
    _cut(sink)


def _cut(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
