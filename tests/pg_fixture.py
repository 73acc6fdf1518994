#!/usr/bin/env python3
"""A detached PostgreSQL server for ctest fixtures (FIXTURES_SETUP / FIXTURES_CLEANUP pg).

  pg_fixture.py start STATE_DIR   initdb + `pg_ctl start` on 127.0.0.1 and a free port; writes
                                  STATE_DIR/url (the superuser's URL of database `postgres`)
                                  and STATE_DIR/cluster (the cluster's folder)
  pg_fixture.py stop STATE_DIR    `pg_ctl stop -m fast`, removes the cluster's folder and the
                                  state files (a no-op when nothing was started)

The cluster lives in a temp dir of its own (not in STATE_DIR: as root, the server runs as the
`postgres` user, who may not be able to enter the build tree). Binaries, the OS user, the
superuser and free_port() come from integration/pg_cluster.py. Python standard library only.
Exit 0 on success; 1 with the server log's tail on stderr otherwise; 2 on bad usage.
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
import pg_cluster  # noqa: E402  (find_bindir, free_port, OS_USER, SUPERUSER)

START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
STOP_TIMEOUT = 60
PORT_ATTEMPTS = 5   # a free port can be taken between our probe and the server's bind


def server_command(*args):
    """A server-side command (initdb, pg_ctl), run as the `postgres` user when we are root."""
    prefix = ["runuser", "-u", pg_cluster.OS_USER, "--"] if os.geteuid() == 0 else []
    return prefix + list(args)


def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=START_TIMEOUT + 30, cwd="/")
    if result.returncode != 0:
        raise RuntimeError(f"{what} exited with {result.returncode}:\n"
                           f"{result.stdout}{result.stderr}")
    return result


def log_tail(log_path, size=4000):
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, os.path.getsize(log_path) - size))
            return log.read().decode("utf-8", "replace")
    except OSError:
        return "(no server log)"


def state_file(state_dir, name):
    return os.path.join(state_dir, name)


def read_state(state_dir, name):
    try:
        with open(state_file(state_dir, name), encoding="utf-8") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return None


def write_state(state_dir, name, value):
    path = state_file(state_dir, name)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.replace(path + ".tmp", path)


def start(state_dir):
    stop(state_dir)  # a cluster left behind by an aborted run would leak otherwise
    os.makedirs(state_dir, exist_ok=True)
    bindir = pg_cluster.find_bindir()
    base = tempfile.mkdtemp(prefix="zebros-pg-fixture-")
    write_state(state_dir, "cluster", base)  # from here on, stop() cleans up
    if os.geteuid() == 0:
        account = pwd.getpwnam(pg_cluster.OS_USER)
        os.chown(base, account.pw_uid, account.pw_gid)
    data = os.path.join(base, "data")
    log_path = os.path.join(base, "postgres.log")
    run(server_command(os.path.join(bindir, "initdb"), "-D", data, "-A", "trust",
                       "-U", pg_cluster.SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C",
                       "--no-instructions"), "initdb")
    for attempt in range(PORT_ATTEMPTS):
        port = pg_cluster.free_port()
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=100")
        offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        result = subprocess.run(
            server_command(os.path.join(bindir, "pg_ctl"), "start", "-D", data, "-l", log_path,
                           "-w", "-t", str(START_TIMEOUT), "-o", options),
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=START_TIMEOUT + 30, cwd="/")
        if result.returncode == 0:
            break
        with open(log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", "replace")
        if "Address already in use" not in text or attempt == PORT_ATTEMPTS - 1:
            raise RuntimeError(f"pg_ctl start exited with {result.returncode}:\n"
                               f"{result.stdout}{result.stderr}\n{log_tail(log_path)}")
    url = f"postgres://{pg_cluster.SUPERUSER}@127.0.0.1:{port}/postgres"
    # pg_ctl -w waited for the server; check it answers over TCP as the tests will connect.
    run([os.path.join(bindir, "pg_isready"), "-q", "-d", url, "-t", "10"], "pg_isready")
    write_state(state_dir, "url", url)
    print(f"pg_fixture: PostgreSQL at {url} (cluster {base})")


def stop(state_dir):
    base = read_state(state_dir, "cluster")
    if base is not None and os.path.isdir(base):
        data = os.path.join(base, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            bindir = pg_cluster.find_bindir()
            run(server_command(os.path.join(bindir, "pg_ctl"), "stop", "-D", data, "-m", "fast",
                               "-w", "-t", str(STOP_TIMEOUT)), "pg_ctl stop")
            print(f"pg_fixture: stopped the cluster in {base}")
        if os.environ.get("ZEBROS_KEEP_DATA"):
            print(f"pg_fixture: kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    for name in ("url", "cluster"):
        try:
            os.remove(state_file(state_dir, name))
        except FileNotFoundError:
            pass


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(f"usage: {argv[0]} start|stop STATE_DIR", file=sys.stderr)
        return 2
    try:
        (start if argv[1] == "start" else stop)(os.path.abspath(argv[2]))
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print(f"pg_fixture {argv[1]}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
