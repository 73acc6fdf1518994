"""A real third-party OIDC provider for the tests: tests/fixtures/oidc/server.mjs (oidc-provider,
shaped like a Keycloak realm) run with node as a subprocess. Python standard library only.

Environment:
  ZEBROS_OIDC_FIXTURE  the fixture folder (default: tests/fixtures/oidc next to this folder);
                       it needs `npm ci` once (scripts/test.sh does it)
  ZEBROS_NODE          the node binary (default: `node` on PATH)

    with OidcProvider() as idp:
        token = idp.client_credentials_token("svc-admin")
        forged = idp.sign({"kid": None}, idp.claims(exp=0), key="none")
"""

import base64
import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse

START_TIMEOUT = 60.0     # key generation is slow on a busy machine
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

AUDIENCE = "zebros-api"
ROLES_CLIENT = "zebros-api"  # the client whose resource_access.<client>.roles the tokens carry
# The fixture's clients (server.mjs): realm roles, client roles of `zebros-api`, tenant claim.
CLIENTS = {
    "svc-admin": {"realm_role": "zebros-admin", "client_role": "crm-admin", "tenant": "acme"},
    "svc-sales": {"realm_role": "sales", "client_role": "crm-sales", "tenant": "acme"},
    "svc-unknownrole": {"realm_role": "intern", "client_role": "intern", "tenant": "acme"},
    "svc-notenant": {"realm_role": "zebros-admin", "client_role": "crm-admin", "tenant": None},
    "svc-globex": {"realm_role": "zebros-admin", "client_role": "crm-admin", "tenant": "globex"},
}
# Keys /__test/sign knows (see server.mjs).
SIGNING_KEYS = ("current", "ec", "ed25519", "attacker-rsa", "hs256-with-public-key", "none")


def fixture_dir():
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "oidc")
    return os.path.normpath(os.environ.get("ZEBROS_OIDC_FIXTURE") or default)


class FixtureUnavailable(RuntimeError):
    """node or the fixture's node_modules are missing (a setup problem, not a test failure)."""


def check_fixture():
    """Returns (node, server.mjs path) or raises FixtureUnavailable saying what to do."""
    folder = fixture_dir()
    node = os.environ.get("ZEBROS_NODE") or shutil.which("node")
    if not node or not os.access(node, os.X_OK):
        raise FixtureUnavailable(f"no node executable ({node or 'none on PATH'}): set ZEBROS_NODE "
                                 "or install Node.js 18.12+ (scripts/install-deps.sh --test does)")
    script = os.path.join(folder, "server.mjs")
    if not os.path.isfile(script):
        raise FixtureUnavailable(f"{script} is missing (ZEBROS_OIDC_FIXTURE={folder!r})")
    if not os.path.isdir(os.path.join(folder, "node_modules", "oidc-provider")):
        raise FixtureUnavailable(f"run `npm ci` in {folder} first (scripts/test.sh does)")
    return node, script


def b64url_decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url_encode(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_jwt(token):
    """(header, payload) of a compact JWS, unverified."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


class OidcProvider:
    """One fixture process. `issuer` is http://127.0.0.1:PORT/realms/acme.

    start() raises FixtureUnavailable when node or node_modules are missing, RuntimeError when
    the process does not come up. stop() ends it (SIGTERM, then SIGKILL).
    """

    def __init__(self):
        self.process = None
        self.port = None
        self.issuer = None
        self.stderr_lines = []
        self._readers = []
        self._lock = threading.Condition()
        self._stdout_lines = []

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self):
        node, script = check_fixture()
        self.process = subprocess.Popen([node, script, "0"], cwd=os.path.dirname(script),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self._stdout_lines),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr_lines),
                             daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        try:
            ready = self._wait_for_listening()
        except BaseException:
            self.stop()
            raise
        self.port = int(ready["listening"])
        self.issuer = ready.get("issuer") or f"http://127.0.0.1:{self.port}/realms/acme"
        return self

    def _pump(self, stream, lines):
        for raw in iter(stream.readline, b""):
            with self._lock:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def _wait_for_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        with self._lock:
            while True:
                for line in self._stdout_lines:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict) and "listening" in record:
                        return record
                if self.process.poll() is not None:
                    raise RuntimeError(f"the OIDC fixture exited with {self.process.returncode} "
                                       f"before listening:\n{self.stderr_text()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"the OIDC fixture did not listen within {START_TIMEOUT}s:"
                                       f"\n{self.stderr_text()}")
                self._lock.wait(min(remaining, 0.5))

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
        self.process = None

    def stderr_text(self):
        with self._lock:
            return "\n".join(self.stderr_lines[-40:])

    # ---- HTTP ------------------------------------------------------------------------------

    def _request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            raw = conn.getresponse()
            data = raw.read()
        finally:
            conn.close()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data
        if raw.status != 200:
            raise AssertionError(f"OIDC fixture {method} {path}: {raw.status} {parsed!r}\n"
                                 f"{self.stderr_text()}")
        return parsed

    def _test_call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if data is not None else {}
        return self._request(method, path, data, headers)

    @property
    def realm_path(self):
        return urllib.parse.urlsplit(self.issuer).path

    def discovery(self):
        return self._request("GET", f"{self.realm_path}/.well-known/openid-configuration")

    def jwks(self):
        """The JWKS as a verifier sees it (counts as a JWKS request in stats())."""
        return self._request("GET", f"{self.realm_path}/protocol/openid-connect/certs")

    def client_credentials_token(self, client, scope=None):
        """A JWT access token for `client` (a key of CLIENTS) from the real token endpoint."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        credentials = base64.b64encode(f"{client}:{client}-secret".encode()).decode("ascii")
        response = self._request(
            "POST", f"{self.realm_path}/protocol/openid-connect/token",
            urllib.parse.urlencode(form).encode("ascii"),
            {"Content-Type": "application/x-www-form-urlencoded",
             "Authorization": f"Basic {credentials}"})
        return response["access_token"]

    def sign(self, header=None, payload=None, key="current", secret=None):
        """A compact JWS signed by the fixture: see /__test/sign in server.mjs. `header` fields
        override the defaults (alg and kid of the key, typ JWT; None leaves a field out);
        `payload` is a dict (JSON) or a str sent as the raw payload text."""
        body = {"header": header or {}, "payload": payload if payload is not None else {},
                "key": key}
        if secret is not None:
            body["secret"] = secret
        return self._test_call("POST", "/__test/sign", body)["token"]

    def rotate(self):
        """New RSA signing key (new kid); the old one leaves the JWKS. Returns {kid, old_kid}."""
        return self._test_call("POST", "/__test/rotate", {})

    def stats(self):
        """{"jwks_requests", "discovery_requests", "token_requests", "attacker_requests"}."""
        return self._test_call("GET", "/__test/stats")

    def public_keys(self):
        """Public JWKs by name: current, ec, ed25519, attacker-rsa."""
        return self._test_call("GET", "/__test/keys")

    def attacker_url(self, name="jwks.json"):
        """A URL under /__test/attacker/ (serves the attacker's JWKS; every fetch is counted)."""
        return f"http://127.0.0.1:{self.port}/__test/attacker/{name}"

    def claims(self, **overrides):
        """An access token payload like the provider's for svc-admin, timed from now; keyword
        arguments override claims (a value None removes the claim)."""
        now = int(time.time())
        payload = {
            "typ": "Bearer", "azp": "svc-admin", "acr": "1",
            "realm_access": {"roles": ["offline_access", "zebros-admin"]},
            "resource_access": {ROLES_CLIENT: {"roles": ["crm-admin"]}},
            "preferred_username": "service-account-forged-admin",
            "email": "forged-admin@acme.example", "tenant": "acme",
            "jti": b64url_encode(os.urandom(12)), "sub": "f0f0f0f0-0000-4000-a000-000000000001",
            "iat": now, "exp": now + 300, "client_id": "svc-admin",
            "iss": self.issuer, "aud": AUDIENCE,
        }
        if "sub" in overrides:  # another user: its own username and e-mail, unique per tenant
            payload["preferred_username"] = f"forged-{overrides['sub']}"
            payload["email"] = f"forged-{overrides['sub']}@acme.example"
        for name, value in overrides.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return payload
