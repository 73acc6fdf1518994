"""PostgreSQL only: `zebros transfer --from sqlite:PATH --to postgres://URL [--resume]` moves a
whole embedded install into PostgreSQL, and the server on the new database answers exactly as
the SQLite server did.

The source install is built through the API and the CLI on a SQLite data dir (harness
`backend='sqlite'`): two tenants, custom fields of several types with values, references,
soft-deleted, restored and updated records, an idempotent create, users (one with a password),
API keys (one revoked), a team and a record scope, PII. Everything a client can read is captured
from the SQLite server before it stops; after the transfer a server on the SAME data dir (same
IdP key files) with --database-url of the new database is captured the same way, and the two
captures must be equal, answer by answer.
"""

import json
import os
import re
import shutil
import tempfile
import unittest
import urllib.parse

from harness import (ADMIN, BACKEND, ZebrosServer, cli, create_api_key, create_tenant,
                     quote_param, run_zebros, stop_and_clean, unique)

# The copied tables besides the object tables (src/storage/sql/transfer.cc copies these).
PLAIN_TABLES = ("tenants", "audit_keys", "api_keys", "custom_fields", "idempotency_keys", "users",
                "teams", "team_members", "record_scopes", "idp_sessions", "idp_refresh_tokens",
                "idp_auth_codes", "idp_signing_keys", "audit_log", "audit_heads")
OBJECTS = ("accounts", "contacts", "leads")
SUMMARY = re.compile(r"^transfer ok: (\d+) rows in (\d+) tables, counts equal on both sides; "
                     r"audit chain ok: (\d+) entries$")
PAGE = 3  # a small page size, so every list takes several pages
FORM = "application/x-www-form-urlencoded"
TOKEN_PATH = "/realms/default/protocol/openid-connect/token"

CUSTOM_FIELDS = {  # tenant -> object -> definitions
    "default": {"contacts": [
        {"name": "segment", "type": "text", "indexed": True, "label": "Segment"},
        {"name": "seats", "type": "integer", "indexed": True, "label": "Seats"},
        {"name": "vip", "type": "bool", "label": "VIP"},
        {"name": "interests", "type": "tags", "label": "Interests"},
        {"name": "budget", "type": "money", "label": "Budget"},
        {"name": "renewal_at", "type": "datetime", "label": "Renewal"},
    ]},
    "acme": {"accounts": [{"name": "tier", "type": "text", "indexed": True, "label": "Tier"}],
             "contacts": [{"name": "loyalty", "type": "integer", "label": "Loyalty"}]},
}

# Filtered lists compared on both backends: tenant -> (object, query).
FILTERS = {
    "default": [
        ("contacts", "filter[segment]=gold"),
        ("contacts", "filter[segment][contains]=ol"),
        ("contacts", "filter[segment][starts_with]=sil"),
        ("contacts", "filter[seats][gt]=10"),
        ("contacts", "filter[seats][lte]=10&sort=-seats"),
        ("contacts", "filter[vip]=true"),
        ("contacts", "filter[interests]=golf"),
        ("contacts", "filter[interests][contains]=chess"),
        ("contacts", "filter[budget][gte]=1000"),
        ("contacts", "filter[renewal_at][gt]=2025-06-01T00:00:00Z"),
        ("contacts", "filter[segment][is_null]=true"),
        ("contacts", "filter[department]=Research&sort=last_name,first_name"),
        ("contacts", "filter[lifecycle_stage][in]=customer,lead"),
        ("contacts", "sort=-seats,last_name"),
        ("leads", "filter[score][gt]=50"),
        ("leads", "filter[company][contains]=tech&sort=-score"),
        ("leads", "filter[status]=new"),
        ("accounts", "filter[industry]=manufacturing"),
        ("accounts", "sort=-name"),
    ],
    "acme": [
        ("accounts", "filter[tier]=platinum"),
        ("contacts", "filter[loyalty][gte]=3&sort=-loyalty"),
        ("contacts", "sort=last_name"),
    ],
}


def setUpModule():
    if BACKEND != "postgres":
        raise unittest.SkipTest("zebros transfer copies into PostgreSQL: needs "
                                "ZEBROS_TEST_BACKEND=postgres")


def pg():
    import pg_cluster  # only PostgreSQL runs need it
    return pg_cluster.cluster()


def table_counts_sqlite(data_dir, tables):
    import sqlite3
    import contextlib
    path = os.path.join(data_dir, "zebros.db")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


def table_counts_pg(url, tables):
    return {t: int(pg().query(url, f"SELECT COUNT(*) FROM {t}")[0][0]) for t in tables}


def password_grant(username, password):
    return urllib.parse.urlencode({"grant_type": "password", "client_id": "zebros-cli",
                                   "username": username, "password": password,
                                   "scope": "openid"})


def answer(resp):
    """What a client sees of a response, minus what may differ between two runs of the same
    server: a problem is its status and code (its instance/request id differ)."""
    content_type = resp.header("content-type", "")
    if content_type.startswith("application/problem+json") and isinstance(resp.body, dict):
        return {"status": resp.status, "code": resp.body.get("code")}
    return {"status": resp.status, "body": resp.body, "etag": resp.header("etag")}


class TransferTest(unittest.TestCase):
    maxDiff = None

    sqlite_server: ZebrosServer = None
    pg_server: ZebrosServer = None

    # ---- building the source install -------------------------------------------------------

    @classmethod
    def call(cls, method, path, body=None, key=ADMIN, headers=None, want=(200, 201, 204)):
        resp = cls.sqlite_server.api(method, path, body, headers=headers, key=key)
        if resp.status not in ((want,) if isinstance(want, int) else want):
            raise AssertionError(f"seeding: {method} {path} {body!r}: {resp.status} {resp.body!r}")
        return resp

    @classmethod
    def create(cls, tenant, obj, body, headers=None):
        record = cls.call("POST", f"/api/v1/{obj}", body, key=cls.keys[tenant], headers=headers,
                          want=201).body
        cls.ids[tenant][obj].append(record["id"])
        return record

    @classmethod
    def seed(cls):
        data_dir = cls.data_dir
        cls.keys = {"default": cls.sqlite_server.admin_key}
        cls.tenant_ids = {"acme": create_tenant(data_dir, "acme")}
        cls.keys["acme"] = create_api_key(data_dir, "acme", "admin", name="acme-admin")
        cls.ids = {tenant: {obj: [] for obj in OBJECTS} for tenant in cls.keys}
        for tenant, objects in CUSTOM_FIELDS.items():
            for obj, fields in objects.items():
                for field in fields:
                    cls.call("POST", f"/api/v1/schema/{obj}/fields", field, key=cls.keys[tenant],
                             want=201)

        # ---- tenant default: accounts, contacts referencing them, leads
        quix = cls.create("default", "accounts", {
            "name": "Quixotic Widgets", "industry": "manufacturing", "employees": 120,
            "annual_revenue": 2500000.5, "tags": ["key-account"], "billing_city": "Leeds"})
        boreal = cls.create("default", "accounts", {"name": "Borealis Foods",
                                                    "industry": "manufacturing"})
        cascade = cls.create("default", "accounts", {"name": "Cascade Tools",
                                                     "domain": "cascade.example.com"})
        cls.call("PATCH", f"/api/v1/accounts/{cascade['id']}", {"billing_city": "Bergen"})
        contacts = [
            dict(first_name="Ada", last_name="Lovelace", email="ada.lovelace@analytical.test",
                 phone="+44 20 7946 0958", date_of_birth="1815-12-10", department="Research",
                 lifecycle_stage="customer", account_id=quix["id"], segment="gold", seats=12,
                 vip=True, interests=["golf", "chess"], budget=1500.25,
                 renewal_at="2025-09-01T10:00:00+02:00", tags=["vip"]),
            dict(first_name="Zephyr", last_name="Zephyrson", email="zeph@windy.test",
                 department="Research", lifecycle_stage="lead", account_id=boreal["id"],
                 segment="silver", seats=3, vip=False, interests=["chess"], budget=99.99,
                 renewal_at="2025-01-15T00:00:00Z"),
            dict(first_name="Grace", last_name="Brewster", title="Zephyr liaison",
                 email="grace.brewster@navy.test", mobile="(020) 7946-0959",
                 account_id=quix["id"], segment="gold", seats=40, interests=["golf"],
                 budget=1000, do_not_email=True),
            dict(first_name="Alan", last_name="Turing", email="alan@bletchley.test",
                 department="Research", account_id=cascade["id"], seats=10,
                 mailing_city="Wilmslow", date_of_birth="1912-06-23"),
            dict(first_name="Edsger", last_name="Dijkstra", email="ewd@eindhoven.test",
                 lifecycle_stage="customer", account_id=boreal["id"], segment="bronze",
                 vip=True, interests=[]),
            dict(first_name="Barbara", last_name="Liskov", email="liskov@mit.test",
                 department="Research", seats=25, renewal_at="2026-03-01T12:30:00Z"),
            dict(last_name="Hamilton", email="margaret@apollo.test", account_id=quix["id"]),
            dict(first_name="Ken", last_name="Thompson", email="ken@unix.test",
                 segment="gold", seats=7, interests=["go", "chess"]),
            dict(first_name="Zo\u00eb", last_name="\u00c5ngstr\u00f6m-\u00d8deg\u00e5rd",
                 email="zoe.angstrom@nordic.test", seats=2147483648, budget=1234567.89,
                 title='\u00dcber-Ingenieurin "Chef" \u2013 O\'Brien\\n', segment="gold",
                 interests=["\u00e9t\u00e9", "\U0001f680"], notes="line one\nline two \U0001f680",
                 renewal_at="2025-12-31T23:59:59.123Z"),
        ]
        created = [cls.create("default", "contacts", body) for body in contacts]
        cls.updated_contact = created[0]["id"]
        for title in ("Analyst", "Countess"):
            cls.call("PATCH", f"/api/v1/contacts/{cls.updated_contact}", {"title": title})
        cls.call("PATCH", f"/api/v1/contacts/{created[3]['id']}", {"seats": None, "vip": True})
        cls.deleted_contact = created[7]["id"]
        cls.unicode_contact = created[8]["id"]
        cls.call("DELETE", f"/api/v1/contacts/{cls.deleted_contact}", want=204)
        cls.idempotency_body = {"first_name": "Idem", "last_name": "Potent",
                                "email": "idem@potent.test", "segment": "gold"}
        cls.idempotency_key = unique("idem-")
        first = cls.call("POST", "/api/v1/contacts", cls.idempotency_body,
                         headers={"Idempotency-Key": cls.idempotency_key}, want=201)
        cls.idempotent_first = first
        cls.ids["default"]["contacts"].append(first.body["id"])

        leads = [dict(first_name="Grace", last_name="Hopper", company="Navy Tech",
                      email="grace@navy.test", score=87, source="referral", status="working"),
                 dict(first_name="Linus", last_name="Torvalds", company="Kernel Tech", score=55),
                 dict(last_name="Ritchie", company="Bell Labs", score=20, source="web"),
                 dict(last_name="Kernighan", company="Bell Labs", score=61, status="qualified")]
        made = [cls.create("default", "leads", body) for body in leads]
        cls.restored_lead = made[2]["id"]
        cls.call("DELETE", f"/api/v1/leads/{cls.restored_lead}", want=204)
        cls.call("POST", f"/api/v1/leads/{cls.restored_lead}/restore", want=200)
        cls.deleted_account = cls.create("default", "accounts", {"name": "Defunct Ltd"})["id"]
        cls.call("DELETE", f"/api/v1/accounts/{cls.deleted_account}", want=204)

        # ---- tenant acme: own custom fields, a contact named like one of default's
        globex = cls.create("acme", "accounts", {"name": "Globex", "tier": "platinum"})
        cls.create("acme", "accounts", {"name": "Initech", "tier": "gold"})
        for body in (dict(first_name="Ada", last_name="Lovelace", email="ada@globex.test",
                          account_id=globex["id"], loyalty=5),
                     dict(first_name="Hank", last_name="Scorpio", account_id=globex["id"],
                          loyalty=3),
                     dict(last_name="Gibbons", loyalty=1)):
            cls.create("acme", "contacts", body)
        cls.create("acme", "leads", {"last_name": "Lumbergh", "company": "Initech", "score": 12})

        # ---- more than one transfer batch (1000 rows) of leads and audit entries, the two
        # tenants' rows interleaved, so batches hold rowid ranges of both
        for round_ in range(6):
            for tenant, count in (("default", 200), ("acme", 20)):
                body = {"create": [{"last_name": f"Bulk{round_:02d}x{i:03d}",
                                    "company": f"Bulk Co {tenant}", "score": (round_ * 7 + i) % 100}
                                   for i in range(count)]}
                resp = cls.call("POST", "/api/v1/leads/batch", body, key=cls.keys[tenant],
                                want=200)
                cls.ids[tenant]["leads"] += [r["id"] for r in resp.body["created"]]

        # ---- people and keys
        cls.password = "pw-" + unique()
        cls.password_email = "rep@zebros.test"
        made_user = cli(data_dir, "admin", "create-user", "--tenant", "default", "--email",
                        cls.password_email, "--role", "sales", "--password-stdin",
                        input=cls.password + "\n")
        if made_user.returncode != 0:
            raise AssertionError(f"create-user: {made_user.stderr}")
        cls.password_user = made_user.stdout.strip()
        invited = [cls.call("POST", "/api/v1/users", {"email": f"{name}@zebros.test",
                                                      "role": role}, want=201).body
                   for name, role in (("inv1", "support"), ("inv2", "read_only"),
                                      ("inv3", "sales"))]
        cls.call("PATCH", f"/api/v1/users/{invited[2]['id']}", {"role": "support"})
        cls.call("POST", "/api/v1/users", {"email": "acme-user@zebros.test", "role": "sales"},
                 key=cls.keys["acme"], want=201)
        cls.http_key = cls.call("POST", "/api/v1/api-keys",
                                {"name": "zapier", "role": "sales"}, want=201).body
        cls.revoked_key = cls.call("POST", "/api/v1/api-keys",
                                   {"name": "old", "role": "sales"}, want=201).body
        cls.call("DELETE", f"/api/v1/api-keys/{cls.revoked_key['id']}")
        if cls.call("GET", "/api/v1/me", key=cls.revoked_key["key"], want=401).status != 401:
            raise AssertionError("the revoked key still works on SQLite")
        cls.call("GET", "/api/v1/me", key=cls.http_key["key"])
        cls.reader_key = create_api_key(data_dir, "default", "read_only", name="reader")
        cls.team = cls.call("POST", "/api/v1/teams", {
            "name": "west", "member_ids": [cls.password_user, invited[0]["id"]]}, want=201).body
        cls.call("POST", "/api/v1/teams", {"name": "east", "member_ids": [invited[1]["id"]]},
                 want=201)
        cls.call("PUT", "/api/v1/access/scopes/read_only/leads", {"scope": "own"})
        # A session of the built-in IdP (its refresh token must survive the move).
        tokens = cls.call("POST", TOKEN_PATH, password_grant(cls.password_email, cls.password),
                          key=None, headers={"Content-Type": FORM}, want=200).body
        cls.refresh_token = tokens["refresh_token"]

    # ---- capturing what clients see --------------------------------------------------------

    @staticmethod
    def walk(server, path, key, limit=PAGE):
        """Every item of a cursor-paged GET list (records only, cursors dropped)."""
        items, cursor = [], None
        separator = "&" if "?" in path else "?"
        for _ in range(1000):
            query = f"limit={limit}" + (f"&cursor={quote_param(cursor)}" if cursor else "")
            resp = server.api("GET", f"{path}{separator}{query}", key=key)
            if resp.status != 200:
                return [answer(resp)]
            items += resp.body["data"]
            cursor = resp.body.get("next_cursor")
            if cursor is None:
                return items
        raise AssertionError(f"{path} never ended")

    @staticmethod
    def walk_search(server, obj, body, key, limit=PAGE):
        items, cursor = [], None
        for _ in range(1000):
            resp = server.api("POST", f"/api/v1/{obj}/search",
                              {**body, "limit": limit, "cursor": cursor}, key=key)
            if resp.status != 200:
                return [answer(resp)]
            items += resp.body["data"]
            cursor = resp.body.get("next_cursor")
            if cursor is None:
                return items
        raise AssertionError("search never ended")

    @classmethod
    def capture(cls, server):
        """Everything the tests compare, in a fixed order: name -> what the server answered."""
        got = {}
        for tenant, key in cls.keys.items():
            for obj in OBJECTS:
                limit = 50 if obj == "leads" else PAGE
                got[f"{tenant} list {obj}"] = cls.walk(server, f"/api/v1/{obj}", key, limit)
                got[f"{tenant} list {obj} by -created_at"] = cls.walk(
                    server, f"/api/v1/{obj}?sort=-created_at", key, limit)
                got[f"{tenant} list {obj} by score,last_name"] = cls.walk(
                    server, f"/api/v1/{obj}?sort=score,last_name", key, 97) \
                    if obj == "leads" else None
                for record_id in cls.ids[tenant][obj]:
                    got[f"{tenant} GET {obj}/{record_id}"] = answer(
                        server.api("GET", f"/api/v1/{obj}/{record_id}", key=key))
                got[f"{tenant} schema {obj}"] = answer(
                    server.api("GET", f"/api/v1/schema/{obj}", key=key))
            got[f"{tenant} schema"] = answer(server.api("GET", "/api/v1/schema", key=key))
            for obj, query in FILTERS[tenant]:
                got[f"{tenant} list {obj}?{query}"] = cls.walk(server, f"/api/v1/{obj}?{query}",
                                                               key)
            got[f"{tenant} users"] = cls.walk(server, "/api/v1/users", key)
            keys = cls.walk(server, "/api/v1/api-keys", key)
            # last_used_at moves whenever a key is used (these captures use some): compared apart.
            got[f"{tenant} api-keys"] = [{k: v for k, v in item.items() if k != "last_used_at"}
                                         for item in keys]
            got[f"{tenant} api-keys last_used_at"] = {item.get("id"): item.get("last_used_at")
                                                      for item in keys}
            got[f"{tenant} teams"] = cls.walk(server, "/api/v1/teams", key)
            got[f"{tenant} scopes"] = answer(server.api("GET", "/api/v1/access/scopes", key=key))
            got[f"{tenant} me"] = answer(server.api("GET", "/api/v1/me", key=key))
            got[f"{tenant} audit"] = cls.walk(server, "/api/v1/audit", key, limit=77)
            got[f"{tenant} audit record.update"] = cls.walk(
                server, "/api/v1/audit?action=record.update", key, limit=2)
        admin = cls.keys["default"]
        searches = [
            ("contacts", {"q": "zephyr"}),                 # ranked: names before title
            ("contacts", {"q": "lovelace"}),
            ("contacts", {"q": "quixot"}),                 # the account's name, via the contact
            ("contacts", {"q": "borealis foods"}),
            ("contacts", {"q": "bletchley"}),              # a part of an e-mail address
            ("contacts", {"q": "analytical"}),
            ("contacts", {"q": "ada", "filter": {"field": "segment", "op": "eq",
                                                 "value": "gold"}}),
            ("contacts", {"q": "research"}),
            ("contacts", {"filter": {"and": [
                {"field": "department", "op": "eq", "value": "Research"},
                {"field": "seats", "op": "gte", "value": 10}]},
                "sort": [{"field": "seats", "dir": "desc"}]}),
            ("contacts", {"q": "thompson"}),                 # deleted: found nowhere
            ("contacts", {"q": "\u00e5ngstr\u00f6m"}),
            ("contacts", {"q": "angstrom"}),
            ("contacts", {"q": "zo\u00eb"}),
            ("contacts", {"q": "\u00fcber"}),
            ("contacts", {"q": "o'brien"}),
            ("leads", {"q": "bulk", "filter": {"field": "score", "op": "gte", "value": 90}}),
            ("leads", {"q": "bulk00x01"}),
            ("leads", {"q": "tech"}),
            ("leads", {"q": "bell", "sort": [{"field": "score", "dir": "asc"}]}),
            ("leads", {"q": "ritchie"}),                     # deleted and restored
            ("accounts", {"q": "cascade"}),
        ]
        for obj, body in searches:
            got[f"default search {obj} {json.dumps(body, sort_keys=True)}"] = cls.walk_search(
                server, obj, body, admin)
        got["acme search contacts lovelace"] = cls.walk_search(
            server, "contacts", {"q": "lovelace"}, cls.keys["acme"])
        got["acme search contacts globex"] = cls.walk_search(
            server, "contacts", {"q": "globex"}, cls.keys["acme"])
        for obj, record_id in (("contacts", cls.updated_contact),
                               ("contacts", cls.deleted_contact),
                               ("leads", cls.restored_lead)):
            got[f"history {obj}/{record_id}"] = cls.walk(
                server, f"/api/v1/{obj}/{record_id}/history", admin, limit=2)
        # PII masked for a read_only key; the record scope `own` hides every lead from it.
        got["reader GET contact"] = answer(server.api(
            "GET", f"/api/v1/contacts/{cls.updated_contact}", key=cls.reader_key))
        got["reader list contacts"] = cls.walk(server, "/api/v1/contacts", cls.reader_key)
        got["reader list leads"] = cls.walk(server, "/api/v1/leads", cls.reader_key)
        got["http key me"] = answer(server.api("GET", "/api/v1/me", key=cls.http_key["key"]))
        got["revoked key me"] = answer(server.api("GET", "/api/v1/me",
                                                  key=cls.revoked_key["key"]))
        got["acme key on default's record"] = answer(server.api(
            "GET", f"/api/v1/contacts/{cls.updated_contact}", key=cls.keys["acme"]))
        return got

    # ---- class fixture ---------------------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = tempfile.mkdtemp(prefix="zebros-transfer-")
        if not os.environ.get("ZEBROS_KEEP_DATA"):
            cls.addClassCleanup(shutil.rmtree, cls.data_dir, ignore_errors=True)
        cls.sqlite_server = ZebrosServer(cls.data_dir, backend="sqlite")
        cls.addClassCleanup(stop_and_clean, cls.sqlite_server)
        cls.sqlite_server.start()
        cls.seed()
        cls.before = cls.capture(cls.sqlite_server)
        cls.sqlite_server.stop()
        cls.object_tables = [f"obj_{obj}" for obj in OBJECTS]
        cls.all_tables = [name for (name,) in cls.sqlite_server.sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'obj\\_%' "
            "ESCAPE '\\' AND name NOT LIKE '%fts%'")]
        cls.copied_tables = list(PLAIN_TABLES) + sorted(cls.all_tables)
        cls.source_counts = table_counts_sqlite(cls.data_dir, cls.copied_tables)

        cls.target_url = pg().create_database()
        # Three rows per transaction: every table in several batches, the last one partial
        # (test_resume_into_a_complete_copy_adds_nothing copies again with the default).
        cls.transfer = run_zebros("transfer", "--from", f"sqlite:{cls.data_dir}",
                                  "--to", cls.target_url, "--batch-rows", "3", timeout=300)
        if cls.transfer.returncode != 0:
            raise AssertionError(f"zebros transfer exited with {cls.transfer.returncode}:\n"
                                 f"{cls.transfer.stdout}\n{cls.transfer.stderr}")
        cls.target_counts = table_counts_pg(cls.target_url, cls.copied_tables)
        cls.pg_server = ZebrosServer(cls.data_dir, database_url=cls.target_url,
                                     admin_key=cls.sqlite_server.admin_key)
        cls.addClassCleanup(stop_and_clean, cls.pg_server)
        cls.pg_server.start()
        cls.after = cls.capture(cls.pg_server)

    def api(self, method, path, body=None, headers=None, key=ADMIN):
        return self.pg_server.api(method, path, body, headers=headers, key=key)

    # ---- the transfer itself ---------------------------------------------------------------

    def test_transfer_prints_one_summary_line_with_the_source_counts(self):
        lines = self.transfer.stdout.splitlines()
        self.assertEqual(len(lines), 1, self.transfer.stdout)
        match = SUMMARY.match(lines[0])
        self.assertIsNotNone(match, lines[0])
        rows, tables, entries = map(int, match.groups())
        self.assertGreater(rows, 0)
        self.assertGreater(entries, 0)
        self.assertEqual(tables, len(self.copied_tables), self.copied_tables)
        self.assertEqual(rows, sum(self.source_counts.values()), self.source_counts)
        self.assertEqual(entries, self.source_counts["audit_log"])
        for table in self.copied_tables:  # progress on stderr, a finished line per table
            count = self.source_counts[table]
            self.assertRegex(self.transfer.stderr,
                             rf"(?m)^  {table} +\[[# ]+\] \d+%  {count} / {count} rows$")
            if count:
                self.assertRegex(self.transfer.stderr, rf"(?m)^  {table} +\[#+\] 100%  ")

    def test_every_table_has_as_many_rows_on_both_sides(self):
        self.assertEqual(self.target_counts, self.source_counts)
        for table in ("tenants", "custom_fields", "users", "api_keys", "team_members", "idp_sessions", "idp_refresh_tokens",
                      "record_scopes", "idempotency_keys", "audit_log", *self.object_tables):
            self.assertGreater(self.source_counts[table], 0, table)
        self.assertGreater(self.source_counts["obj_leads"], 1000)  # more than one batch
        self.assertGreater(self.source_counts["audit_log"], 1000)

    # ---- the server on PostgreSQL answers as the one on SQLite did -------------------------

    def test_captures_cover_what_was_built(self):
        before = self.before
        self.assertEqual(len(before["default list contacts"]), 9)  # 9 made + 1 idempotent, 1 deleted
        self.assertEqual(len(before["acme list contacts"]), 3)
        self.assertEqual(before["reader list leads"], [])
        self.assertEqual(before["revoked key me"]["status"], 401)
        self.assertEqual(before[f"default GET contacts/{self.deleted_contact}"],
                         {"status": 404, "code": "not_found"})
        self.assertEqual(before[f"default GET contacts/{self.updated_contact}"]["body"]
                         ["version"], 3)
        self.assertEqual(sorted(r["first_name"] for r in
                                before["default list contacts?filter[interests]=golf"]),
                         ["Ada", "Grace"])
        self.assertEqual(len(before["default list leads"]), 4 + 1200)
        self.assertEqual(len(before["acme list leads"]), 1 + 120)
        self.assertGreater(len(before["default audit"]), 1200)
        self.assertGreater(len(before["default audit"]), 30)
        self.assertEqual(before["reader GET contact"]["status"], 200)
        self.assertNotEqual(before["reader GET contact"]["body"]["email"],
                            "ada.lovelace@analytical.test")  # masked PII

    def test_every_answer_is_the_same_on_postgresql(self):
        self.assertEqual(list(self.after), list(self.before))
        for name, want in self.before.items():
            if name.endswith("api-keys last_used_at"):
                continue
            with self.subTest(name):
                self.assertEqual(self.after[name], want)

    def test_api_keys_last_used_at_is_kept_or_later(self):
        for tenant in self.keys:
            before = self.before[f"{tenant} api-keys last_used_at"]
            after = self.after[f"{tenant} api-keys last_used_at"]
            self.assertEqual(set(after), set(before))
            for key_id, used in before.items():
                with self.subTest(tenant=tenant, key=key_id):
                    if used is not None:
                        self.assertIsNotNone(after[key_id])
                        self.assertGreaterEqual(after[key_id], used)

    # ---- behaviour on PostgreSQL -----------------------------------------------------------

    def test_deleted_record_is_restorable_on_postgresql(self):
        path = f"/api/v1/contacts/{self.deleted_contact}"
        self.assertEqual(self.api("GET", path).status, 404)
        restored = self.api("POST", f"{path}/restore")
        self.assertEqual(restored.status, 200, restored.body)
        self.assertEqual((restored.body["last_name"], restored.body["first_name"]),
                         ("Thompson", "Ken"))
        self.assertEqual(restored.body["interests"], ["go", "chess"])
        fetched = self.api("GET", path)
        self.assertEqual(fetched.status, 200, fetched.body)
        found = self.api("POST", "/api/v1/contacts/search", {"q": "thompson"}).body["data"]
        self.assertEqual([r["id"] for r in found], [self.deleted_contact])

    def test_search_vectors_are_copied_for_live_records_only(self):
        # A soft-deleted record leaves the index (SearchIndex::Remove sets its vectors null).
        for obj in OBJECTS:
            rows = pg().query(self.target_url,
                              f"SELECT deleted_at IS NULL, search_body IS NULL, "
                              f"search_all IS NULL, COUNT(*) FROM obj_{obj} GROUP BY 1, 2, 3")
            shapes = {(live, body, every) for live, body, every, _ in rows}
            self.assertTrue(shapes <= {("t", "f", "f"), ("f", "t", "t")}, (obj, rows))
            self.assertIn(("t", "f", "f"), shapes, obj)
        self.assertIn(("f", "t", "t"), {tuple(r[:3]) for r in pg().query(
            self.target_url, "SELECT deleted_at IS NULL, search_body IS NULL, "
            "search_all IS NULL FROM obj_accounts")})

    def test_bad_batch_rows_is_a_usage_error(self):
        for value in ("0", "-1", "many"):
            result = run_zebros("transfer", "--from", f"sqlite:{self.data_dir}", "--to",
                                self.target_url, "--batch-rows", value)
            self.assertEqual(result.returncode, 2, (value, result.stdout, result.stderr))

    def test_idempotency_key_replays_the_first_response_on_postgresql(self):
        again = self.api("POST", "/api/v1/contacts", self.idempotency_body,
                         headers={"Idempotency-Key": self.idempotency_key})
        first = self.idempotent_first
        self.assertEqual(again.status, first.status, again.body)
        self.assertEqual(again.body, first.body)
        self.assertEqual(again.header("location"), first.header("location"))
        listed = self.api("GET", "/api/v1/contacts?filter[last_name]=Potent").body["data"]
        self.assertEqual([r["id"] for r in listed], [first.body["id"]])

    def test_password_user_gets_a_token_on_postgresql(self):
        body = urllib.parse.urlencode({"grant_type": "password", "client_id": "zebros-cli",
                                       "username": self.password_email,
                                       "password": self.password, "scope": "openid"})
        resp = self.api("POST", TOKEN_PATH, body, key=None,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(resp.status, 200, resp.body)
        me = self.api("GET", "/api/v1/me", key=resp.body["access_token"])
        self.assertEqual(me.status, 200, me.body)
        self.assertEqual((me.body["user_id"], me.body["role"]), (self.password_user, "sales"))
        wrong = urllib.parse.urlencode({"grant_type": "password", "client_id": "zebros-cli",
                                        "username": self.password_email,
                                        "password": self.password + "x", "scope": "openid"})
        refused = self.api("POST", TOKEN_PATH, wrong, key=None,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(refused.status, 400, refused.body)

    def test_refresh_token_issued_on_sqlite_works_on_postgresql(self):
        body = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "zebros-cli",
                                       "refresh_token": self.refresh_token})
        resp = self.api("POST", TOKEN_PATH, body, key=None, headers={"Content-Type": FORM})
        self.assertEqual(resp.status, 200, resp.body)
        me = self.api("GET", "/api/v1/me", key=resp.body["access_token"])
        self.assertEqual(me.status, 200, me.body)
        self.assertEqual(me.body["user_id"], self.password_user)

    def test_keys_made_on_sqlite_work_and_the_revoked_one_is_refused(self):
        self.assertEqual(self.api("GET", "/api/v1/me", key=self.revoked_key["key"]).status, 401)
        me = self.api("GET", "/api/v1/me", key=self.http_key["key"])
        self.assertEqual(me.status, 200, me.body)
        self.assertEqual(me.body["subject"], "key:" + self.http_key["id"])

    def test_verify_audit_passes_on_postgresql(self):
        result = cli(self.data_dir, "admin", "verify-audit")  # with --database-url of the target
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_writes_after_the_transfer_get_new_keys(self):
        copied = {record_id for tenant in self.ids.values() for ids in tenant.values()
                  for record_id in ids}
        max_seq = max(entry["seq"] for entry in self.after["default audit"] +
                      self.after["acme audit"])
        for tenant, key in self.keys.items():
            for obj, body in (("accounts", {"name": "After Transfer " + tenant}),
                              ("contacts", {"last_name": "Aftermath", "first_name": tenant}),
                              ("leads", {"last_name": "Newcomer", "company": "Post Gres"})):
                with self.subTest(tenant=tenant, object=obj):
                    resp = self.api("POST", f"/api/v1/{obj}", body, key=key)
                    self.assertEqual(resp.status, 201, resp.body)
                    self.assertNotIn(resp.body["id"], copied)
                    fetched = self.api("GET", f"/api/v1/{obj}/{resp.body['id']}", key=key)
                    self.assertEqual(fetched.status, 200, fetched.body)
                    self.assertEqual(fetched.body["version"], 1)
                    entries = self.api("GET", f"/api/v1/audit?record_id={resp.body['id']}",
                                       key=key).body["data"]
                    self.assertEqual([e["action"] for e in entries], ["record.create"])
                    self.assertGreater(entries[0]["seq"], max_seq)
        found = self.api("POST", "/api/v1/contacts/search", {"q": "aftermath"}).body["data"]
        self.assertEqual([r["first_name"] for r in found], ["default"])
        patched = self.api("PATCH", f"/api/v1/contacts/{self.updated_contact}",
                           {"title": "Enchantress"})
        self.assertEqual(patched.status, 200, patched.body)
        self.assertEqual(patched.body["version"], 4)
        result = cli(self.data_dir, "admin", "verify-audit")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    # ---- refusals and --resume -------------------------------------------------------------

    def test_transfer_into_a_non_empty_database_is_refused_and_changes_nothing(self):
        before = table_counts_pg(self.target_url, self.copied_tables)
        again = run_zebros("transfer", "--from", f"sqlite:{self.data_dir}", "--to",
                           self.target_url, timeout=300)
        self.assertEqual(again.returncode, 3, again.stdout + again.stderr)
        self.assertEqual(again.stdout, "")
        self.assertIn("--resume", again.stderr)
        self.assertEqual(table_counts_pg(self.target_url, self.copied_tables), before)

    def test_resume_into_a_complete_copy_adds_nothing(self):
        url = pg().create_database()
        source = f"sqlite:{os.path.join(self.data_dir, 'zebros.db')}"  # the file form of PATH
        first = run_zebros("transfer", "--from", source, "--to", url, timeout=300)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(first.stdout, self.transfer.stdout)
        refused = run_zebros("transfer", "--from", source, "--to", url, timeout=300)
        self.assertEqual(refused.returncode, 3, refused.stderr)
        resumed = run_zebros("transfer", "--from", source, "--to", url, "--resume", timeout=300)
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        self.assertEqual(resumed.stdout, self.transfer.stdout)
        self.assertEqual(table_counts_pg(url, self.copied_tables), self.source_counts)

    def test_resume_finishes_a_transfer_cut_short(self):
        # An interrupted transfer leaves whole batches behind: here every lead of the source
        # is missing (leads come after the other object tables) and the rest is there.
        url = pg().create_database()
        source = f"sqlite:{self.data_dir}"
        self.assertEqual(run_zebros("transfer", "--from", source, "--to", url,
                                    timeout=300).returncode, 0)
        search_tables = [name for (name,) in pg().query(
            url, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                 "current_schema() AND table_name LIKE '%search%'")]
        for table in search_tables:
            columns = {c for (c,) in pg().query(
                url, f"SELECT column_name FROM information_schema.columns WHERE "
                     f"table_name = '{table}'")}
            if "object" in columns:
                pg().psql(url, f"DELETE FROM {table} WHERE object = 'leads'")
        pg().psql(url, "DELETE FROM obj_leads")
        resumed = run_zebros("transfer", "--from", source, "--to", url, "--resume", timeout=300)
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        self.assertEqual(resumed.stdout, self.transfer.stdout)
        self.assertEqual(table_counts_pg(url, self.copied_tables), self.source_counts)

    def test_bad_usage_exits_2(self):
        missing = os.path.join(self.data_dir, "no-such-dir")
        empty_dir = tempfile.mkdtemp(prefix="zebros-transfer-empty-")
        self.addCleanup(shutil.rmtree, empty_dir, ignore_errors=True)
        url = pg().create_database()
        cases = [
            ("--from", f"sqlite:{missing}", "--to", url),
            ("--from", f"sqlite:{empty_dir}", "--to", url),          # a dir without zebros.db
            ("--from", self.data_dir, "--to", url),                   # no sqlite: prefix
            ("--from", f"sqlite:{self.data_dir}", "--to", "mysql://root@127.0.0.1/x"),
            ("--from", f"sqlite:{self.data_dir}", "--to", f"sqlite:{empty_dir}"),
            ("--from", f"sqlite:{self.data_dir}"),                    # no --to
            ("--to", url),                                            # no --from
        ]
        for args in cases:
            with self.subTest(args=args):
                result = run_zebros("transfer", *args)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertEqual(result.stdout, "")
                self.assertTrue(result.stderr.strip())
        self.assertEqual(pg().query(url, "SELECT COUNT(*) FROM information_schema.tables "
                                         "WHERE table_schema = current_schema()"), [("0",)])


if __name__ == "__main__":
    unittest.main()
