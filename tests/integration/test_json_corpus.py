"""The JSONTestSuite parsing corpus as request bodies: n_ files must be refused as
malformed_json, y_ files must parse (then pass or fail validation), i_ files may go either way;
none may cause a 5xx, a hang or a crash, and none may change stored data."""

import glob
import os
import unittest

from harness import ServerTestCase, shared_data_dir, unique

PER_REQUEST_TIMEOUT = 10.0
CONTACTS = "/api/v1/contacts"


def corpus_files():
    folder = os.path.join(shared_data_dir(), "JSONTestSuite", "test_parsing")
    files = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not files:
        raise RuntimeError(f"no JSONTestSuite files in {folder}")
    return files


def read(path):
    with open(path, "rb") as corpus_file:
        return corpus_file.read()


class JsonCorpusTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files = corpus_files()
        resp = cls.server.api("POST", CONTACTS, {"first_name": "Witness", "last_name": unique(),
                                                 "email": f"{unique('w')}@example.com"})
        if resp.status != 201:
            raise AssertionError(f"creating the witness contact: {resp.status} {resp.body!r}")
        cls.witness = resp.body

    def send(self, method, path, data):
        try:
            resp = self.api(method, path, data, timeout=PER_REQUEST_TIMEOUT)
        except TimeoutError:
            self.fail(f"{method} {path}: no answer within {PER_REQUEST_TIMEOUT}s")
        self.assertLess(resp.status, 500, resp.body)
        return resp

    def files_with_prefix(self, prefix):
        return [p for p in self.files if os.path.basename(p).startswith(prefix)]

    def test_corpus_has_all_three_kinds(self):
        for prefix in ("y_", "n_", "i_"):
            self.assertTrue(self.files_with_prefix(prefix), prefix)

    def test_every_file_as_a_create_body(self):
        created = []
        for path in self.files:
            name = os.path.basename(path)
            with self.subTest(file=name):
                resp = self.send("POST", CONTACTS, read(path))
                if resp.status == 201:
                    self.assertFalse(name.startswith("n_"), f"accepted invalid JSON: {resp.body}")
                    created.append(resp.body["id"])
                elif name.startswith("n_"):
                    self.assert_problem(resp, 400, "malformed_json")
                elif name.startswith("y_"):
                    problem = self.assert_client_problem(resp, (400, 422))
                    self.assertNotEqual(problem["code"], "malformed_json",
                                        "valid JSON reported as malformed")
                else:
                    self.assert_client_problem(resp, (400, 413, 422))
        self.assert_server_intact(expected_contacts=1 + len(created))

    def test_invalid_json_is_refused_by_every_json_endpoint(self):
        endpoints = [("PATCH", f"{CONTACTS}/{self.witness['id']}"),
                     ("POST", f"{CONTACTS}/search"), ("POST", f"{CONTACTS}/batch"),
                     ("POST", "/api/v1/schema/contacts/fields")]
        for path in self.files_with_prefix("n_"):
            for method, route in endpoints:
                with self.subTest(file=os.path.basename(path), route=f"{method} {route}"):
                    self.assert_problem(self.send(method, route, read(path)), 400,
                                        "malformed_json")
        self.assert_server_intact()

    def assert_server_intact(self, expected_contacts=None):
        self.assertEqual(self.api("GET", "/healthz", key=None).status, 200)
        self.assertTrue(self.server.running)
        self.assertEqual(self.get_record("contacts", self.witness["id"]), self.witness)
        if expected_contacts is not None:
            self.assertEqual(len(self.list_all("contacts")), expected_contacts)


if __name__ == "__main__":
    unittest.main()
