"""The built-in identity provider over real HTTP: discovery, the authorization code flow with
PKCE driven like a browser (login page, form POST, 302 to a loopback redirect URI), the
password, refresh and client credentials grants, logout, userinfo, JWKS and key rotation while
serving, login throttling, and the user CLI (create-user, set-password)."""

import base64
import hashlib
import html.parser
import http.client
import json
import os
import stat
import unittest
import urllib.parse

from harness import ServerTestCase, cli, create_api_key, unique

REALM = "default"
BASE = f"/realms/{REALM}"
OIDC = f"{BASE}/protocol/openid-connect"
REDIRECT = "http://127.0.0.1:8765/callback"
FORM = "application/x-www-form-urlencoded"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_pair():
    verifier = b64url(os.urandom(32))
    challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge


def jwt_parts(token):
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


class LoginForm(html.parser.HTMLParser):
    """Collects what a browser would: the form, its inputs, labels, scripts, the alert."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.form = None
        self.inputs = {}      # name -> attributes
        self.labels = set()   # the `for` of every label
        self.scripts = 0
        self.alert = ""
        self._in_alert = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        elif tag == "form":
            self.form = attrs
        elif tag == "input":
            self.inputs[attrs.get("name")] = attrs
        elif tag == "label":
            self.labels.add(attrs.get("for"))
        elif tag == "script":
            self.scripts += 1
        if attrs.get("role") == "alert":
            self._in_alert = True

    def handle_endtag(self, tag):
        if tag == "div":
            self._in_alert = False

    def handle_data(self, data):
        if self._in_alert:
            self.alert += data


def parse_page(body):
    page = LoginForm()
    page.feed(body.decode("utf-8"))
    return page


class IdpCase(ServerTestCase):
    """Shared helpers; each subclass gets its own server."""

    @classmethod
    def bootstrap_password(cls):
        path = os.path.join(cls.server.data_dir, "bootstrap-admin-password")
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()

    def request(self, method, path, fields=None, headers=None, source_ip=None, raw_body=None):
        """One request on a fresh connection (optionally from another loopback address);
        `fields` are sent form-encoded. Returns (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30,
                                          source_address=(source_ip, 0) if source_ip else None)
        try:
            body = raw_body
            all_headers = dict(headers or {})
            if fields is not None:
                body = urllib.parse.urlencode(fields).encode("ascii")
                all_headers.setdefault("Content-Type", FORM)
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            response_headers = {name.lower(): value for name, value in response.getheaders()}
            if "json" in response_headers.get("content-type", "") and data:
                data = json.loads(data)
            return response.status, response_headers, data
        finally:
            conn.close()

    def token(self, fields, source_ip=None, headers=None):
        return self.request("POST", f"{OIDC}/token", fields, headers=headers, source_ip=source_ip)

    def password_grant(self, username, password, source_ip=None, scope="openid"):
        return self.token({"grant_type": "password", "client_id": "zebros-cli",
                           "username": username, "password": password, "scope": scope},
                          source_ip=source_ip)

    def admin_tokens(self):
        status, _, body = self.password_grant("admin", self.bootstrap_password())
        self.assertEqual(status, 200, body)
        return body

    def authorize_query(self, challenge, **overrides):
        params = {"client_id": "zebros-web", "redirect_uri": REDIRECT, "response_type": "code",
                  "scope": "openid profile email", "state": unique("st"),
                  "code_challenge": challenge, "code_challenge_method": "S256",
                  "nonce": unique("n")}
        params.update(overrides)
        return params

    def login(self, params, username="admin", password=None):
        """GETs the login page, POSTs the form as a browser would; returns (status, headers,
        body) of the POST."""
        status, _, body = self.request("GET", f"{OIDC}/auth?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200, body)
        page = parse_page(body)
        fields = {name: attrs.get("value", "") for name, attrs in page.inputs.items()
                  if attrs.get("type") == "hidden"}
        fields["username"] = username
        fields["password"] = self.bootstrap_password() if password is None else password
        return self.request(page.form.get("method", "get").upper(), page.form["action"], fields)

    def code_for(self, params, **login_args):
        status, headers, body = self.login(params, **login_args)
        self.assertEqual(status, 302, body)
        location = urllib.parse.urlsplit(headers["location"])
        self.assertEqual(f"{location.scheme}://{location.netloc}{location.path}",
                         params["redirect_uri"])
        query = dict(urllib.parse.parse_qsl(location.query))
        self.assertEqual(query.get("state"), params["state"])
        self.assertEqual(query.get("iss"), self.issuer())
        return query["code"]

    def issuer(self):
        return f"http://127.0.0.1:{self.server.port}{BASE}"

    def assert_oauth_error(self, response, status, error):
        got_status, headers, body = response
        self.assertEqual(got_status, status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(body.get("error"), error, body)
        self.assertIsInstance(body.get("error_description"), str, body)
        self.assertEqual(headers.get("cache-control"), "no-store")


class IdpFlowTest(IdpCase):
    """Everything but throttling, from 127.0.0.1 (which stays under the per-IP limit)."""

    def test_discovery_document(self):
        status, headers, doc = self.request("GET", f"{BASE}/.well-known/openid-configuration")
        self.assertEqual(status, 200, doc)
        issuer = self.issuer()
        self.assertEqual(doc["issuer"], issuer)
        endpoints = f"{issuer}/protocol/openid-connect"
        self.assertEqual(doc["authorization_endpoint"], f"{endpoints}/auth")
        self.assertEqual(doc["token_endpoint"], f"{endpoints}/token")
        self.assertEqual(doc["jwks_uri"], f"{endpoints}/certs")
        self.assertEqual(doc["userinfo_endpoint"], f"{endpoints}/userinfo")
        self.assertEqual(doc["end_session_endpoint"], f"{endpoints}/logout")
        self.assertEqual(doc["code_challenge_methods_supported"], ["S256"])
        self.assertEqual(doc["response_types_supported"], ["code"])
        self.assertIn("RS256", doc["id_token_signing_alg_values_supported"])
        for grant in ("authorization_code", "refresh_token", "password", "client_credentials"):
            self.assertIn(grant, doc["grant_types_supported"])

    def test_unknown_realm_is_404(self):
        status, _, body = self.request("GET", "/realms/nosuchrealm/.well-known/openid-configuration")
        self.assertEqual(status, 404, body)
        status, headers, body = self.request(
            "GET", "/realms/nosuchrealm/protocol/openid-connect/auth?client_id=zebros-web")
        self.assertEqual(status, 404, body)
        self.assertTrue(headers["content-type"].startswith("text/html"))

    def test_login_page_is_plain_accessible_html(self):
        _, challenge = pkce_pair()
        params = self.authorize_query(challenge)
        status, headers, body = self.request(
            "GET", f"{OIDC}/auth?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        csp = headers["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertEqual(headers["cache-control"], "no-store")
        page = parse_page(body)
        self.assertEqual(page.lang, "en")
        self.assertEqual(page.scripts, 0)
        self.assertEqual(page.form["method"], "post")
        self.assertEqual(page.form["action"], f"{OIDC}/auth")
        self.assertIn("username", page.labels)
        self.assertIn("password", page.labels)
        self.assertEqual(page.inputs["username"].get("id"), "username")
        self.assertEqual(page.inputs["password"].get("type"), "password")
        self.assertEqual(page.inputs["state"]["value"], params["state"])

    def test_authorization_code_flow_with_pkce(self):
        verifier, challenge = pkce_pair()
        params = self.authorize_query(challenge)
        code = self.code_for(params)
        status, headers, tokens = self.token({
            "grant_type": "authorization_code", "client_id": "zebros-web", "code": code,
            "redirect_uri": REDIRECT, "code_verifier": verifier})
        self.assertEqual(status, 200, tokens)
        self.assertEqual(headers.get("cache-control"), "no-store")
        self.assertEqual(tokens["token_type"], "Bearer")
        self.assertEqual(tokens["expires_in"], 300)
        self.assertTrue(tokens["refresh_token"])
        _, claims = jwt_parts(tokens["access_token"])
        self.assertEqual(claims["azp"], "zebros-web")
        self.assertTrue(claims["sub"].startswith("usr_"))
        _, id_claims = jwt_parts(tokens["id_token"])
        self.assertEqual(id_claims["aud"], "zebros-web")
        self.assertEqual(id_claims["nonce"], params["nonce"])
        self.assertEqual(id_claims["sub"], claims["sub"])
        # The code is single-use.
        again = self.token({"grant_type": "authorization_code", "client_id": "zebros-web",
                            "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
        self.assert_oauth_error(again, 400, "invalid_grant")

    def test_code_exchange_refusals(self):
        cases = {
            "wrong verifier": {"code_verifier": pkce_pair()[0]},
            "wrong redirect_uri": {"redirect_uri": "http://127.0.0.1:8765/other"},
            "other client": {"client_id": "zebros-cli"},
        }
        for name, change in cases.items():
            with self.subTest(name):
                verifier, challenge = pkce_pair()
                code = self.code_for(self.authorize_query(challenge))
                fields = {"grant_type": "authorization_code", "client_id": "zebros-web",
                          "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
                fields.update(change)
                self.assert_oauth_error(self.token(fields), 400, "invalid_grant")
        unknown = self.token({"grant_type": "authorization_code", "client_id": "evil",
                              "code": "x", "redirect_uri": REDIRECT, "code_verifier": "y" * 43})
        self.assert_oauth_error(unknown, 401, "invalid_client")

    def test_authorize_refusals_never_redirect_to_untrusted_uris(self):
        _, challenge = pkce_pair()
        for name, change in {"unknown client": {"client_id": "evil-app"},
                             "foreign redirect": {"redirect_uri": "https://evil.example/cb"},
                             "look-alike host": {"redirect_uri": "http://127.0.0.1.evil.example/"},
                             "userinfo trick": {"redirect_uri": "http://localhost@evil.example/"},
                             }.items():
            with self.subTest(name):
                status, headers, body = self.request(
                    "GET", f"{OIDC}/auth?" + urllib.parse.urlencode(
                        self.authorize_query(challenge, **change)))
                self.assertEqual(status, 400, body)
                self.assertNotIn("location", headers)
                self.assertTrue(headers["content-type"].startswith("text/html"))

    def test_loopback_and_same_origin_redirects_are_allowed(self):
        _, challenge = pkce_pair()
        for uri in ("http://localhost:4000/any/path", "http://127.0.0.1/cb",
                    f"http://127.0.0.1:{self.server.port}/app/callback"):
            with self.subTest(uri):
                status, _, body = self.request("GET", f"{OIDC}/auth?" + urllib.parse.urlencode(
                    self.authorize_query(challenge, redirect_uri=uri)))
                self.assertEqual(status, 200, body)

    def test_plain_challenge_method_is_refused_at_the_redirect_uri(self):
        verifier, _ = pkce_pair()
        params = self.authorize_query(verifier, code_challenge_method="plain")
        status, headers, body = self.request("GET",
                                             f"{OIDC}/auth?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 302, body)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["location"]).query))
        self.assertEqual(query["error"], "invalid_request")
        self.assertEqual(query["state"], params["state"])
        self.assertNotIn("code", query)

    def test_access_token_claims(self):
        tokens = self.admin_tokens()
        header, claims = jwt_parts(tokens["access_token"])
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(claims["iss"], self.issuer())
        self.assertEqual(claims["aud"], "zebros-api")
        self.assertEqual(claims["azp"], "zebros-cli")
        self.assertEqual(claims["typ"], "Bearer")
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        self.assertEqual(claims["realm_access"], {"roles": ["admin"]})
        self.assertEqual(claims["preferred_username"], "admin")
        self.assertTrue(claims["sub"].startswith("usr_"))
        self.assertTrue(claims["jti"])
        self.assertEqual(claims["sid"], tokens["session_state"])
        self.assertIn("openid", claims["scope"].split())
        status, _, jwks = self.request("GET", f"{OIDC}/certs")
        self.assertEqual(status, 200, jwks)
        kids = [key["kid"] for key in jwks["keys"]]
        self.assertIn(header["kid"], kids)
        for key in jwks["keys"]:
            self.assertEqual(key["kty"], "RSA")
            self.assertNotIn("d", key)

    def test_the_api_accepts_the_access_tokens(self):
        tokens = self.admin_tokens()
        resp = self.api("GET", "/api/v1/contacts?limit=1", key=tokens["access_token"])
        self.assertEqual(resp.status, 200, resp.body)
        # After a rotation by the CLI, new tokens (new kid) work at once as well.
        result = cli(self.server.data_dir, "admin", "rotate-keys")
        self.assertEqual(result.returncode, 0, result.stderr)
        rotated = self.admin_tokens()
        resp = self.api("GET", "/api/v1/contacts?limit=1", key=rotated["access_token"])
        self.assertEqual(resp.status, 200, resp.body)
        resp = self.api("GET", "/api/v1/contacts?limit=1", key=tokens["access_token"])
        self.assertEqual(resp.status, 200, resp.body)

    def test_token_endpoint_wants_a_form(self):
        status, headers, body = self.request(
            "POST", f"{OIDC}/token", raw_body=b'{"grant_type":"password"}',
            headers={"Content-Type": "application/json"})
        self.assert_oauth_error((status, headers, body), 400, "invalid_request")
        self.assert_oauth_error(self.token({"grant_type": "magic"}), 400,
                                "unsupported_grant_type")
        web_password_grant = self.token({"grant_type": "password", "client_id": "zebros-web",
                                         "username": "admin", "password": "x"})
        self.assert_oauth_error(web_password_grant, 400, "unauthorized_client")

    def test_refresh_rotates_and_a_reuse_revokes_the_session(self):
        first = self.admin_tokens()
        status, _, second = self.token({"grant_type": "refresh_token", "client_id": "zebros-cli",
                                        "refresh_token": first["refresh_token"]})
        self.assertEqual(status, 200, second)
        self.assertNotEqual(second["refresh_token"], first["refresh_token"])
        self.assertEqual(jwt_parts(second["access_token"])[1]["sid"], first["session_state"])
        reuse = self.token({"grant_type": "refresh_token", "client_id": "zebros-cli",
                            "refresh_token": first["refresh_token"]})
        self.assert_oauth_error(reuse, 400, "invalid_grant")
        newest = self.token({"grant_type": "refresh_token", "client_id": "zebros-cli",
                             "refresh_token": second["refresh_token"]})
        self.assert_oauth_error(newest, 400, "invalid_grant")

    def test_refresh_token_is_bound_to_its_client(self):
        tokens = self.admin_tokens()
        other = self.token({"grant_type": "refresh_token", "client_id": "zebros-web",
                            "refresh_token": tokens["refresh_token"]})
        self.assert_oauth_error(other, 400, "invalid_grant")
        # The refusal did not consume the token.
        status, _, body = self.token({"grant_type": "refresh_token", "client_id": "zebros-cli",
                                      "refresh_token": tokens["refresh_token"]})
        self.assertEqual(status, 200, body)

    def test_userinfo_and_logout(self):
        tokens = self.admin_tokens()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        status, _, info = self.request("GET", f"{OIDC}/userinfo", headers=bearer)
        self.assertEqual(status, 200, info)
        self.assertEqual(info["sub"], jwt_parts(tokens["access_token"])[1]["sub"])
        self.assertEqual(info["preferred_username"], "admin")
        status, headers, body = self.request("GET", f"{OIDC}/userinfo")
        self.assertEqual(status, 401, body)
        self.assertIn("invalid_token", headers.get("www-authenticate", ""))

        status, _, body = self.request("POST", f"{OIDC}/logout", {
            "client_id": "zebros-cli", "refresh_token": tokens["refresh_token"]})
        self.assertEqual(status, 204, body)
        refresh = self.token({"grant_type": "refresh_token", "client_id": "zebros-cli",
                              "refresh_token": tokens["refresh_token"]})
        self.assert_oauth_error(refresh, 400, "invalid_grant")
        status, _, body = self.request("GET", f"{OIDC}/userinfo", headers=bearer)
        self.assertEqual(status, 401, body)

    def test_unknown_user_gets_the_same_error_as_a_wrong_password(self):
        wrong = self.password_grant("admin", "not-the-password")
        unknown = self.password_grant(unique("ghost"), "not-the-password")
        self.assert_oauth_error(wrong, 400, "invalid_grant")
        self.assert_oauth_error(unknown, 400, "invalid_grant")
        self.assertEqual(wrong[2], unknown[2])

    def test_sign_ins_are_audited_without_the_attempted_name(self):
        ghost = unique("ghost") + "@example.com"
        self.assert_oauth_error(self.password_grant(ghost, "not-the-password"), 400,
                                "invalid_grant")
        status, _, tokens = self.password_grant("admin", self.bootstrap_password())
        self.assertEqual(status, 200, tokens)
        entries = self.api("GET", "/api/v1/audit?object=users&limit=50").body["data"]
        failures = [e for e in entries if e["action"] == "login.failure"]
        successes = [e for e in entries if e["action"] == "login.success"]
        self.assertTrue(failures and successes, entries)
        self.assertEqual(failures[0]["details"], {"outcome": "invalid_credentials"})
        self.assertEqual(failures[0]["actor"], "anonymous")
        self.assertRegex(successes[0]["record_id"], r"^usr_")
        self.assertEqual(successes[0]["actor"], successes[0]["record_id"])
        self.assertNotIn(ghost, json.dumps(entries))

    def test_client_credentials_with_an_api_key(self):
        secret = create_api_key(self.server.data_dir, REALM, "support", name=unique("svc"))
        (key_id,), = self.sql("SELECT id FROM api_keys WHERE secret_hash = ?",
                              (hashlib.sha256(secret.encode()).hexdigest(),))
        status, _, tokens = self.token({"grant_type": "client_credentials", "client_id": key_id,
                                        "client_secret": secret})
        self.assertEqual(status, 200, tokens)
        self.assertNotIn("refresh_token", tokens)
        _, claims = jwt_parts(tokens["access_token"])
        self.assertEqual(claims["sub"], key_id)
        self.assertEqual(claims["azp"], key_id)
        self.assertEqual(claims["realm_access"], {"roles": ["support"]})
        basic = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
        status, _, body = self.token({"grant_type": "client_credentials"},
                                     headers={"Authorization": f"Basic {basic}"})
        self.assertEqual(status, 200, body)
        wrong = self.token({"grant_type": "client_credentials", "client_id": key_id,
                            "client_secret": secret + "x"})
        self.assert_oauth_error(wrong, 401, "invalid_client")

    def test_rotate_keys_while_serving(self):
        before, _ = jwt_parts(self.admin_tokens()["access_token"])
        result = cli(self.server.data_dir, "admin", "rotate-keys")
        self.assertEqual(result.returncode, 0, result.stderr)
        new_kid = result.stdout.strip()
        after, _ = jwt_parts(self.admin_tokens()["access_token"])
        self.assertEqual(after["kid"], new_kid)
        self.assertNotEqual(after["kid"], before["kid"])
        _, _, jwks = self.request("GET", f"{OIDC}/certs")
        kids = [key["kid"] for key in jwks["keys"]]
        self.assertIn(before["kid"], kids)
        self.assertIn(new_kid, kids)
        # The keys live in the database (every node shares them), not in files of one node.
        stored = [row[0] for row in self.server.sql("SELECT kid FROM idp_signing_keys")]
        self.assertIn(new_kid, stored)
        self.assertIn(before["kid"], stored)
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "idp-keys")))

    def test_restart_keeps_signing_keys_and_the_admin_password(self):
        before, _ = jwt_parts(self.admin_tokens()["access_token"])
        password = self.bootstrap_password()
        self.server.restart()
        self.assertEqual(self.bootstrap_password(), password)
        after, _ = jwt_parts(self.admin_tokens()["access_token"])
        self.assertEqual(after["kid"], before["kid"])
        self.assertNotIn(password, "\n".join(self.server.current_stdout_lines()))

    def test_bootstrap_password_file_is_private(self):
        path = os.path.join(self.server.data_dir, "bootstrap-admin-password")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertGreaterEqual(len(self.bootstrap_password()), 16)

    def test_created_and_invited_users_sign_in(self):
        email = f"{unique('rep')}@example.com"
        password = "sales-" + unique()
        created = cli(self.server.data_dir, "admin", "create-user", "--tenant", REALM,
                      "--email", email, "--role", "sales", "--password-stdin",
                      input=password + "\n")
        self.assertEqual(created.returncode, 0, created.stderr)
        user_id = created.stdout.strip()
        self.assertTrue(user_id.startswith("usr_"), created.stdout)
        status, _, tokens = self.password_grant(email, password)
        self.assertEqual(status, 200, tokens)
        _, claims = jwt_parts(tokens["access_token"])
        self.assertEqual(claims["sub"], user_id)
        self.assertEqual(claims["email"], email)
        self.assertEqual(claims["realm_access"], {"roles": ["sales"]})

        invited = f"{unique('inv')}@example.com"
        result = cli(self.server.data_dir, "admin", "create-user", "--tenant", REALM,
                     "--email", invited, "--role", "read_only")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_oauth_error(self.password_grant(invited, ""), 400, "invalid_request")
        new_password = "invited-" + unique()
        result = cli(self.server.data_dir, "admin", "set-password", "--tenant", REALM,
                     "--email", invited, "--password-stdin", input=new_password + "\n")
        self.assertEqual(result.returncode, 0, result.stderr)
        code = self.code_for(self.authorize_query(pkce_pair()[1]), username=invited,
                             password=new_password)
        self.assertTrue(code)


class IdpThrottleTest(IdpCase):
    """Failed logins from distinct loopback addresses (Linux routes all of 127/8 to lo), so the
    per-account and per-IP limits can be told apart."""

    def test_account_is_locked_after_five_failures(self):
        for i in range(5):
            self.assert_oauth_error(self.password_grant("admin", "wrong", f"127.0.1.{i + 1}"),
                                    400, "invalid_grant")
        status, headers, body = self.password_grant("admin", self.bootstrap_password(),
                                                     "127.0.1.9")
        self.assertEqual(status, 429, body)
        self.assertEqual(body["error"], "too_many_attempts")
        self.assertGreater(int(headers["retry-after"]), 0)
        # The HTML page says so too, in words.
        _, challenge = pkce_pair()
        status, headers, body = self.login(self.authorize_query(challenge))
        self.assertEqual(status, 429, body)
        self.assertIn("Too many failed sign-in attempts", parse_page(body).alert)
        self.assertGreater(int(headers["retry-after"]), 0)

    def test_ip_is_locked_after_five_failures(self):
        email = f"{unique('ip')}@example.com"
        password = "ip-test-" + unique()
        created = cli(self.server.data_dir, "admin", "create-user", "--tenant", REALM,
                      "--email", email, "--role", "sales", "--password-stdin",
                      input=password + "\n")
        self.assertEqual(created.returncode, 0, created.stderr)
        for _ in range(5):
            self.assert_oauth_error(self.password_grant(unique("nobody"), "wrong", "127.0.2.1"),
                                    400, "invalid_grant")
        status, _, body = self.password_grant(email, password, "127.0.2.1")
        self.assertEqual(status, 429, body)
        status, _, body = self.password_grant(email, password, "127.0.2.2")
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
