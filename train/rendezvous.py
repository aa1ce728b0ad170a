"""`rendezvous`: every worker of a cluster up and running the same configuration, checked
before TensorFlow starts.

TensorFlow's multi-worker runtime waits for a missing worker for an hour, in a call
that holds the Python interpreter (no timer or signal handler runs), and a worker
started with other settings fails much later in a collective op with a shape error,
or trains something else. So before creating the strategy each worker listens on its
own ``host:port`` of ``--workers`` (the port TensorFlow's server takes next), connects
to every other worker's, and the two exchange one JSON line: their index and
configuration (the run's settings). A worker returns once it has reached every peer
and every peer has reached it; it then closes its port for TensorFlow. Nothing
waits longer than `timeout`: the workers that never answered are named.
"""

import json
import socket
import threading
import time

RETRY_SECONDS = 0.2  # between connection attempts to a worker not yet listening
MAX_LINE = 1 << 20  # a configuration line is far shorter


class WorkersUnavailable(ConnectionError):
    """Some workers did not come up within the timeout (the message names them)."""


def _address(worker):
    host, _, port = worker.rpartition(":")
    return host.strip("[]"), int(port)


def _listen(port):
    """A listening socket on `port` of every interface (IPv6 and IPv4 where possible)."""
    try:
        server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    except OSError:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("", port))
    except OSError as error:
        server.close()
        raise OSError(error.errno, f"cannot listen on port {port} of this worker (another "
                      f"program holds it: choose another port in --workers)") from None
    server.listen(16)
    server.settimeout(RETRY_SECONDS)
    return server


def _read_line(conn, deadline):
    data = b""
    while not data.endswith(b"\n"):
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = conn.recv(65536)
        if not chunk or len(data) > MAX_LINE:
            raise ConnectionError("closed before a whole line")
        data += chunk
    return json.loads(data)


class _Exchange:
    """The state of one worker's rendezvous: what it heard from whom."""

    def __init__(self, workers, index, config):
        self.workers, self.index = workers, index
        self.line = (json.dumps({"index": index, "config": config}) + "\n").encode()
        self.configs = {}  # peer index -> its configuration (from either direction)
        self.served, self.reached = set(), set()
        self.lock = threading.Lock()

    def heard(self, message, into):
        with self.lock:
            peer = int(message["index"])
            self.configs[peer] = message["config"]
            into.add(peer)

    def peers(self):
        return [i for i in range(len(self.workers)) if i != self.index]

    def done(self):
        with self.lock:
            return set(self.peers()) <= (self.served & self.reached)


def _serve(server, exchange, deadline, stop):
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            conn, _ = server.accept()
        except (TimeoutError, socket.timeout):
            continue
        with conn:
            try:
                message = _read_line(conn, deadline)
                conn.sendall(exchange.line)
                exchange.heard(message, exchange.served)
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                conn.recv(1)  # the peer closes first: its port, not ours, keeps TIME_WAIT
            except (OSError, ValueError, KeyError):
                continue


def _reach(peer, exchange, deadline):
    host, port = _address(exchange.workers[peer])
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=RETRY_SECONDS * 5) as conn:
                conn.sendall(exchange.line)
                exchange.heard(_read_line(conn, deadline), exchange.reached)
                return
        except (OSError, ValueError, KeyError):
            time.sleep(RETRY_SECONDS)


def rendezvous(workers, index, config, *, timeout):
    """Waits until every worker of `workers` ("host:port" list) is up with the same
    `config` (a JSON-serialisable dict).

    Raises:
        WorkersUnavailable: some workers did not answer within `timeout` seconds (named).
        ValueError: a worker runs another configuration (the first differences named).
        OSError: this worker's port is taken.
    """
    exchange = _Exchange(list(workers), int(index), config)
    if not exchange.peers():
        return
    deadline = time.monotonic() + timeout
    server = _listen(_address(workers[index])[1])
    stop = threading.Event()
    threads = [threading.Thread(target=_serve, args=(server, exchange, deadline, stop),
                                daemon=True)]
    threads += [threading.Thread(target=_reach, args=(peer, exchange, deadline), daemon=True)
                for peer in exchange.peers()]
    for thread in threads:
        thread.start()
    try:
        while not exchange.done() and time.monotonic() < deadline:
            time.sleep(RETRY_SECONDS / 4)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.close()
    missing = [i for i in exchange.peers() if i not in exchange.configs]
    if missing:
        raise WorkersUnavailable(
            f"Expected all {len(workers)} workers of --workers to start within {timeout:g} s "
            f"(--worker-timeout). Received: no answer from " + ", ".join(
                f"worker {i} ({workers[i]})" for i in missing))
    if not exchange.done():
        late = [i for i in exchange.peers() if i not in exchange.served & exchange.reached]
        raise WorkersUnavailable(
            f"Expected every worker to reach every other within {timeout:g} s. Received: "
            f"only a one-way connection with " + ", ".join(
                f"worker {i} ({workers[i]})" for i in late) + " (a firewall?)")
    for peer in exchange.peers():
        differences = _differences(config, exchange.configs[peer])
        if differences:
            raise ValueError(f"Expected every worker to run the same configuration. "
                             f"Received: worker {peer} ({workers[peer]}) has "
                             f"{'; '.join(differences)}")


def loopback_workers(count):
    """``"127.0.0.1:p1,127.0.0.1:p2,..."``: `count` ports free on this machine now, for a
    cluster of processes on one machine (tests, benchmarks, trying ``--workers`` out)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return ",".join(f"127.0.0.1:{s.getsockname()[1]}" for s in sockets)
    finally:
        for s in sockets:
            s.close()


def _differences(mine, theirs, limit=3):
    keys = sorted(set(mine) | set(theirs))
    found = [f"{key}={theirs.get(key)!r} (this worker: {mine.get(key)!r})"
             for key in keys if mine.get(key) != theirs.get(key)]
    return found[:limit] + ([f"{len(found) - limit} more"] if len(found) > limit else [])
