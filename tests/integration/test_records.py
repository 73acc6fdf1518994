"""The record contract of the built-in objects: create, read, update, delete, restore, ETags,
idempotency, and every validation error a client can cause."""

import datetime
import unittest

from crm import ACCOUNTS, CONTACTS, LEADS, OBJECTS, ID_TAIL, SERVER_OWNED_FIELDS
from harness import RFC3339_UTC, ServerTestCase, quote_param, unique


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# (object, field, invalid value, expected error code or None for "any code on that field")
INVALID_VALUES = [
    (ACCOUNTS, "name", ["Acme"], "invalid_type"),
    (ACCOUNTS, "name", "x" * 10000, "too_long"),
    (ACCOUNTS, "employees", "many", "invalid_type"),
    (ACCOUNTS, "employees", 1.5, "invalid_type"),
    (ACCOUNTS, "annual_revenue", "lots", "invalid_type"),
    (ACCOUNTS, "annual_revenue", 10.123, None),
    (ACCOUNTS, "phone", "call me maybe", "invalid_phone"),
    (ACCOUNTS, "website", "not a url", None),
    (ACCOUNTS, "tags", "emea", "invalid_type"),
    (ACCOUNTS, "tags", [1, 2], "invalid_type"),
    (CONTACTS, "first_name", 42, "invalid_type"),
    (CONTACTS, "first_name", "x" * 10000, "too_long"),
    (CONTACTS, "email", "not-an-email", "invalid_email"),
    (CONTACTS, "email", "a@", "invalid_email"),
    (CONTACTS, "email", "@example.com", "invalid_email"),
    (CONTACTS, "email", "two words@example.com", "invalid_email"),
    (CONTACTS, "email", 42, "invalid_type"),
    (CONTACTS, "phone", "call me", "invalid_phone"),
    (CONTACTS, "mobile", "12ab34", "invalid_phone"),
    (CONTACTS, "date_of_birth", "1990-13-01", "invalid_date"),
    (CONTACTS, "date_of_birth", "1990-02-30", "invalid_date"),
    (CONTACTS, "date_of_birth", "10/12/1990", "invalid_date"),
    (CONTACTS, "date_of_birth", "1990-1-1", "invalid_date"),
    (CONTACTS, "date_of_birth", "1990-01-01T00:00:00Z", "invalid_date"),
    (CONTACTS, "lifecycle_stage", "vip", "invalid_enum"),
    (CONTACTS, "lifecycle_stage", "Customer", "invalid_enum"),
    (CONTACTS, "do_not_email", "yes", "invalid_type"),
    (CONTACTS, "do_not_email", 1, "invalid_type"),
    (CONTACTS, "tags", {"vip": True}, "invalid_type"),
    (CONTACTS, "account_id", 42, None),
    (CONTACTS, "account_id", "not-an-id", None),
    (LEADS, "last_name", {"x": 1}, "invalid_type"),
    (LEADS, "email", "nope", "invalid_email"),
    (LEADS, "source", "tv", "invalid_enum"),
    (LEADS, "status", "done", "invalid_enum"),
    (LEADS, "score", "high", "invalid_type"),
    (LEADS, "score", 1.5, "invalid_type"),
    (LEADS, "score", 10 ** 30, None),
]


class CreateAndReadTest(ServerTestCase):

    def assert_server_fields(self, obj, record):
        self.assertRegex(record["id"], f"^{obj.prefix}{ID_TAIL}$")
        self.assertRegex(record["created_at"], RFC3339_UTC)
        self.assertRegex(record["updated_at"], RFC3339_UTC)
        self.assertEqual(record["version"], 1)
        self.assertIsInstance(record["created_by"], str)
        self.assertTrue(record["created_by"])

    def test_create_returns_201_with_location_etag_and_the_stored_record(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                body = obj.full(unique())
                resp = self.api("POST", obj.path, body)
                self.assertEqual(resp.status, 201, resp.body)
                self.assertTrue(resp.header("content-type", "").startswith("application/json"))
                record = resp.body
                self.assert_server_fields(obj, record)
                self.assertEqual(resp.header("location"), f"{obj.path}/{record['id']}")
                self.assertTrue(resp.header("etag"))
                expected = dict(body)
                if "email" in expected:
                    expected["email"] = expected["email"].lower()
                for name, value in expected.items():
                    self.assertEqual(record[name], value, name)

    def test_absent_fields_come_back_as_null_or_their_default(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                record = self.create(obj.name, obj.minimal(unique()))
                self.assert_server_fields(obj, record)
                for name in obj.fields:
                    if name in obj.minimal("x") or name == "owner_id":
                        continue
                    self.assertIn(name, record)
                    self.assertEqual(record[name], obj.defaults.get(name), name)

    def test_get_returns_the_created_record_and_the_same_etag(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                created = self.create_response(obj.name, obj.full(unique()))
                fetched = self.api("GET", f"{obj.path}/{created.body['id']}")
                self.assertEqual(fetched.status, 200)
                self.assertEqual(fetched.body, created.body)
                self.assertEqual(fetched.header("etag"), created.header("etag"))

    def test_if_none_match_with_the_current_etag_is_304(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                record = self.create(obj.name, obj.minimal(unique()))
                path = f"{obj.path}/{record['id']}"
                etag = self.api("GET", path).header("etag")
                not_modified = self.api("GET", path, headers={"If-None-Match": etag})
                self.assertEqual(not_modified.status, 304)
                self.assertEqual(not_modified.body, b"")
                self.assertEqual(self.api("PATCH", path, {obj.update_field: "changed"}).status, 200)
                modified = self.api("GET", path, headers={"If-None-Match": etag})
                self.assertEqual(modified.status, 200)
                self.assertEqual(modified.body[obj.update_field], "changed")
                self.assertNotEqual(modified.header("etag"), etag)

    def test_contact_email_is_normalised_to_lower_case(self):
        tag = unique()
        record = self.create("contacts", {"last_name": "Case", "email": f"Mixed.{tag}@Example.COM"})
        self.assertEqual(record["email"], f"mixed.{tag}@example.com")
        self.assertEqual(self.get_record("contacts", record["id"])["email"], record["email"])

    def test_contact_can_reference_an_account_of_its_tenant(self):
        account = self.create("accounts", ACCOUNTS.minimal(unique()))
        contact = self.create("contacts", {"last_name": "Ref", "account_id": account["id"]})
        self.assertEqual(contact["account_id"], account["id"])
        cleared = self.api("PATCH", f"/api/v1/contacts/{contact['id']}", {"account_id": None})
        self.assertEqual(cleared.status, 200, cleared.body)
        self.assertIsNone(cleared.body["account_id"])

    def test_ids_are_distinct_and_time_ordered(self):
        ids = [self.create("leads", LEADS.minimal(unique()))["id"] for _ in range(10)]
        self.assertEqual(len(set(ids)), 10)
        self.assertEqual(ids, sorted(ids))


class UpdateTest(ServerTestCase):

    def test_patch_changes_only_given_fields_and_increments_version(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                created = self.create_response(obj.name, obj.full(unique()))
                record = created.body
                path = f"{obj.path}/{record['id']}"
                resp = self.api("PATCH", path, {obj.update_field: "Patched"})
                self.assertEqual(resp.status, 200, resp.body)
                updated = resp.body
                self.assertEqual(updated["version"], 2)
                self.assertEqual(updated[obj.update_field], "Patched")
                self.assertEqual(updated["created_at"], record["created_at"])
                self.assertGreaterEqual(parse_time(updated["updated_at"]),
                                        parse_time(record["updated_at"]))
                self.assertNotEqual(resp.header("etag"), created.header("etag"))
                untouched = {k: v for k, v in record.items()
                             if k not in (obj.update_field, "version", "updated_at")}
                for name, value in untouched.items():
                    self.assertEqual(updated[name], value, name)
                self.assertEqual(self.get_record(obj.name, record["id"]), updated)
                again = self.api("PATCH", path, {obj.update_field: "Again"})
                self.assertEqual(again.body["version"], 3)

    def test_patch_with_null_clears_a_field(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                record = self.create(obj.name, obj.full(unique()))
                resp = self.api("PATCH", f"{obj.path}/{record['id']}", {obj.update_field: None})
                self.assertEqual(resp.status, 200, resp.body)
                self.assertIsNone(resp.body[obj.update_field])
                self.assertIsNone(self.get_record(obj.name, record["id"])[obj.update_field])

    def test_if_match_current_etag_succeeds_and_stale_etag_is_412(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                created = self.create_response(obj.name, obj.minimal(unique()))
                path = f"{obj.path}/{created.body['id']}"
                first_etag = created.header("etag")
                ok = self.api("PATCH", path, {obj.update_field: "v2"},
                              headers={"If-Match": first_etag})
                self.assertEqual(ok.status, 200, ok.body)
                stale = self.api("PATCH", path, {obj.update_field: "lost update"},
                                 headers={"If-Match": first_etag})
                self.assert_problem(stale, 412, "precondition_failed")
                current = self.get_record(obj.name, created.body["id"])
                self.assertEqual(current["version"], 2)
                self.assertEqual(current[obj.update_field], "v2")
                stale_delete = self.api("DELETE", path, headers={"If-Match": first_etag})
                self.assert_problem(stale_delete, 412, "precondition_failed")
                self.get_record(obj.name, created.body["id"])

    def test_patch_cannot_remove_a_required_value(self):
        for obj in OBJECTS:
            for body, fields in obj.required:
                if not any(value is None for value in body.values()):
                    continue
                with self.subTest(object=obj.name, body=body):
                    record = self.create(obj.name, obj.minimal(unique()))
                    resp = self.api("PATCH", f"{obj.path}/{record['id']}", body)
                    self.assert_problem(resp, 422, "validation_failed")
                    self.assertTrue(any(f in fields and c == "required"
                                        for f, c in self.field_errors(resp)), resp.body)
                    self.assertEqual(self.get_record(obj.name, record["id"]), record)

    def test_non_object_patch_body_is_rejected(self):
        record = self.create("contacts", CONTACTS.minimal(unique()))
        for body in (b"[]", b'"x"', b"1", b"null"):
            with self.subTest(body=body):
                resp = self.api("PATCH", f"/api/v1/contacts/{record['id']}", body)
                problem = self.assert_client_problem(resp, (400, 422))
                self.assertNotEqual(problem["code"], "malformed_json")
        self.assertEqual(self.get_record("contacts", record["id"]), record)


class DeleteAndRestoreTest(ServerTestCase):

    def visible_in_list(self, obj, record):
        marker = quote_param(record[obj.marker_field])
        listed = self.api("GET", f"{obj.path}?filter[{obj.marker_field}]={marker}")
        self.assertEqual(listed.status, 200, listed.body)
        return [r["id"] for r in listed.body["data"]] == [record["id"]]

    def visible_in_search(self, obj, record):
        found = self.api("POST", f"{obj.path}/search", {
            "filter": {"field": obj.marker_field, "op": "eq", "value": record[obj.marker_field]}})
        self.assertEqual(found.status, 200, found.body)
        return [r["id"] for r in found.body["data"]] == [record["id"]]

    def test_delete_hides_the_record_and_restore_brings_it_back(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                record = self.create(obj.name, obj.minimal(unique()))
                path = f"{obj.path}/{record['id']}"
                self.assertTrue(self.visible_in_list(obj, record))
                deleted = self.api("DELETE", path)
                self.assertEqual(deleted.status, 204, deleted.body)
                self.assertEqual(deleted.body, b"")
                self.assert_problem(self.api("GET", path), 404, "not_found")
                self.assertFalse(self.visible_in_list(obj, record))
                self.assertFalse(self.visible_in_search(obj, record))
                restored = self.api("POST", f"{path}/restore")
                self.assertEqual(restored.status, 200, restored.body)
                self.assertEqual(restored.body["id"], record["id"])
                self.assertEqual(restored.body[obj.marker_field], record[obj.marker_field])
                fetched = self.get_record(obj.name, record["id"])
                self.assertEqual(fetched["created_at"], record["created_at"])
                self.assertTrue(self.visible_in_list(obj, record))
                self.assertTrue(self.visible_in_search(obj, record))

    def test_deleted_record_cannot_be_patched_or_deleted_again(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                record = self.create(obj.name, obj.minimal(unique()))
                path = f"{obj.path}/{record['id']}"
                self.assertEqual(self.api("DELETE", path).status, 204)
                self.assert_problem(self.api("PATCH", path, {obj.update_field: "x"}), 404,
                                    "not_found")
                self.assert_problem(self.api("DELETE", path), 404, "not_found")

    def test_unknown_ids_are_404_for_every_record_route(self):
        account = self.create("accounts", ACCOUNTS.minimal(unique()))
        contact = self.create("contacts", CONTACTS.minimal(unique()))
        for obj in OBJECTS:
            other_objects_id = contact["id"] if obj is ACCOUNTS else account["id"]
            for record_id in (obj.dummy_id(), f"{obj.prefix}nope", "12345", other_objects_id):
                path = f"{obj.path}/{record_id}"
                for method, route in (("GET", path), ("PATCH", path), ("DELETE", path),
                                      ("POST", f"{path}/restore")):
                    with self.subTest(object=obj.name, id=record_id, route=f"{method} {route}"):
                        body = {obj.update_field: "x"} if method == "PATCH" else None
                        self.assert_problem(self.api(method, route, body), 404, "not_found")


class IdempotencyTest(ServerTestCase):

    def test_same_key_and_body_replays_the_first_response_without_a_second_record(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                body = obj.minimal(unique())
                key = {"Idempotency-Key": unique("idem-")}
                first = self.api("POST", obj.path, body, headers=key)
                self.assertEqual(first.status, 201, first.body)
                second = self.api("POST", obj.path, body, headers=key)
                self.assertEqual(second.status, 201, second.body)
                self.assertEqual(second.body, first.body)
                marker = quote_param(body[obj.marker_field])
                listed = self.api("GET", f"{obj.path}?filter[{obj.marker_field}]={marker}")
                self.assertEqual([r["id"] for r in listed.body["data"]], [first.body["id"]])

    def test_same_key_with_a_different_body_is_422_idempotency_key_reused(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                key = {"Idempotency-Key": unique("idem-")}
                first_body = obj.minimal(unique())
                self.assertEqual(self.api("POST", obj.path, first_body, headers=key).status, 201)
                other_body = obj.minimal(unique())
                resp = self.api("POST", obj.path, other_body, headers=key)
                self.assert_problem(resp, 422, "idempotency_key_reused")
                marker = quote_param(other_body[obj.marker_field])
                listed = self.api("GET", f"{obj.path}?filter[{obj.marker_field}]={marker}")
                self.assertEqual(listed.body["data"], [])

    def test_failed_request_replays_its_failure(self):
        key = {"Idempotency-Key": unique("idem-")}
        body = {"last_name": "Failing", "lifecycle_stage": "vip"}
        first = self.api("POST", "/api/v1/contacts", body, headers=key)
        self.assert_field_error(first, "lifecycle_stage", "invalid_enum")
        second = self.api("POST", "/api/v1/contacts", body, headers=key)
        self.assertEqual(second.status, first.status)
        self.assertEqual(second.body, first.body)

    def test_different_keys_create_distinct_records(self):
        body = CONTACTS.minimal(unique())
        ids = {self.create("contacts", body, headers={"Idempotency-Key": unique("k-")})["id"]
               for _ in range(3)}
        self.assertEqual(len(ids), 3)


class ValidationTest(ServerTestCase):

    def assert_nothing_stored(self, obj, marker_value):
        listed = self.api("GET", f"{obj.path}?filter[{obj.marker_field}]="
                                 f"{quote_param(marker_value)}")
        self.assertEqual(listed.status, 200, listed.body)
        self.assertEqual(listed.body["data"], [])

    def test_invalid_values_are_rejected_on_create_and_nothing_is_stored(self):
        for obj, field, value, code in INVALID_VALUES:
            with self.subTest(object=obj.name, field=field, value=str(value)[:40]):
                body = obj.minimal(unique())
                body[field] = value
                resp = self.api("POST", obj.path, body)
                self.assert_field_error(resp, field, code)
                if field != obj.marker_field:
                    self.assert_nothing_stored(obj, body[obj.marker_field])

    def test_invalid_values_are_rejected_on_patch_and_the_record_is_unchanged(self):
        records = {obj.name: self.create(obj.name, obj.minimal(unique())) for obj in OBJECTS}
        for obj, field, value, code in INVALID_VALUES:
            with self.subTest(object=obj.name, field=field, value=str(value)[:40]):
                record = records[obj.name]
                resp = self.api("PATCH", f"{obj.path}/{record['id']}", {field: value})
                self.assert_field_error(resp, field, code)
        for obj in OBJECTS:
            self.assertEqual(self.get_record(obj.name, records[obj.name]["id"]), records[obj.name])

    def test_unknown_fields_are_rejected(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                body = {**obj.minimal(unique()), "favourite_colour": "teal"}
                self.assert_field_error(self.api("POST", obj.path, body), "favourite_colour",
                                        "unknown_field")
                record = self.create(obj.name, obj.minimal(unique()))
                resp = self.api("PATCH", f"{obj.path}/{record['id']}", {"favourite_colour": "x"})
                self.assert_field_error(resp, "favourite_colour", "unknown_field")

    def test_server_owned_fields_are_read_only(self):
        values = {"id": "con_" + "1" * 26, "created_at": "2020-01-01T00:00:00Z",
                  "created_by": "someone", "updated_at": "2020-01-01T00:00:00Z", "version": 7,
                  "tenant_id": "other"}
        for obj in OBJECTS:
            record = self.create(obj.name, obj.minimal(unique()))
            for field in SERVER_OWNED_FIELDS:
                with self.subTest(object=obj.name, field=field):
                    body = {**obj.minimal(unique()), field: values[field]}
                    self.assert_field_error(self.api("POST", obj.path, body), field,
                                            "read_only_field")
                    resp = self.api("PATCH", f"{obj.path}/{record['id']}", {field: values[field]})
                    self.assert_field_error(resp, field, "read_only_field")
            self.assertEqual(self.get_record(obj.name, record["id"]), record)

    def test_required_fields_are_required_on_create(self):
        for obj in OBJECTS:
            for body, fields in obj.required:
                with self.subTest(object=obj.name, body=body):
                    resp = self.api("POST", obj.path, body)
                    self.assert_problem(resp, 422, "validation_failed")
                    self.assertTrue(any(f in fields and c == "required"
                                        for f, c in self.field_errors(resp)), resp.body)

    def test_all_invalid_fields_of_a_request_are_reported_together(self):
        body = {"last_name": "Many", "email": "broken", "lifecycle_stage": "vip",
                "date_of_birth": "1990-02-30", "favourite_colour": "teal"}
        resp = self.api("POST", "/api/v1/contacts", body)
        self.assert_problem(resp, 422, "validation_failed")
        self.assertEqual(set(self.field_errors(resp)) & {
            ("email", "invalid_email"), ("lifecycle_stage", "invalid_enum"),
            ("date_of_birth", "invalid_date"), ("favourite_colour", "unknown_field")}, {
            ("email", "invalid_email"), ("lifecycle_stage", "invalid_enum"),
            ("date_of_birth", "invalid_date"), ("favourite_colour", "unknown_field")})

    def test_long_but_reasonable_text_is_accepted(self):
        record = self.create("contacts", {"last_name": "L" * 90, "title": "T" * 200})
        self.assertEqual((record["last_name"], record["title"]), ("L" * 90, "T" * 200))

    def test_valid_edge_values_are_accepted(self):
        record = self.create("contacts", {"last_name": "Edge", "date_of_birth": "2000-02-29",
                                          "do_not_email": False, "tags": [],
                                          "first_name": "Zoë 李"})
        self.assertEqual(record["date_of_birth"], "2000-02-29")
        self.assertIs(record["do_not_email"], False)
        self.assertEqual(record["first_name"], "Zoë 李")
        lead = self.create("leads", {"last_name": "Zero", "score": 0})
        self.assertEqual(lead["score"], 0)

    def test_non_object_bodies_are_rejected_without_a_parse_error(self):
        for body in (b"[]", b'"contact"', b"42", b"null", b"true", b'[{"last_name":"x"}]'):
            with self.subTest(body=body):
                problem = self.assert_client_problem(self.api("POST", "/api/v1/contacts", body),
                                                     (400, 422))
                self.assertNotEqual(problem["code"], "malformed_json")

    def test_account_reference_must_exist_in_the_tenant(self):
        contact = self.create("contacts", CONTACTS.minimal(unique()))
        for account_id in (ACCOUNTS.dummy_id(), contact["id"]):
            with self.subTest(account_id=account_id):
                body = {**CONTACTS.minimal(unique()), "account_id": account_id}
                self.assert_field_error(self.api("POST", "/api/v1/contacts", body), "account_id",
                                        "reference_not_found")
                resp = self.api("PATCH", f"/api/v1/contacts/{contact['id']}",
                                {"account_id": account_id})
                self.assert_field_error(resp, "account_id", "reference_not_found")
        self.assertEqual(self.get_record("contacts", contact["id"]), contact)


class UniqueEmailTest(ServerTestCase):

    def test_second_live_contact_with_the_same_email_is_409(self):
        email = f"{unique('dup')}@example.com"
        first = self.create("contacts", {"last_name": "First", "email": email})
        for variant in (email, email.upper()):
            with self.subTest(email=variant):
                resp = self.api("POST", "/api/v1/contacts", {"last_name": "Second", "email": variant})
                self.assert_problem(resp, 409, "conflict")
                self.assertEqual(self.field_errors(resp), [("email", "unique")])
        # With a dangling reference too, both are named (a 409 lists the conflict; the
        # reference is checked with it).
        resp = self.api("POST", "/api/v1/contacts", {"last_name": "Third", "email": email,
                                                     "account_id": "acc_00000000000000000000000000"})
        self.assert_problem(resp, 409, "conflict")
        self.assertEqual(self.field_errors(resp), [("email", "unique")])
        listed = self.api("GET", f"/api/v1/contacts?filter[email]={quote_param(email)}")
        self.assertEqual([r["id"] for r in listed.body["data"]], [first["id"]])

    def test_patching_to_a_taken_email_is_409(self):
        email = f"{unique('taken')}@example.com"
        self.create("contacts", {"last_name": "Owner", "email": email})
        other = self.create("contacts", {"last_name": "Other"})
        resp = self.api("PATCH", f"/api/v1/contacts/{other['id']}", {"email": email})
        self.assert_problem(resp, 409, "conflict")
        self.assertEqual(self.get_record("contacts", other["id"]), other)

    def test_deleting_a_contact_frees_its_email_and_restoring_it_then_conflicts(self):
        email = f"{unique('freed')}@example.com"
        first = self.create("contacts", {"last_name": "Gone", "email": email})
        self.assertEqual(self.api("DELETE", f"/api/v1/contacts/{first['id']}").status, 204)
        second = self.create("contacts", {"last_name": "New", "email": email})
        self.assertEqual(second["email"], email)
        restore = self.api("POST", f"/api/v1/contacts/{first['id']}/restore")
        self.assert_problem(restore, 409, "conflict")
        self.assert_problem(self.api("GET", f"/api/v1/contacts/{first['id']}"), 404, "not_found")

    def test_contacts_without_email_do_not_conflict(self):
        self.create("contacts", {"last_name": "NoMail1"})
        self.create("contacts", {"last_name": "NoMail2"})
        self.create("contacts", {"last_name": "NoMail3", "email": None})


if __name__ == "__main__":
    unittest.main()
