"""Durability: what the server acknowledged survives SIGKILL and SIGTERM in the middle of a
write burst, batches stay atomic across a crash, and the database stays sound (SQLite's
integrity check; with PostgreSQL, every acknowledged record is in obj_contacts)."""

import collections
import contextlib
import http.client
import json
import os
import sqlite3
import threading
import unittest

from harness import BACKEND, ServerTestCase, unique


class Flood:
    """`threads` workers, each on its own keep-alive connection, POSTing as fast as they can
    until stopped or until their connection fails (the server went away).

    `make_body(worker, n)` builds the n-th request body of a worker; every body is remembered
    in `sent`, every 2xx response body in `acked`.
    """

    def __init__(self, server, path, make_body, threads=8):
        self.port, self.key = server.port, server.admin_key
        self.path, self.make_body = path, make_body
        self.cond = threading.Condition()
        self.sent = []
        self.acked = []
        self.statuses = collections.Counter()
        self.stop_requested = threading.Event()
        self.workers = [threading.Thread(target=self._work, args=(i,), daemon=True)
                        for i in range(threads)]

    def start(self):
        for worker in self.workers:
            worker.start()
        return self

    def _work(self, worker):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}
        try:
            for n in range(1, 10 ** 9):
                if self.stop_requested.is_set():
                    return
                body = self.make_body(worker, n)
                with self.cond:
                    self.sent.append(body)
                try:
                    conn.request("POST", self.path, json.dumps(body), headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    return  # the server is gone or closed this connection
                with self.cond:
                    self.statuses[resp.status] += 1
                    if 200 <= resp.status < 300:
                        self.acked.append(json.loads(data))
                    self.cond.notify_all()
                if resp.status >= 300 or resp.will_close:
                    return
        finally:
            conn.close()
            with self.cond:
                self.cond.notify_all()

    def wait_for_acks(self, count, timeout):
        """Waits until `count` requests were acknowledged or `timeout` s passed."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.acked) >= count or not self.any_alive(), timeout)
            return len(self.acked)

    def any_alive(self):
        return any(worker.is_alive() for worker in self.workers)

    def stop(self, timeout=60):
        self.stop_requested.set()
        for worker in self.workers:
            worker.join(timeout)
        if self.any_alive():
            raise AssertionError("flood workers did not stop")


class DurabilityTestCase(ServerTestCase):

    def setUp(self):
        if not self.server.running:
            self.server.start()

    def assert_database_sound(self, acked_ids):
        """Called with the server stopped, after the API has shown every acknowledged record."""
        if BACKEND == "sqlite":
            self.assertTrue(os.path.isfile(self.server.db_path), "no zebros.db in the data dir")
            with contextlib.closing(sqlite3.connect(self.server.db_path)) as db:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
            return
        # PostgreSQL checks its own pages; what is left to see is that the rows are where the
        # server said, in the database it was given, and that it made no SQLite file instead.
        self.assertFalse(os.path.exists(self.server.db_path),
                         "zebros.db in the data dir of a server given --database-url")
        ids = sorted(set(acked_ids))
        self.assertTrue(ids)
        for start in range(0, len(ids), 200):
            chunk = ids[start:start + 200]
            placeholders = ", ".join("?" * len(chunk))
            found = self.server.sql(
                f"SELECT count(*) FROM obj_contacts WHERE id IN ({placeholders})", chunk)
            self.assertEqual(found, [(str(len(chunk)),)],
                             f"acknowledged ids missing from obj_contacts among {chunk}")

    def assert_acknowledged_records_intact(self, acked):
        for record in acked:
            resp = self.api("GET", f"/api/v1/contacts/{record['id']}")
            self.assertEqual(resp.status, 200, f"acknowledged {record['id']} lost: {resp.body!r}")
            self.assertEqual(resp.body, record)

    def assert_stored_records_were_sent(self, title, sent):
        """No phantom or torn records: every stored one matches a body some worker sent."""
        sent_by_email = {body["email"]: body for body in sent}
        stored = self.list_all("contacts", f"filter[title]={title}")
        for record in stored:
            body = sent_by_email.get(record["email"])
            self.assertIsNotNone(body, f"stored record nobody sent: {record!r}")
            for name, value in body.items():
                self.assertEqual(record[name], value, f"{record['id']}.{name}")
        return stored


def contact_body(title):
    def make(worker, n):
        return {"first_name": f"W{worker}", "last_name": f"N{n:06d}", "title": title,
                "email": f"w{worker}.n{n}.{title.lower()}@flood.example",
                "tags": ["flood", f"w{worker}"], "do_not_email": n % 2 == 0,
                "date_of_birth": f"19{(n % 90) + 10}-0{(n % 9) + 1}-1{n % 10}"}
    return make


class KillNineTest(DurabilityTestCase):

    def test_every_acknowledged_create_survives_kill_9(self):
        title = unique("kill")
        flood = Flood(self.server, "/api/v1/contacts", contact_body(title)).start()
        try:
            flood.wait_for_acks(300, timeout=3.0)
            self.assertTrue(flood.any_alive(), "the flood ended before the kill")
            self.server.kill9()
        finally:
            flood.stop()
        self.assertGreaterEqual(len(flood.acked), 20, "too few writes to mean anything")
        self.assertEqual(set(flood.statuses), {201}, flood.statuses)

        self.server.restart()
        self.assert_acknowledged_records_intact(flood.acked)
        stored = self.assert_stored_records_were_sent(title, flood.sent)
        self.assertGreaterEqual(len(stored), len(flood.acked))
        self.server.stop()
        self.assert_database_sound(record["id"] for record in flood.acked)

    def test_batches_stay_all_or_nothing_across_kill_9(self):
        title = unique("batch")
        size = 50

        def make_batch(worker, n):
            department = f"b{worker}-{n}"
            return {"create": [{"last_name": f"M{i:03d}", "title": title,
                                "department": department} for i in range(size)]}

        flood = Flood(self.server, "/api/v1/contacts/batch", make_batch, threads=4).start()
        try:
            flood.wait_for_acks(10, timeout=3.0)
            self.server.kill9()
        finally:
            flood.stop()
        self.assertGreaterEqual(len(flood.acked), 1, "no batch was acknowledged before the kill")
        self.assertEqual(set(flood.statuses), {200}, flood.statuses)

        self.server.restart()
        stored = collections.Counter(
            r["department"] for r in self.list_all("contacts", f"filter[title]={title}"))
        acked_departments = {batch["created"][0]["department"] for batch in flood.acked}
        for department in acked_departments:
            self.assertEqual(stored[department], size, f"acknowledged batch {department}")
        for department, count in stored.items():
            self.assertEqual(count, size, f"batch {department} is partly stored")
        self.server.stop()
        self.assert_database_sound(record["id"] for batch in flood.acked
                                   for record in batch["created"])


class GracefulShutdownTest(DurabilityTestCase):

    def test_sigterm_during_a_burst_exits_0_and_keeps_every_acknowledged_create(self):
        title = unique("term")
        key_before = self.server.admin_key
        flood = Flood(self.server, "/api/v1/contacts", contact_body(title)).start()
        try:
            acked = flood.wait_for_acks(100, timeout=60)
            self.assertGreaterEqual(acked, 100, "the server never got to 100 writes")
            self.server.terminate()
            exit_code = self.server.wait_exit()
        finally:
            flood.stop()
        self.assertEqual(exit_code, 0, self.server.stderr_tail())
        self.server.assert_no_sanitizer_report()
        self.assertLessEqual(set(flood.statuses), {201, 503}, flood.statuses)

        self.server.restart()
        self.assertEqual(self.server.admin_key, key_before)
        self.assert_acknowledged_records_intact(flood.acked)
        self.assert_stored_records_were_sent(title, flood.sent)
        self.server.stop()
        self.assert_database_sound(record["id"] for record in flood.acked)

    def test_updates_deletes_and_restores_survive_a_restart(self):
        updated = self.create("contacts", {"last_name": unique("Upd")})
        deleted = self.create("contacts", {"last_name": unique("Del")})
        restored = self.create("contacts", {"last_name": unique("Res")})
        updated = self.api("PATCH", f"/api/v1/contacts/{updated['id']}", {"title": "v2"}).body
        self.assertEqual(self.api("DELETE", f"/api/v1/contacts/{deleted['id']}").status, 204)
        self.assertEqual(self.api("DELETE", f"/api/v1/contacts/{restored['id']}").status, 204)
        restored = self.api("POST", f"/api/v1/contacts/{restored['id']}/restore").body

        self.server.restart()
        self.assertEqual(self.get_record("contacts", updated["id"]), updated)
        self.assertEqual(self.get_record("contacts", restored["id"]), restored)
        self.assert_problem(self.api("GET", f"/api/v1/contacts/{deleted['id']}"), 404,
                            "not_found")

    def test_restart_reuses_the_bootstrap_key_without_printing_it_again(self):
        with open(self.server.bootstrap_key_path, encoding="utf-8") as key_file:
            before = key_file.read()
        self.server.restart()
        self.assertEqual(self.api("GET", "/api/v1/contacts?limit=1").status, 200)
        self.server.stop()  # the whole stdout of the restarted process is read once it exits
        with open(self.server.bootstrap_key_path, encoding="utf-8") as key_file:
            self.assertEqual(key_file.read(), before)
        self.assertNotIn(before.strip(), "\n".join(self.server.current_stdout_lines()))

if __name__ == "__main__":
    unittest.main()
