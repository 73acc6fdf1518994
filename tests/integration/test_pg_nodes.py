"""PostgreSQL only: several `zebros serve` nodes on one database, and one node riding out a
PostgreSQL crash under write load, and a write group that takes its tenant's write lock last.

Two nodes: each has its own data dir (key files) and the same --database-url; API keys live in
the database, so the first node's bootstrap admin key works on both. What one node writes, the
other reads at once; custom fields added on one become usable on the other (and a key revoked
on one is refused by the other) within the cache lifetimes docs/operations.md gives;
conflicting writes sent to both nodes at the same moment resolve as they would on one node (one
winner, the loser told why, never a duplicate).

Slow searches: a list or search waits on PostgreSQL on a read worker, not on an I/O thread, so
while searches wait (here for a lock on the term table) reads by id are answered all along.

A hung database (a proxy that takes connections and never answers): liveness is answered at
once throughout, everything else that needs the database is a 503 within the timeouts, and the
node serves again by itself once the database answers.

Restart under load: PostgreSQL stopped with 'immediate' (a crash: no checkpoint, clients cut
off) while four writers POST. Until it is back every answer is 503 `database_unavailable` with
Retry-After (or a 201 for a write made before the crash); none takes longer than
REQUEST_TIMEOUT_LIMIT. Once PostgreSQL is back the same server process serves again (its pool
reconnects by itself) and every acknowledged create is there.
"""

import collections
import http.client
import json
import os
import subprocess
import threading
import time
import unittest
import urllib.parse

from harness import (ADMIN, BACKEND, REQUEST_TIMEOUT, ServerTestCase, ZebrosServer, cli,
                     quote_param, stop_and_clean, unique, wait_until)

# docs/operations.md: custom-field schemas are cached per node for 1 s, credentials for 5 s.
# The limits add slack for a loaded machine and an ASan build.
SCHEMA_PROPAGATION_LIMIT = 3.0
KEY_REVOCATION_LIMIT = 8.0
# No request may take this long, database down or not (well under the harness's timeout).
REQUEST_TIMEOUT_LIMIT = 15.0
# A statement sent to a server that then stops is given up after the statement timeout (10 s)
# and a grace of 5 s for the server's own cancel (PgOptions); the limit adds slack.
STOPPED_SERVER_LIMIT = 20.0
# Conflicting requests race better the more often they are sent.
RACE_ROUNDS = 10


def setUpModule():
    if BACKEND != "postgres":
        raise unittest.SkipTest("several nodes on one database and PostgreSQL restarts need "
                                "ZEBROS_TEST_BACKEND=postgres")


def list_all(server, object_name, query, limit=500):
    """Every record of a list on `server`, following next_cursor."""
    records, cursor = [], None
    for _ in range(1000):
        params = [f"limit={limit}", query] + (["cursor=" + quote_param(cursor)] if cursor else [])
        resp = server.api("GET", f"/api/v1/{object_name}?" + "&".join(params))
        if resp.status != 200:
            raise AssertionError(f"list {object_name}?{query} on :{server.port}: "
                                 f"{resp.status} {resp.body!r}")
        records += resp.body["data"]
        cursor = resp.body["next_cursor"]
        if cursor is None:
            return records
    raise AssertionError("list never ended")


def at_once(nodes, *calls):
    """Runs each zero-argument callable on its own thread, released together by a barrier;
    returns their results in order (re-raises the first exception). Each thread connects to
    every one of `nodes` before the barrier (so the racing requests leave together) and closes
    those connections when done."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            for node in nodes:  # open the keep-alive connections before the race
                node.api("GET", "/healthz", key=None)
            barrier.wait(timeout=REQUEST_TIMEOUT)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)
        finally:
            for node in nodes:
                node._drop_connection()

    threads = [threading.Thread(target=run, args=(i, call), daemon=True)
               for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT * 2)
        if thread.is_alive():
            raise AssertionError("a concurrent request did not finish")
    if errors:
        raise errors[0]
    return results


class TwoNodesTestCase(ServerTestCase):
    """`server` (node A, fresh database) and `node_b` (own data dir, A's database and key)."""

    node_b: ZebrosServer = None
    # Behind one load balancer the nodes share one public URL, so one token issuer.
    PUBLIC_URL = "http://crm.example.test"

    @classmethod
    def serve_args(cls):
        return ["--public-url", cls.PUBLIC_URL]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node_b = ZebrosServer(database_url=cls.server.database_url,
                                  admin_key=cls.server.admin_key, extra_args=cls.serve_args())
        cls.addClassCleanup(cls._stop_server, cls.node_b)
        cls.node_b.start()

    @property
    def a(self):
        return self.server

    @property
    def b(self):
        return self.node_b

    def setUp(self):
        for node in (self.a, self.b):
            self.assertTrue(node.running, f"node :{node.port} is not running")

    def assert_lists(self, node, query, ids, message=""):
        listed = [record["id"] for record in list_all(node, "contacts", query)]
        self.assertEqual(sorted(listed), sorted(ids), f"{query} on :{node.port} {message}")


class TwoNodesTest(TwoNodesTestCase):

    # ---- one writer, the other reads ---------------------------------------------------------

    def test_nodes_are_distinct_processes_on_one_database(self):
        self.assertNotEqual(self.a.port, self.b.port)
        self.assertNotEqual(self.a.data_dir, self.b.data_dir)
        self.assertEqual(self.a.database_url, self.b.database_url)
        for node in (self.a, self.b):
            self.assertEqual(node.api("GET", "/readyz", key=None).status, 200)

    def test_a_create_on_a_is_readable_on_b_at_once(self):
        marker = unique("Lovelace")
        created = self.a.api("POST", "/api/v1/contacts",
                             {"first_name": "Ada", "last_name": marker,
                              "email": f"{marker.lower()}@nodes.example"})
        self.assertEqual(created.status, 201, created.body)
        record = created.body

        fetched = self.b.api("GET", f"/api/v1/contacts/{record['id']}")
        self.assertEqual(fetched.status, 200, fetched.body)
        self.assertEqual(fetched.body, record)
        self.assertEqual(fetched.header("etag"), created.header("etag"))

        listed = self.b.api("GET", f"/api/v1/contacts?filter[last_name]={marker}")
        self.assertEqual(listed.status, 200, listed.body)
        self.assertEqual(listed.body["data"], [record])

        found = self.b.api("GET", f"/api/v1/contacts?q={marker.lower()}")
        self.assertEqual(found.status, 200, found.body)
        self.assertEqual([r["id"] for r in found.body["data"]], [record["id"]])
        searched = self.b.api("POST", "/api/v1/contacts/search", {"q": f"ada {marker}"})
        self.assertEqual(searched.status, 200, searched.body)
        self.assertEqual([r["id"] for r in searched.body["data"]], [record["id"]])

    def test_an_update_on_b_is_seen_on_a_with_the_new_etag_and_version(self):
        created = self.a.api("POST", "/api/v1/contacts", {"last_name": unique("Upd")})
        self.assertEqual(created.status, 201, created.body)
        path = f"/api/v1/contacts/{created.body['id']}"

        updated = self.b.api("PATCH", path, {"title": "Countess"},
                             headers={"If-Match": created.header("etag")})
        self.assertEqual(updated.status, 200, updated.body)
        self.assertEqual(updated.body["version"], 2)
        self.assertNotEqual(updated.header("etag"), created.header("etag"))

        seen = self.a.api("GET", path)
        self.assertEqual(seen.status, 200, seen.body)
        self.assertEqual(seen.body, updated.body)
        self.assertEqual(seen.body["title"], "Countess")
        self.assertEqual(seen.header("etag"), updated.header("etag"))
        # A's idea of the old ETag is stale too: a conditional GET and PATCH say so.
        self.assertEqual(self.a.api("GET", path,
                                    headers={"If-None-Match": created.header("etag")}).status,
                         200)
        self.assert_problem(self.a.api("PATCH", path, {"title": "late"},
                                       headers={"If-Match": created.header("etag")}),
                            412, "precondition_failed")

    def test_a_page_node_a_keeps_is_never_shown_after_a_write_on_node_b(self):
        # The page cache is per node; its generation is the tenant's audit head, in the database.
        marker = unique("Cached")
        path = f"/api/v1/contacts?filter%5Bdepartment%5D={marker}&sort=last_name"
        search = {"q": marker.lower(), "limit": 50}
        names = lambda resp: [r["last_name"] for r in resp.body["data"]]  # noqa: E731
        first = self.a.api("POST", "/api/v1/contacts",
                           {"first_name": marker, "last_name": "Adams", "department": marker})
        self.assertEqual(first.status, 201, first.body)
        for _ in range(2):  # the second is answered from A's page cache
            self.assertEqual(names(self.a.api("GET", path)), ["Adams"])
            self.assertEqual(names(self.a.api("POST", "/api/v1/contacts/search", search)), ["Adams"])
        made = self.b.api("POST", "/api/v1/contacts",
                          {"first_name": marker, "last_name": "Brown", "department": marker})
        self.assertEqual(made.status, 201, made.body)
        self.assertEqual(names(self.a.api("GET", path)), ["Adams", "Brown"])
        self.assertEqual(sorted(names(self.a.api("POST", "/api/v1/contacts/search", search))),
                         ["Adams", "Brown"])
        gone = self.b.api("DELETE", f"/api/v1/contacts/{first.body['id']}")
        self.assertEqual(gone.status, 204, gone.body)
        self.assertEqual(names(self.a.api("GET", path)), ["Brown"])

    def test_a_key_made_on_a_works_on_b_and_its_revocation_on_a_reaches_b(self):
        made = self.a.api("POST", "/api/v1/api-keys", {"name": unique("k"), "role": "admin"})
        self.assertEqual(made.status, 201, made.body)
        key = made.body["key"]
        self.assertEqual(self.b.api("GET", "/api/v1/contacts?limit=1", key=key).status, 200)
        self.assertEqual(self.a.api("DELETE", f"/api/v1/api-keys/{made.body['id']}").status, 204)
        revoked = time.monotonic()
        self.assert_problem(self.a.api("GET", "/api/v1/contacts?limit=1", key=key), 401,
                            "unauthenticated")
        wait_until(lambda: self.b.api("GET", "/api/v1/contacts?limit=1", key=key).status == 401,
                   KEY_REVOCATION_LIMIT, "node B to refuse a key revoked on node A")
        print(f"\n[test_pg_nodes] key revoked on A refused on B after "
              f"{time.monotonic() - revoked:.3f}s", flush=True)
        # The bootstrap key still works on both.
        for node in (self.a, self.b):
            self.assertEqual(node.api("GET", "/api/v1/contacts?limit=1").status, 200)

    # ---- conflicting writes sent to both nodes at the same moment ----------------------------

    def test_a_token_issued_by_a_verifies_on_b_as_both_publish_the_same_keys(self):
        with open(os.path.join(self.a.data_dir, "bootstrap-admin-password")) as f:
            password = f.read().strip()
        form = urllib.parse.urlencode({"grant_type": "password", "client_id": "zebros-cli",
                                       "username": "admin", "password": password}).encode()
        issued = self.a.api("POST", "/realms/default/protocol/openid-connect/token", form,
                            headers={"Content-Type": "application/x-www-form-urlencoded"},
                            key=None)
        self.assertEqual(issued.status, 200, issued.body)
        token = issued.body["access_token"]
        me = self.b.api("GET", "/api/v1/me", key=token)
        self.assertEqual(me.status, 200, me.body)
        self.assertEqual(me.body["role"], "admin")
        certs = [node.api("GET", "/realms/default/protocol/openid-connect/certs", key=None)
                 for node in (self.a, self.b)]
        self.assertEqual([c.status for c in certs], [200, 200])
        self.assertEqual(certs[0].body["keys"], certs[1].body["keys"])

    def test_the_same_idempotency_key_on_both_nodes_at_once_creates_one_record(self):
        for round_ in range(RACE_ROUNDS):
            with self.subTest(round=round_):
                marker = unique("Idem")
                body = {"last_name": marker, "title": "same body"}
                headers = {"Idempotency-Key": unique("idem-")}
                first, second = at_once(
                    (self.a, self.b),
                    lambda: self.a.api("POST", "/api/v1/contacts", body, headers=headers),
                    lambda: self.b.api("POST", "/api/v1/contacts", body, headers=headers))
                self.assertEqual((first.status, second.status), (201, 201),
                                 f"A: {first.body!r} B: {second.body!r}")
                self.assertEqual(first.body, second.body)
                self.assertEqual(first.header("etag"), second.header("etag"))
                replayed = sorted(r.header("idempotent-replayed", "") for r in (first, second))
                self.assertEqual(replayed, ["", "true"], "exactly one answer is the replay")
                for node in (self.a, self.b):
                    self.assert_lists(node, f"filter[last_name]={marker}", [first.body["id"]])

    def test_two_patches_with_the_same_if_match_on_both_nodes_one_wins(self):
        for round_ in range(RACE_ROUNDS):
            with self.subTest(round=round_):
                created = self.a.api("POST", "/api/v1/contacts", {"last_name": unique("Race")})
                self.assertEqual(created.status, 201, created.body)
                path = f"/api/v1/contacts/{created.body['id']}"
                etag = {"If-Match": created.header("etag")}
                from_a, from_b = at_once(
                    (self.a, self.b),
                    lambda: self.a.api("PATCH", path, {"title": "from A"}, headers=etag),
                    lambda: self.b.api("PATCH", path, {"title": "from B"}, headers=etag))
                statuses = sorted((from_a.status, from_b.status))
                self.assertEqual(statuses, [200, 412], f"A: {from_a.body!r} B: {from_b.body!r}")
                winner, loser = (from_a, from_b) if from_a.status == 200 else (from_b, from_a)
                self.assert_problem(loser, 412, "precondition_failed")
                self.assertEqual(winner.body["version"], 2)
                for node in (self.a, self.b):
                    final = node.api("GET", path)
                    self.assertEqual(final.status, 200, final.body)
                    self.assertEqual(final.body, winner.body)
                    self.assertEqual(final.header("etag"), winner.header("etag"))
                    self.assertIn(final.body["title"], ("from A", "from B"))

    def test_the_same_unique_value_created_on_both_nodes_at_once_is_one_201_one_409(self):
        schema = self.a.api("GET", "/api/v1/schema/contacts").body
        fields = {field["name"]: field for field in schema["fields"]}
        self.assertTrue(fields["email"]["unique"], "contacts.email is no longer unique")
        for round_ in range(RACE_ROUNDS):
            with self.subTest(round=round_):
                email = f"{unique('dup')}@nodes.example"
                from_a, from_b = at_once(
                    (self.a, self.b),
                    lambda: self.a.api("POST", "/api/v1/contacts",
                                       {"last_name": "FromA", "email": email}),
                    lambda: self.b.api("POST", "/api/v1/contacts",
                                       {"last_name": "FromB", "email": email}))
                statuses = sorted((from_a.status, from_b.status))
                self.assertEqual(statuses, [201, 409], f"A: {from_a.body!r} B: {from_b.body!r}")
                winner, loser = (from_a, from_b) if from_a.status == 201 else (from_b, from_a)
                self.assert_problem(loser, 409, "conflict")
                self.assertIn(("email", "unique"), self.field_errors(loser))
                for node in (self.a, self.b):
                    listed = list_all(node, "contacts", f"filter[email]={quote_param(email)}")
                    self.assertEqual(listed, [winner.body], f"on :{node.port}")

    def test_a_custom_unique_value_created_on_both_nodes_at_once_is_one_201_one_409(self):
        # A custom unique field has no unique index: only the value's turn (an advisory lock
        # per value, held to the commit) keeps two nodes from both finding it free.
        field = unique("code_")
        added = self.a.api("POST", "/api/v1/schema/contacts/fields",
                           {"name": field, "type": "text", "unique": True, "label": field})
        self.assertEqual(added.status, 201, added.body)
        wait_until(lambda: self.b.api("GET", f"/api/v1/contacts?filter[{field}]=x").status == 200,
                   SCHEMA_PROPAGATION_LIMIT, f"node B to know {field}")
        for round_ in range(RACE_ROUNDS):
            with self.subTest(round=round_):
                value = unique("v")
                from_a, from_b = at_once(
                    (self.a, self.b),
                    lambda: self.a.api("POST", "/api/v1/contacts",
                                       {"last_name": "FromA", field: value}),
                    lambda: self.b.api("POST", "/api/v1/contacts",
                                       {"last_name": "FromB", field: value}))
                statuses = sorted((from_a.status, from_b.status))
                self.assertEqual(statuses, [201, 409], f"A: {from_a.body!r} B: {from_b.body!r}")
                winner, loser = (from_a, from_b) if from_a.status == 201 else (from_b, from_a)
                self.assertIn((field, "unique"), self.field_errors(loser))
                for node in (self.a, self.b):
                    self.assert_lists(node, f"filter[{field}]={value}", [winner.body["id"]])

    def test_the_same_upsert_key_on_both_nodes_at_once_makes_one_record(self):
        for round_ in range(RACE_ROUNDS):
            with self.subTest(round=round_):
                email = f"{unique('ups')}@nodes.example"

                def upsert(node, title):
                    return node.api("POST", "/api/v1/contacts/batch", {"upsert": {
                        "key": "email",
                        "records": [{"email": email, "last_name": "Upsert", "title": title}]}})
                from_a, from_b = at_once((self.a, self.b), lambda: upsert(self.a, "from A"),
                                         lambda: upsert(self.b, "from B"))
                self.assertEqual((from_a.status, from_b.status), (200, 200),
                                 f"A: {from_a.body!r} B: {from_b.body!r}")
                for node in (self.a, self.b):
                    listed = list_all(node, "contacts", f"filter[email]={quote_param(email)}")
                    self.assertEqual(len(listed), 1, f"on :{node.port}: {listed!r}")
                    self.assertEqual(listed[0]["version"], 2, "one upsert created, one updated")
                    self.assertIn(listed[0]["title"], ("from A", "from B"))

    def test_200_creates_spread_over_both_nodes_from_8_threads(self):
        title = unique("spread")
        threads, per_thread = 8, 25
        results = collections.defaultdict(list)  # thread -> [(node port, status, body)]

        def work(worker):
            for n in range(per_thread):
                node = (self.a, self.b)[(worker + n) % 2]
                resp = node.api("POST", "/api/v1/contacts",
                                {"first_name": f"T{worker}", "last_name": f"N{n:03d}",
                                 "title": title})
                results[worker].append((node.port, resp.status, resp.body))
        at_once((self.a, self.b),
                *[lambda worker=worker: work(worker) for worker in range(threads)])

        created = [body for worker in range(threads) for _, status, body in results[worker]
                   if status == 201]
        failures = [(port, status, body) for worker in range(threads)
                    for port, status, body in results[worker] if status != 201]
        self.assertEqual(failures, [])
        ids = [record["id"] for record in created]
        self.assertEqual(len(ids), threads * per_thread)
        self.assertEqual(len(set(ids)), len(ids), "two creates got the same id")
        by_id = {record["id"]: record for record in created}
        for node in (self.a, self.b):
            for record_id, record in by_id.items():
                fetched = node.api("GET", f"/api/v1/contacts/{record_id}")
                self.assertEqual(fetched.status, 200, f"{record_id} on :{node.port}")
                self.assertEqual(fetched.body, record)
            self.assert_lists(node, f"filter[title]={title}", ids)


class CustomFieldAcrossNodesTest(TwoNodesTestCase):
    """Its own pair of nodes and database: while a custom field is known to one node only, the
    two render records differently, which must not spill into TwoNodesTest's comparisons."""

    def test_a_custom_field_added_on_a_becomes_usable_on_b(self):
        field = unique("f_")
        # Both nodes have used the tenant's schema before the field is added (a node that
        # reads the schema only afterwards would learn the field for free).
        for node in (self.a, self.b):
            self.assertNotIn(field, self._field_names(node))
            self.assertEqual(node.api("POST", "/api/v1/contacts",
                                      {"last_name": unique("Before")}).status, 201)
        added = self.a.api("POST", "/api/v1/schema/contacts/fields",
                           {"name": field, "type": "text", "indexed": True, "label": field})
        self.assertEqual(added.status, 201, added.body)
        added_at = time.monotonic()
        on_a = self.a.api("POST", "/api/v1/contacts", {"last_name": unique("CfA"), field: "emea"})
        self.assertEqual(on_a.status, 201, on_a.body)

        # B may learn about the field a little later, but within SCHEMA_PROPAGATION_LIMIT.
        last = {}

        def b_knows_the_field():
            resp = self.b.api("GET", f"/api/v1/contacts?filter[{field}]=emea")
            last["resp"] = resp
            return resp.status == 200
        try:
            wait_until(b_knows_the_field, SCHEMA_PROPAGATION_LIMIT,
                       f"node B to accept filter[{field}] (custom field added on node A)")
        except AssertionError as error:
            resp = last["resp"]
            raise AssertionError(f"{error}; B's last answer: {resp.status} {resp.body!r}; "
                                 f"B's GET /schema/contacts field names: "
                                 f"{self._field_names(self.b)}") from None
        delay = time.monotonic() - added_at
        print(f"\n[test_pg_nodes] custom field {field} usable on node B {delay:.3f}s after "
              f"node A added it", flush=True)

        self.assertIn(field, self._field_names(self.b))
        on_b = self.b.api("POST", "/api/v1/contacts", {"last_name": unique("CfB"), field: "emea"})
        self.assertEqual(on_b.status, 201, on_b.body)
        self.assertEqual(on_b.body[field], "emea")
        self.assertEqual(self.b.api("GET", f"/api/v1/contacts/{on_a.body['id']}").body, on_a.body)
        ids = [on_a.body["id"], on_b.body["id"]]
        for node in (self.a, self.b):
            self.assert_lists(node, f"filter[{field}]=emea", ids)

    def _field_names(self, node):
        resp = node.api("GET", "/api/v1/schema/contacts")
        self.assertEqual(resp.status, 200, resp.body)
        return [f["name"] for f in resp.body["fields"]]


class Writers:
    """`threads` workers POSTing contacts on their own keep-alive connections until stopped.

    Unlike test_durability's Flood they carry on through errors: each exchange is recorded in
    `exchanges` as a dict (worker, started, finished, status, content_type, retry_after, body,
    error); a failed exchange has status None and the exception's repr in `error`, and the
    worker reconnects."""

    def __init__(self, server, title, threads=4):
        self.port, self.key, self.title = server.port, server.admin_key, title
        self.cond = threading.Condition()
        self.exchanges = []
        self.stop_requested = threading.Event()
        self.workers = [threading.Thread(target=self._work, args=(i,), daemon=True)
                        for i in range(threads)]

    def start(self):
        for worker in self.workers:
            worker.start()
        return self

    def _connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)

    def _work(self, worker):
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        conn = self._connect()
        try:
            for n in range(1, 10 ** 9):
                if self.stop_requested.is_set():
                    return
                body = {"first_name": f"W{worker}", "last_name": f"N{n:06d}", "title": self.title,
                        "email": f"w{worker}.n{n}.{self.title.lower()}@outage.example"}
                exchange = {"worker": worker, "n": n, "status": None, "error": None}
                exchange["started"] = time.monotonic()
                try:
                    conn.request("POST", "/api/v1/contacts", json.dumps(body), headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    exchange.update(
                        status=resp.status, content_type=resp.getheader("Content-Type", ""),
                        retry_after=resp.getheader("Retry-After"))
                    try:
                        exchange["body"] = json.loads(data)
                    except ValueError:
                        exchange["body"] = data
                    if resp.will_close:
                        conn.close()
                        conn = self._connect()
                except (OSError, http.client.HTTPException) as error:
                    exchange["error"] = repr(error)
                    conn.close()
                    conn = self._connect()
                exchange["finished"] = time.monotonic()
                with self.cond:
                    self.exchanges.append(exchange)
                    self.cond.notify_all()
        finally:
            conn.close()

    def snapshot(self):
        with self.cond:
            return list(self.exchanges)

    def count(self, predicate):
        with self.cond:
            return sum(1 for exchange in self.exchanges if predicate(exchange))

    def wait_for(self, predicate, count, timeout, message):
        """Waits until `count` exchanges satisfy `predicate`; AssertionError after `timeout`."""
        with self.cond:
            ok = self.cond.wait_for(
                lambda: sum(1 for e in self.exchanges if predicate(e)) >= count, timeout)
            if not ok:
                seen = collections.Counter((e["status"], e["error"]) for e in self.exchanges)
                raise AssertionError(f"timed out after {timeout}s waiting for {count} {message}; "
                                     f"exchanges so far: {seen}")

    def stop(self, timeout=REQUEST_TIMEOUT * 2):
        self.stop_requested.set()
        for worker in self.workers:
            worker.join(timeout)
        if any(worker.is_alive() for worker in self.workers):
            raise AssertionError("writers did not stop")


def holding_in_psql(test, statements):
    """A psql session on test.server's database that has run `statements` (ending in one that
    prints 'locked') in a transaction it keeps open until its stdin closes; write COMMIT first."""
    import pg_cluster
    holder = subprocess.Popen(
        [os.path.join(pg_cluster.cluster().bindir, "psql"), "-X", "-q", "-A", "-t",
         "-v", "ON_ERROR_STOP=1", "-d", test.server.database_url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    test.addCleanup(holder.stdout.close)
    test.addCleanup(holder.wait, 30)
    test.addCleanup(holder.stdin.close)
    holder.stdin.write(b"BEGIN; " + statements.encode() + b"\n")
    holder.stdin.flush()
    test.assertEqual(holder.stdout.readline().strip(), b"locked")
    return holder


class SlowSearchTest(ServerTestCase):

    SEARCHES = 6  # more than the server has I/O threads or read workers

    def hold_term_table(self):
        """A psql session holding the contacts' term table locked until its stdin closes."""
        return holding_in_psql(self, "LOCK TABLE fts_contacts IN ACCESS EXCLUSIVE MODE;"
                                     " SELECT 'locked';")

    def waiting_on_the_term_table(self):
        return int(self.server.sql("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                   " AND relation = 'fts_contacts'::regclass")[0][0])

    def test_gets_are_answered_while_searches_wait_on_the_database(self):
        # One term of letters: the search reads the term table.
        name = "Slow" + "".join(chr(ord("a") + int(c, 16)) for c in unique("")[:10])
        record = self.create("contacts", {"first_name": name})
        holder = self.hold_term_table()
        answers = []

        def search():
            conn = self.server.connection()
            try:
                conn.request("POST", "/api/v1/contacts/search", body=json.dumps({"q": name}),
                             headers={"Authorization": f"Bearer {self.server.admin_key}",
                                      "Content-Type": "application/json",
                                      "Cache-Control": "no-store"})
                response = conn.getresponse()
                answers.append((response.status, json.loads(response.read())))
            finally:
                conn.close()

        searches = [threading.Thread(target=search) for _ in range(self.SEARCHES)]
        for thread in searches:
            thread.start()
        try:
            wait_until(lambda: self.waiting_on_the_term_table() >= 2, 30,
                       "searches waiting for the term table")
            for _ in range(5):
                got = self.api("GET", f"/api/v1/contacts/{record['id']}", timeout=5)
                self.assertEqual(got.status, 200, got.body)
                self.assertEqual(got.body["first_name"], name)
            self.assertEqual(answers, [], "a search was answered while the table was locked")
        finally:
            holder.stdin.write(b"COMMIT;\n")
            holder.stdin.close()
            for thread in searches:
                thread.join(REQUEST_TIMEOUT)
        self.assertEqual(len(answers), self.SEARCHES)
        for status, body in answers:
            self.assertEqual(status, 200, body)
            self.assertEqual([r["id"] for r in body["data"]], [record["id"]])


class TenantWriteLockTest(ServerTestCase):
    """A write group takes its tenant's write lock (the audit chain's) last, after its own
    statements: while another node's group holds it through its commit, a create's row is
    already written, and only its audit entry and commit wait."""

    def hold_tenant_lock(self):
        """A psql session holding the default tenant's write lock until its stdin closes (the
        key is sql::TenantWriteLockKey's: if that changes, the create never waits here)."""
        tenant = self.server.sql("SELECT id FROM tenants WHERE name = 'default'")[0][0]
        return holding_in_psql(self, "SELECT 'locked' FROM (SELECT pg_advisory_xact_lock("
                                     f"hashtextextended('audit:{tenant}', 0))) AS held;")

    def writers_waiting(self):
        """(pid, holds a row lock on obj_contacts) of each backend waiting for an advisory lock."""
        rows = self.server.sql(
            "SELECT w.pid, EXISTS (SELECT 1 FROM pg_locks h WHERE h.pid = w.pid AND h.granted"
            " AND h.relation = 'obj_contacts'::regclass AND h.mode = 'RowExclusiveLock')"
            " FROM pg_locks w WHERE NOT w.granted AND w.locktype = 'advisory'")
        return [(pid, holds == "t") for pid, holds in rows]

    def test_a_create_writes_its_row_before_it_waits_for_the_tenants_lock(self):
        name = unique("Late")
        before = len(self.sql("SELECT 1 FROM audit_log"))
        holder = self.hold_tenant_lock()
        answers = []

        def create():
            try:
                answers.append(self.server.api("POST", "/api/v1/contacts", {"last_name": name}))
            finally:
                self.server._drop_connection()
        thread = threading.Thread(target=create)
        thread.start()
        try:
            wait_until(lambda: self.writers_waiting(), 30, "a create waiting for the tenant lock")
            self.assertEqual([holds for _, holds in self.writers_waiting()], [True],
                             "the waiting writer has not inserted its row yet")
            self.assertEqual(answers, [], "the create was answered while its chain was locked")
        finally:
            holder.stdin.write(b"COMMIT;\n")
            holder.stdin.close()
            thread.join(REQUEST_TIMEOUT)
        self.assertEqual(len(answers), 1)
        self.assertEqual(answers[0].status, 201, answers[0].body)
        entries = self.sql("SELECT action, record_id FROM audit_log ORDER BY seq")
        self.assertEqual(len(entries), before + 1)
        self.assertEqual(entries[-1], ("record.create", answers[0].body["id"]))
        verified = cli(self.server.data_dir, "admin", "verify-audit")
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)


def assert_unavailable(test, exchange):
    """A 503 database_unavailable problem with Retry-After."""
    test.assertEqual(exchange["status"], 503, describe(exchange))
    test.assertTrue(exchange["content_type"].startswith("application/problem+json"),
                    describe(exchange))
    test.assertIsInstance(exchange["body"], dict, describe(exchange))
    test.assertEqual(exchange["body"].get("code"), "database_unavailable", describe(exchange))
    test.assertEqual(exchange["body"].get("status"), 503, describe(exchange))
    test.assertTrue(exchange["retry_after"], describe(exchange))


def describe(exchange):
    return {name: exchange.get(name) for name in
            ("worker", "n", "path", "status", "error", "content_type", "retry_after", "body")} | {
        "duration": round(exchange["finished"] - exchange["started"], 3)}


class PostgresRestartUnderWriteLoadTest(ServerTestCase):

    def setUp(self):
        import pg_cluster
        self.cluster = pg_cluster.cluster()
        self.assertTrue(self.server.running)

    def ready_status(self):
        return self.api("GET", "/readyz", key=None).status

    def assert_unavailable(self, exchange):
        assert_unavailable(self, exchange)

    def test_writes_fail_fast_with_503_while_postgres_is_down_and_resume_after(self):
        title = unique("outage")
        writers = Writers(self.server, title).start()
        try:
            writers.wait_for(lambda e: e["status"] == 201, 100, 60, "acknowledged creates")
            stopping = time.monotonic()
            self.cluster.stop(mode="immediate")
            stopped = time.monotonic()
            try:
                # Keep writing for a couple of seconds, with enough answers to mean something.
                wait_until(lambda: time.monotonic() - stopped >= 2.0 and writers.count(
                    lambda e: e["started"] >= stopped) >= 20, 30,
                    "20 write answers and 2 s with PostgreSQL down")
                ready_while_down = self.ready_status()
                health_while_down = self.api("GET", "/healthz", key=None).status
                # A GET by id (the read pipeline's connection died with the server): 503 too.
                stored_id = next(e["body"]["id"] for e in writers.snapshot()
                                 if e["status"] == 201)
                get_while_down = self.api("GET", f"/api/v1/contacts/{stored_id}")
                restarting = time.monotonic()
            finally:
                self.cluster.start()
            restarted = time.monotonic()
            self.assertEqual(ready_while_down, 503, "GET /readyz with PostgreSQL down")
            self.assertEqual(health_while_down, 200, "GET /healthz (process up) with PostgreSQL "
                                                     "down")
            self.assertEqual(get_while_down.status, 503, get_while_down)
            self.assertEqual(get_while_down.body.get("code"), "database_unavailable",
                             get_while_down)
            self.assertTrue(get_while_down.header("Retry-After"), get_while_down)
            wait_until(lambda: self.ready_status() == 200, 30,
                       "GET /readyz 200 after PostgreSQL came back")
            writers.wait_for(lambda e: e["status"] == 201 and e["started"] >= restarted, 20,
                             30, "acknowledged creates after PostgreSQL came back")
        finally:
            writers.stop()
            self.cluster.start()  # later tests of this process need it

        exchanges = writers.snapshot()
        print(f"\n[test_pg_nodes] outage: "
              f"{collections.Counter((e['status'], e['error']) for e in exchanges)}; "
              f"slowest {max(e['finished'] - e['started'] for e in exchanges):.3f}s; "
              f"readyz 200 {time.monotonic() - restarted:.3f}s after start (upper bound)",
              flush=True)
        for exchange in exchanges:
            self.assertIsNone(exchange["error"], describe(exchange))
            self.assertLess(exchange["finished"] - exchange["started"], REQUEST_TIMEOUT_LIMIT,
                            describe(exchange))
            if exchange["status"] != 201:
                self.assert_unavailable(exchange)
        down = [e for e in exchanges if e["started"] >= stopped and e["finished"] <= restarting]
        self.assertGreaterEqual(len(down), 20)
        for exchange in down:
            self.assert_unavailable(exchange)  # no 201 without a database
        before = [e for e in exchanges if e["finished"] <= stopping]
        self.assertEqual({e["status"] for e in before}, {201})

        acked = [e["body"] for e in exchanges if e["status"] == 201]
        self.assertGreaterEqual(len(acked), 120)
        for record in acked:
            fetched = self.api("GET", f"/api/v1/contacts/{record['id']}")
            self.assertEqual(fetched.status, 200, f"acknowledged {record['id']} lost")
            self.assertEqual(fetched.body, record)
        listed = {record["id"] for record in self.list_all("contacts", f"filter[title]={title}")}
        missing = {record["id"] for record in acked} - listed
        self.assertEqual(missing, set(), "acknowledged creates missing from the list")
        # The cluster is back for the rest of this process, and holds what the list showed.
        stored = self.sql("SELECT count(*) FROM obj_contacts WHERE title = ?", (title,))
        self.assertEqual(stored, [(str(len(listed)),)])


# docs/operations.md: the connect timeout is 5 s. A liveness probe answered in less than this
# waited on no attempt to connect.
LIVENESS_LIMIT = 2.0


def timed_exchange(server, method, path, body=None, key=ADMIN, extra_headers=None):
    """One request on a connection of its own: a dict as Writers records (and `path`)."""
    exchange = {"path": path, "status": None, "error": None, "started": time.monotonic()}
    headers = {"Content-Type": "application/json"} | (extra_headers or {})
    if key is ADMIN:
        headers["Authorization"] = f"Bearer {server.admin_key}"
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        resp = conn.getresponse()
        data = resp.read()
        exchange.update(status=resp.status, content_type=resp.getheader("Content-Type", ""),
                        retry_after=resp.getheader("Retry-After"))
        try:
            exchange["body"] = json.loads(data)
        except ValueError:
            exchange["body"] = data
    except (OSError, http.client.HTTPException) as error:
        exchange["error"] = repr(error)
    finally:
        conn.close()
    exchange["finished"] = time.monotonic()
    return exchange


def exchanges_probing_liveness(server, calls, min_probes, interval, also=()):
    """Runs each call (method, path, body, extra headers) on a connection and thread of its own,
    and each callable of `also` on a thread, probing `GET /healthz` every `interval` seconds until
    all have ended (at least `min_probes` times). Returns the calls' exchanges and the probes'."""
    results = [None] * len(calls)

    def run(index, method, path, body, headers):
        results[index] = timed_exchange(server, method, path, body, extra_headers=headers)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    threads += [threading.Thread(target=work) for work in also]
    for thread in threads:
        thread.start()
    probes = []
    while any(thread.is_alive() for thread in threads) or len(probes) < min_probes:
        probes.append(timed_exchange(server, "GET", "/healthz", key=None))
        time.sleep(interval)
    for thread in threads:
        thread.join()
    return results, probes


class HungDatabaseTest(unittest.TestCase):
    """PostgreSQL that takes connections and never answers (a hung server, or one the network
    cut off after the handshake), played by a proxy in front of the suite's cluster: the node's
    I/O threads never wait on it (liveness answered at once throughout), every request that
    needs the database gets 503 `database_unavailable` with Retry-After within the timeouts,
    and the node serves again by itself once the database answers."""

    @classmethod
    def setUpClass(cls):
        import pg_cluster
        from db_proxy import HangingProxy
        cluster = pg_cluster.cluster()
        cls.proxy = HangingProxy(cluster.port)
        cls.addClassCleanup(cls.proxy.close)
        cls.server = ZebrosServer(database_url=cls.proxy.url_for(cluster.create_database()))
        cls.addClassCleanup(stop_and_clean, cls.server)
        cls.server.start()

    def assert_unavailable(self, exchange):
        assert_unavailable(self, exchange)
        self.assertLess(exchange["finished"] - exchange["started"], REQUEST_TIMEOUT_LIMIT,
                        describe(exchange))

    def test_liveness_is_answered_at_once_and_the_rest_fail_as_an_outage_until_it_answers(self):
        title = unique("hung")
        created = self.server.api("POST", "/api/v1/contacts",
                                  {"first_name": "Hung", "last_name": "Server", "title": title})
        self.assertEqual(created.status, 201, created)
        record = created.body
        path = f"/api/v1/contacts/{record['id']}"
        self.assertEqual(self.server.api("GET", path).status, 200)
        self.assertEqual(self.server.api("GET", "/readyz", key=None).status, 200)

        self.proxy.hang()
        try:
            calls = [("GET", path, None, None)] * 4 + [
                ("POST", "/api/v1/contacts/search", {"q": "hung server"}, None),
                ("GET", f"/api/v1/contacts?filter[title]={title}", None, None),
                ("POST", "/api/v1/contacts",
                 {"first_name": "Never", "last_name": "Stored", "title": title}, None),
            ]
            ready = {}
            # Liveness throughout, the connect timeout included.
            results, probes = exchanges_probing_liveness(
                self.server, calls, min_probes=5, interval=0.2,
                also=[lambda: ready.update(
                    timed_exchange(self.server, "GET", "/readyz", key=None))])
            # Once an attempt has failed, the next are told at once.
            again = timed_exchange(self.server, "GET", path)
        finally:
            self.proxy.forward()

        print(f"\n[test_pg_nodes] hung database: "
              f"{[(e['path'], e['status'], round(e['finished'] - e['started'], 3)) for e in results]}"
              f"; readyz {ready.get('status')} in {ready['finished'] - ready['started']:.3f}s; "
              f"{len(probes)} liveness probes, slowest "
              f"{max(p['finished'] - p['started'] for p in probes):.3f}s", flush=True)
        for probe in probes:
            self.assertIsNone(probe["error"], describe(probe))
            self.assertEqual(probe["status"], 200, describe(probe))
            self.assertLess(probe["finished"] - probe["started"], LIVENESS_LIMIT,
                            describe(probe))
        for exchange in results + [again]:
            self.assertIsNone(exchange["error"], describe(exchange))
            self.assert_unavailable(exchange)
        self.assertEqual(ready["status"], 503, describe(ready))
        self.assertEqual(ready["body"].get("code"), "unavailable", describe(ready))
        self.assertTrue(ready["retry_after"], describe(ready))
        self.assertLess(ready["finished"] - ready["started"], REQUEST_TIMEOUT_LIMIT)

        # Back by itself: the same record, and writes again; the refused create left nothing.
        wait_until(lambda: self.server.api("GET", "/readyz", key=None).status == 200, 30,
                   "GET /readyz 200 once the database answers")
        fetched = self.server.api("GET", path)
        self.assertEqual((fetched.status, fetched.body), (200, record))
        stored = [r["title"] for r in self.server.api(
            "GET", f"/api/v1/contacts?filter[title]={title}").body["data"]]
        self.assertEqual(stored, [title])
        again = self.server.api("POST", "/api/v1/contacts",
                                {"first_name": "After", "last_name": "Hang", "title": title})
        self.assertEqual(again.status, 201, again)


    def test_a_server_stopped_with_connections_open_costs_a_request_its_statement_timeout(self):
        """What a node sent to a server that stopped with connections open (SIGSTOP, a host that
        hangs while its kernel still acknowledges) waits in buffers; nothing on the wire says no
        answer will come. Each request that used such a connection gets 503 once the statement
        timeout and its grace have passed, the connection is dropped, liveness is answered
        throughout, and a write the node could not learn the outcome of is settled by its
        Idempotency-Key: retried after the server wakes, there is one record, whether the server
        committed it on waking or the retry did."""
        title = unique("stopped")
        created = self.server.api("POST", "/api/v1/contacts",
                                  {"first_name": "Stopped", "last_name": "Server", "title": title})
        self.assertEqual(created.status, 201, created)
        path = f"/api/v1/contacts/{created.body['id']}"
        listed = f"/api/v1/contacts?filter[title]={title}"
        # Connections open on every path: the GET's pipeline, the pool's readers and writers.
        self.assertEqual(self.server.api("GET", path).status, 200)
        self.assertEqual(self.server.api("GET", listed).status, 200)
        self.assertEqual(self.server.api("GET", "/readyz", key=None).status, 200)
        write = {"first_name": "Unknown", "last_name": "Outcome", "title": title}
        idempotency = {"Idempotency-Key": unique("idem-stopped-")}

        self.proxy.freeze()
        try:
            calls = [("GET", path, None, None), ("GET", listed, None, None),
                     ("POST", "/api/v1/contacts", write, idempotency)]
            results, probes = exchanges_probing_liveness(self.server, calls, min_probes=3,
                                                         interval=0.5)
        finally:
            self.proxy.thaw()

        print(f"\n[test_pg_nodes] stopped database: "
              f"{[(e['path'], e['status'], round(e['finished'] - e['started'], 3)) for e in results]}"
              f"; {len(probes)} liveness probes, slowest "
              f"{max(p['finished'] - p['started'] for p in probes):.3f}s", flush=True)
        for probe in probes:
            self.assertEqual(probe["status"], 200, describe(probe))
            self.assertLess(probe["finished"] - probe["started"], LIVENESS_LIMIT, describe(probe))
        for exchange in results:
            self.assertIsNone(exchange["error"], describe(exchange))
            assert_unavailable(self, exchange)
            self.assertLess(exchange["finished"] - exchange["started"], STOPPED_SERVER_LIMIT,
                            describe(exchange))

        wait_until(lambda: self.server.api("GET", "/readyz", key=None).status == 200, 30,
                   "GET /readyz 200 once the database answers")
        retried = self.server.api("POST", "/api/v1/contacts", write, headers=idempotency)
        self.assertIn(retried.status, (200, 201), retried)
        stored = self.server.api("GET", listed).body["data"]
        self.assertEqual(sorted(r["last_name"] for r in stored), ["Outcome", "Server"], stored)
        self.assertEqual([r["id"] for r in stored if r["last_name"] == "Outcome"],
                         [retried.body["id"]])
        fetched = self.server.api("GET", path)
        self.assertEqual((fetched.status, fetched.body), (200, created.body))


if __name__ == "__main__":
    unittest.main()
