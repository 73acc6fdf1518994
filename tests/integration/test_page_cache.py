"""The page cache of lists and searches (api/page_cache.h): a page never outlives a change it
could show — a create, an update, a delete, a restore, a batch, an account's rename seen through
its contacts' search text, a custom field — and never crosses who may see what (roles, pii
masking, record scopes). That the cache is on shows with an out-of-band write to the database,
which only `Cache-Control: no-cache` sees at once. (Two nodes: test_pg_nodes.py.)
Also: one `zebros serve` per embedded data dir."""

import time
import unittest

from harness import BACKEND, ServerTestCase, create_api_key, run_zebros, unique, wait_until

CONTACTS = "/api/v1/contacts"
SCOPE_DELAY = 10.0  # credentials and scopes may be cached for up to 5 s


class PageCacheTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.read_only = create_api_key(cls.server.data_dir, "default", "read_only")
        cls.sales = create_api_key(cls.server.data_dir, "default", "sales")

    def setUp(self):
        # Every test keeps to contacts of its own marker (their `department`).
        self.marker = unique("pc")
        self.list_path = f"{CONTACTS}?filter%5Bdepartment%5D={self.marker}&sort=last_name&limit=50"

    def names(self, path=None, key=None, headers=None):
        kwargs = {"key": key} if key else {}
        resp = self.api("GET", path or self.list_path, headers=headers, **kwargs)
        self.assertEqual(resp.status, 200, resp.body)
        return [r["last_name"] for r in resp.body["data"]]

    def search(self, q, key=None):
        kwargs = {"key": key} if key else {}
        resp = self.api("POST", f"{CONTACTS}/search", {"q": q, "limit": 50}, **kwargs)
        self.assertEqual(resp.status, 200, resp.body)
        return sorted(r["last_name"] for r in resp.body["data"])

    def contact(self, last_name, **fields):
        return self.create("contacts", {"last_name": last_name, "department": self.marker, **fields})

    def test_every_kind_of_write_shows_in_the_next_page(self):
        self.assertEqual(self.names(), [])
        a = self.contact("Adams")
        self.assertEqual(self.names(), ["Adams"])
        b = self.contact("Brown")
        self.assertEqual(self.names(), ["Adams", "Brown"])
        resp = self.api("PATCH", f"{CONTACTS}/{a['id']}", {"last_name": "Zimmer"})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(self.names(), ["Brown", "Zimmer"])
        self.assertEqual(self.api("DELETE", f"{CONTACTS}/{b['id']}").status, 204)
        self.assertEqual(self.names(), ["Zimmer"])
        self.assertEqual(self.api("POST", f"{CONTACTS}/{b['id']}/restore").status, 200)
        self.assertEqual(self.names(), ["Brown", "Zimmer"])
        resp = self.api("POST", f"{CONTACTS}/batch", {
            "create": [{"last_name": "Clark", "department": self.marker}],
            "update": [{"id": a["id"], "last_name": "Young"}],
            "delete": [b["id"]]})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(self.names(), ["Clark", "Young"])
        # A failed write changes nothing, and the page still says so.
        resp = self.api("PATCH", f"{CONTACTS}/{a['id']}", {"lifecycle_stage": "nonsense"})
        self.assertEqual(resp.status, 422, resp.body)
        self.assertEqual(self.names(), ["Clark", "Young"])

    def test_a_search_follows_a_renamed_account_into_its_contacts(self):
        old, new = unique("Oldco"), unique("Newco")
        account = self.create("accounts", {"name": old})
        self.contact("Ortega", account_id=account["id"])
        self.assertEqual(self.search(old), ["Ortega"])
        self.assertEqual(self.search(new), [])
        resp = self.api("PATCH", f"/api/v1/accounts/{account['id']}", {"name": new})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(self.search(old), [])
        self.assertEqual(self.search(new), ["Ortega"])

    def test_a_masked_role_never_gets_a_page_rendered_in_clear_and_back(self):
        self.contact("Masked", email=f"{self.marker}@example.com")
        for order in (("admin", "read_only"), ("read_only", "admin")):
            for role in order:
                resp = self.api("GET", self.list_path,
                                **({} if role == "admin" else {"key": self.read_only}))
                self.assertEqual(resp.status, 200, resp.body)
                email = resp.body["data"][0]["email"]
                if role == "admin":
                    self.assertEqual(email, f"{self.marker}@example.com")
                else:
                    self.assertNotIn(self.marker, email)
                    self.assertIn("***", email)

    def test_a_record_scope_is_part_of_what_a_page_is_for(self):
        self.contact("Scoped")  # owned by nobody: an API key's record
        self.assertEqual(self.names(key=self.sales), ["Scoped"])
        resp = self.api("PUT", "/api/v1/access/scopes/sales/contacts", {"scope": "own"})
        self.assertEqual(resp.status, 200, resp.body)
        try:
            # A key belongs to no user, so under `own` it sees none of the records.
            wait_until(lambda: self.names(key=self.sales) == [], SCOPE_DELAY, "own scope applied")
            self.assertEqual(self.names(), ["Scoped"])  # admin: all, from the same query
        finally:
            resp = self.api("PUT", "/api/v1/access/scopes/sales/contacts", {"scope": "all"})
            self.assertEqual(resp.status, 200, resp.body)
        wait_until(lambda: self.names(key=self.sales) == ["Scoped"], SCOPE_DELAY, "scope back")

    def test_a_new_custom_field_shows_in_the_next_page(self):
        self.contact("Fielded")
        resp = self.api("GET", self.list_path)
        field = unique("pcf").lower()
        self.assertNotIn(field, resp.body["data"][0])
        resp = self.api("POST", "/api/v1/schema/contacts/fields", {"name": field, "type": "text"})
        self.assertEqual(resp.status, 201, resp.body)
        wait_until(lambda: field in self.api("GET", self.list_path).body["data"][0], 5.0,
                   "the new field in the page")

    def test_a_page_outlives_the_reload_of_an_unchanged_schema(self):
        # Schemas are reloaded every second (custom fields added on other nodes); a reload that
        # changes nothing must not drop the tenant's pages. Contacts here have a custom field.
        field = unique("keep").lower()
        resp = self.api("POST", "/api/v1/schema/contacts/fields", {"name": field, "type": "text"})
        self.assertEqual(resp.status, 201, resp.body)
        record = self.contact("Kept")
        wait_until(lambda: field in self.api("GET", self.list_path).body["data"][0], 5.0,
                   "the new field in the page")
        self.assertEqual(self.names(), ["Kept"])
        time.sleep(1.5)  # past the schema snapshot's freshness (1 s)
        self.sql_exec("UPDATE obj_contacts SET last_name = ? WHERE id = ?", ("Changed", record["id"]))
        self.assertEqual(self.names(), ["Kept"], "the page survived the schema reload")
        self.assertEqual(self.names(headers={"Cache-Control": "no-cache"}), ["Changed"])

    def test_an_out_of_band_change_shows_at_once_only_with_no_cache(self):
        record = self.contact("Before")
        self.assertEqual(self.names(), ["Before"])
        # Behind the server's back (as no client can): the write generation does not move.
        self.sql_exec("UPDATE obj_contacts SET last_name = ? WHERE id = ?", ("After", record["id"]))
        self.assertEqual(self.names(), ["Before"], "a repeated query is answered from the cache")
        self.assertEqual(self.names(headers={"Cache-Control": "no-store"}), ["After"])
        self.assertEqual(self.names(), ["Before"], "no-store leaves the cached page alone")
        self.assertEqual(self.names(headers={"Cache-Control": "no-cache"}), ["After"])
        self.assertEqual(self.names(), ["After"], "no-cache replaced the cached page")

    def test_errors_are_not_cached_and_do_not_disturb_pages(self):
        self.contact("Valid")
        bad = f"{CONTACTS}?filter%5Bno_such_field%5D=1"
        for _ in range(2):
            resp = self.api("GET", bad)
            self.assertEqual(resp.status, 400, resp.body)
            self.assertEqual(resp.body["code"], "invalid_filter")
        resp = self.api("POST", f"{CONTACTS}/search", b'{"q":"x"}',
                        headers={"Content-Type": "text/plain"})
        self.assertEqual(resp.status, 415, resp.body)
        self.assertEqual(self.names(), ["Valid"])


@unittest.skipUnless(BACKEND == "sqlite", "the data dir lock is the embedded install's")
class OneServerPerDataDirTest(ServerTestCase):

    def test_a_second_server_on_the_same_data_dir_is_refused(self):
        started = time.monotonic()
        completed = run_zebros("serve", "--data-dir", self.server.data_dir,
                               "--listen", "127.0.0.1:0")
        self.assertEqual(completed.returncode, 1, completed.stderr)
        self.assertIn("another `zebros serve` is running", completed.stderr)
        self.assertLess(time.monotonic() - started, 30)
        # The first server is untouched.
        self.assertEqual(self.api("GET", "/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
