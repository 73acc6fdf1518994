"""Whole-server test harness: starts the real `zebros serve` on an ephemeral port in a temp
data dir and speaks HTTP to it with the Python standard library only.

Environment:
  ZEBROS_BIN           path to the zebros binary (required)
  ZEBROS_SHARED_DATA   folder holding JSONTestSuite/test_parsing/*.json (corpus test only)
  ZEBROS_KEEP_DATA     when set, data dirs (and the PostgreSQL cluster) are left behind
  ZEBROS_TEST_BACKEND  `sqlite` (default): the database is zebros.db in the data dir;
                       `postgres`: every data dir is paired with a fresh database of this
                       process's PostgreSQL cluster (pg_cluster.py), passed to every `zebros`
                       run as --database-url. The data dir still holds the key files.

No test sleeps to synchronise: everything that has to happen "eventually" is waited for with
`wait_until(predicate, timeout)` or a threading.Condition with a deadline.
"""

import atexit
import contextlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
from typing import Any, NamedTuple

START_TIMEOUT = 30.0    # until the "listening" log line (ASan builds start slowly)
STOP_TIMEOUT = 30.0     # SIGTERM until exit
REQUEST_TIMEOUT = 30.0  # one HTTP exchange
CLI_TIMEOUT = 60.0

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                     "runtime error:")

# The bootstrap admin key of the server, used by `api` unless another key (or None) is given.
ADMIN = object()

BACKENDS = ("sqlite", "postgres")
BACKEND = os.environ.get("ZEBROS_TEST_BACKEND", "") or "sqlite"
if BACKEND not in BACKENDS:
    raise RuntimeError(f"ZEBROS_TEST_BACKEND={BACKEND!r}: want one of {', '.join(BACKENDS)}")


def zebros_bin():
    path = os.environ.get("ZEBROS_BIN", "")
    if not path:
        raise RuntimeError("ZEBROS_BIN is not set: point it at the zebros binary")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ZEBROS_BIN={path!r} is not an executable file")
    return path


def shared_data_dir():
    path = os.environ.get("ZEBROS_SHARED_DATA", "")
    if not path or not os.path.isdir(path):
        raise RuntimeError(f"ZEBROS_SHARED_DATA={path!r} is not a folder")
    return path


def unique(prefix="t"):
    """A short value no other test uses: prefix + 12 hex chars."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def wait_until(predicate, timeout, message="condition"):
    """Polls `predicate` until it returns a truthy value (returned) or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.02)  # poll interval of a deadline wait, not a synchronising sleep


# ---- storage backend ------------------------------------------------------------------------

# PostgreSQL: data dir (real path) -> URL of the database that belongs with it. A data dir gets
# its database the first time a server or CLI run needs one, and keeps it for good, so a
# restart or a second ZebrosServer on the same data dir sees the same data.
_database_urls = {}
_database_urls_lock = threading.Lock()


def _data_dir_key(data_dir):
    return os.path.realpath(data_dir)


# Data dirs (real paths) that use SQLite whatever BACKEND says (e.g. the source install of a
# `zebros transfer` in a PostgreSQL run), until set_database_url() pairs them with a database.
_sqlite_data_dirs = set()


def set_database_url(data_dir, url):
    """Pairs `data_dir` with the PostgreSQL database at `url` (e.g. one that does not exist)."""
    with _database_urls_lock:
        _sqlite_data_dirs.discard(_data_dir_key(data_dir))
        _database_urls[_data_dir_key(data_dir)] = url


def use_sqlite(data_dir):
    """Makes every zebros run (server and cli()) and sql() on `data_dir` use SQLite (zebros.db in
    the data dir), whatever BACKEND says, until set_database_url() pairs it with a database."""
    with _database_urls_lock:
        key = _data_dir_key(data_dir)
        _database_urls.pop(key, None)
        _sqlite_data_dirs.add(key)


def backend_of(data_dir):
    """The storage backend runs on `data_dir` use: BACKEND unless use_sqlite() said otherwise."""
    with _database_urls_lock:
        return "sqlite" if _data_dir_key(data_dir) in _sqlite_data_dirs else BACKEND


def database_url(data_dir):
    """The --database-url for zebros runs on `data_dir`: None with SQLite; with PostgreSQL the
    database paired with the data dir, created (empty) on first use."""
    if backend_of(data_dir) != "postgres":
        return None
    key = _data_dir_key(data_dir)
    with _database_urls_lock:
        url = _database_urls.get(key)
        if url is None:
            import pg_cluster  # only PostgreSQL runs need it (and the server binaries)
            url = _database_urls[key] = pg_cluster.cluster().create_database()
    return url


_paired_database_url = database_url  # for ZebrosServer, whose parameter has the same name


def _child_env():
    """The environment of zebros processes: ours, minus a ZEBROS_DATABASE_URL from the caller's
    shell, so that only the harness decides which database a run uses."""
    env = dict(os.environ)
    env.pop("ZEBROS_DATABASE_URL", None)
    return env


def _database_args(data_dir):
    url = database_url(data_dir)
    return ["--database-url", url] if url else []


def _to_postgres_placeholders(statement, params):
    """`?` placeholders (outside quotes) -> psql variables `:'p0'`…; None -> NULL.
    Returns (statement, variables)."""
    out, variables, quote, index = [], {}, None, 0
    for char in statement:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "?":
            if index >= len(params):
                raise ValueError(f"more placeholders than parameters in {statement!r}")
            value = params[index]
            if value is None:
                out.append("NULL")
            else:
                name = f"p{index}"
                variables[name] = str(value)
                out.append(f":'{name}'")
            index += 1
            continue
        out.append(char)
    if index != len(params):
        raise ValueError(f"{len(params)} parameters for {index} placeholders in {statement!r}")
    return "".join(out), variables


def _sqlite_value(value):
    return value if value is None or isinstance(value, (str, bytes)) else str(value)


def sql(data_dir, statement, params=()):
    """Runs one SQL statement on the database of `data_dir` (SQLite file or PostgreSQL
    database, whichever BACKEND uses) and returns its rows as tuples of str (None for NULL).

    Write SQL both backends accept; `?` marks a parameter. Safe while the server runs."""
    if backend_of(data_dir) == "postgres":
        import pg_cluster
        text, variables = _to_postgres_placeholders(statement, tuple(params))
        return pg_cluster.cluster().query(database_url(data_dir), text, variables)
    path = os.path.join(data_dir, "zebros.db")
    # Read-only and never creating the file (safe next to a running server: WAL).
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                            timeout=10)) as db:
        return [tuple(map(_sqlite_value, row)) for row in db.execute(statement, tuple(params))]


def sql_exec(data_dir, statement, params=()):
    """Runs one SQL statement that changes the database of `data_dir` and commits it."""
    if backend_of(data_dir) == "postgres":
        import pg_cluster
        text, variables = _to_postgres_placeholders(statement, tuple(params))
        pg_cluster.cluster().psql(database_url(data_dir), text, variables)
        return
    path = os.path.join(data_dir, "zebros.db")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True,
                                            timeout=10)) as db:
        db.execute(statement, tuple(params))
        db.commit()


class Response(NamedTuple):
    status: int
    headers: dict  # lower-case names; repeated headers joined with ", "
    body: Any      # parsed JSON when the body is JSON, else the raw bytes (b"" when empty)

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


def _encode_body(body):
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _decode_body(content_type, data):
    if data and "json" in (content_type or "").lower():
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def _merge_headers(pairs):
    headers = {}
    for name, value in pairs:
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _build_headers(body_bytes, headers, key, default_key):
    """Request headers: Content-Type JSON for bodies unless given; a header given as None is
    left out; `key` ADMIN means `default_key`, None means no Authorization."""
    result = {}
    if body_bytes is not None:
        result["Content-Type"] = "application/json"
    if key is ADMIN:
        key = default_key
    if key is not None:
        result["Authorization"] = f"Bearer {key}"
    for name, value in (headers or {}).items():
        for existing in [n for n in result if n.lower() == name.lower()]:
            del result[existing]
        if value is not None:
            result[name] = value
    return result


class ZebrosServer:
    """One `zebros serve` process on a data dir (a new temp dir unless given).

    Use as a context manager or call start()/stop(). stop() sends SIGTERM and raises
    AssertionError unless the process exits 0 within STOP_TIMEOUT. restart() starts a new
    process on the same data dir. All stderr lines of all processes are kept in `stderr_lines`.

    With BACKEND postgres the server also gets `database_url`: the database paired with the
    data dir (a new one for a new data dir), kept across restarts.

    A second node of a cluster: `database_url` (PostgreSQL only) pairs the data dir with an
    existing database, e.g. another server's; `admin_key` is then the key to use, since only
    the first start on an empty database writes a bootstrap-admin-key file.

    `backend='sqlite'` makes this data dir use SQLite even in a PostgreSQL run (see
    use_sqlite()): the server, cli() and sql() on it go to zebros.db in the data dir.
    """

    _live = set()

    def __init__(self, data_dir=None, extra_args=(), database_url=None, admin_key=None,
                 backend=None):
        self.bin = zebros_bin()
        self.owns_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="zebros-it-")
        if backend not in (None, "sqlite"):
            raise ValueError(f"backend={backend!r}: only 'sqlite' can be forced")
        if backend == "sqlite":
            if database_url is not None:
                raise ValueError("backend='sqlite' and database_url= contradict each other")
            use_sqlite(self.data_dir)
        if database_url is not None:
            if BACKEND != "postgres":
                raise ValueError("database_url= needs ZEBROS_TEST_BACKEND=postgres")
            set_database_url(self.data_dir, database_url)
        self.database_url = _paired_database_url(self.data_dir)  # None with SQLite
        self.extra_args = list(extra_args)
        self.process = None
        self.port = None
        self.url = None
        self.given_admin_key = admin_key
        self.admin_key = None
        self.returncode = None
        self.stderr_lines = []   # every stderr line of every process, in order
        self.stdout_lines = []
        self._lines_cond = threading.Condition()
        self._process_first_line = 0
        self._process_first_stdout = 0
        self._readers = []
        self._local = threading.local()

    # ---- lifecycle -------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.running:
                if exc_type is None:
                    self.stop()
                else:
                    self.kill9()
        finally:
            self.cleanup()

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    @property
    def db_path(self):
        """The SQLite file (used only when BACKEND is sqlite)."""
        return os.path.join(self.data_dir, "zebros.db")

    def sql(self, statement, params=()):
        """Rows of one SQL statement on this server's database (see the module's sql())."""
        return sql(self.data_dir, statement, params)

    def sql_exec(self, statement, params=()):
        """Runs and commits one changing SQL statement on this server's database."""
        sql_exec(self.data_dir, statement, params)

    @property
    def bootstrap_key_path(self):
        return os.path.join(self.data_dir, "bootstrap-admin-key")

    def start(self):
        assert not self.running, "server already running"
        with self._lines_cond:
            self._process_first_line = len(self.stderr_lines)
            self._process_first_stdout = len(self.stdout_lines)
        args = [self.bin, "serve", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0",
                *(["--database-url", self.database_url] if self.database_url else []),
                *self.extra_args]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, env=_child_env())
        ZebrosServer._live.add(self.process)
        self.returncode = None
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr_lines),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stdout, self.stdout_lines),
                             daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            listening = self._wait_for_listening()
            self.port = int(listening["port"])
            self.url = listening.get("url")
            self.admin_key = self.given_admin_key or self._read_bootstrap_key()
        except BaseException:
            self.kill9()
            raise
        return self

    def _pump(self, stream, lines):
        for raw in iter(stream.readline, b""):
            with self._lines_cond:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._lines_cond.notify_all()
        with self._lines_cond:
            self._lines_cond.notify_all()

    def _wait_for_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        with self._lines_cond:
            while True:
                for line in self.stderr_lines[self._process_first_line:]:
                    record = _parse_log_line(line)
                    if record and record.get("msg") == "listening" and "port" in record:
                        return record
                if self.process.poll() is not None:
                    raise RuntimeError(f"zebros serve exited with {self.process.returncode} "
                                       f"before listening:\n{self.stderr_tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"zebros serve did not log \"listening\" within "
                                       f"{START_TIMEOUT}s:\n{self.stderr_tail()}")
                self._lines_cond.wait(min(remaining, 0.5))

    def _read_bootstrap_key(self):
        with open(self.bootstrap_key_path, encoding="utf-8") as key_file:
            key = key_file.read().strip()
        if not key:
            raise RuntimeError(f"{self.bootstrap_key_path} is empty")
        return key

    def terminate(self):
        """Sends SIGTERM and returns at once."""
        self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit and returns its exit code; kills it after `timeout`."""
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"zebros did not exit within {timeout}s:\n{self.stderr_tail()}")
        finally:
            self._finish_process()
        return self.returncode

    def stop(self, timeout=STOP_TIMEOUT):
        """Graceful shutdown: SIGTERM, then asserts exit code 0 and no sanitizer report."""
        if not self.running:
            return self.returncode
        self.terminate()
        code = self.wait_exit(timeout)
        if code != 0:
            raise AssertionError(f"zebros exited with {code} after SIGTERM, want 0:\n"
                                 f"{self.stderr_tail()}")
        self.assert_no_sanitizer_report()
        return code

    def kill9(self):
        """SIGKILL, no questions asked; returns once the process is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.returncode = self.process.wait()
        self._finish_process()

    def restart(self):
        """Stops (gracefully) if running and starts a new process on the same data dir."""
        if self.running:
            self.stop()
        return self.start()

    def _finish_process(self):
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
        ZebrosServer._live.discard(self.process)
        self._drop_connection()

    def cleanup(self):
        if self.running:
            self.kill9()
        if self.owns_data_dir and not os.environ.get("ZEBROS_KEEP_DATA"):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- logs ------------------------------------------------------------------------------

    def stderr_text(self):
        with self._lines_cond:
            return "\n".join(self.stderr_lines)

    def stdout_text(self):
        with self._lines_cond:
            return "\n".join(self.stdout_lines)

    def current_stdout_lines(self):
        """stdout lines of the current (or last) process only."""
        with self._lines_cond:
            return list(self.stdout_lines[self._process_first_stdout:])

    def stderr_tail(self, lines=40):
        with self._lines_cond:
            return "\n".join(self.stderr_lines[-lines:])

    def log_records(self):
        """Every stderr line that is a JSON object, parsed."""
        with self._lines_cond:
            lines = list(self.stderr_lines)
        return [record for record in map(_parse_log_line, lines) if record is not None]

    def wait_for_log(self, predicate, timeout=10.0, message="a log line"):
        """Waits until some parsed log record satisfies `predicate`; returns all that do."""
        return wait_until(lambda: [r for r in self.log_records() if predicate(r)], timeout,
                          message)

    def assert_no_sanitizer_report(self):
        text = self.stderr_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                raise AssertionError(f"sanitizer report in zebros stderr ({marker}):\n"
                                     f"{self.stderr_tail(80)}")

    # ---- HTTP ------------------------------------------------------------------------------

    def connection(self, timeout=REQUEST_TIMEOUT):
        """A new HTTPConnection to the server (the caller owns and closes it)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def _thread_connection(self, timeout):
        """The calling thread's keep-alive connection to the current process: (conn, reused)."""
        cached = getattr(self._local, "conn", None)
        if cached is not None and cached[0] == self.port:
            cached[1].timeout = timeout
            if cached[1].sock is not None:
                cached[1].sock.settimeout(timeout)
            return cached[1], True
        self._drop_connection()
        conn = self.connection(timeout)
        self._local.conn = (self.port, conn)
        return conn, False

    def _drop_connection(self):
        cached = getattr(self._local, "conn", None)
        if cached is not None:
            cached[1].close()
            self._local.conn = None

    def api(self, method, path, body=None, headers=None, key=ADMIN, timeout=REQUEST_TIMEOUT):
        """One request on this thread's keep-alive connection.

        `body`: dict/list/number → JSON; str/bytes sent as is (Content-Type application/json
        unless `headers` says otherwise; a header set to None is omitted). `key`: ADMIN (the
        bootstrap admin key), another key, or None for no Authorization header.
        Returns Response(status, headers, body).
        """
        body_bytes = _encode_body(body)
        request_headers = _build_headers(body_bytes, headers, key, self.admin_key)
        for attempt in range(2):
            conn, reused = self._thread_connection(timeout)
            try:
                conn.request(method, path, body=body_bytes, headers=request_headers)
                raw = conn.getresponse()
                data = raw.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop_connection()
                # An idle keep-alive connection the server closed: try once on a fresh one.
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self._drop_connection()
                raise
            if raw.will_close:
                self._drop_connection()
            headers_dict = _merge_headers(raw.getheaders())
            return Response(raw.status, headers_dict,
                            _decode_body(headers_dict.get("content-type"), data))
        raise AssertionError("unreachable")

    def send_oversized(self, path, total_bytes, headers=None, chunked=False, key=ADMIN):
        """Streams a `total_bytes` body to `path`, stopping early when the server answers.

        Returns the parsed response. Fails if the server resets the connection without a
        readable response (a server that rejects a body must still let the client read why).
        """
        key = self.admin_key if key is ADMIN else key
        lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 "Content-Type: application/json", "Connection: close"]
        if key:
            lines.append(f"Authorization: Bearer {key}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total_bytes}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        piece_size = 64 * 1024
        with socket.create_connection(("127.0.0.1", self.port), timeout=REQUEST_TIMEOUT) as sock:
            sock.sendall(head)
            sent = 0
            try:
                while sent < total_bytes:
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable:
                        break  # the server answered before reading the whole body
                    size = min(piece_size, total_bytes - sent)
                    data = b" " * size
                    sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                    sent += size
                if chunked and sent >= total_bytes:
                    sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped reading; its answer may still be readable
            return _read_raw_response(sock)


def _read_raw_response(sock):
    data = b""
    try:
        while True:
            header_end = data.find(b"\r\n\r\n")
            if header_end >= 0:
                head = data[:header_end].decode("latin-1").split("\r\n")
                pairs = [line.split(":", 1) for line in head[1:] if ":" in line]
                headers = _merge_headers((n.strip(), v.strip()) for n, v in pairs)
                length = int(headers.get("content-length", "-1"))
                if 0 <= length <= len(data) - header_end - 4:
                    break
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    header_end = data.find(b"\r\n\r\n")
    if header_end < 0:
        raise AssertionError("the server closed or reset the connection without a complete "
                             f"response (got {data[:200]!r})")
    head = data[:header_end].decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    pairs = [line.split(":", 1) for line in head[1:] if ":" in line]
    headers = _merge_headers((n.strip(), v.strip()) for n, v in pairs)
    body = data[header_end + 4:]
    length = int(headers.get("content-length", "-1"))
    if length >= 0:
        body = body[:length]
    return Response(status, headers, _decode_body(headers.get("content-type"), body))


def _parse_log_line(line):
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def is_access_log(record):
    return all(name in record for name in ("method", "path", "status"))


@atexit.register
def _kill_leftover_servers():
    for process in list(ZebrosServer._live):
        if process.poll() is None:
            process.kill()


# ---- CLI --------------------------------------------------------------------------------------

def cli(data_dir, *args, timeout=CLI_TIMEOUT, input=None):
    """Runs `zebros <args> --data-dir DIR` (plus --database-url with PostgreSQL, see
    database_url()) with `input` (str) on stdin; returns the CompletedProcess (text mode)."""
    stdin = {} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([zebros_bin(), *args, "--data-dir", data_dir,
                           *_database_args(data_dir)],
                          capture_output=True, text=True, timeout=timeout, input=input,
                          env=_child_env(), **stdin)


def run_zebros(*args, timeout=CLI_TIMEOUT, input=None, env=None):
    """Runs `zebros <args>` exactly as given (no --data-dir, no --database-url), with `env`'s
    variables added to the environment; returns the CompletedProcess (text mode)."""
    stdin = {} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([zebros_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, input=input, env={**_child_env(), **(env or {})},
                          **stdin)


def _single_line(completed, what):
    if completed.returncode != 0:
        raise AssertionError(f"{what} exited with {completed.returncode}:\n{completed.stderr}")
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        raise AssertionError(f"{what} should print exactly one line, printed {lines!r}")
    return lines[0].strip()


def create_tenant(data_dir, name):
    """`zebros admin create-tenant NAME`; returns the printed tenant id."""
    return _single_line(cli(data_dir, "admin", "create-tenant", name), f"create-tenant {name}")


def create_api_key(data_dir, tenant, role, name=None):
    """`zebros admin create-api-key`; returns the printed key."""
    args = ["admin", "create-api-key", "--tenant", tenant, "--role", role]
    if name:
        args += ["--name", name]
    return _single_line(cli(data_dir, *args), f"create-api-key {tenant}/{role}")


# ---- assertions -------------------------------------------------------------------------------

def field_matches(actual, wanted):
    """True when error field `actual` names `wanted` or an element of it ("tags[0]")."""
    return actual == wanted or actual.startswith(wanted + "[") or actual.startswith(wanted + ".")


def stop_and_clean(server):
    """Stops `server` (SIGTERM, exit 0 asserted) or, when it already exited, checks its stderr for
    sanitizer reports; removes its data dir either way. For class cleanups."""
    try:
        if server.running:
            server.stop()
        else:
            server.assert_no_sanitizer_report()
    finally:
        server.cleanup()


class ServerTestCase(unittest.TestCase):
    """Base class: one server per test class, started in setUpClass and stopped with SIGTERM
    (exit 0 asserted) when the class is done."""

    server: ZebrosServer = None
    maxDiff = 4000
    # Tenant names `zebros admin create-tenant` makes before the server starts with
    # serve_args(); their printed ids end up in `tenant_ids` (name -> id).
    tenants_before_start = ()
    tenant_ids: dict = {}

    @classmethod
    def serve_args(cls):
        """Extra `zebros serve` arguments for this class's server (none unless overridden)."""
        return []

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ZebrosServer()
        # A class cleanup (unlike tearDownClass) also runs when a subclass's setUpClass fails
        # after this point, e.g. while seeding.
        cls.addClassCleanup(cls._stop_server, cls.server)
        cls.tenant_ids = {}
        if cls.tenants_before_start:
            # Only the first start in an empty data dir makes tenant `default` and the
            # bootstrap key: start once plainly, then add the tenants while stopped.
            cls.server.start()
            cls.server.stop()
            cls.tenant_ids = {name: create_tenant(cls.server.data_dir, name)
                              for name in cls.tenants_before_start}
        cls.server.extra_args = list(cls.serve_args())
        cls.server.start()

    @staticmethod
    def _stop_server(server):
        stop_and_clean(server)

    # ---- request shortcuts -----------------------------------------------------------------

    def api(self, method, path, body=None, headers=None, key=ADMIN, timeout=REQUEST_TIMEOUT):
        return self.server.api(method, path, body, headers, key, timeout)

    def sql(self, statement, params=()):
        return self.server.sql(statement, params)

    def sql_exec(self, statement, params=()):
        self.server.sql_exec(statement, params)

    def create(self, object_name, fields, key=ADMIN, headers=None):
        """POSTs a record and asserts 201; returns the record."""
        return self.create_response(object_name, fields, key, headers).body

    def create_response(self, object_name, fields, key=ADMIN, headers=None):
        """POSTs a record and asserts 201; returns the whole response (for its headers)."""
        resp = self.api("POST", f"/api/v1/{object_name}", fields, headers=headers, key=key)
        self.assertEqual(resp.status, 201, f"create {object_name} {fields!r}: {resp.body!r}")
        return resp

    def get_record(self, object_name, record_id, key=ADMIN):
        resp = self.api("GET", f"/api/v1/{object_name}/{record_id}", key=key)
        self.assertEqual(resp.status, 200, f"GET {object_name}/{record_id}: {resp.body!r}")
        return resp.body

    def list_all(self, object_name, query="", key=ADMIN, limit=500):
        """Follows next_cursor through every page of a list; returns all records."""
        records, cursor = [], None
        for _ in range(10000):
            params = [f"limit={limit}"] + ([query] if query else [])
            if cursor:
                params.append("cursor=" + quote_param(cursor))
            resp = self.api("GET", f"/api/v1/{object_name}?" + "&".join(params), key=key)
            self.assertEqual(resp.status, 200, resp.body)
            records += resp.body["data"]
            cursor = resp.body["next_cursor"]
            if cursor is None:
                return records
        self.fail("list never ended")

    # ---- problem assertions ----------------------------------------------------------------

    def assert_problem(self, resp, status, code):
        """Asserts an RFC 9457 problem with HTTP `status` and stable `code`; returns the body."""
        self.assertEqual(resp.status, status, f"want {status} {code}, got {resp.body!r}")
        content_type = resp.header("content-type", "")
        self.assertTrue(content_type.startswith("application/problem+json"),
                        f"problem Content-Type is {content_type!r}")
        self.assertIsInstance(resp.body, dict, f"problem body is not a JSON object: {resp.body!r}")
        self.assertEqual(resp.body.get("status"), status, resp.body)
        self.assertEqual(resp.body.get("code"), code, resp.body)
        self.assertIsInstance(resp.body.get("title"), str, resp.body)
        self.assertTrue(resp.body["title"], resp.body)
        for error in resp.body.get("errors") or []:
            self.assertIsInstance(error.get("field"), str, error)
            self.assertIsInstance(error.get("code"), str, error)
            self.assertIsInstance(error.get("message"), str, error)
        return resp.body

    def assert_client_problem(self, resp, statuses, code=None):
        """A problem with one of `statuses` (and `code` if given); returns the body."""
        self.assertIn(resp.status, statuses, resp.body)
        if code is None and isinstance(resp.body, dict):
            code = resp.body.get("code")
        return self.assert_problem(resp, resp.status, code)

    def field_errors(self, resp):
        """(field, code) of each error of a problem response."""
        if not isinstance(resp.body, dict):
            return []
        return [(e.get("field"), e.get("code")) for e in (resp.body.get("errors") or [])]

    def assert_field_error(self, resp, field, code=None):
        """Asserts 422 validation_failed naming `field` (with `code` unless None)."""
        body = self.assert_problem(resp, 422, "validation_failed")
        errors = self.field_errors(resp)
        matching = [c for f, c in errors if f and field_matches(f, field)]
        self.assertTrue(matching, f"no error for field {field!r} in {errors!r}")
        if code is not None:
            self.assertIn(code, matching, f"field {field!r}: want {code!r}, got {errors!r}")
        return body


def quote_param(value):
    """Percent-encodes a query parameter value (everything but unreserved characters)."""
    return urllib.parse.quote(value, safe="")
