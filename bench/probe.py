#!/usr/bin/env python3
"""Small helpers for bench/run.sh (Python 3 standard library only).

  probe.py free-port                          print a free TCP port on 127.0.0.1
  probe.py wait-listening LOG PID [TIMEOUT]   wait for the server's {"msg":"listening",...,"port":N}
                                              JSON log line in LOG; print N (fails if PID exits)
  probe.py wait-port PORT [TIMEOUT]           wait until 127.0.0.1:PORT accepts connections
  probe.py request METHOD URL [BODY]          one request (Authorization from $ZEBROS_KEY);
                                              prints "STATUS first-300-bytes"; exit 0 iff 2xx
  probe.py static-json FILE [SIZE]            write a JSON document of exactly SIZE (200) bytes
  probe.py rss PID LABEL                      print {"label","vmrss_kb","vmhwm_kb"} for PID
  probe.py token BASE TENANT USERNAME         password grant of the built-in identity provider
                                              (password on stdin); prints the access token
"""

import http.client
import json
import os
import re
import socket
import sys
import time
import urllib.parse


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by the shell) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


PORT_RE = re.compile(r'"port"\s*:\s*"?(\d+)')


def wait_listening(log, pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if '"listening"' not in line:
                        continue
                    try:
                        doc = json.loads(line)
                        if doc.get("msg") == "listening" and "port" in doc:
                            return int(doc["port"])
                    except ValueError:
                        pass
                    m = PORT_RE.search(line)
                    if m:
                        return int(m.group(1))
        except FileNotFoundError:
            pass
        if not alive(pid):
            raise SystemExit(f"server (pid {pid}) exited before logging \"listening\"; see {log}")
        time.sleep(0.1)
    raise SystemExit(f"no \"listening\" line in {log} after {timeout}s")


def wait_port(port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def request(method, url, body=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    headers = {"Accept": "application/json"}
    key = os.environ.get("ZEBROS_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    path = u.path + (f"?{u.query}" if u.query else "")
    try:
        conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
    except OSError as e:
        print(f"000 {e}")
        return 1
    finally:
        conn.close()
    print(f"{resp.status} {data[:300].decode('utf-8', 'replace')}")
    return 0 if 200 <= resp.status <= 299 else 1


def static_json(path, size):
    doc = {"id": "con_01JBENCHBASELINE0000000000", "first_name": "Anna", "last_name": "Schmidt",
           "email": "anna.schmidt.0@example.com", "lifecycle_stage": "customer",
           "mailing_country": "DE", "pad": ""}
    text = json.dumps(doc, separators=(",", ":"))
    if len(text) > size:
        raise SystemExit(f"cannot fit the document into {size} bytes")
    doc["pad"] = "x" * (size - len(text))
    data = json.dumps(doc, separators=(",", ":")).encode()
    assert len(data) == size
    with open(path, "wb") as f:
        f.write(data)


def rss(pid, label):
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    print(json.dumps({"label": label, "vmrss_kb": values.get("VmRSS"),
                      "vmhwm_kb": values.get("VmHWM"), "time": int(time.time())}))


def token(base, tenant, username):
    password = sys.stdin.readline().rstrip("\r\n")
    url = urllib.parse.urlsplit(base)
    body = urllib.parse.urlencode({"grant_type": "password", "client_id": "zebros-cli",
                                   "username": username, "password": password})
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    conn.request("POST", f"/realms/{tenant}/protocol/openid-connect/token", body,
                 {"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise SystemExit(f"token: {resp.status} {data[:300]!r}")
    print(json.loads(data)["access_token"])


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "free-port":
        print(free_port())
    elif cmd == "wait-listening":
        print(wait_listening(rest[0], int(rest[1]), float(rest[2]) if len(rest) > 2 else 60))
    elif cmd == "wait-port":
        wait_port(int(rest[0]), float(rest[1]) if len(rest) > 1 else 30)
    elif cmd == "request":
        return request(rest[0], rest[1], rest[2] if len(rest) > 2 else None)
    elif cmd == "static-json":
        static_json(rest[0], int(rest[1]) if len(rest) > 1 else 200)
    elif cmd == "rss":
        rss(int(rest[0]), rest[1])
    elif cmd == "token":
        token(rest[0], rest[1], rest[2])
    else:
        raise SystemExit(f"unknown command {cmd!r}; see --help")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
