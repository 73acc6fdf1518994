"""Zebros as an OAuth resource server for a real third-party OIDC provider: the fixture in
tests/fixtures/oidc (oidc-provider shaped like a Keycloak realm) issues client_credentials JWT
access tokens, and forges attack tokens through its test-only /__test/sign.

Each test class runs its own provider and its own server (the server needs the provider's
issuer URL, and key rotation or a kid flood in one class must not disturb the JWKS cache of
another). Needs node and `npm ci` in tests/fixtures/oidc (scripts/test.sh does both).
"""

import concurrent.futures
import contextlib
import json
import time
import unittest

from crm import CONTACTS
from harness import Response, ServerTestCase, quote_param, unique, wait_until
from oidc_fixture import AUDIENCE, ROLES_CLIENT, OidcProvider, b64url_encode, decode_jwt

SKEW = 60                # seconds of clock skew Zebros allows on exp, nbf and iat
BEYOND_SKEW = SKEW * 3   # far enough past the skew for a slow machine
WITHIN_SKEW = SKEW // 3  # well inside the skew
JWKS_REFETCH_GAP = 10  # Zebros refetches the JWKS at most once per this many seconds
ROTATION_TIMEOUT = JWKS_REFETCH_GAP * 3


class OidcTestCase(ServerTestCase):
    """Starts a provider, then a server that trusts it (see serve_args of each subclass)."""

    idp: OidcProvider = None
    tenants_before_start = ("acme",)

    @classmethod
    def setUpClass(cls):
        cls.idp = OidcProvider()
        cls.addClassCleanup(cls.idp.stop)
        cls.idp.start()
        super().setUpClass()

    # ---- helpers ---------------------------------------------------------------------------

    def token(self, client="svc-admin"):
        return self.idp.client_credentials_token(client)

    def forged(self, key="current", header=None, **claims):
        """A token signed by the fixture with `key` (see OidcProvider.sign and .claims)."""
        return self.idp.sign(header or {}, self.idp.claims(**claims), key=key)

    def me(self, token):
        resp = self.api("GET", "/api/v1/me", key=token)
        self.assertEqual(resp.status, 200, resp.body)
        return resp.body

    def assert_accepted(self, token, what="token"):
        resp = self.api("GET", CONTACTS.path, key=token)
        self.assertEqual(resp.status, 200, f"{what} should be accepted: {resp.body!r}")
        return resp

    def assert_invalid_token(self, resp, what="token"):
        """401 problem+json with the RFC 6750 challenge `Bearer error="invalid_token"`."""
        self.assertEqual(resp.status, 401, f"{what}: want 401, got {resp.status} {resp.body!r}")
        content_type = resp.header("content-type", "")
        self.assertTrue(content_type.startswith("application/problem+json"),
                        f"{what}: problem Content-Type is {content_type!r}")
        self.assertIsInstance(resp.body, dict, f"{what}: {resp.body!r}")
        self.assertEqual(resp.body.get("status"), 401, resp.body)
        self.assertIsInstance(resp.body.get("code"), str, resp.body)
        challenge = resp.header("www-authenticate", "")
        self.assertRegex(challenge, r'^Bearer\b.*\berror="invalid_token"',
                         f"{what}: WWW-Authenticate is {challenge!r}")

    def assert_refused(self, token, what="token", path=None):
        self.assert_invalid_token(self.api("GET", path or CONTACTS.path, key=token), what)

    def assert_tenant(self, value, name):
        """/me's tenant names `name`: its name or the id create-tenant printed."""
        wanted = {name, self.tenant_ids[name]}
        if isinstance(value, dict):
            self.assertTrue(wanted & {value.get("name"), value.get("id")}, value)
        else:
            self.assertIn(value, wanted)

    def external_users(self, subject):
        """Rows of the users table for an external subject (read straight from the database)."""
        columns = ("id", "tenant_id", "username", "email", "role", "issuer", "external_subject")
        return [dict(zip(columns, row)) for row in self.sql(
            f"SELECT {', '.join(columns)} FROM users WHERE external_subject = ?", (subject,))]


def realm_role_args(issuer):
    return ["--oidc-issuer", f"{issuer}=acme",
            "--oidc-role-map", "zebros-admin=admin,sales=sales"]


class IssuerTenantTest(OidcTestCase):
    """Realm per tenant: every token of the issuer belongs to acme; roles from
    realm_access.roles (the default), mapped by --oidc-role-map."""

    @classmethod
    def serve_args(cls):
        return realm_role_args(cls.idp.issuer)

    def test_provider_token_reads_and_creates_records(self):
        token = self.token("svc-admin")
        header, claims = decode_jwt(token)
        self.assertEqual((header["alg"], header["typ"]), ("RS256", "at+jwt"))
        self.assertEqual((claims["iss"], claims["aud"], claims["typ"]),
                         (self.idp.issuer, AUDIENCE, "Bearer"))
        self.assert_accepted(token)
        record = self.create("contacts", CONTACTS.full(unique()), key=token)
        self.assertEqual(self.get_record("contacts", record["id"], key=token), record)
        listed = self.api("GET", f"{CONTACTS.path}?limit=500", key=token)
        self.assertIn(record["id"], [r["id"] for r in listed.body["data"]])
        field = self.api("POST", "/api/v1/schema/contacts/fields",
                         {"name": unique("f"), "type": "integer"}, key=token)
        self.assertEqual(field.status, 201, field.body)
        self.assertNotIn(token.rsplit(".", 1)[1], self.server.stderr_text(),
                         "the token's signature reached the server log")

    def test_me_shows_tenant_role_and_the_just_in_time_user(self):
        token = self.token("svc-admin")
        _, claims = decode_jwt(token)
        me = self.me(token)
        self.assertEqual(me["subject"], claims["sub"])
        self.assert_tenant(me["tenant"], "acme")
        self.assertEqual(me["role"], "admin")
        self.assertTrue(me["permissions"], me)
        users = self.external_users(claims["sub"])
        self.assertEqual(len(users), 1, users)
        user = users[0]
        self.assertEqual((user["tenant_id"], user["role"]), (self.tenant_ids["acme"], "admin"))
        self.assertEqual(user["issuer"], self.idp.issuer)
        self.assertEqual(user["username"], claims["preferred_username"])
        self.assertEqual(user["email"], claims["email"])
        if "user_id" in me:
            self.assertEqual(me["user_id"], user["id"])
        # A second login (a fresh token of the same client) is the same user, not a new one.
        self.assertEqual(self.me(self.token("svc-admin"))["subject"], claims["sub"])
        self.assertEqual([u["id"] for u in self.external_users(claims["sub"])], [user["id"]])

    def test_external_user_appears_on_first_login(self):
        sub = unique("sub-")
        token = self.forged("ec", sub=sub)
        self.assertEqual(self.external_users(sub), [], "a user before the first login")
        self.assertEqual(self.me(token)["subject"], sub)
        users = self.external_users(sub)
        self.assertEqual([(u["tenant_id"], u["role"]) for u in users],
                         [(self.tenant_ids["acme"], "admin")])

    def test_sales_token_creates_contacts_but_may_not_change_the_schema(self):
        token = self.token("svc-sales")
        self.assertEqual(self.me(token)["role"], "sales")
        self.create("contacts", CONTACTS.minimal(unique()), key=token)
        resp = self.api("POST", "/api/v1/schema/contacts/fields",
                        {"name": unique("f"), "type": "integer"}, key=token)
        self.assert_problem(resp, 403, "forbidden")

    def test_unknown_role_grants_nothing(self):
        token = self.token("svc-unknownrole")
        for method, path, body in (("GET", CONTACTS.path, None),
                                   ("GET", "/api/v1/accounts", None),
                                   ("POST", CONTACTS.path, CONTACTS.minimal(unique()))):
            with self.subTest(route=f"{method} {path}"):
                self.assert_problem(self.api(method, path, body, key=token), 403, "forbidden")

    def test_es256_and_eddsa_tokens_from_keys_in_the_jwks_are_accepted(self):
        for key in ("ec", "ed25519"):
            with self.subTest(key=key):
                sub = unique("sub-")
                token = self.forged(key, sub=sub)
                want_alg = {"ec": "ES256", "ed25519": "EdDSA"}[key]
                self.assertEqual(decode_jwt(token)[0]["alg"], want_alg)
                self.assert_accepted(token, key)
                self.assertEqual(self.me(token)["subject"], sub)

    def test_claims_within_the_rules_are_accepted(self):
        now = int(time.time())
        cases = {
            "expired within skew": {"exp": now - WITHIN_SKEW, "iat": now - 300},
            "nbf within skew": {"nbf": now + WITHIN_SKEW},
            "iat within skew": {"iat": now + WITHIN_SKEW},
            "aud list holding the audience": {"aud": ["account", AUDIENCE]},
            "no typ claim": {"typ": None},
            "header typ at+jwt": {},
        }
        for what, claims in cases.items():
            with self.subTest(what):
                header = {"typ": "at+jwt"} if what == "header typ at+jwt" else None
                self.assert_accepted(self.forged(header=header, **claims), what)

    def test_tenant_isolation_from_the_default_tenant(self):
        tag = unique("Iso")
        default_record = self.create("contacts", {"last_name": f"Default {tag}"})
        token = self.token("svc-admin")
        acme_record = self.create("contacts", {"last_name": f"Acme {tag}"}, key=token)
        path = f"{CONTACTS.path}/{default_record['id']}"
        for method, body in (("GET", None), ("PATCH", {"title": "hijacked"}), ("DELETE", None)):
            with self.subTest(method=method):
                self.assert_problem(self.api(method, path, body, key=token), 404, "not_found")
        listed = self.api("GET", f"{CONTACTS.path}?limit=500", key=token)
        self.assertNotIn(default_record["id"], [r["id"] for r in listed.body["data"]])
        filtered = self.api("GET", f"{CONTACTS.path}?filter[last_name]="
                            + quote_param(default_record["last_name"]), key=token)
        self.assertEqual(filtered.body["data"], [])
        searched = self.api("POST", f"{CONTACTS.path}/search", {"q": tag.lower()}, key=token)
        self.assertEqual([r["id"] for r in searched.body["data"]], [acme_record["id"]])
        # ... and the other way round.
        self.assert_problem(self.api("GET", f"{CONTACTS.path}/{acme_record['id']}"), 404,
                            "not_found")
        self.assertEqual(self.get_record("contacts", default_record["id"]), default_record)


class AttackTest(OidcTestCase):
    """Every forged, stale or malformed token is a 401 invalid_token, never a 500 or a 200."""

    @classmethod
    def serve_args(cls):
        return realm_role_args(cls.idp.issuer)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = cls.idp.public_keys()
        cls.good = cls.idp.client_credentials_token("svc-sales")

    def test_the_unforged_token_works(self):
        self.assert_accepted(self.good)

    def test_alg_none(self):
        kid = self.keys["current"]["kid"]
        head, body, signature = self.good.split(".")
        cases = {}
        for alg in ("none", "None", "NONE", "nOnE"):
            for with_kid in (True, False):
                header = {"alg": alg, "kid": kid if with_kid else None}
                cases[f"{alg} kid={with_kid}"] = self.forged("none", header=header)
        none_header = b64url_encode('{"alg":"none","typ":"at+jwt","kid":"%s"}' % kid)
        cases["none header on the real payload"] = f"{none_header}.{body}."
        cases["none header with the real signature"] = f"{none_header}.{body}.{signature}"
        cases["real header without signature"] = f"{head}.{body}."
        for what, token in cases.items():
            with self.subTest(what):
                self.assert_refused(token, what)

    def test_hs256_keyed_with_the_public_key(self):
        kid = self.keys["current"]["kid"]
        for secret in ("pem", "der", "jwk", "n"):
            for header_kid in (kid, None):
                with self.subTest(secret=secret, kid=header_kid):
                    token = self.idp.sign({"alg": "HS256", "kid": header_kid}, self.idp.claims(),
                                          key="hs256-with-public-key", secret=secret)
                    self.assert_refused(token, f"HS256 keyed with the public key as {secret}")

    def test_algorithm_is_pinned_by_the_key(self):
        rsa, ec, ed = (self.keys[name]["kid"] for name in ("current", "ec", "ed25519"))
        cases = {
            "EC signature under the RSA kid": ("ec", {"kid": rsa}),
            "EC signature claiming ES256 under the RSA kid": ("ec", {"kid": rsa, "alg": "ES256"}),
            "RSA signature under the EC kid": ("current", {"kid": ec}),
            "RSA signature claiming RS256 under the Ed25519 kid": ("current", {"kid": ed}),
            "EdDSA signature under the EC kid": ("ed25519", {"kid": ec, "alg": "EdDSA"}),
            "RS256 signature labelled PS256": ("current", {"alg": "PS256"}),
            "RS256 signature labelled RS512": ("current", {"alg": "RS512"}),
        }
        for what, (key, header) in cases.items():
            with self.subTest(what):
                self.assert_refused(self.forged(key, header=header), what)

    def test_attacker_key_in_jwk_jku_or_x5u_headers_is_ignored(self):
        attacker = self.keys["attacker-rsa"]
        current_kid = self.keys["current"]["kid"]
        before = self.idp.stats()["attacker_requests"]
        cases = {
            "embedded jwk, attacker kid": {"jwk": attacker, "kid": attacker["kid"]},
            "embedded jwk, provider kid": {"jwk": attacker, "kid": current_kid},
            "jku, attacker kid": {"jku": self.idp.attacker_url(), "kid": attacker["kid"]},
            "jku, provider kid": {"jku": self.idp.attacker_url(), "kid": current_kid},
            "x5u": {"x5u": self.idp.attacker_url("cert.pem"), "kid": attacker["kid"]},
            "attacker key, provider kid": {"kid": current_kid},
        }
        for what, header in cases.items():
            with self.subTest(what):
                self.assert_refused(self.forged("attacker-rsa", header=header), what)
        self.assertEqual(self.idp.stats()["attacker_requests"], before,
                         "Zebros fetched a URL named in a token header")

    def test_wrong_issuer(self):
        issuer = self.idp.issuer
        for iss in (issuer + "/", issuer.replace("127.0.0.1", "localhost"),
                    issuer.replace("/realms/acme", "/realms/other"), issuer.upper(), "", None):
            with self.subTest(iss=iss):
                self.assert_refused(self.forged(iss=iss), f"iss {iss!r}")

    def test_wrong_audience(self):
        for aud in ("account", ["account", "other-api"], [], "zebros-api ", "ZEBROS-API", None):
            with self.subTest(aud=aud):
                self.assert_refused(self.forged(aud=aud), f"aud {aud!r}")

    def test_times_beyond_the_skew(self):
        now = int(time.time())
        cases = {
            "expired": {"exp": now - BEYOND_SKEW, "iat": now - 600},
            "nbf in the future": {"nbf": now + BEYOND_SKEW},
            "iat in the future": {"iat": now + BEYOND_SKEW, "exp": now + 600},
            "no exp": {"exp": None},
            "exp not a number": {"exp": str(now + 300)},
        }
        for what, claims in cases.items():
            with self.subTest(what):
                self.assert_refused(self.forged(**claims), what)

    def test_tampered_payload_or_truncated_signature(self):
        head, body, signature = self.good.split(".")
        claims = decode_jwt(self.good)[1]

        def with_claims(**changes):
            changed = dict(claims, **changes)
            return f"{head}.{b64url_encode(json_text(changed))}.{signature}"

        cases = {
            "role raised": with_claims(realm_access={"roles": ["zebros-admin"]}),
            "tenant changed": with_claims(tenant="default"),
            "exp extended": with_claims(exp=claims["exp"] + 3600),
            "signature cut by 10": f"{head}.{body}.{signature[:-10]}",
            "signature cut in half": f"{head}.{body}.{signature[:len(signature) // 2]}",
            "signature bit flipped": f"{head}.{body}.{flip_middle_char(signature)}",
            "payload padded": f"{head}.{body}==.{signature}",
        }
        for what, token in cases.items():
            with self.subTest(what):
                self.assert_refused(token, what)
        self.assert_accepted(self.good)

    def test_id_and_refresh_tokens_are_refused(self):
        for typ in ("ID", "Refresh", "Logout", "Offline"):
            with self.subTest(typ=typ):
                self.assert_refused(self.forged(typ=typ), f"typ {typ}")
        id_shaped = self.forged(typ="ID", aud="svc-admin", nonce="n-0S6_WzA2Mj",
                                at_hash="77QmUPtjPfzWtF2AnpK9RQ", auth_time=int(time.time()))
        self.assert_refused(id_shaped, "ID token of the client")

    def test_garbage_tokens(self):
        jwt_shaped = ["a.b.c", "..", "eyJ.eyJ.", "eyJhbGciOiJSUzI1NiJ9..", "....",
                      b64url_encode("not json") + "." + b64url_encode("{}") + ".c2ln",
                      b64url_encode('{"alg":"RS256","kid":7}') + "." + b64url_encode("{}") + ".x",
                      b64url_encode("[]") + "." + b64url_encode("[]") + ".x",
                      b64url_encode('{"alg":"RS256"}') + "." + b64url_encode("not json") + ".x",
                      "eyJ" + "A" * 6000 + ".e30.c2ln", self.good + ".extra",
                      self.good.replace(".", "..", 1),
                      "%s.%s.%s" % ("=" * 8, "!" * 8, "~" * 8)]
        for token in jwt_shaped:
            with self.subTest(token=token[:60]):
                self.assert_refused(token, f"garbage {token[:60]!r}")
        # Not shaped like a JWT: may be taken for an unknown API key (401 without the error).
        for token in ("garbage", "x" * 200, "zbk_" + "0" * 43):
            with self.subTest(token=token[:60]):
                resp = self.api("GET", CONTACTS.path, key=token)
                self.assertEqual(resp.status, 401, resp.body)
                self.assertTrue(resp.header("content-type", "").startswith(
                    "application/problem+json"), resp.headers)
                self.assertTrue(resp.header("www-authenticate", "").startswith("Bearer"),
                                resp.headers)

    def test_oversize_authorization_header(self):
        resp = self.api("GET", CONTACTS.path, key="eyJ" + "A" * 20000)
        self.assertIn(resp.status, (401, 431), resp.body)
        if resp.status == 401:
            self.assert_invalid_token(resp, "oversize token")
        self.assert_accepted(self.good, "a good token after the oversize one")


class ClaimTenantTest(OidcTestCase):
    """One issuer for many tenants: the tenant comes from the `tenant` claim (the default
    --oidc-tenant-claim), roles from resource_access.zebros-api.roles."""

    tenants_before_start = ("acme", "globex")

    @classmethod
    def serve_args(cls):
        return ["--oidc-issuer", cls.idp.issuer,
                "--oidc-roles-claim", f"resource_access.{ROLES_CLIENT}.roles",
                "--oidc-role-map", "crm-admin=admin,crm-sales=sales"]

    def test_tenant_comes_from_the_claim(self):
        for client, tenant in (("svc-admin", "acme"), ("svc-globex", "globex")):
            with self.subTest(client=client):
                me = self.me(self.token(client))
                self.assert_tenant(me["tenant"], tenant)
                self.assertEqual(me["role"], "admin")

    def test_tenants_of_one_issuer_are_isolated(self):
        acme, globex = self.token("svc-admin"), self.token("svc-globex")
        record = self.create("contacts", CONTACTS.minimal(unique()), key=acme)
        path = f"{CONTACTS.path}/{record['id']}"
        self.assert_problem(self.api("GET", path, key=globex), 404, "not_found")
        listed = self.api("GET", f"{CONTACTS.path}?limit=500", key=globex)
        self.assertNotIn(record["id"], [r["id"] for r in listed.body["data"]])
        self.assertEqual(self.get_record("contacts", record["id"], key=acme), record)

    def test_roles_come_from_the_configured_claim_only(self):
        sales = self.token("svc-sales")
        self.assertEqual(self.me(sales)["role"], "sales")
        resp = self.api("POST", "/api/v1/schema/contacts/fields",
                        {"name": unique("f"), "type": "integer"}, key=sales)
        self.assert_problem(resp, 403, "forbidden")
        realm_only = self.forged(sub=unique("sub-"), resource_access={ROLES_CLIENT: {"roles": []}})
        self.assert_problem(self.api("GET", CONTACTS.path, key=realm_only), 403, "forbidden")
        other_client = self.forged(sub=unique("sub-"),
                                   resource_access={"account": {"roles": ["crm-admin"]}})
        self.assert_problem(self.api("GET", CONTACTS.path, key=other_client), 403, "forbidden")
        self.assert_problem(self.api("GET", CONTACTS.path, key=self.token("svc-unknownrole")),
                            403, "forbidden")

    def test_missing_or_unknown_tenant_is_invalid_token(self):
        self.assert_refused(self.token("svc-notenant"), "token without a tenant claim")
        for tenant in (unique("nosuch"), "", 42, ["acme"], {"name": "acme"}):
            with self.subTest(tenant=tenant):
                self.assert_refused(self.forged(sub=unique("sub-"), tenant=tenant),
                                    f"tenant {tenant!r}")


class WrongAudienceTest(OidcTestCase):
    """A server configured for another audience refuses the provider's zebros-api tokens."""

    @classmethod
    def serve_args(cls):
        return realm_role_args(cls.idp.issuer) + ["--oidc-audience", "other-api"]

    def test_token_for_zebros_api_is_refused(self):
        self.assert_refused(self.token("svc-admin"), "aud zebros-api at an other-api server")

    def test_token_for_the_configured_audience_is_accepted(self):
        self.assert_accepted(self.forged(aud="other-api"))


class KeyRotationTest(OidcTestCase):
    """The provider rotates its RSA key; Zebros follows without a restart."""

    @classmethod
    def serve_args(cls):
        return realm_role_args(cls.idp.issuer)

    def test_rotation_needs_no_restart_and_retires_the_old_key(self):
        old_token = self.token("svc-admin")
        self.assert_accepted(old_token, "token of the first key")
        process = self.server.process
        rotated = self.idp.rotate()
        new_token = self.token("svc-admin")
        self.assertEqual(decode_jwt(new_token)[0]["kid"], rotated["kid"])
        self.assertEqual(decode_jwt(old_token)[0]["kid"], rotated["old_kid"])
        fetches_before = self.idp.stats()["jwks_requests"]
        statuses = set()

        def new_key_accepted():
            resp = self.api("GET", CONTACTS.path, key=new_token)
            statuses.add(resp.status)
            if resp.status != 200:
                self.assert_invalid_token(resp, "token of the new key before the refetch")
            return resp.status == 200

        # The refetch may wait for the 10 s gap since the last fetch: poll with a deadline.
        wait_until(new_key_accepted, ROTATION_TIMEOUT, "a token of the rotated key to work")
        self.assertIs(self.server.process, process, "the server was restarted")
        self.assertTrue(self.server.running)
        self.assert_refused(old_token, "token of the key that left the JWKS")
        fetches = self.idp.stats()["jwks_requests"] - fetches_before
        self.assertLessEqual(fetches, 2, f"{fetches} JWKS fetches while polling ({statuses})")
        self.assertEqual(self.me(new_token)["role"], "admin")
        for key in ("ec", "ed25519"):
            self.assert_accepted(self.forged(key, sub=unique("sub-")), f"{key} after the rotation")


class UnknownKidFloodTest(OidcTestCase):
    """Tokens with random kids cause no JWKS fetch storm."""

    FLOOD = 200
    THREADS = 8

    @classmethod
    def serve_args(cls):
        return realm_role_args(cls.idp.issuer)

    def test_a_flood_of_unknown_kids_fetches_the_jwks_at_most_twice(self):
        good = self.token("svc-admin")
        self.assert_accepted(good, "a token before the flood")
        tokens = [self.forged(header={"kid": unique("kid-")}) for _ in range(self.FLOOD // 2)]
        tokens += [self.forged("attacker-rsa", header={"kid": unique("kid-")})
                   for _ in range(self.FLOOD - len(tokens))]
        before = self.idp.stats()

        def attempt(token):  # one connection per request: pool threads keep none open
            with contextlib.closing(self.server.connection()) as conn:
                conn.request("GET", CONTACTS.path, headers={"Authorization": f"Bearer {token}"})
                raw = conn.getresponse()
                data = raw.read()
            headers = {name.lower(): value for name, value in raw.getheaders()}
            is_json = data and "json" in headers.get("content-type", "")
            return Response(raw.status, headers, json.loads(data) if is_json else data)

        with concurrent.futures.ThreadPoolExecutor(self.THREADS) as pool:
            responses = list(pool.map(attempt, tokens))
        for index, resp in enumerate(responses):
            self.assert_invalid_token(resp, f"flood token {index}")
        after = self.idp.stats()
        jwks_fetches = after["jwks_requests"] - before["jwks_requests"]
        discovery_fetches = after["discovery_requests"] - before["discovery_requests"]
        self.assertLessEqual(jwks_fetches, 2, f"{jwks_fetches} JWKS fetches for the flood")
        self.assertLessEqual(discovery_fetches, 2, f"{discovery_fetches} discovery fetches")
        self.assert_accepted(good, "a token after the flood")


def json_text(value):
    return json.dumps(value, separators=(",", ":"))


def flip_middle_char(text):
    """Changes a base64url character in the middle (the last one may carry only padding bits)."""
    middle = len(text) // 2
    return text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1:]


if __name__ == "__main__":
    unittest.main()
