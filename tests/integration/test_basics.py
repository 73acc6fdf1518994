"""Protocol basics every endpoint shares: health, request ids, authentication, routing errors,
media types, body limits, malformed JSON and the access log."""

import os
import re
import socket
import stat
import unittest

from harness import (SANE_REQUEST_ID, ServerTestCase, ZebrosServer, is_access_log, quote_param,
                     run_zebros, unique, wait_until)

CONTACTS = "/api/v1/contacts"
MIB = 1024 * 1024


class HealthAndBootstrapTest(ServerTestCase):

    def test_healthz_and_readyz_answer_200_without_credentials(self):
        for path in ("/healthz", "/readyz"):
            with self.subTest(path=path):
                resp = self.api("GET", path, key=None)
                self.assertEqual(resp.status, 200, resp.body)
                self.assertTrue(resp.header("x-request-id"))

    def test_bootstrap_key_file_is_private_holds_the_key_and_matches_stdout(self):
        path = self.server.bootstrap_key_path
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path, encoding="utf-8") as key_file:
            content = key_file.read()
        self.assertEqual(content, self.server.admin_key + "\n")
        wait_until(lambda: self.server.admin_key in self.server.stdout_text(), 10,
                   "the bootstrap key on stdout")

    def test_bootstrap_key_authenticates_on_a_fresh_empty_tenant(self):
        resp = self.api("GET", CONTACTS)
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.body["data"], [])
        self.assertIsNone(resp.body["next_cursor"])


class IoThreadsTest(unittest.TestCase):
    """The default I/O threads are the cores the process may use, not the machine's: a node
    started pinned to one CPU (taskset, a cpuset) runs one; --threads overrides."""

    @staticmethod
    def io_threads(server):
        listening = [r for r in server.log_records() if r.get("msg") == "listening"]
        return listening[-1].get("io_threads")

    def test_a_node_pinned_to_one_cpu_runs_one_io_thread(self):
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            self.skipTest("one CPU allowed: nothing to narrow")
        os.sched_setaffinity(0, {min(allowed)})  # the server inherits it
        try:
            with ZebrosServer(backend="sqlite") as server:
                os.sched_setaffinity(0, allowed)
                self.assertEqual(self.io_threads(server), 1)
                self.assertEqual(server.api("GET", "/healthz", key=None).status, 200)
                server.assert_no_sanitizer_report()
        finally:
            os.sched_setaffinity(0, allowed)
        with ZebrosServer(backend="sqlite") as server:
            self.assertGreaterEqual(self.io_threads(server), 1)
            self.assertLessEqual(self.io_threads(server), len(allowed))

    def test_the_threads_flag_overrides_the_default(self):
        with ZebrosServer(backend="sqlite", extra_args=["--threads", "3"]) as server:
            self.assertEqual(self.io_threads(server), 3)
            self.assertEqual(server.api("GET", "/healthz", key=None).status, 200)
            server.assert_no_sanitizer_report()


class RequestIdTest(ServerTestCase):

    def test_sane_request_id_is_echoed(self):
        for request_id in ("abc", "req-1.2:3_4", "A" * 128):
            with self.subTest(request_id=request_id):
                resp = self.api("GET", "/healthz", headers={"X-Request-Id": request_id}, key=None)
                self.assertEqual(resp.header("x-request-id"), request_id)

    def test_request_id_is_echoed_on_error_responses_too(self):
        resp = self.api("GET", "/api/v1/no-such-route", headers={"X-Request-Id": "err-42"})
        self.assertEqual(resp.status, 404)
        self.assertEqual(resp.header("x-request-id"), "err-42")
        resp = self.api("GET", CONTACTS, headers={"X-Request-Id": "unauth-42"}, key=None)
        self.assertEqual(resp.status, 401)
        self.assertEqual(resp.header("x-request-id"), "unauth-42")

    def test_insane_request_id_is_replaced_by_a_generated_one(self):
        for request_id in ("has space", "semi;colon", "<script>", "a/b", "A" * 129, "x\u00e9y"):
            with self.subTest(request_id=request_id):
                resp = self.api("GET", "/healthz", headers={"X-Request-Id": request_id}, key=None)
                generated = resp.header("x-request-id")
                self.assertIsNotNone(generated)
                self.assertNotEqual(generated, request_id)
                self.assertRegex(generated, SANE_REQUEST_ID)

    def test_generated_request_ids_are_distinct(self):
        ids = {self.api("GET", "/healthz", key=None).header("x-request-id") for _ in range(20)}
        self.assertEqual(len(ids), 20)
        for request_id in ids:
            self.assertRegex(request_id, SANE_REQUEST_ID)


class AuthenticationTest(ServerTestCase):

    def assert_unauthenticated(self, resp):
        self.assert_problem(resp, 401, "unauthenticated")
        self.assertTrue(resp.header("www-authenticate", "").startswith("Bearer"),
                        resp.headers)

    def test_missing_credentials_get_401_with_www_authenticate(self):
        for method, path, body in (("GET", CONTACTS, None), ("POST", CONTACTS, {"first_name": "A"}),
                                   ("GET", "/api/v1/accounts", None),
                                   ("GET", "/api/v1/schema", None)):
            with self.subTest(method=method, path=path):
                self.assert_unauthenticated(self.api(method, path, body, key=None))

    def test_unknown_or_malformed_credentials_get_401(self):
        variants = [
            {"Authorization": "Bearer " + unique("zk_unknown_")},
            {"Authorization": "Bearer "},
            {"Authorization": "Bearer"},
            {"Authorization": "Basic YWRtaW46YWRtaW4="},
            {"Authorization": self.server.admin_key},  # no scheme
            {"Authorization": "Bearer " + self.server.admin_key + "x"},
            {"Authorization": "Bearer " + self.server.admin_key[:-1]},
        ]
        for headers in variants:
            with self.subTest(headers=headers):
                self.assert_unauthenticated(self.api("GET", CONTACTS, headers=headers, key=None))

    def test_rejected_write_creates_nothing(self):
        marker = unique("Unauth")
        resp = self.api("POST", CONTACTS, {"last_name": marker}, key="not-a-key")
        self.assert_unauthenticated(resp)
        listed = self.api("GET", f"{CONTACTS}?filter[last_name]={marker}")
        self.assertEqual(listed.body["data"], [])


class RoutingTest(ServerTestCase):

    def test_unknown_route_is_404_not_found(self):
        for path in ("/api/v1/nope", "/nope", "/api/v2/contacts", "/api/v1/contacts/x/y/z"):
            with self.subTest(path=path):
                self.assert_problem(self.api("GET", path), 404, "not_found")

    def test_unknown_object_is_404(self):
        self.assert_problem(self.api("GET", "/api/v1/widgets"), 404, "not_found")
        self.assert_problem(self.api("POST", "/api/v1/widgets", {"name": "w"}), 404, "not_found")

    def test_wrong_method_is_405_with_allow_header(self):
        record = self.create("contacts", {"first_name": "Routing"})
        cases = [
            ("DELETE", CONTACTS, {"GET", "POST"}, {"DELETE"}),
            ("PUT", CONTACTS, {"GET", "POST"}, {"PUT"}),
            ("PUT", f"{CONTACTS}/{record['id']}", {"GET", "PATCH", "DELETE"}, {"PUT"}),
            ("POST", f"{CONTACTS}/{record['id']}", {"GET", "PATCH", "DELETE"}, set()),
            ("GET", f"{CONTACTS}/search", {"POST"}, set()),
            ("GET", f"{CONTACTS}/batch", {"POST"}, set()),
        ]
        for method, path, must_allow, must_not_allow in cases:
            with self.subTest(method=method, path=path):
                body = {"first_name": "x"} if method in ("PUT", "POST") else None
                resp = self.api(method, path, body)
                self.assert_problem(resp, 405, "method_not_allowed")
                allowed = {m.strip().upper() for m in resp.header("allow", "").split(",")}
                self.assertTrue(must_allow <= allowed, f"Allow: {resp.header('allow')!r}")
                self.assertFalse(must_not_allow & allowed, f"Allow: {resp.header('allow')!r}")
                self.assertNotIn(method, allowed)


class MediaTypeAndBodyLimitTest(ServerTestCase):

    def test_post_without_json_content_type_is_415(self):
        body = b'{"first_name":"Media"}'
        for content_type in ("text/plain", "application/x-www-form-urlencoded",
                             "application/xml", None):
            with self.subTest(content_type=content_type):
                resp = self.api("POST", CONTACTS, body, headers={"Content-Type": content_type})
                self.assert_problem(resp, 415, "unsupported_media_type")
        self.assertEqual(self.api("GET", f"{CONTACTS}?filter[first_name]=Media").body["data"], [])

    def test_patch_without_json_content_type_is_415_and_changes_nothing(self):
        record = self.create("contacts", {"first_name": "Before"})
        resp = self.api("PATCH", f"{CONTACTS}/{record['id']}", b'{"first_name":"After"}',
                        headers={"Content-Type": "text/plain"})
        self.assert_problem(resp, 415, "unsupported_media_type")
        self.assertEqual(self.get_record("contacts", record["id"]), record)

    def test_json_content_type_with_charset_is_accepted(self):
        resp = self.api("POST", CONTACTS, b'{"first_name":"Charset"}',
                        headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual(resp.status, 201, resp.body)

    def test_body_over_1_mib_is_413(self):
        resp = self.server.send_oversized(CONTACTS, 2 * MIB)
        self.assert_problem(resp, 413, "payload_too_large")
        self.assertEqual(self.api("GET", "/healthz", key=None).status, 200)

    def test_chunked_body_over_1_mib_is_413(self):
        resp = self.server.send_oversized(CONTACTS, 2 * MIB, chunked=True)
        self.assert_problem(resp, 413, "payload_too_large")
        self.assertEqual(self.api("GET", "/healthz", key=None).status, 200)

    def test_body_just_under_1_mib_is_accepted(self):
        marker = unique("Big")
        payload = f'{{"first_name":"{marker}"}}'.encode()
        body = b" " * (MIB - 1024) + payload
        resp = self.api("POST", CONTACTS, body)
        self.assertEqual(resp.status, 201, resp.body)
        self.assertEqual(resp.body["first_name"], marker)


class MalformedJsonTest(ServerTestCase):

    def assert_malformed_at(self, resp, offset):
        body = self.assert_problem(resp, 400, "malformed_json")
        positions = [int(n) for n in re.findall(r"\d+", body.get("detail", ""))]
        self.assertTrue(any(abs(p - offset) <= 2 for p in positions),
                        f"detail should mention byte position ~{offset}: {body.get('detail')!r}")

    def test_malformed_json_is_400_with_byte_position(self):
        cases = [
            (b'{"first_name": "Ann",}', 21),
            (b'{"first_name": "Ann", "last_name": }', 35),
            (b'{"first_name": \'Ann\'}', 15),
            (b'{"first_name": "Ann"} trailing', 22),
        ]
        for body, offset in cases:
            with self.subTest(body=body):
                self.assert_malformed_at(self.api("POST", CONTACTS, body), offset)

    def test_truncated_and_empty_bodies_are_malformed(self):
        for body in (b'{"first_name": "Ann"', b"", b"{", b"\xff\xfe"):
            with self.subTest(body=body):
                self.assert_problem(self.api("POST", CONTACTS, body), 400, "malformed_json")

    def test_malformed_json_on_patch_and_search_and_batch(self):
        record = self.create("contacts", {"first_name": "Patchy"})
        for method, path in (("PATCH", f"{CONTACTS}/{record['id']}"),
                             ("POST", f"{CONTACTS}/search"), ("POST", f"{CONTACTS}/batch")):
            with self.subTest(path=path):
                self.assert_problem(self.api(method, path, b'{"a":'), 400, "malformed_json")
        self.assertEqual(self.get_record("contacts", record["id"]), record)


class AccessLogTest(ServerTestCase):

    def access_lines_for(self, request_id):
        return self.server.wait_for_log(
            lambda r: is_access_log(r) and r.get("request_id") == request_id,
            message=f"access log line for request {request_id}")

    def assert_one_access_line(self, request_id, method, path, status, authenticated):
        lines = self.access_lines_for(request_id)
        self.assertEqual(len(lines), 1, f"want one access line per request: {lines!r}")
        line = lines[0]
        self.assertEqual(line["method"], method)
        self.assertEqual(line["path"], path)
        self.assertEqual(line["status"], status)
        durations = [v for k, v in line.items() if k.startswith("duration")]
        self.assertEqual(len(durations), 1, f"want one duration field: {line!r}")
        self.assertIsInstance(durations[0], (int, float))
        self.assertGreaterEqual(durations[0], 0)
        tenants = [v for k, v in line.items() if k.startswith("tenant")]
        if authenticated:
            self.assertTrue(tenants and isinstance(tenants[0], str) and tenants[0],
                            f"want the tenant in {line!r}")

    def test_every_request_gets_one_access_line(self):
        record = self.create("contacts", {"first_name": "Logged"})
        cases = [
            ("GET", f"{CONTACTS}/{record['id']}", None, {}, 200, True),
            ("GET", CONTACTS, None, {"Authorization": None}, 401, False),
            ("GET", "/api/v1/nope", None, {}, 404, True),
            ("POST", CONTACTS, b"{}", {"Content-Type": "text/plain"}, 415, True),
            ("POST", CONTACTS, b"{oops", {}, 400, True),
            ("POST", CONTACTS, {"first_name": "Created"}, {}, 201, True),
        ]
        for method, path, body, headers, status, authenticated in cases:
            with self.subTest(method=method, path=path):
                request_id = unique("log-")
                resp = self.api(method, path, body, headers={**headers, "X-Request-Id": request_id})
                self.assertEqual(resp.status, status, resp.body)
                self.assert_one_access_line(request_id, method, path, status, authenticated)

    def test_logs_never_contain_api_keys_or_contact_emails(self):
        email_marker = unique("piimarker")
        email = f"{email_marker}@example.org"
        bad_email_marker = unique("badpii")
        bogus_key_secret = unique("zz") + unique("")
        record = self.create("contacts", {"first_name": "Private", "email": email})
        requests = [
            ("GET", f"{CONTACTS}/{record['id']}", None, {}),
            ("GET", f"{CONTACTS}?filter[email]={quote_param(email)}", None, {}),
            ("POST", f"{CONTACTS}/search", {"q": email_marker}, {}),
            ("POST", CONTACTS, {"first_name": "Dup", "email": email}, {}),  # 409
            ("POST", CONTACTS, {"first_name": "Bad", "email": bad_email_marker}, {}),  # 422
            ("PATCH", f"{CONTACTS}/{record['id']}", {"email": email.upper()}, {}),
            ("GET", CONTACTS, None, {"Authorization": f"Bearer zk_{bogus_key_secret}"}),
        ]
        last_id = None
        for method, path, body, headers in requests:
            last_id = unique("pii-")
            resp = self.api(method, path, body, headers={**headers, "X-Request-Id": last_id})
            self.assertLess(resp.status, 500, resp.body)
        self.access_lines_for(last_id)
        logs = self.server.stderr_text()
        key = self.server.admin_key
        secrets = {"admin key": key, "admin key tail": key[-12:] if len(key) >= 24 else key,
                   "bogus key": bogus_key_secret, "contact email": email_marker,
                   "invalid email value": bad_email_marker}
        for what, secret in secrets.items():
            with self.subTest(what=what):
                self.assertNotIn(secret.lower(), logs.lower(), f"{what} appears in the logs")


class ServerSurvivesBadRequestsTest(ServerTestCase):

    def test_still_healthy_after_garbage_on_the_socket(self):
        for garbage in (b"\x00\x01\x02 not http\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"):
            with self.subTest(garbage=garbage):
                with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
                    s.sendall(garbage)
                    s.shutdown(socket.SHUT_WR)
                    response = b""
                    while chunk := s.recv(65536):
                        response += chunk
                if response:
                    status = int(response.split(b" ", 2)[1])
                    self.assertTrue(400 <= status < 500, response[:200])
                wait_until(lambda: self.api("GET", "/healthz", key=None).status == 200, 10,
                           "healthz after garbage")



class ConnectionSettingsTest(unittest.TestCase):
    """The PostgreSQL connection counts are 1 to 1000, from the command line or the environment:
    anything else is a usage error (exit 2) before anything is opened."""

    def test_out_of_range_counts_are_usage_errors(self):
        cases = [(["--database-search-connections", "0"], {}),
                 (["--database-pool-size", "0"], {}),
                 ([], {"ZEBROS_DATABASE_SEARCH_CONNECTIONS": "0"}),
                 ([], {"ZEBROS_DATABASE_SEARCH_CONNECTIONS": "1001"}),
                 ([], {"ZEBROS_DATABASE_POOL_SIZE": "-3"}),
                 ([], {"ZEBROS_DATABASE_POOL_SIZE": "many"})]
        for args, env in cases:
            with self.subTest(args=args, env=env):
                result = run_zebros("migrate", "--data-dir", "/nonexistent/zebros-test", *args,
                                    env=env)
                self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
                self.assertFalse(os.path.exists("/nonexistent/zebros-test"))


if __name__ == "__main__":
    unittest.main()
