"""One throwaway PostgreSQL cluster per Python test process, for the PostgreSQL runs of the
whole-server tests (ZEBROS_TEST_BACKEND=postgres). Python standard library only.

`cluster()` starts it on first use (initdb in a temp dir, `postgres` on 127.0.0.1 and a free
port) and it is stopped when the process exits, normally or by SIGTERM. Each test server gets a
database of its own from `cluster().create_database()`.

initdb and postgres refuse to run as root: as root, both run as the `postgres` user (made by
Debian's postgresql package) through `runuser -u postgres --`. Clients (psql, pg_isready) run
as whoever we are and connect over TCP as the superuser `postgres` (trust authentication).

Environment:
  ZEBROS_KEEP_DATA  when set, the cluster's folder (data, socket, server log) is left behind
"""

import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from harness import wait_until

START_TIMEOUT = 60.0   # until pg_isready answers (includes crash recovery after 'immediate')
STOP_TIMEOUT = 30.0
CLIENT_TIMEOUT = 60.0  # one psql run
PORT_ATTEMPTS = 5      # a free port can be taken between our probe and postgres' bind
OS_USER = "postgres"   # the unprivileged account the server runs as when we are root
SUPERUSER = "postgres"  # the database role initdb makes (-U)

# The server's answer to each stop mode (see "Server Shutdown" in the PostgreSQL manual).
STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}

# psql's unaligned output as query() asks for it: fields split by NUL (which no text value can
# hold), rows by ASCII's record separator, NULL printed as a control character. Values holding
# either control character would be misread; the tests store none.
RECORD_SEPARATOR = "\x1e"
NULL_MARK = "\x01"


def find_bindir():
    """The folder holding initdb, postgres, pg_isready and psql: `pg_config --bindir`, else the
    newest /usr/lib/postgresql/*/bin. Raises RuntimeError when there is none."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                timeout=CLIENT_TIMEOUT)
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(result.stdout.strip())

    def major(path):
        version = path.split(os.sep)[-2]
        return int(version) if version.isdigit() else -1
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, tool), os.X_OK)
               for tool in ("initdb", "postgres", "pg_isready", "psql")):
            return bindir
    raise RuntimeError("no PostgreSQL server binaries (initdb, postgres) found via pg_config "
                       "or /usr/lib/postgresql/*/bin: run scripts/install-deps.sh --test")


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster in a temp dir. Not started until start(). Thread-safe."""

    def __init__(self, bindir=None):
        self.bindir = bindir or find_bindir()
        self.as_root = os.geteuid() == 0
        self.base_dir = tempfile.mkdtemp(prefix="zebros-pg-")
        self.data_dir = os.path.join(self.base_dir, "data")
        self.log_path = os.path.join(self.base_dir, "postgres.log")
        self.port = None
        self.process = None  # postgres, or the runuser that waits for it when we are root
        self._lock = threading.RLock()
        self._initialized = False
        if self.as_root:
            account = pwd.getpwnam(OS_USER)  # KeyError: install Debian's postgresql package
            os.chown(self.base_dir, account.pw_uid, account.pw_gid)

    # ---- server lifecycle ------------------------------------------------------------------

    def _server_command(self, *args):
        """A command of the server side (initdb, postgres), run as OS_USER when we are root."""
        prefix = ["runuser", "-u", OS_USER, "--"] if self.as_root else []
        return prefix + list(args)

    def _initdb(self):
        result = subprocess.run(
            self._server_command(os.path.join(self.bindir, "initdb"), "-D", self.data_dir,
                                 "-A", "trust", "-U", SUPERUSER, "--no-sync", "-E", "UTF8",
                                 "--locale=C", "--no-instructions"),
            capture_output=True, text=True, timeout=START_TIMEOUT, stdin=subprocess.DEVNULL,
            cwd=self.base_dir)
        if result.returncode != 0:
            raise RuntimeError(f"initdb exited with {result.returncode}:\n"
                               f"{result.stdout}{result.stderr}")
        self._initialized = True

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        """Starts the server (running initdb first, once) and waits until it accepts
        connections. The first start picks a free port; later starts (after stop()) reuse it,
        so URLs handed out stay valid. Raises RuntimeError when the server does not come up."""
        with self._lock:
            if self.running:
                return self
            if not self._initialized:
                self._initdb()
            if self.port is not None:
                self._start_on(self.port)
                return self
            for attempt in range(PORT_ATTEMPTS):
                port = free_port()
                try:
                    self._start_on(port)
                    self.port = port
                    return self
                except _PortTaken:
                    if attempt == PORT_ATTEMPTS - 1:
                        raise RuntimeError(f"no free port for postgres after {PORT_ATTEMPTS} "
                                           f"attempts:\n{self.log_tail()}") from None
            raise AssertionError("unreachable")

    def _start_on(self, port):
        log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        # fsync and full-page writes are off: these tests kill processes (zebros, postgres),
        # never the machine, and the kernel's page cache outlives any process, so nothing a
        # commit wrote is lost. Only a power cut or kernel crash could tear the files.
        # synchronous_commit stays on: postgres answers COMMIT only once its WAL is written.
        command = self._server_command(
            os.path.join(self.bindir, "postgres"), "-D", self.data_dir, "-p", str(port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.base_dir}",
            "-c", "fsync=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200", "-c", "shared_buffers=64MB")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, cwd=self.base_dir)

        def ready():
            if self.process.poll() is not None:
                with open(self.log_path, "rb") as log:
                    log.seek(log_offset)
                    text = log.read().decode("utf-8", "replace")
                if "Address already in use" in text:
                    raise _PortTaken()
                raise RuntimeError(f"postgres exited with {self.process.returncode} while "
                                   f"starting:\n{text[-4000:]}")
            probe = subprocess.run(
                [os.path.join(self.bindir, "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                 str(port), "-U", SUPERUSER, "-d", "postgres", "-t", "2"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=CLIENT_TIMEOUT)
            return probe.returncode == 0
        try:
            wait_until(ready, START_TIMEOUT, f"postgres to accept connections on port {port}")
        except AssertionError as timeout:
            self._kill()
            raise RuntimeError(f"{timeout}:\n{self.log_tail()}") from None
        except BaseException:
            self._kill()
            raise

    def _postmaster_pid(self):
        """The postmaster's pid: our child, or (as root) the pid postgres wrote to its lock file
        (signals must reach postgres itself; runuser would turn every one into SIGTERM)."""
        if not self.as_root:
            return self.process.pid
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid"), encoding="utf-8") as lock:
                return int(lock.readline())
        except (OSError, ValueError):
            return None

    def stop(self, mode="fast"):
        """Stops the server: 'fast' (roll back, disconnect clients, checkpoint), 'immediate'
        (no checkpoint: the next start runs crash recovery) or 'smart' (waits for clients).
        Returns once the server process has gone; a no-op when not running."""
        if mode not in STOP_SIGNALS:
            raise ValueError(f"stop mode {mode!r}: want one of {sorted(STOP_SIGNALS)}")
        with self._lock:
            if not self.running:
                return
            pid = self._postmaster_pid()
            try:
                if pid is not None:
                    os.kill(pid, STOP_SIGNALS[mode])
                else:
                    self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=STOP_TIMEOUT)
            except ProcessLookupError:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
                raise RuntimeError(f"postgres did not stop ({mode}) within {STOP_TIMEOUT}s:\n"
                                   f"{self.log_tail()}") from None

    def _kill(self):
        """SIGKILL to postgres (its backends notice the postmaster's death and exit)."""
        if self.process is None or self.process.poll() is not None:
            return
        pid = self._postmaster_pid()
        for target in {pid, self.process.pid} - {None}:
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def destroy(self):
        """Stops the server (immediate) and removes its folder unless ZEBROS_KEEP_DATA is set."""
        with self._lock:
            try:
                self.stop("immediate")
            except RuntimeError:
                self._kill()
            if os.environ.get("ZEBROS_KEEP_DATA"):
                print(f"pg_cluster: kept {self.base_dir} (port {self.port})", file=sys.stderr)
            else:
                shutil.rmtree(self.base_dir, ignore_errors=True)

    def log_tail(self, size=4000):
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(self.log_path) - size))
                return log.read().decode("utf-8", "replace")
        except OSError:
            return "(no postgres log)"

    # ---- databases and SQL -----------------------------------------------------------------

    def url(self, database):
        """The connection URL of `database` (which need not exist)."""
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self):
        """Creates an empty database `zebros_<12 hex>` and returns its URL."""
        name = f"zebros_{uuid.uuid4().hex[:12]}"
        self.psql(self.url("postgres"), f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, url, sql, variables=None, extra_args=()):
        """Runs `sql` with `psql -X -A -t -v ON_ERROR_STOP=1` on `url`; returns its stdout.

        `variables` (name -> str) are set with -v, so `:'name'` in `sql` is the value quoted
        as a literal by psql itself. Raises RuntimeError when psql exits non-zero."""
        command = [os.path.join(self.bindir, "psql"), "-X", "-q", "-A", "-t",
                   "-v", "ON_ERROR_STOP=1", *extra_args]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        command += ["-d", url]
        # Fed on stdin, not with -c: psql substitutes variables only in what it reads.
        result = subprocess.run(command, input=sql.encode("utf-8"), capture_output=True,
                                timeout=CLIENT_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(f"psql exited with {result.returncode} on {url}: {sql!r}\n"
                               f"{result.stderr.decode('utf-8', 'replace')}")
        return result.stdout.decode("utf-8")

    def query(self, url, sql, variables=None):
        """Rows of `sql` as tuples of str (None for NULL); [] for a statement without rows."""
        out = self.psql(url, sql, variables,
                        ["-z", "-R", RECORD_SEPARATOR, "-P", f"null={NULL_MARK}"])
        # Unaligned output: rows joined by the record separator, then one newline.
        if not out:
            return []
        if out.endswith("\n"):
            out = out[:-1]
        return [tuple(None if field == NULL_MARK else field for field in row.split("\0"))
                for row in out.split(RECORD_SEPARATOR)]


class _PortTaken(Exception):
    pass


# ---- the process-wide cluster -------------------------------------------------------------

_cluster = None
_cluster_lock = threading.Lock()


def cluster():
    """The process's cluster, started on first use."""
    global _cluster
    with _cluster_lock:
        if _cluster is None:
            _cluster = Cluster()
            atexit.register(_cluster.destroy)
            _stop_on_sigterm()
        instance = _cluster
    return instance.start()


def _stop_on_sigterm():
    """On SIGTERM (e.g. from a test runner giving up), run the exit handlers (which stop the
    cluster and kill leftover servers) before dying of the signal. Only when nobody else has
    claimed SIGTERM and only from the main thread, where Python lets us install a handler."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum, frame):
        atexit._run_exitfuncs()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    signal.signal(signal.SIGTERM, on_sigterm)
