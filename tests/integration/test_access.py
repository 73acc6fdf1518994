"""Access control over real HTTP: the whole role × object × action matrix, PII masking on every
read path, the oracle refusals of a role that sees PII masked, and mass-assignment refusals.

Keys are made with the CLI (`zebros admin create-api-key --tenant default --role R`) in the
tenant of the server's bootstrap admin key. Expected outcomes come from POLICY below, which
mirrors the contract (docs/security.md), not from the server's own table.
"""

import contextlib
import sqlite3
import unittest

from crm import ACCOUNTS, CONTACTS, LEADS
from harness import BACKEND, ServerTestCase, create_api_key, quote_param, unique

ROLES = ("admin", "sales", "support", "read_only")
RECORD_ACTIONS = ("read", "create", "update", "delete", "restore")
CRUD = set(RECORD_ACTIONS)

# role -> object -> allowed actions. "admin" on "schema" stands for adding custom fields.
POLICY = {
    "admin": {"accounts": CRUD, "contacts": CRUD, "leads": CRUD, "schema": {"admin"}},
    "sales": {"accounts": CRUD, "contacts": CRUD, "leads": CRUD, "schema": set()},
    "support": {"accounts": {"read", "update"}, "contacts": {"read", "update"}, "leads": set(),
                "schema": set()},
    "read_only": {"accounts": {"read"}, "contacts": {"read"}, "leads": {"read"}, "schema": set()},
}

SERVER_OWNED = ("id", "tenant_id", "created_at", "updated_at", "created_by", "version",
                "deleted_at")


def allowed(role, object_name, action):
    return action in POLICY[role][object_name]


class AccessTestCase(ServerTestCase):
    """One server; a key per role in the default tenant, made with the CLI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = {role: create_api_key(cls.server.data_dir, "default", role,
                                         name=f"access {role}")
                    for role in ROLES}

    def as_role(self, role, method, path, body=None):
        return self.api(method, path, body, key=self.keys[role])

    def admin_get(self, obj, record_id):
        return self.as_role("admin", "GET", f"{obj.path}/{record_id}")

    def fresh(self, obj, body=None):
        return self.create(obj.name, body or obj.minimal(unique()), key=self.keys["admin"])

    def marker_count(self, obj, value):
        """How many live records hold `value` in the object's marker field (admin's view)."""
        resp = self.as_role("admin", "GET",
                            f"{obj.path}?filter[{obj.marker_field}]={quote_param(value)}")
        self.assertEqual(resp.status, 200, resp.body)
        return len(resp.body["data"])

    def assert_forbidden(self, resp, naming=None):
        body = self.assert_problem(resp, 403, "forbidden")
        if naming is not None:
            self.assertIn(f"'{naming}'", body.get("detail", ""), body)
        return body


class RoleMatrixTest(AccessTestCase):
    """Every role × object × action: the allowed ones succeed, the others are 403 `forbidden`
    and change nothing."""

    def check(self, role, obj, action, resp, ok_status):
        if allowed(role, obj.name, action):
            self.assertEqual(resp.status, ok_status, f"{role} {action} {obj.name}: {resp.body!r}")
        else:
            self.assert_forbidden(resp)

    def check_read(self, role, obj):
        record = self.fresh(obj)
        path = f"{obj.path}/{record['id']}"
        marker = quote_param(record[obj.marker_field])
        responses = [
            self.as_role(role, "GET", path),
            self.as_role(role, "GET", f"{obj.path}?filter[{obj.marker_field}]={marker}"),
            self.as_role(role, "POST", f"{obj.path}/search",
                         {"filter": {"field": obj.marker_field, "op": "eq",
                                     "value": record[obj.marker_field]}}),
            self.as_role(role, "GET", f"{obj.path}?q={quote_param(record[obj.marker_field])}"),
        ]
        for resp in responses:
            self.check(role, obj, "read", resp, 200)
        if allowed(role, obj.name, "read"):
            self.assertEqual(responses[0].body["id"], record["id"])
            for resp in responses[1:]:
                self.assertEqual([r["id"] for r in resp.body["data"]], [record["id"]])

    def check_create(self, role, obj):
        body = obj.minimal(unique())
        resp = self.as_role(role, "POST", obj.path, body)
        self.check(role, obj, "create", resp, 201)
        self.assertEqual(self.marker_count(obj, body[obj.marker_field]),
                         1 if allowed(role, obj.name, "create") else 0)

    def check_update(self, role, obj):
        record = self.fresh(obj)
        resp = self.as_role(role, "PATCH", f"{obj.path}/{record['id']}",
                            {obj.update_field: f"Changed {unique()}"})
        self.check(role, obj, "update", resp, 200)
        after = self.admin_get(obj, record["id"]).body
        if allowed(role, obj.name, "update"):
            self.assertEqual(after[obj.update_field], resp.body[obj.update_field])
        else:
            self.assertEqual(after, record)

    def check_delete(self, role, obj):
        record = self.fresh(obj)
        resp = self.as_role(role, "DELETE", f"{obj.path}/{record['id']}")
        self.check(role, obj, "delete", resp, 204)
        after = self.admin_get(obj, record["id"])
        if allowed(role, obj.name, "delete"):
            self.assert_problem(after, 404, "not_found")
        else:
            self.assertEqual(after.body, record)

    def check_restore(self, role, obj):
        record = self.fresh(obj)
        path = f"{obj.path}/{record['id']}"
        self.assertEqual(self.as_role("admin", "DELETE", path).status, 204)
        resp = self.as_role(role, "POST", f"{path}/restore")
        self.check(role, obj, "restore", resp, 200)
        after = self.admin_get(obj, record["id"])
        if allowed(role, obj.name, "restore"):
            self.assertEqual(after.status, 200, after.body)
        else:
            self.assert_problem(after, 404, "not_found")

    def check_batch(self, role, obj):
        # Each section needs the action it performs.
        body = obj.minimal(unique())
        resp = self.as_role(role, "POST", f"{obj.path}/batch", {"create": [body]})
        self.check(role, obj, "create", resp, 200)
        self.assertEqual(self.marker_count(obj, body[obj.marker_field]),
                         1 if allowed(role, obj.name, "create") else 0)

        record = self.fresh(obj)
        resp = self.as_role(role, "POST", f"{obj.path}/batch",
                            {"update": [{"id": record["id"], obj.update_field: "Batched"}]})
        self.check(role, obj, "update", resp, 200)
        after = self.admin_get(obj, record["id"]).body
        if allowed(role, obj.name, "update"):
            self.assertEqual(after[obj.update_field], "Batched")
        else:
            self.assertEqual(after, record)

        record = self.fresh(obj)
        resp = self.as_role(role, "POST", f"{obj.path}/batch", {"delete": [record["id"]]})
        self.check(role, obj, "delete", resp, 200)
        after = self.admin_get(obj, record["id"])
        if allowed(role, obj.name, "delete"):
            self.assert_problem(after, 404, "not_found")
        else:
            self.assertEqual(after.body, record)

    def test_every_role_object_and_action(self):
        checks = {"read": self.check_read, "create": self.check_create,
                  "update": self.check_update, "delete": self.check_delete,
                  "restore": self.check_restore, "batch": self.check_batch}
        for role in ROLES:
            for obj in (ACCOUNTS, CONTACTS, LEADS):
                for action, check in checks.items():
                    with self.subTest(role=role, object=obj.name, action=action):
                        check(role, obj)

    def test_only_admin_adds_custom_fields(self):
        for role in ROLES:
            with self.subTest(role=role):
                name = unique("f_")
                resp = self.as_role(role, "POST", "/api/v1/schema/contacts/fields",
                                    {"name": name, "type": "text", "label": "Field"})
                if allowed(role, "schema", "admin"):
                    self.assertEqual(resp.status, 201, resp.body)
                else:
                    self.assert_forbidden(resp)
                fields = self.as_role("admin", "GET", "/api/v1/schema/contacts").body["fields"]
                self.assertEqual(name in {f["name"] for f in fields},
                                 allowed(role, "schema", "admin"))


class MaskingTest(AccessTestCase):
    """read_only sees pii masked on every read path; the other roles see it in clear."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = cls.keys["admin"]
        for definition in ({"name": "passport_no", "type": "text", "label": "Passport",
                            "pii": True, "searchable": True, "indexed": True},
                           {"name": "loyalty_tier", "type": "text", "label": "Tier",
                            "indexed": True}):
            resp = cls.server.api("POST", "/api/v1/schema/contacts/fields", definition, key=admin)
            if resp.status != 201:
                raise AssertionError(f"custom field: {resp.status} {resp.body!r}")
        cls.tag = unique("Mask")
        cls.secret = unique("mailonly")  # appears in the e-mail address and nowhere else
        cls.passport = unique("pp")
        body = CONTACTS.full(cls.tag)
        body.update({"email": f"{cls.secret}@example.com", "passport_no": cls.passport,
                     "loyalty_tier": "gold"})
        resp = cls.server.api("POST", CONTACTS.path, body, key=admin)
        if resp.status != 201:
            raise AssertionError(f"seeding contact: {resp.status} {resp.body!r}")
        cls.contact = resp.body
        resp = cls.server.api("POST", LEADS.path, LEADS.full(cls.tag), key=admin)
        if resp.status != 201:
            raise AssertionError(f"seeding lead: {resp.status} {resp.body!r}")
        cls.lead = resp.body

    def assert_contact_masked(self, record):
        clear = self.contact
        self.assertEqual(record["id"], clear["id"])
        self.assertEqual(record["email"], f"{self.secret[0]}***@example.com")
        self.assertEqual(record["phone"], "***-***-0958")   # +44 20 7946 0958
        self.assertEqual(record["mobile"], "***-***-0959")  # (020) 7946-0959
        self.assertEqual(record["mailing_street"], "***")
        self.assertEqual(record["date_of_birth"], "****-**-**")
        self.assertEqual(record["passport_no"], "***")
        # Everything that is not pii is exactly as an admin sees it.
        for name in ("email", "phone", "mobile", "mailing_street", "date_of_birth",
                     "passport_no"):
            self.assertNotEqual(clear[name], record[name], name)
        unmasked = {k: v for k, v in record.items()
                    if k not in ("email", "phone", "mobile", "mailing_street", "date_of_birth",
                                 "passport_no")}
        self.assertEqual(unmasked, {k: v for k, v in clear.items() if k in unmasked})
        self.assertEqual(record["loyalty_tier"], "gold")
        self.assertEqual(record["mailing_city"], "London")

    def assert_no_clear_pii(self, resp):
        raw = repr(resp.body) + repr(resp.headers)
        for value in (self.contact["email"], self.secret, self.passport, "7946 0958", "1815-12-10",
                      "St James"):
            self.assertNotIn(value, raw)

    def test_read_only_sees_pii_masked_on_every_read_path(self):
        path = f"{CONTACTS.path}/{self.contact['id']}"
        tag = quote_param(self.tag)
        got = self.as_role("read_only", "GET", path)
        self.assertEqual(got.status, 200, got.body)
        self.assert_contact_masked(got.body)
        self.assert_no_clear_pii(got)
        # The ETag names the version only, the same whoever asks.
        self.assertEqual(got.header("etag"), f"\"{self.contact['id']}-v{self.contact['version']}\"")
        self.assertEqual(got.header("etag"), self.as_role("admin", "GET", path).header("etag"))
        paths = {
            "list": ("GET", f"{CONTACTS.path}?filter[last_name]=" +
                     quote_param(self.contact["last_name"]), None),
            "list q": ("GET", f"{CONTACTS.path}?q={tag}", None),
            "list custom filter": ("GET", f"{CONTACTS.path}?filter[loyalty_tier]=gold&q={tag}",
                                   None),
            "search tree": ("POST", f"{CONTACTS.path}/search",
                            {"filter": {"and": [{"field": "last_name", "op": "eq",
                                                 "value": self.contact["last_name"]}]}}),
            "search q": ("POST", f"{CONTACTS.path}/search", {"q": self.tag}),
            "search q of two terms": ("POST", f"{CONTACTS.path}/search",
                                      {"q": f"lovelace {self.tag}"}),
            "search q sorted": ("POST", f"{CONTACTS.path}/search",
                                {"q": self.tag, "sort": [{"field": "last_name"}]}),
        }
        for name, (method, route, body) in paths.items():
            with self.subTest(path=name):
                resp = self.as_role("read_only", method, route, body)
                self.assertEqual(resp.status, 200, resp.body)
                self.assertEqual([r["id"] for r in resp.body["data"]], [self.contact["id"]])
                self.assert_contact_masked(resp.body["data"][0])
                self.assert_no_clear_pii(resp)

    def test_lead_pii_is_masked_too(self):
        got = self.as_role("read_only", "GET", f"{LEADS.path}/{self.lead['id']}").body
        self.assertEqual(got["email"], "g***@example.com")
        self.assertEqual(got["phone"], "***-***-9999")  # +1 (555) 010-9999
        self.assertEqual(got["company"], self.lead["company"])

    def test_other_roles_see_the_same_record_in_clear(self):
        for role in ("admin", "sales", "support"):
            with self.subTest(role=role):
                got = self.as_role(role, "GET", f"{CONTACTS.path}/{self.contact['id']}")
                self.assertEqual(got.body, self.contact)
                searched = self.as_role(role, "POST", f"{CONTACTS.path}/search", {"q": self.tag})
                self.assertEqual(searched.body["data"], [self.contact])

    def test_read_only_may_not_filter_or_sort_on_pii(self):
        email = quote_param(self.contact["email"])
        refused = {  # name: (route, the field the refusal names)
            "filter eq": (f"{CONTACTS.path}?filter[email]={email}", "email"),
            "filter contains": (f"{CONTACTS.path}?filter[email][contains]={self.secret[:4]}",
                                "email"),
            "filter in": (f"{CONTACTS.path}?filter[email][in]={email},x%40example.com", "email"),
            "filter starts_with": (f"{CONTACTS.path}?filter[phone][starts_with]=%2B44", "phone"),
            "filter custom pii": (f"{CONTACTS.path}?filter[passport_no]={self.passport}",
                                  "passport_no"),
            "filter lt": (f"{CONTACTS.path}?filter[date_of_birth][lt]=1900-01-01",
                          "date_of_birth"),
            "filter beside q": (f"{CONTACTS.path}?q={quote_param(self.tag)}&filter[email]={email}",
                                "email"),
            "sort": (f"{CONTACTS.path}?sort=email", "email"),
            "sort descending": (f"{CONTACTS.path}?sort=last_name,-phone", "phone"),
        }
        for name, (route, field) in refused.items():
            with self.subTest(query=name):
                self.assert_forbidden(self.as_role("read_only", "GET", route), naming=field)
        trees = {
            "nested tree": {"filter": {"and": [
                {"field": "last_name", "op": "eq", "value": self.contact["last_name"]},
                {"or": [{"field": "title", "op": "eq", "value": "Analyst"},
                        {"and": [{"field": "email", "op": "contains", "value": "a"}]}]}]}},
            "sort key": {"sort": [{"field": "email", "dir": "asc"}]},
            "sort with q": {"q": self.tag, "sort": [{"field": "mobile", "dir": "desc"}]},
        }
        for name, body in trees.items():
            with self.subTest(search=name):
                field = "mobile" if name == "sort with q" else "email"
                self.assert_forbidden(self.as_role("read_only", "POST",
                                                   f"{CONTACTS.path}/search", body),
                                      naming=field)
        # Roles that see pii in clear may use those fields.
        for role in ("admin", "sales", "support"):
            with self.subTest(role=role):
                resp = self.as_role(role, "GET", f"{CONTACTS.path}?filter[email]={email}")
                self.assertEqual([r["id"] for r in resp.body["data"]], [self.contact["id"]])
                resp = self.as_role(role, "POST", f"{CONTACTS.path}/search",
                                    {"filter": {"field": "email", "op": "eq",
                                                "value": self.contact["email"]},
                                     "sort": [{"field": "email"}]})
                self.assertEqual(resp.status, 200, resp.body)

    def test_text_search_by_a_pii_value_finds_nothing_for_read_only(self):
        # The last three: one term in a field anyone sees, one in pii only; whole, and a prefix
        # of 3 and 5 characters.
        for text in (self.secret, self.contact["email"], self.passport, f"ada {self.secret}",
                     f"{self.tag} {self.secret[:3]}", f"{self.tag} {self.secret[:5]}"):
            with self.subTest(q=text):
                for method, route, body in (
                        ("GET", f"{CONTACTS.path}?q={quote_param(text)}", None),
                        ("POST", f"{CONTACTS.path}/search", {"q": text}),
                        ("POST", f"{CONTACTS.path}/search",
                         {"q": text, "sort": [{"field": "last_name"}]})):
                    masked = self.as_role("read_only", method, route, body)
                    self.assertEqual(masked.status, 200, masked.body)
                    self.assertEqual(masked.body["data"], [])
                    clear = self.as_role("admin", method, route, body)
                    self.assertEqual([r["id"] for r in clear.body["data"]], [self.contact["id"]])

    def test_read_only_pages_through_masked_records_with_cursors(self):
        tag = unique("Page")
        made = {self.create("contacts", {"last_name": f"{tag} {i}", "email": f"p{i}.{tag}@ex.com",
                                         "phone": f"+1 415 555 010{i}"},
                            key=self.keys["admin"])["id"] for i in range(3)}
        for body in ({"q": tag, "limit": 1},
                     {"q": tag, "limit": 1, "sort": [{"field": "last_name", "dir": "desc"}]}):
            with self.subTest(search=body):
                seen = []
                for _ in range(10):
                    resp = self.as_role("read_only", "POST", f"{CONTACTS.path}/search", body)
                    self.assertEqual(resp.status, 200, resp.body)
                    seen += resp.body["data"]
                    if resp.body["next_cursor"] is None:
                        break
                    body = dict(body, cursor=resp.body["next_cursor"])
                self.assertEqual({r["id"] for r in seen}, made)
                self.assertEqual(len(seen), 3)
                for record in seen:
                    self.assertRegex(record["email"], r"^p\*\*\*@ex\.com$")
                    self.assertRegex(record["phone"], r"^\*\*\*-\*\*\*-010\d$")


class MassAssignmentTest(AccessTestCase):
    """Server-owned fields in a write body are 422 `read_only_field`, and nothing is written."""

    def test_create_refuses_server_owned_fields(self):
        for obj in (ACCOUNTS, CONTACTS, LEADS):
            for name in SERVER_OWNED:
                with self.subTest(object=obj.name, field=name):
                    body = obj.minimal(unique())
                    body[name] = "x" if name != "version" else 7
                    resp = self.as_role("admin", "POST", obj.path, body)
                    self.assert_field_error(resp, name, "read_only_field")
                    self.assertEqual(self.marker_count(obj, body[obj.marker_field]), 0)

    def test_update_refuses_server_owned_fields(self):
        for obj in (ACCOUNTS, CONTACTS, LEADS):
            record = self.fresh(obj)
            for name in SERVER_OWNED:
                with self.subTest(object=obj.name, field=name):
                    resp = self.as_role("admin", "PATCH", f"{obj.path}/{record['id']}",
                                        {name: "other", obj.update_field: "Changed"})
                    self.assert_field_error(resp, name, "read_only_field")
                    self.assertEqual(self.admin_get(obj, record["id"]).body, record)

    def test_batch_refuses_server_owned_fields_in_every_section(self):
        for obj in (ACCOUNTS, CONTACTS, LEADS):
            record = self.fresh(obj)
            for name in SERVER_OWNED:
                with self.subTest(object=obj.name, field=name):
                    created = obj.minimal(unique())
                    sections = {
                        "create": {"create": [dict(created, **{name: "x"})]},
                        "upsert": {"upsert": {"key": obj.marker_field,
                                              "records": [dict(created, **{name: "x"})]}},
                    }
                    if name != "id":  # an update's id names its target
                        sections["update"] = {"update": [{"id": record["id"],
                                                          obj.update_field: "Changed",
                                                          name: "x"}]}
                    for section, body in sections.items():
                        resp = self.as_role("admin", "POST", f"{obj.path}/batch", body)
                        self.assert_field_error(resp, f"{section}[0].{name}", "read_only_field")
                    self.assertEqual(self.marker_count(obj, created[obj.marker_field]), 0)
                    self.assertEqual(self.admin_get(obj, record["id"]).body, record)

    def test_custom_fields_may_not_take_server_owned_names(self):
        for name in SERVER_OWNED:
            with self.subTest(field=name):
                resp = self.as_role("admin", "POST", "/api/v1/schema/contacts/fields",
                                    {"name": name, "type": "text", "label": name})
                self.assert_client_problem(resp, (409, 422))


class OlderSearchIndexTest(AccessTestCase):
    """A data dir whose search index predates the pii column (pii mixed into `body`) is
    re-indexed at start-up, so read_only's text search cannot match pii there either.

    The older layout is an SQLite FTS5 table; with PostgreSQL, which never had it, the test
    checks that text search keeps pii from read_only across a restart."""

    def test_restart_rebuilds_an_index_of_the_older_layout(self):
        secret = unique("oldmail")
        tag = unique("Old")
        contact = self.fresh(CONTACTS, {"last_name": f"Lovelace {tag}",
                                        "email": f"{secret}@example.com"})
        self.server.stop()
        if BACKEND == "sqlite":
            self.install_older_sqlite_index(contact["id"],
                                            f"Lovelace {tag} {secret}@example.com")
        self.server.start()
        for role, found in (("read_only", []), ("admin", [contact["id"]])):
            with self.subTest(role=role):
                resp = self.as_role(role, "POST", f"{CONTACTS.path}/search", {"q": secret})
                self.assertEqual(resp.status, 200, resp.body)
                self.assertEqual([r["id"] for r in resp.body["data"]], found)
                resp = self.as_role(role, "POST", f"{CONTACTS.path}/search", {"q": tag})
                self.assertEqual([r["id"] for r in resp.body["data"]], [contact["id"]])
        if BACKEND == "sqlite":
            with contextlib.closing(sqlite3.connect(self.server.db_path)) as db:
                columns = [row[1] for row in db.execute("PRAGMA table_info(fts_contacts)")]
            self.assertEqual(columns, ["body", "related", "pii"])

    def install_older_sqlite_index(self, record_id, body):
        """Replaces the contacts' FTS5 table by one of the older layout holding only `body`
        for the record (the server is stopped)."""
        with contextlib.closing(sqlite3.connect(self.server.db_path)) as db:
            rowid, = db.execute("SELECT rowid FROM obj_contacts WHERE id = ?",
                                (record_id,)).fetchone()
            db.executescript(
                "DROP TABLE fts_contacts;"
                "CREATE VIRTUAL TABLE fts_contacts USING fts5(body, related,"
                " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');")
            db.execute("INSERT INTO fts_contacts (rowid, body, related) VALUES (?, ?, '')",
                       (rowid, body))
            db.commit()


if __name__ == "__main__":
    unittest.main()
