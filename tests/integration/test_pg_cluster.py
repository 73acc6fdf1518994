"""The PostgreSQL fixture itself (pg_cluster.py), whatever ZEBROS_TEST_BACKEND says: a cluster
starts, hands out separate databases, answers SQL, and keeps committed rows across an
immediate (crash) stop and a restart on the same port."""

import os
import socket
import unittest

import pg_cluster


class PgClusterTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.cluster = pg_cluster.cluster()

    def setUp(self):
        if not self.cluster.running:  # a failed test may leave it stopped
            self.cluster.start()

    def test_databases_are_separate(self):
        first, second = self.cluster.create_database(), self.cluster.create_database()
        self.assertNotEqual(first, second)
        self.assertRegex(first, rf"^postgres://postgres@127\.0\.0\.1:{self.cluster.port}"
                                r"/zebros_[0-9a-f]{12}$")
        self.cluster.psql(first, "CREATE TABLE only_here (id text PRIMARY KEY)")
        self.assertEqual(self.cluster.query(first, "SELECT count(*) FROM only_here"), [("0",)])
        with self.assertRaisesRegex(RuntimeError, "only_here"):
            self.cluster.query(second, "SELECT count(*) FROM only_here")

    def test_query_returns_rows_of_strings_with_none_for_null(self):
        url = self.cluster.create_database()
        rows = self.cluster.query(
            url, "SELECT 1, NULL, 'two\nlines' UNION ALL SELECT 2, 'x|y', '' ORDER BY 1")
        self.assertEqual(rows, [("1", None, "two\nlines"), ("2", "x|y", "")])
        self.assertEqual(self.cluster.query(url, "SELECT 1 WHERE false"), [])
        self.assertEqual(self.cluster.query(url, "SELECT ''"), [("",)])

    def test_variables_are_quoted_by_psql(self):
        url = self.cluster.create_database()
        tricky = "it's; DROP TABLE x; -- \\ \"q\""
        self.assertEqual(self.cluster.query(url, "SELECT :'v', :'n'::int + 1",
                                            {"v": tricky, "n": "41"}), [(tricky, "42")])

    def test_failed_statement_raises(self):
        with self.assertRaisesRegex(RuntimeError, "psql exited"):
            self.cluster.psql(self.cluster.create_database(), "SELECT * FROM no_such_table")

    def test_committed_rows_survive_an_immediate_stop_and_restart(self):
        url = self.cluster.create_database()
        self.cluster.psql(url, "CREATE TABLE kept (id int PRIMARY KEY, note text)")
        self.cluster.psql(url, "INSERT INTO kept VALUES (1, 'before the crash')")
        port = self.cluster.port
        self.cluster.stop("immediate")
        self.assertFalse(self.cluster.running)
        with socket.socket() as probe:  # nothing listens while it is down
            self.assertNotEqual(probe.connect_ex(("127.0.0.1", port)), 0)
        self.cluster.start()
        self.assertTrue(self.cluster.running)
        self.assertEqual(self.cluster.port, port)
        self.assertEqual(self.cluster.query(url, "SELECT id, note FROM kept"),
                         [("1", "before the crash")])
        self.cluster.stop("fast")
        self.cluster.start()
        self.assertEqual(self.cluster.query(url, "SELECT count(*) FROM kept"), [("1",)])

    def test_server_side_runs_unprivileged(self):
        owner = os.stat(self.cluster.data_dir).st_uid
        if os.geteuid() == 0:
            self.assertNotEqual(owner, 0, "the data dir of postgres belongs to root")
        else:
            self.assertEqual(owner, os.geteuid())


if __name__ == "__main__":
    unittest.main()
