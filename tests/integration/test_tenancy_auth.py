"""Tenants and keys made with the CLI while the server runs, tenant isolation on every route,
and the role policy (admin, sales, support, read_only)."""

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import unittest

from crm import ACCOUNTS, CONTACTS, LEADS, OBJECTS
from harness import (BACKEND, ServerTestCase, cli, create_api_key, create_tenant, quote_param,
                     sql, unique)


class CliTest(ServerTestCase):

    def test_create_tenant_prints_its_id_and_refuses_a_duplicate_name(self):
        name = unique("initech")
        tenant_id = create_tenant(self.server.data_dir, name)
        self.assertRegex(tenant_id, r"^\S+$")
        again = cli(self.server.data_dir, "admin", "create-tenant", name)
        self.assertNotEqual(again.returncode, 0, again.stdout)

    def test_api_key_made_while_serving_works_at_once(self):
        tenant = unique("hooli")
        create_tenant(self.server.data_dir, tenant)
        keys = [create_api_key(self.server.data_dir, tenant, "admin", name="ci") for _ in range(2)]
        self.assertNotEqual(keys[0], keys[1])
        for key in keys:
            self.assertRegex(key, r"^\S{20,}$")
            resp = self.api("GET", "/api/v1/contacts", key=key)
            self.assertEqual(resp.status, 200, resp.body)
            self.assertEqual(resp.body["data"], [])

    def test_create_api_key_refuses_unknown_role_or_tenant(self):
        tenant = unique("umbrella")
        create_tenant(self.server.data_dir, tenant)
        for tenant_name, role in ((tenant, "superuser"), (unique("nobody"), "admin")):
            with self.subTest(tenant=tenant_name, role=role):
                result = cli(self.server.data_dir, "admin", "create-api-key", "--tenant",
                             tenant_name, "--role", role)
                self.assertNotEqual(result.returncode, 0)
                self.assertEqual(result.stdout.strip(), "")

    def test_migrate_is_idempotent_while_serving(self):
        record = self.create("contacts", CONTACTS.minimal(unique()))
        for _ in range(2):
            result = cli(self.server.data_dir, "migrate")
            self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.get_record("contacts", record["id"]), record)

    def test_migrate_on_an_empty_dir_makes_a_sound_database(self):
        # With PostgreSQL the new data dir comes with a new, empty database (harness.cli).
        data_dir = tempfile.mkdtemp(prefix="zebros-migrate-")
        try:
            result = cli(data_dir, "migrate")
            self.assertEqual(result.returncode, 0, result.stderr)
            db_path = os.path.join(data_dir, "zebros.db")
            if BACKEND == "sqlite":
                self.assertTrue(os.path.isfile(db_path), "migrate made no zebros.db")
                with contextlib.closing(sqlite3.connect(db_path)) as db:
                    self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(),
                                     [("ok",)])
            else:
                self.assertFalse(os.path.exists(db_path), "migrate made a zebros.db")
            # The schema is there on either backend, without records.
            self.assertEqual(sql(data_dir, "SELECT count(*) FROM obj_contacts"), [("0",)])
            for table in ("audit_log", "api_keys", "users"):
                self.assertEqual(len(sql(data_dir, f"SELECT count(*) FROM {table}")), 1, table)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def test_keys_made_by_the_cli_never_reach_the_server_logs(self):
        tenant = unique("logtenant")
        create_tenant(self.server.data_dir, tenant)
        key = create_api_key(self.server.data_dir, tenant, "sales")
        self.assertEqual(self.api("GET", "/api/v1/leads", key=key).status, 200)
        self.assertEqual(self.api("GET", "/api/v1/nope", key=key).status, 404)
        self.assertNotIn(key[-12:], self.server.stderr_text())


class TenantIsolationTest(ServerTestCase):
    """Tenant A (acme) owns records; tenant B (globex) must not be able to tell they exist."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data_dir = cls.server.data_dir
        cls.tenant_a, cls.tenant_b = unique("acme"), unique("globex")
        create_tenant(data_dir, cls.tenant_a)
        create_tenant(data_dir, cls.tenant_b)
        cls.key_a = create_api_key(data_dir, cls.tenant_a, "admin")
        cls.key_b = create_api_key(data_dir, cls.tenant_b, "admin")
        cls.tag = unique("Iso")
        cls.email_a = f"{unique('mail')}@acme.example"  # without the tag: B reuses it

        def create_a(object_name, body):
            resp = cls.server.api("POST", f"/api/v1/{object_name}", body, key=cls.key_a)
            if resp.status != 201:
                raise AssertionError(f"seeding {object_name}: {resp.status} {resp.body!r}")
            return resp.body

        account = create_a("accounts", {"name": f"Acme {cls.tag}"})
        cls.records_a = {
            "accounts": account,
            "contacts": create_a("contacts", {"last_name": f"Lovelace {cls.tag}",
                                              "email": cls.email_a, "account_id": account["id"]}),
            "leads": create_a("leads", {"last_name": f"Hopper {cls.tag}", "company": cls.tag}),
        }

    def assert_a_untouched(self):
        for object_name, record in self.records_a.items():
            resp = self.api("GET", f"/api/v1/{object_name}/{record['id']}", key=self.key_a)
            self.assertEqual(resp.status, 200, resp.body)
            self.assertEqual(resp.body, record)

    def test_other_tenant_gets_404_on_every_record_route(self):
        for obj in OBJECTS:
            path = f"{obj.path}/{self.records_a[obj.name]['id']}"
            for method, route, body in (("GET", path, None),
                                        ("PATCH", path, {obj.update_field: "hijacked"}),
                                        ("DELETE", path, None),
                                        ("POST", f"{path}/restore", None)):
                for caller, key in (("tenant B", self.key_b),
                                    ("tenant default", self.server.admin_key)):
                    with self.subTest(route=f"{method} {route}", caller=caller):
                        self.assert_problem(self.api(method, route, body, key=key), 404,
                                            "not_found")
        self.assert_a_untouched()

    def test_other_tenant_never_sees_records_in_lists_filters_or_search(self):
        for obj in OBJECTS:
            record = self.records_a[obj.name]
            with self.subTest(object=obj.name):
                listed = self.api("GET", f"{obj.path}?limit=500", key=self.key_b)
                self.assertNotIn(record["id"], [r["id"] for r in listed.body["data"]])
                marker = quote_param(record[obj.marker_field])
                filtered = self.api("GET", f"{obj.path}?filter[{obj.marker_field}]={marker}",
                                    key=self.key_b)
                self.assertEqual(filtered.body["data"], [])
                searched = self.api("POST", f"{obj.path}/search", {"q": self.tag.lower()},
                                    key=self.key_b)
                self.assertEqual(searched.status, 200, searched.body)
                self.assertEqual(searched.body["data"], [])
                tree = self.api("POST", f"{obj.path}/search", {"filter": {
                    "field": obj.marker_field, "op": "eq", "value": record[obj.marker_field]}},
                    key=self.key_b)
                self.assertEqual(tree.body["data"], [])
                own = self.api("POST", f"{obj.path}/search", {"q": self.tag.lower()},
                               key=self.key_a)
                self.assertIn(record["id"], [r["id"] for r in own.body["data"]])

    def test_other_tenant_cannot_batch_update_or_delete_foreign_ids(self):
        for obj in OBJECTS:
            record = self.records_a[obj.name]
            for body in ({"update": [{"id": record["id"], obj.update_field: "hijacked"}]},
                         {"delete": [record["id"]]},
                         {"create": [obj.minimal(unique())], "delete": [record["id"]]}):
                with self.subTest(object=obj.name, body=sorted(body)):
                    resp = self.api("POST", f"{obj.path}/batch", body, key=self.key_b)
                    self.assert_client_problem(resp, (404, 422))
        self.assertEqual(self.api("GET", "/api/v1/accounts", key=self.key_b).body["data"], [])
        self.assert_a_untouched()

    def test_other_tenant_cannot_reference_a_foreign_account(self):
        account_id = self.records_a["accounts"]["id"]
        resp = self.api("POST", "/api/v1/contacts", {"last_name": "Spy", "account_id": account_id},
                        key=self.key_b)
        self.assert_field_error(resp, "account_id", "reference_not_found")

    def test_emails_are_unique_per_tenant_only(self):
        resp = self.api("POST", "/api/v1/contacts", {"last_name": "Twin", "email": self.email_a},
                        key=self.key_b)
        self.assertEqual(resp.status, 201, resp.body)
        self.assertNotEqual(resp.body["id"], self.records_a["contacts"]["id"])
        self.assert_a_untouched()

    def test_other_tenant_cannot_restore_a_foreign_deleted_record(self):
        record = self.create("leads", LEADS.minimal(unique()), key=self.key_a)
        path = f"/api/v1/leads/{record['id']}"
        self.assertEqual(self.api("DELETE", path, key=self.key_a).status, 204)
        self.assert_problem(self.api("POST", f"{path}/restore", key=self.key_b), 404, "not_found")
        self.assert_problem(self.api("GET", path, key=self.key_a), 404, "not_found")

    def test_idempotency_keys_are_scoped_per_tenant(self):
        headers = {"Idempotency-Key": unique("shared-")}
        body = CONTACTS.minimal(unique())
        first = self.api("POST", "/api/v1/contacts", body, headers=headers, key=self.key_a)
        self.assertEqual(first.status, 201, first.body)
        second = self.api("POST", "/api/v1/contacts", body, headers=headers, key=self.key_b)
        self.assertEqual(second.status, 201, second.body)
        self.assertNotEqual(second.body["id"], first.body["id"])
        self.assertEqual(self.get_record("contacts", second.body["id"], key=self.key_b),
                         second.body)
        # A different body under the same key is no reuse either in yet another tenant.
        fresh_tenant = unique("fresh")
        create_tenant(self.server.data_dir, fresh_tenant)
        fresh_key = create_api_key(self.server.data_dir, fresh_tenant, "admin")
        third = self.api("POST", "/api/v1/contacts", CONTACTS.minimal(unique()), headers=headers,
                         key=fresh_key)
        self.assertEqual(third.status, 201, third.body)

    def test_custom_fields_are_per_tenant(self):
        # Fresh tenants, so the other tests' records of A and B keep their shape.
        tenant_c, tenant_d = unique("cf-c"), unique("cf-d")
        for tenant in (tenant_c, tenant_d):
            create_tenant(self.server.data_dir, tenant)
        key_c = create_api_key(self.server.data_dir, tenant_c, "admin")
        key_d = create_api_key(self.server.data_dir, tenant_d, "admin")
        resp = self.api("POST", "/api/v1/schema/contacts/fields",
                        {"name": "region", "type": "enum", "enum_values": ["emea", "apac"],
                         "label": "Region"}, key=key_c)
        self.assertEqual(resp.status, 201, resp.body)
        d_fields = self.api("GET", "/api/v1/schema/contacts", key=key_d).body["fields"]
        self.assertNotIn("region", [f["name"] for f in d_fields])
        resp = self.api("POST", "/api/v1/contacts", {"last_name": "D", "region": "emea"},
                        key=key_d)
        self.assert_field_error(resp, "region", "unknown_field")
        self.assert_problem(self.api("GET", "/api/v1/contacts?filter[region]=emea", key=key_d),
                            400, "invalid_filter")
        d_doc = self.api("GET", "/api/v1/openapi.json", key=key_d).body
        c_doc = self.api("GET", "/api/v1/openapi.json", key=key_c).body
        self.assertNotIn('"region"', json.dumps(d_doc))
        self.assertIn('"region"', json.dumps(c_doc))
        # Tenant D may define its own field of the same name, with another type.
        resp = self.api("POST", "/api/v1/schema/contacts/fields",
                        {"name": "region", "type": "text", "label": "Region"}, key=key_d)
        self.assertEqual(resp.status, 201, resp.body)
        self.assertEqual(self.create("contacts", {"last_name": "D", "region": "Mars"},
                                     key=key_d)["region"], "Mars")
        resp = self.api("POST", "/api/v1/contacts", {"last_name": "C", "region": "Mars"},
                        key=key_c)
        self.assert_field_error(resp, "region", "invalid_enum")


class RoleTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data_dir = cls.server.data_dir
        cls.tenant = unique("roles")
        create_tenant(data_dir, cls.tenant)
        cls.keys = {role: create_api_key(data_dir, cls.tenant, role, name=f"{role} key")
                    for role in ("admin", "sales", "support", "read_only")}
        cls.seed = {}
        for obj in OBJECTS:
            resp = cls.server.api("POST", obj.path, obj.minimal(unique()), key=cls.keys["admin"])
            if resp.status != 201:
                raise AssertionError(f"seeding {obj.name}: {resp.status} {resp.body!r}")
            cls.seed[obj.name] = resp.body

    def as_role(self, role, method, path, body=None):
        return self.api(method, path, body, key=self.keys[role])

    def assert_forbidden(self, resp):
        self.assert_problem(resp, 403, "forbidden")

    def fresh(self, obj):
        return self.create(obj.name, obj.minimal(unique()), key=self.keys["admin"])

    def assert_can_read(self, role, obj):
        record = self.seed[obj.name]
        self.assertEqual(self.as_role(role, "GET", f"{obj.path}/{record['id']}").status, 200)
        listed = self.as_role(role, "GET", obj.path)
        self.assertEqual(listed.status, 200, listed.body)
        self.assertIn(record["id"], [r["id"] for r in listed.body["data"]])
        searched = self.as_role(role, "POST", f"{obj.path}/search", {})
        self.assertEqual(searched.status, 200, searched.body)

    def test_read_only_can_read_everything_but_write_nothing(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                self.assert_can_read("read_only", obj)
                target = self.fresh(obj)
                path = f"{obj.path}/{target['id']}"
                body = obj.minimal(unique())
                self.assert_forbidden(self.as_role("read_only", "POST", obj.path, body))
                self.assert_forbidden(self.as_role("read_only", "PATCH", path,
                                                   {obj.update_field: "x"}))
                self.assert_forbidden(self.as_role("read_only", "DELETE", path))
                self.assert_forbidden(self.as_role("read_only", "POST", f"{obj.path}/batch",
                                                   {"create": [obj.minimal(unique())]}))
                self.assertEqual(self.get_record(obj.name, target["id"], key=self.keys["admin"]),
                                 target)
                marker = quote_param(body[obj.marker_field])
                listed = self.as_role("admin", "GET",
                                      f"{obj.path}?filter[{obj.marker_field}]={marker}")
                self.assertEqual(listed.body["data"], [])

    def test_read_only_cannot_restore(self):
        target = self.fresh(CONTACTS)
        path = f"/api/v1/contacts/{target['id']}"
        self.assertEqual(self.as_role("admin", "DELETE", path).status, 204)
        self.assert_forbidden(self.as_role("read_only", "POST", f"{path}/restore"))
        self.assertEqual(self.as_role("admin", "GET", path).status, 404)

    def test_authorisation_is_checked_before_validation(self):
        resp = self.as_role("read_only", "POST", "/api/v1/contacts", {"bogus": "field"})
        self.assert_forbidden(resp)
        resp = self.as_role("support", "POST", "/api/v1/leads", {"score": "high"})
        self.assert_forbidden(resp)

    def test_support_reads_and_updates_accounts_and_contacts(self):
        for obj in (ACCOUNTS, CONTACTS):
            with self.subTest(object=obj.name):
                self.assert_can_read("support", obj)
                target = self.fresh(obj)
                path = f"{obj.path}/{target['id']}"
                resp = self.as_role("support", "PATCH", path, {obj.update_field: "by support"})
                self.assertEqual(resp.status, 200, resp.body)
                self.assertEqual(resp.body[obj.update_field], "by support")

    def test_support_cannot_create_or_delete_accounts_and_contacts(self):
        for obj in (ACCOUNTS, CONTACTS):
            with self.subTest(object=obj.name):
                target = self.fresh(obj)
                self.assert_forbidden(self.as_role("support", "POST", obj.path,
                                                   obj.minimal(unique())))
                self.assert_forbidden(self.as_role("support", "DELETE",
                                                   f"{obj.path}/{target['id']}"))
                self.assertEqual(self.get_record(obj.name, target["id"], key=self.keys["admin"]),
                                 target)

    def test_support_has_no_access_to_leads(self):
        lead = self.seed["leads"]
        path = f"/api/v1/leads/{lead['id']}"
        for method, route, body in (("GET", "/api/v1/leads", None), ("GET", path, None),
                                    ("POST", "/api/v1/leads", LEADS.minimal(unique())),
                                    ("PATCH", path, {"title": "x"}), ("DELETE", path, None),
                                    ("POST", "/api/v1/leads/search", {}),
                                    ("POST", "/api/v1/leads/batch", {"delete": [lead["id"]]})):
            with self.subTest(route=f"{method} {route}"):
                self.assert_forbidden(self.as_role("support", method, route, body))
        self.assertEqual(self.get_record("leads", lead["id"], key=self.keys["admin"]), lead)

    def test_sales_has_full_crud_on_accounts_contacts_and_leads(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                self.assert_can_read("sales", obj)
                record = self.create(obj.name, obj.minimal(unique()), key=self.keys["sales"])
                path = f"{obj.path}/{record['id']}"
                self.assertEqual(self.as_role("sales", "PATCH", path,
                                              {obj.update_field: "by sales"}).status, 200)
                self.assertEqual(self.as_role("sales", "DELETE", path).status, 204)
                self.assertEqual(self.as_role("sales", "POST", f"{path}/restore").status, 200)
                batch = self.as_role("sales", "POST", f"{obj.path}/batch",
                                     {"create": [obj.minimal(unique())]})
                self.assertEqual(batch.status, 200, batch.body)

    def test_only_admin_creates_schema_fields(self):
        for role in ("sales", "support", "read_only"):
            with self.subTest(role=role):
                resp = self.as_role(role, "POST", "/api/v1/schema/contacts/fields",
                                    {"name": f"by_{role}", "type": "text", "label": role})
                self.assert_forbidden(resp)
        fields = self.as_role("admin", "GET", "/api/v1/schema/contacts").body["fields"]
        self.assertFalse({"by_sales", "by_support", "by_read_only"} & {f["name"] for f in fields})
        resp = self.as_role("admin", "POST", "/api/v1/schema/contacts/fields",
                            {"name": "by_admin", "type": "text", "label": "admin"})
        self.assertEqual(resp.status, 201, resp.body)

    def test_every_role_can_read_the_schema(self):
        for role in self.keys:
            with self.subTest(role=role):
                self.assertEqual(self.as_role(role, "GET", "/api/v1/schema").status, 200)
                self.assertEqual(self.as_role(role, "GET", "/api/v1/schema/contacts").status, 200)


if __name__ == "__main__":
    unittest.main()
