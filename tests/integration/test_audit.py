"""The tamper-evident audit log over real HTTP: entries for record changes (field-level diffs,
personal values hashed), batches, idempotent replays, permission denials and schema changes;
`GET /api/v1/audit` (admins, filters, keyset cursor) and `GET /api/v1/{object}/{id}/history`;
tenant isolation; and `zebros admin verify-audit` on an intact, a tampered and a truncated log."""

import json
import os
import unittest
import uuid

from harness import (BACKEND, ServerTestCase, ZebrosServer, cli, create_api_key, create_tenant,
                     quote_param, set_database_url, unique)

HMAC_PREFIX = "hmac-sha256:"
ZERO_HASH = "0" * 64


class AuditApiTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        data_dir = cls.server.data_dir
        cls.read_only_key = create_api_key(data_dir, "default", "read_only")
        cls.other_tenant = unique("other")
        create_tenant(data_dir, cls.other_tenant)
        cls.other_admin_key = create_api_key(data_dir, cls.other_tenant, "admin")

    # ---- helpers ---------------------------------------------------------------------------

    def audit(self, query="", key=None, status=200):
        resp = self.api("GET", "/api/v1/audit" + (f"?{query}" if query else ""),
                        key=key or self.server.admin_key)
        self.assertEqual(resp.status, status, resp.body)
        return resp.body

    def audit_all(self, query, key=None):
        """Every entry matching `query`, following next_cursor."""
        entries, cursor = [], None
        for _ in range(1000):
            params = [query, "limit=100"] + ([f"cursor={quote_param(cursor)}"] if cursor else [])
            body = self.audit("&".join(p for p in params if p), key)
            entries += body["data"]
            cursor = body["next_cursor"]
            if cursor is None:
                return entries
        self.fail("audit list never ended")

    def history(self, object_name, record_id, query="", key=None):
        return self.api("GET", f"/api/v1/{object_name}/{record_id}/history"
                        + (f"?{query}" if query else ""), key=key or self.server.admin_key)

    def sales_key(self):
        return create_api_key(self.server.data_dir, "default", "sales", name=unique("sales"))

    def actor_of(self, key):
        """The audit actor of a fresh key: the subject its first write is recorded under."""
        record = self.create("leads", {"last_name": unique("Actor")}, key=key)
        [entry] = self.audit(f"record_id={record['id']}")["data"]
        return entry["actor"]

    # ---- record changes --------------------------------------------------------------------

    def test_create_update_delete_restore_have_field_level_diffs_with_hashed_pii(self):
        tag = unique("Life")
        email = f"ada.{tag.lower()}@example.com"
        request_id = unique("req-create-")
        created = self.create_response("contacts", {
            "first_name": "Ada", "last_name": f"Lovelace {tag}", "email": email,
            "title": "Analyst", "tags": ["vip"]}, headers={"X-Request-Id": request_id}).body
        record_id = created["id"]
        new_email = f"countess.{tag.lower()}@example.com"
        resp = self.api("PATCH", f"/api/v1/contacts/{record_id}",
                        {"title": "Countess", "email": new_email, "first_name": "Ada"})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(self.api("DELETE", f"/api/v1/contacts/{record_id}").status, 204)
        resp = self.api("POST", f"/api/v1/contacts/{record_id}/restore")
        self.assertEqual(resp.status, 200, resp.body)

        entries = self.audit(f"record_id={record_id}")["data"]
        self.assertEqual([e["action"] for e in entries],
                         ["record.restore", "record.delete", "record.update", "record.create"])
        self.assertEqual([e["details"]["version"] for e in entries], [4, 3, 2, 1])
        seqs = [e["seq"] for e in entries]
        self.assertEqual(seqs, sorted(seqs, reverse=True))
        for entry in entries:
            self.assertEqual(entry["object"], "contacts")
            self.assertEqual(entry["record_id"], record_id)
            self.assertTrue(entry["actor"].startswith("key:"), entry)
            self.assertEqual(entry["ip"], "127.0.0.1")
            self.assertRegex(entry["hash"], "^[0-9a-f]{64}$")
            self.assertRegex(entry["prev_hash"], "^[0-9a-f]{64}$")
            self.assertRegex(entry["at"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
        restore, delete, update, create = entries
        self.assertEqual(create["request_id"], request_id)

        fields = create["details"]["fields"]
        self.assertEqual(fields["first_name"], "Ada")
        self.assertEqual(fields["last_name"], f"Lovelace {tag}")
        self.assertEqual(fields["title"], "Analyst")
        self.assertEqual(fields["tags"], ["vip"])
        self.assertTrue(fields["email"].startswith(HMAC_PREFIX), fields)
        self.assertNotIn("phone", fields)  # unset fields are left out

        changes = update["details"]["fields"]
        self.assertEqual(set(changes), {"title", "email"})  # first_name was sent but unchanged
        self.assertEqual(changes["title"], {"from": "Analyst", "to": "Countess"})
        self.assertEqual(changes["email"]["from"], fields["email"])
        self.assertTrue(changes["email"]["to"].startswith(HMAC_PREFIX))
        self.assertNotEqual(changes["email"]["to"], changes["email"]["from"])
        self.assertEqual(delete["details"], {"version": 3})
        self.assertEqual(restore["details"], {"version": 4})

        text = json.dumps(entries)
        self.assertNotIn(email, text)
        self.assertNotIn(new_email, text)
        rows = self.sql("SELECT details FROM audit_log WHERE record_id = ?", (record_id,))
        self.assertEqual(len(rows), 4)
        everything = " ".join(" ".join(str(value) for value in row)
                              for row in self.sql("SELECT * FROM audit_log"))
        self.assertNotIn(email, everything)
        self.assertNotIn(new_email, everything)

    def test_same_personal_value_gets_the_same_digest(self):
        email = f"{unique('same')}@example.com"
        first = self.create("contacts", {"last_name": unique("A"), "email": email})
        self.api("DELETE", f"/api/v1/contacts/{first['id']}")
        second = self.create("contacts", {"last_name": unique("B"), "email": email})
        digests = [self.audit(f"record_id={r['id']}&action=record.create")["data"][0]
                   ["details"]["fields"]["email"] for r in (first, second)]
        self.assertEqual(digests[0], digests[1])

    def test_batch_writes_one_entry_per_change(self):
        tag = unique("Batch")
        to_update = self.create("contacts", {"last_name": f"{tag} u"})
        to_delete = self.create("contacts", {"last_name": f"{tag} d"})
        upsert_email = f"{tag.lower()}.up@example.com"
        to_upsert = self.create("contacts", {"last_name": f"{tag} e", "email": upsert_email})
        resp = self.api("POST", "/api/v1/contacts/batch", {
            "create": [{"last_name": f"{tag} c{i}"} for i in range(3)],
            "update": [{"id": to_update["id"], "title": "Updated"}],
            "upsert": {"key": "email", "records": [
                {"last_name": f"{tag} e", "email": upsert_email, "title": "Upserted"},
                {"last_name": f"{tag} n", "email": f"{tag.lower()}.new@example.com"}]},
            "delete": [to_delete["id"]],
        })
        self.assertEqual(resp.status, 200, resp.body)
        upserted_new = [r for r in resp.body["upserted"] if r["id"] != to_upsert["id"]][0]
        expected = {r["id"]: "record.create" for r in resp.body["created"]}
        expected[to_update["id"]] = "record.update"
        expected[to_upsert["id"]] = "record.update"
        expected[upserted_new["id"]] = "record.create"
        expected[to_delete["id"]] = "record.delete"
        for record_id, action in expected.items():
            entries = self.audit(f"record_id={record_id}")["data"]
            self.assertEqual(entries[0]["action"], action, record_id)
        # The batch's changes share its request id: exactly one entry each.
        request_id = self.audit(f"record_id={to_delete['id']}")["data"][0]["request_id"]
        batch_entries = [e for e in self.audit_all("object=contacts")
                         if e["request_id"] == request_id]
        self.assertEqual(len(batch_entries), 7)
        self.assertEqual(sorted(e["record_id"] for e in batch_entries), sorted(expected))
        upsert_update = [e for e in batch_entries if e["record_id"] == to_upsert["id"]][0]
        self.assertEqual(upsert_update["details"]["fields"], {"title": {"from": None,
                                                                        "to": "Upserted"}})

    def test_failed_batch_leaves_no_entries(self):
        tag = unique("Fail")
        resp = self.api("POST", "/api/v1/contacts/batch", {"create": [
            {"last_name": f"{tag} ok"}, {"last_name": f"{tag} bad", "email": "not-an-email"}]},
            headers={"X-Request-Id": tag})
        self.assertEqual(resp.status, 422, resp.body)
        resp = self.api("POST", "/api/v1/contacts/batch", {"create": [
            {"last_name": f"{tag} ok"}, {"last_name": f"{tag} bad",
                                         "account_id": "acc_" + "0" * 26}]},
            headers={"X-Request-Id": tag})
        self.assertIn(resp.status, (404, 422), resp.body)
        self.assertEqual([e for e in self.audit_all("object=contacts") if e["request_id"] == tag],
                         [])

    def test_idempotent_replay_adds_no_entry(self):
        headers = {"Idempotency-Key": unique("idem")}
        body = {"last_name": unique("Idem")}
        first = self.api("POST", "/api/v1/contacts", body, headers=headers)
        self.assertEqual(first.status, 201, first.body)
        replay = self.api("POST", "/api/v1/contacts", body, headers=headers)
        self.assertEqual(replay.status, 201, replay.body)
        self.assertEqual(replay.header("idempotent-replayed"), "true")
        entries = self.audit(f"record_id={first.body['id']}")["data"]
        self.assertEqual([e["action"] for e in entries], ["record.create"])

    # ---- other events ----------------------------------------------------------------------

    def test_permission_denial_is_recorded_before_the_answer(self):
        request_id = unique("denied-")
        resp = self.api("POST", "/api/v1/contacts", {"last_name": "Nope"},
                        key=self.read_only_key, headers={"X-Request-Id": request_id})
        self.assert_problem(resp, 403, "forbidden")
        denials = [e for e in self.audit_all("action=permission.denied")
                   if e["request_id"] == request_id]
        self.assertEqual(len(denials), 1, denials)
        [denial] = denials
        self.assertEqual(denial["object"], "contacts")
        self.assertEqual(denial["details"]["action"], "create")
        self.assertEqual(denial["details"]["method"], "POST")
        self.assertEqual(denial["ip"], "127.0.0.1")
        self.assertTrue(denial["actor"].startswith("key:"))
        self.assertIsNone(denial["record_id"])

    def test_custom_field_add_is_recorded(self):
        name = "f" + unique()[1:]
        resp = self.api("POST", "/api/v1/schema/accounts/fields", {"name": name, "type": "text"})
        self.assertEqual(resp.status, 201, resp.body)
        entries = [e for e in self.audit_all("action=schema.field_add&object=accounts")
                   if e["details"]["field"]["name"] == name]
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0]["details"]["field"]["type"], "text")

    # ---- the /audit list -------------------------------------------------------------------

    def test_only_admins_may_list_the_audit_log(self):
        for key in (self.read_only_key, self.sales_key()):
            resp = self.api("GET", "/api/v1/audit", key=key)
            self.assert_problem(resp, 403, "forbidden")
        self.assert_problem(self.api("GET", "/api/v1/audit", key=None), 401, "unauthenticated")
        self.assert_problem(self.api("POST", "/api/v1/audit", {}), 405, "method_not_allowed")

    def test_filters_and_keyset_cursor(self):
        key = self.sales_key()
        actor = self.actor_of(key)
        leads = [self.create("leads", {"last_name": unique("Page")}, key=key) for _ in range(5)]
        self.api("PATCH", f"/api/v1/leads/{leads[0]['id']}", {"title": "Boss"}, key=key)

        mine = self.audit_all(f"actor={quote_param(actor)}")
        self.assertEqual(len(mine), 7)  # the actor probe, five creates, one update
        self.assertEqual(mine[0]["action"], "record.update")

        pages, cursor, seen = 0, None, []
        while True:
            query = f"actor={quote_param(actor)}&action=record.create&object=leads&limit=2"
            if cursor:
                query += f"&cursor={quote_param(cursor)}"
            body = self.audit(query)
            pages += 1
            self.assertLessEqual(len(body["data"]), 2)
            seen += body["data"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(len(seen), 6)
        seqs = [e["seq"] for e in seen]
        self.assertEqual(seqs, sorted(set(seqs), reverse=True))
        self.assertTrue({l["id"] for l in leads} <= {e["record_id"] for e in seen})

        self.assertEqual(len(self.audit(
            f"actor={quote_param(actor)}&action=record.update")["data"]), 1)
        self.assertEqual(self.audit(f"actor={quote_param(actor)}&object=contacts")["data"], [])
        self.assertEqual(self.audit(
            f"actor={quote_param(actor)}&since=2999-01-01T00:00:00Z")["data"], [])
        self.assertEqual(self.audit(
            f"actor={quote_param(actor)}&until=2000-01-01T00:00:00Z")["data"], [])
        newest_at = mine[0]["at"]
        window = self.audit(f"actor={quote_param(actor)}&since={quote_param(newest_at)}")["data"]
        self.assertIn(mine[0]["seq"], [e["seq"] for e in window])
        self.assertTrue(all(e["at"] >= newest_at for e in window))
        until = self.audit(f"actor={quote_param(actor)}&until={quote_param(newest_at)}")["data"]
        self.assertNotIn(mine[0]["seq"], [e["seq"] for e in until])

    def test_bad_query_parameters_are_problems(self):
        for query, code in (("since=yesterday", "invalid_parameter"),
                            ("until=2026-02-30T00:00:00Z", "invalid_parameter"),
                            ("limit=0", "invalid_parameter"), ("limit=501", "invalid_parameter"),
                            ("colour=red", "invalid_parameter"),
                            ("cursor=garbage", "invalid_cursor")):
            with self.subTest(query=query):
                resp = self.api("GET", f"/api/v1/audit?{query}")
                self.assert_problem(resp, 400, code)

    # ---- history ---------------------------------------------------------------------------

    def test_history_for_readers_newest_first_with_cursor(self):
        email = f"{unique('hist')}@example.com"
        record = self.create("contacts", {"last_name": unique("Hist"), "email": email})
        for title in ("One", "Two", "Three"):
            self.api("PATCH", f"/api/v1/contacts/{record['id']}", {"title": title})
        resp = self.history("contacts", record["id"], key=self.read_only_key)
        self.assertEqual(resp.status, 200, resp.body)
        entries = resp.body["data"]
        self.assertEqual([e["action"] for e in entries], ["record.update"] * 3 + ["record.create"])
        self.assertEqual(entries[0]["details"]["fields"]["title"], {"from": "Two", "to": "Three"})
        self.assertNotIn(email, json.dumps(resp.body))

        seen, cursor = [], None
        while True:
            query = "limit=1" + (f"&cursor={quote_param(cursor)}" if cursor else "")
            resp = self.history("contacts", record["id"], query)
            self.assertEqual(resp.status, 200, resp.body)
            seen += resp.body["data"]
            cursor = resp.body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual([e["seq"] for e in seen], [e["seq"] for e in entries])

        only_create = self.history("contacts", record["id"], "action=record.create").body["data"]
        self.assertEqual(len(only_create), 1)
        self.assert_problem(self.history("contacts", record["id"], "record_id=x"), 400,
                            "invalid_parameter")

    def test_history_of_a_deleted_record_is_served_to_admins(self):
        record = self.create("leads", {"last_name": unique("Gone")})
        self.assertEqual(self.api("DELETE", f"/api/v1/leads/{record['id']}").status, 204)
        resp = self.history("leads", record["id"])
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual([e["action"] for e in resp.body["data"]],
                         ["record.delete", "record.create"])
        # Only to those who may read the whole log: for others a deleted record is missing.
        self.assert_problem(self.history("leads", record["id"], key=self.read_only_key), 404,
                            "not_found")

    def test_history_of_missing_or_foreign_records_is_404(self):
        foreign = self.create("contacts", {"last_name": unique("Foreign")},
                              key=self.other_admin_key)
        missing = "con_" + "0" * 26
        for record_id in (foreign["id"], missing, "not-an-id"):
            with self.subTest(record_id=record_id):
                self.assert_problem(self.history("contacts", record_id), 404, "not_found")
        # The record exists, but not as a lead.
        self.assert_problem(self.history("leads", foreign["id"], key=self.other_admin_key),
                            404, "not_found")
        resp = self.history("contacts", foreign["id"], key=self.other_admin_key)
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(len(resp.body["data"]), 1)

    # ---- tenant isolation ------------------------------------------------------------------

    def test_tenants_never_see_each_others_entries(self):
        ours = self.create("contacts", {"last_name": unique("Ours")})
        theirs = self.create("contacts", {"last_name": unique("Theirs")},
                             key=self.other_admin_key)
        self.assertEqual(self.audit(f"record_id={theirs['id']}")["data"], [])
        self.assertEqual(self.audit(f"record_id={ours['id']}", key=self.other_admin_key)["data"],
                         [])
        their_entries = self.audit_all("", key=self.other_admin_key)
        our_ids = {e["record_id"] for e in self.audit_all("object=contacts")}
        self.assertIn(theirs["id"], {e["record_id"] for e in their_entries})
        self.assertFalse(our_ids & {e["record_id"] for e in their_entries if e["record_id"]})
        our_seqs = {e["seq"] for e in self.audit_all("")}
        self.assertFalse(our_seqs & {e["seq"] for e in their_entries})
        # The other tenant's chain starts from zeros: its oldest entry links to nothing.
        self.assertEqual(their_entries[-1]["prev_hash"], ZERO_HASH)


class VerifyAuditTest(unittest.TestCase):

    def setUp(self):
        self.server = ZebrosServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()
        for i in range(4):
            resp = self.server.api("POST", "/api/v1/contacts",
                                   {"last_name": f"Chain {i}", "email": f"c{i}@example.com"})
            self.assertEqual(resp.status, 201, resp.body)
            self.server.api("PATCH", f"/api/v1/contacts/{resp.body['id']}", {"title": "T"})
        self.server.stop()

    def verify(self):
        return cli(self.server.data_dir, "admin", "verify-audit")

    def rows(self):
        """(seq, tenant_id, details) of every entry, as text."""
        return self.server.sql("SELECT seq, tenant_id, details FROM audit_log ORDER BY seq")

    def execute(self, sql, params=()):
        self.server.sql_exec(sql, params)

    def test_intact_chain_verifies(self):
        result = self.verify()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertGreaterEqual(len(self.rows()), 8)
        self.assertIn(f"audit chain ok: {len(self.rows())} entries", result.stdout)

    def test_changed_details_name_that_entry(self):
        rows = self.rows()
        seq, tenant_id, details = rows[len(rows) // 2]
        # Changed as JSON, not as text: a backend may store details re-spaced (jsonb).
        tampered = json.loads(details)
        if isinstance(tampered.get("version"), int):
            tampered["version"] += 10
        else:
            tampered["tampered"] = True
        self.execute("UPDATE audit_log SET details = ? WHERE seq = ?",
                     (json.dumps(tampered), seq))
        result = self.verify()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"tenant {tenant_id} seq {seq}:", result.stdout)
        # Undoing the change makes the chain whole again.
        self.execute("UPDATE audit_log SET details = ? WHERE seq = ?", (details, seq))
        self.assertEqual(self.verify().returncode, 0)

    def test_deleted_entry_is_detected(self):
        rows = self.rows()
        middle = len(rows) // 2
        self.execute("DELETE FROM audit_log WHERE seq = ?", (rows[middle][0],))
        result = self.verify()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"seq {rows[middle + 1][0]}:", result.stdout)

    def test_deleted_newest_entry_is_detected(self):
        rows = self.rows()
        self.execute("DELETE FROM audit_log WHERE seq = ?", (rows[-1][0],))
        result = self.verify()
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"seq {rows[-1][0]}:", result.stdout)

    def test_missing_database_is_an_error_not_a_verdict(self):
        empty = os.path.join(self.server.data_dir, "nothing-here")
        os.mkdir(empty)
        if BACKEND == "postgres":  # a database of the cluster that does not exist
            set_database_url(empty, self.server.database_url.rsplit("/", 1)[0]
                             + f"/zebros_missing_{uuid.uuid4().hex[:12]}")
        result = cli(empty, "admin", "verify-audit")
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertFalse(os.path.exists(os.path.join(empty, "zebros.db")))


if __name__ == "__main__":
    unittest.main()
