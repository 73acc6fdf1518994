"""Who-am-I, API keys, users, teams and record scopes over HTTP: admin only, tenant-scoped, and
effective on the very next request."""

import datetime
import http.client
import json
import unittest
import urllib.parse

from crm import CONTACTS
from harness import ServerTestCase, cli, create_api_key, create_tenant, unique, wait_until


def in_days(days):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class MeTest(ServerTestCase):

    def test_admin_key_sees_its_tenant_role_and_every_permission(self):
        resp = self.api("GET", "/api/v1/me")
        self.assertEqual(resp.status, 200, resp.body)
        me = resp.body
        self.assertTrue(me["subject"].startswith("key:"), me)
        self.assertIsNone(me["user_id"])
        self.assertEqual(me["tenant"]["name"], "default")
        self.assertEqual(me["role"], "admin")
        self.assertFalse(me["pii_masked"])
        self.assertEqual(set(me["permissions"]["contacts"]),
                         {"read", "create", "update", "delete", "restore", "export", "admin"})
        self.assertIn("admin", me["permissions"]["users"])

    def test_each_role_sees_its_own_permissions(self):
        expected = {
            "read_only": ({"read"}, set(), True),
            "support": ({"read", "update"}, set(), False),
            "sales": ({"read", "create", "update", "delete", "restore", "export"}, {"read"}, False),
        }
        for role, (contacts, tickets_beyond_read, masked) in expected.items():
            with self.subTest(role=role):
                key = create_api_key(self.server.data_dir, "default", role)
                me = self.api("GET", "/api/v1/me", key=key).body
                self.assertEqual(me["role"], role)
                self.assertEqual(me["pii_masked"], masked)
                self.assertEqual(set(me["permissions"]["contacts"]), contacts)
                self.assertEqual(me["permissions"]["users"], [])
                self.assertEqual(me["permissions"]["audit_log"], [])
                if role == "sales":
                    self.assertEqual(set(me["permissions"]["tickets"]), tickets_beyond_read)

    def test_me_needs_a_credential(self):
        resp = self.api("GET", "/api/v1/me", key=None)
        self.assert_problem(resp, 401, "unauthenticated")


class ApiKeyTest(ServerTestCase):

    def create_key(self, body, key=None):
        kwargs = {} if key is None else {"key": key}
        return self.api("POST", "/api/v1/api-keys", body, **kwargs)

    def test_create_shows_the_secret_once_and_the_key_works_at_once(self):
        resp = self.create_key({"name": "zapier", "role": "sales", "expires_at": in_days(30)})
        self.assertEqual(resp.status, 201, resp.body)
        created = resp.body
        self.assertRegex(created["id"], r"^key_")
        self.assertTrue(created["key"].startswith("zbk_"))
        self.assertEqual(resp.header("Location"), "/api/v1/api-keys/" + created["id"])
        self.assertEqual((created["name"], created["role"]), ("zapier", "sales"))
        self.assertIsNone(created["revoked_at"])
        me = self.api("GET", "/api/v1/me", key=created["key"]).body
        self.assertEqual((me["role"], me["subject"]), ("sales", "key:" + created["id"]))

        listed = self.api("GET", "/api/v1/api-keys").body["data"]
        mine = [k for k in listed if k["id"] == created["id"]]
        self.assertEqual(len(mine), 1)
        self.assertNotIn("key", mine[0])
        self.assertNotIn(created["key"], str(listed))
        one = self.api("GET", "/api/v1/api-keys/" + created["id"])
        self.assertEqual(one.status, 200)
        self.assertEqual(one.body["expires_at"], created["expires_at"])

    def test_revoke_takes_effect_on_the_next_request(self):
        created = self.create_key({"name": "old", "role": "admin"}).body
        self.assertEqual(self.api("GET", "/api/v1/contacts", key=created["key"]).status, 200)
        resp = self.api("DELETE", "/api/v1/api-keys/" + created["id"])
        self.assertEqual(resp.status, 204, resp.body)
        self.assert_problem(self.api("GET", "/api/v1/contacts", key=created["key"]), 401,
                            "unauthenticated")
        after = self.api("GET", "/api/v1/api-keys/" + created["id"]).body
        self.assertIsNotNone(after["revoked_at"])
        for action in ("api_key.create", "api_key.revoke"):
            entries = self.api("GET", "/api/v1/audit?action=" + action +
                               "&record_id=" + created["id"]).body["data"]
            self.assertEqual(len(entries), 1, (action, entries))
            self.assertTrue(entries[0]["actor"].startswith("key:"))
            self.assertNotIn(created["key"], str(entries[0]))
        self.assert_problem(self.api("DELETE", "/api/v1/api-keys/key_nosuchkey"), 404, "not_found")

    def test_keys_made_with_the_cli_are_audited_as_system(self):
        label = unique("cli-key")
        create_api_key(self.server.data_dir, "default", "support", name=label)
        entries = self.api("GET", "/api/v1/audit?action=api_key.create&actor=system").body["data"]
        self.assertIn(label, [e["details"].get("name") for e in entries])

    def test_last_used_is_recorded(self):
        created = self.create_key({"name": "used", "role": "read_only"}).body
        self.assertIsNone(created["last_used_at"])
        self.api("GET", "/api/v1/contacts", key=created["key"])

        def used():
            return self.api("GET", "/api/v1/api-keys/" + created["id"]).body["last_used_at"]
        wait_until(used, 10, "last_used_at to be set")

    def test_bad_requests_are_refused_and_create_nothing(self):
        before = len(self.api("GET", "/api/v1/api-keys").body["data"])
        cases = [
            ({"role": "admin"}, "name", "required"),
            ({"name": "x", "role": "root"}, "role", "invalid_enum"),
            ({"name": "x"}, "role", "required"),
            ({"name": "x", "role": "admin", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at",
             "in_the_past"),
            ({"name": "x", "role": "admin", "expires_at": "tomorrow"}, "expires_at",
             "invalid_datetime"),
            ({"name": "x", "role": "admin", "tenant_id": "ten_x"}, "tenant_id", "unknown_field"),
            ({"name": "", "role": "admin"}, "name", "invalid_length"),
        ]
        for body, field, code in cases:
            with self.subTest(body=body):
                resp = self.create_key(body)
                self.assert_problem(resp, 422, "validation_failed")
                self.assertIn((field, code),
                              [(e["field"], e["code"]) for e in resp.body["errors"]])
        self.assertEqual(len(self.api("GET", "/api/v1/api-keys").body["data"]), before)

    def test_only_admins_manage_keys(self):
        for role in ("sales", "support", "read_only"):
            with self.subTest(role=role):
                key = create_api_key(self.server.data_dir, "default", role)
                self.assert_problem(self.api("GET", "/api/v1/api-keys", key=key), 403, "forbidden")
                self.assert_problem(self.create_key({"name": "x", "role": "admin"}, key=key), 403,
                                    "forbidden")

    def test_another_tenants_keys_are_invisible(self):
        tenant = unique("globex")
        create_tenant(self.server.data_dir, tenant)
        other_admin = create_api_key(self.server.data_dir, tenant, "admin")
        mine = self.create_key({"name": "mine", "role": "admin"}).body
        listed = self.api("GET", "/api/v1/api-keys", key=other_admin).body["data"]
        self.assertNotIn(mine["id"], [k["id"] for k in listed])
        for method in ("GET", "DELETE"):
            resp = self.api(method, "/api/v1/api-keys/" + mine["id"], key=other_admin)
            self.assert_problem(resp, 404, "not_found")
        self.assertEqual(self.api("GET", "/api/v1/me", key=mine["key"]).status, 200)


class UsersAndTeamsTest(ServerTestCase):

    def invite(self, email=None, role="sales", key=None):
        email = email or unique("user") + "@example.com"
        kwargs = {} if key is None else {"key": key}
        return self.api("POST", "/api/v1/users", {"email": email, "role": role}, **kwargs)

    def test_invite_list_change_role_and_deactivate(self):
        email = unique("ada") + "@Example.com"
        resp = self.invite(email)
        self.assertEqual(resp.status, 201, resp.body)
        user = resp.body
        self.assertRegex(user["id"], r"^usr_")
        self.assertEqual(user["email"], email.lower())
        self.assertEqual((user["role"], user["status"]), ("sales", "invited"))
        self.assertEqual(resp.header("Location"), "/api/v1/users/" + user["id"])
        self.assert_problem(self.invite(email.upper()), 409, "user_exists")

        listed = self.api("GET", "/api/v1/users?limit=500").body
        self.assertIn(user["id"], [u["id"] for u in listed["data"]])

        changed = self.api("PATCH", "/api/v1/users/" + user["id"], {"role": "support"})
        self.assertEqual(changed.status, 200, changed.body)
        self.assertEqual(changed.body["role"], "support")
        gone = self.api("DELETE", "/api/v1/users/" + user["id"])
        self.assertEqual(gone.status, 204, gone.body)
        after = self.api("GET", "/api/v1/users/" + user["id"]).body
        self.assertEqual(after["status"], "deactivated")
        self.assertIsNotNone(after["deactivated_at"])
        entries = self.api("GET", "/api/v1/audit?record_id=" + user["id"]).body["data"]
        self.assertEqual([e["action"] for e in entries],
                         ["user.deactivate", "user.role_change", "user.create"])
        self.assertEqual(entries[1]["details"], {"from": "sales", "to": "support"})

    def test_user_requests_are_validated(self):
        cases = [({"role": "sales"}, "email", "required"),
                 ({"email": "not-an-address", "role": "sales"}, "email", "invalid_email"),
                 ({"email": "a@example.com", "role": "boss"}, "role", "invalid_enum"),
                 ({"email": "a@example.com", "role": "sales", "id": "usr_x"}, "id",
                  "unknown_field")]
        for body, field, code in cases:
            with self.subTest(body=body):
                resp = self.api("POST", "/api/v1/users", body)
                self.assert_problem(resp, 422, "validation_failed")
                self.assertIn((field, code),
                              [(e["field"], e["code"]) for e in resp.body["errors"]])
        user = self.invite().body
        resp = self.api("PATCH", "/api/v1/users/" + user["id"], {"active": "no"})
        self.assert_problem(resp, 422, "validation_failed")
        self.assertEqual(self.api("GET", "/api/v1/users/" + user["id"]).body["status"], "invited")

    def test_users_are_admin_only_and_tenant_scoped(self):
        user = self.invite().body
        sales = create_api_key(self.server.data_dir, "default", "sales")
        self.assert_problem(self.api("GET", "/api/v1/users", key=sales), 403, "forbidden")
        self.assert_problem(self.invite(key=sales), 403, "forbidden")
        tenant = unique("initech")
        create_tenant(self.server.data_dir, tenant)
        other = create_api_key(self.server.data_dir, tenant, "admin")
        self.assertEqual(self.api("GET", "/api/v1/users", key=other).body["data"], [])
        for method, body in (("GET", None), ("PATCH", {"role": "admin"}), ("DELETE", None)):
            resp = self.api(method, "/api/v1/users/" + user["id"], body, key=other)
            self.assert_problem(resp, 404, "not_found")
        self.assertEqual(self.api("GET", "/api/v1/users/" + user["id"]).body["role"], "sales")

    def test_teams_hold_users_of_the_tenant_only(self):
        a, b = self.invite().body, self.invite().body
        name = unique("east")
        resp = self.api("POST", "/api/v1/teams", {"name": name, "member_ids": [a["id"], b["id"]]})
        self.assertEqual(resp.status, 201, resp.body)
        team = resp.body
        self.assertEqual(sorted(team["member_ids"]), sorted([a["id"], b["id"]]))
        self.assert_problem(self.api("POST", "/api/v1/teams", {"name": name}), 409, "team_exists")
        bad = self.api("PATCH", "/api/v1/teams/" + team["id"],
                       {"member_ids": [a["id"], "usr_nobody"]})
        self.assert_problem(bad, 422, "validation_failed")
        self.assertEqual(bad.body["errors"][0]["field"], "member_ids[1]")
        kept = self.api("GET", "/api/v1/teams/" + team["id"]).body
        self.assertEqual(sorted(kept["member_ids"]), sorted([a["id"], b["id"]]))
        self.assertEqual(
            self.api("PATCH", "/api/v1/teams/" + team["id"], {"member_ids": [a["id"]]}).body[
                "member_ids"], [a["id"]])
        tenant = unique("vandelay")
        create_tenant(self.server.data_dir, tenant)
        other = create_api_key(self.server.data_dir, tenant, "admin")
        self.assert_problem(self.api("GET", "/api/v1/teams/" + team["id"], key=other), 404,
                            "not_found")
        resp = self.api("POST", "/api/v1/teams", {"name": "x", "member_ids": [a["id"]]}, key=other)
        self.assert_problem(resp, 422, "validation_failed")
        self.assertEqual(self.api("DELETE", "/api/v1/teams/" + team["id"]).status, 204)
        self.assert_problem(self.api("GET", "/api/v1/teams/" + team["id"]), 404, "not_found")


class ScopeTest(ServerTestCase):

    def set_scope(self, role, obj, scope, key=None):
        kwargs = {} if key is None else {"key": key}
        return self.api("PUT", f"/api/v1/access/scopes/{role}/{obj}", {"scope": scope}, **kwargs)

    def test_own_scope_hides_records_a_key_does_not_own_on_every_path(self):
        reader = create_api_key(self.server.data_dir, "default", "read_only")
        record = self.create("contacts", CONTACTS.minimal(unique("scoped")))
        self.assertEqual(self.api("GET", "/api/v1/contacts/" + record["id"], key=reader).status, 200)
        resp = self.set_scope("read_only", "contacts", "own")
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.body, {"role": "read_only", "object": "contacts", "scope": "own"})
        try:
            self.assert_problem(self.api("GET", "/api/v1/contacts/" + record["id"], key=reader),
                                404, "not_found")
            self.assertEqual(self.api("GET", "/api/v1/contacts", key=reader).body["data"], [])
            found = self.api("POST", "/api/v1/contacts/search",
                             {"q": record["last_name"]}, key=reader)
            self.assertEqual(found.body["data"], [])
            # Other roles and other objects keep their whole view.
            self.assertEqual(self.get_record("contacts", record["id"]), record)
            self.assertEqual(self.api("GET", "/api/v1/accounts", key=reader).status, 200)
            listed = self.api("GET", "/api/v1/access/scopes").body["data"]
            self.assertIn({"role": "read_only", "object": "contacts", "scope": "own"}, listed)
        finally:
            self.assertEqual(self.set_scope("read_only", "contacts", "all").status, 200)
        self.assertEqual(self.api("GET", "/api/v1/contacts/" + record["id"], key=reader).status, 200)

    def test_scope_writes_are_checked_too(self):
        sales = create_api_key(self.server.data_dir, "default", "sales")
        record = self.create("contacts", CONTACTS.minimal(unique("mine")))
        self.assertEqual(self.set_scope("sales", "contacts", "own").status, 200)
        try:
            for method, path, body in (
                    ("PATCH", "/api/v1/contacts/" + record["id"], {"title": "CEO"}),
                    ("DELETE", "/api/v1/contacts/" + record["id"], None)):
                with self.subTest(method=method):
                    self.assert_problem(self.api(method, path, body, key=sales), 404, "not_found")
        finally:
            self.set_scope("sales", "contacts", "all")
        self.assertEqual(self.get_record("contacts", record["id"]), record)

    def test_bad_scope_settings_are_refused(self):
        self.assert_problem(self.set_scope("read_only", "contacts", "some"), 422,
                            "validation_failed")
        self.assert_problem(self.set_scope("boss", "contacts", "own"), 404, "not_found")
        self.assert_problem(self.set_scope("sales", "widgets", "own"), 404, "not_found")
        sales = create_api_key(self.server.data_dir, "default", "sales")
        self.assert_problem(self.set_scope("sales", "contacts", "all", key=sales), 403,
                            "forbidden")
        self.assertEqual(self.api("GET", "/api/v1/access/scopes").body["data"], [])


class UserScopeTest(ServerTestCase):
    """Record scopes for people: `own` and `team` decided by owner_id and team membership."""

    def make_user(self, role="sales"):
        email = unique("rep") + "@example.com"
        password = unique("pw-") + "-long-enough"
        made = cli(self.server.data_dir, "admin", "create-user", "--tenant", "default",
                   "--email", email, "--role", role, "--password-stdin", input=password + "\n")
        self.assertEqual(made.returncode, 0, made.stderr)
        user_id = made.stdout.strip()
        return user_id, self.token(email, password)

    def token(self, username, password):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request("POST", "/realms/default/protocol/openid-connect/token",
                         urllib.parse.urlencode({"grant_type": "password",
                                                 "client_id": "zebros-cli",
                                                 "username": username, "password": password}),
                         {"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            body = json.loads(resp.read())
        finally:
            conn.close()
        self.assertEqual(resp.status, 200, body)
        return body["access_token"]

    def set_scope(self, scope):
        resp = self.api("PUT", "/api/v1/access/scopes/sales/contacts", {"scope": scope})
        self.assertEqual(resp.status, 200, resp.body)

    def visible(self, token, record):
        got = self.api("GET", "/api/v1/contacts/" + record["id"], key=token)
        listed = self.api("POST", "/api/v1/contacts/search",
                          {"filter": {"field": "id", "op": "eq", "value": record["id"]}},
                          key=token).body["data"]
        found = self.api("POST", "/api/v1/contacts/search", {"q": record["last_name"]},
                         key=token).body["data"]
        views = (got.status == 200, [r["id"] for r in listed] == [record["id"]],
                 record["id"] in [r["id"] for r in found])
        self.assertEqual(len(set(views)), 1, f"get, list and search disagree: {views}")
        if not views[0]:
            self.assert_problem(got, 404, "not_found")
        return views[0]

    def test_own_and_team_scopes_follow_owner_and_membership(self):
        ann, ann_token = self.make_user()
        bob, bob_token = self.make_user()
        _, cid_token = self.make_user()
        me = self.api("GET", "/api/v1/me", key=ann_token).body
        self.assertEqual((me["user_id"], me["role"]), (ann, "sales"))
        resp = self.api("POST", "/api/v1/contacts", CONTACTS.minimal(unique("anns")), key=ann_token)
        self.assertEqual(resp.status, 201, resp.body)
        record = resp.body
        self.assertEqual(record["owner_id"], ann, "a user's new record is theirs by default")
        team = self.api("POST", "/api/v1/teams", {"name": unique("west"),
                                                  "member_ids": [ann, bob]})
        self.assertEqual(team.status, 201, team.body)
        try:
            self.set_scope("own")
            self.assertTrue(self.visible(ann_token, record))
            self.assertFalse(self.visible(bob_token, record))
            self.assertFalse(self.visible(cid_token, record))
            resp = self.api("PATCH", "/api/v1/contacts/" + record["id"], {"title": "VP"},
                            key=bob_token)
            self.assert_problem(resp, 404, "not_found")
            self.set_scope("team")
            self.assertTrue(self.visible(ann_token, record))
            self.assertTrue(self.visible(bob_token, record))
            self.assertFalse(self.visible(cid_token, record))
            resp = self.api("PATCH", "/api/v1/contacts/" + record["id"], {"title": "VP"},
                            key=bob_token)
            self.assertEqual(resp.status, 200, resp.body)
        finally:
            self.set_scope("all")
        self.assertTrue(self.visible(cid_token, record))

    def test_deactivated_user_is_refused_at_once(self):
        user, token = self.make_user()
        self.assertEqual(self.api("GET", "/api/v1/contacts", key=token).status, 200)
        self.assertEqual(self.api("DELETE", "/api/v1/users/" + user).status, 204)
        resp = self.api("GET", "/api/v1/contacts", key=token)
        self.assertEqual(resp.status, 401, resp.body)
        self.assertIn('error="invalid_token"', resp.header("WWW-Authenticate"))

    def test_role_change_applies_on_the_next_request(self):
        user, token = self.make_user("read_only")
        self.assert_problem(self.api("POST", "/api/v1/contacts", CONTACTS.minimal(unique()),
                                     key=token), 403, "forbidden")
        self.assertEqual(self.api("PATCH", "/api/v1/users/" + user, {"role": "sales"}).status,
                         200)
        resp = self.api("POST", "/api/v1/contacts", CONTACTS.minimal(unique()), key=token)
        self.assertEqual(resp.status, 201, resp.body)


if __name__ == "__main__":
    unittest.main()
