"""Batch writes (all-or-nothing, with the failing operation's index), custom fields (every type,
used in create/update/filter/sort/search, schema listing, errors, restart) and the OpenAPI
document."""

import datetime
import unittest

from crm import ACCOUNTS, CONTACTS, LEADS, LIFECYCLE_STAGES, OBJECTS
from harness import ServerTestCase, quote_param, unique

CONTACTS_PATH = "/api/v1/contacts"
BATCH = f"{CONTACTS_PATH}/batch"


def contact(tag, **fields):
    return {"first_name": "Batch", "last_name": tag, **fields}


class BatchTest(ServerTestCase):

    def contacts_named(self, last_name):
        resp = self.api("GET", f"{CONTACTS_PATH}?filter[last_name]={quote_param(last_name)}")
        self.assertEqual(resp.status, 200, resp.body)
        return resp.body["data"]

    def assert_batch_failed_at(self, resp, section, index, statuses=(422,)):
        """The batch failed; some error names `section[index]`, none names another op."""
        body = self.assert_client_problem(resp, statuses)
        if resp.status == 422:
            self.assertEqual(body["code"], "validation_failed")
        errors = body.get("errors") or []
        marker = f"{section}[{index}]"
        self.assertTrue(any(marker in e["field"] for e in errors),
                        f"no error names {marker}: {errors!r}")
        for error in errors:
            if "index" in error:
                self.assertEqual(error["index"], index, error)

    def test_create_update_upsert_and_delete_in_one_batch(self):
        tag = unique("B")
        to_update = self.create("contacts", contact(tag + "u"))
        to_delete = self.create("contacts", contact(tag + "d"))
        existing_email = f"{tag.lower()}.existing@example.com"
        to_upsert = self.create("contacts", contact(tag + "e", email=existing_email))
        new_email = f"{tag.lower()}.new@example.com"
        resp = self.api("POST", BATCH, {
            "create": [contact(tag, title=f"c{i}") for i in range(3)],
            "update": [{"id": to_update["id"], "title": "Updated"}],
            "upsert": {"key": "email", "records": [
                contact(tag + "e", email=existing_email.upper(), title="Upserted"),
                contact(tag + "n", email=new_email, title="Inserted")]},
            "delete": [to_delete["id"]],
        })
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(set(resp.body), {"created", "updated", "upserted", "deleted"})

        created = resp.body["created"]
        self.assertEqual([r["title"] for r in created], ["c0", "c1", "c2"])
        for record in created:
            self.assertEqual(self.get_record("contacts", record["id"]), record)

        [updated] = resp.body["updated"]
        self.assertEqual((updated["id"], updated["title"], updated["version"]),
                         (to_update["id"], "Updated", 2))
        self.assertEqual(self.get_record("contacts", to_update["id"]), updated)

        upserted = {r["email"]: r for r in resp.body["upserted"]}
        self.assertEqual(set(upserted), {existing_email, new_email})
        self.assertEqual(upserted[existing_email]["id"], to_upsert["id"])
        self.assertEqual(upserted[existing_email]["title"], "Upserted")
        self.assertEqual(upserted[existing_email]["version"], 2)
        self.assertNotEqual(upserted[new_email]["id"], to_upsert["id"])
        self.assertEqual(upserted[new_email]["version"], 1)
        self.assertEqual(self.get_record("contacts", upserted[new_email]["id"])["title"],
                         "Inserted")

        self.assertEqual(resp.body["deleted"], [to_delete["id"]])
        self.assert_problem(self.api("GET", f"{CONTACTS_PATH}/{to_delete['id']}"), 404,
                            "not_found")

    def test_batch_works_for_every_object(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                existing = [self.create(obj.name, obj.minimal(unique())) for _ in range(2)]
                resp = self.api("POST", f"{obj.path}/batch", {
                    "create": [obj.minimal(unique()), obj.full(unique())],
                    "update": [{"id": existing[0]["id"], obj.update_field: "batched"}],
                    "delete": [existing[1]["id"]]})
                self.assertEqual(resp.status, 200, resp.body)
                self.assertEqual(len(resp.body["created"]), 2)
                for record in resp.body["created"]:
                    self.assertTrue(record["id"].startswith(obj.prefix))
                self.assertEqual(resp.body["updated"][0][obj.update_field], "batched")
                self.assertEqual(resp.body["deleted"], [existing[1]["id"]])
                self.assertEqual(self.api("GET", f"{obj.path}/{existing[1]['id']}").status, 404)

    def test_invalid_create_fails_the_whole_batch_with_its_index(self):
        tag = unique("F")
        resp = self.api("POST", BATCH, {"create": [
            contact(tag), contact(tag, email="not-an-email"), contact(tag)]})
        self.assert_batch_failed_at(resp, "create", 1)
        self.assertTrue(any("create[1]" in e["field"] and "email" in e["field"]
                            and e["code"] == "invalid_email" for e in resp.body["errors"]),
                        resp.body)
        self.assertEqual(self.contacts_named(tag), [])

    def test_invalid_update_fails_the_whole_batch_and_changes_nothing(self):
        tag = unique("F")
        target = self.create("contacts", contact(tag + "t"))
        other = self.create("contacts", contact(tag + "o"))
        resp = self.api("POST", BATCH, {
            "create": [contact(tag)],
            "update": [{"id": other["id"], "title": "fine"},
                       {"id": target["id"], "lifecycle_stage": "vip"}],
            "delete": [other["id"]]})
        self.assert_batch_failed_at(resp, "update", 1)
        self.assertEqual(self.contacts_named(tag), [])
        self.assertEqual(self.get_record("contacts", target["id"]), target)
        self.assertEqual(self.get_record("contacts", other["id"]), other)

    def test_invalid_upsert_fails_the_whole_batch(self):
        tag = unique("F")
        resp = self.api("POST", BATCH, {
            "create": [contact(tag)],
            "upsert": {"key": "email", "records": [
                contact(tag, email=f"{tag}@example.com", lifecycle_stage="vip")]}})
        errors = self.assert_problem(resp, 422, "validation_failed").get("errors") or []
        self.assertTrue(any("upsert" in e["field"] and "[0]" in e["field"] for e in errors),
                        errors)
        self.assertEqual(self.contacts_named(tag), [])

    def test_unknown_ids_fail_the_whole_batch(self):
        tag = unique("F")
        victim = self.create("contacts", contact(tag + "v"))
        cases = {
            "update": {"update": [{"id": CONTACTS.dummy_id(), "title": "x"}],
                       "delete": [victim["id"]]},
            "delete": {"update": [{"id": victim["id"], "title": "changed"}],
                       "delete": [CONTACTS.dummy_id()]},
        }
        for section, operations in cases.items():
            with self.subTest(unknown_id_in=section):
                resp = self.api("POST", BATCH, {"create": [contact(tag)], **operations})
                self.assert_client_problem(resp, (404, 422))
                self.assertEqual(self.contacts_named(tag), [])
                self.assertEqual(self.get_record("contacts", victim["id"]), victim)

    def test_conflicting_emails_inside_one_batch_fail_it(self):
        tag = unique("F")
        email = f"{tag}@example.com"
        resp = self.api("POST", BATCH, {"create": [contact(tag, email=email),
                                                   contact(tag, email=email)]})
        self.assert_client_problem(resp, (409, 422))
        self.assertEqual(self.contacts_named(tag), [])

    def test_update_without_id_fails_the_batch(self):
        tag = unique("F")
        resp = self.api("POST", BATCH, {"create": [contact(tag)], "update": [{"title": "x"}]})
        self.assert_batch_failed_at(resp, "update", 0)
        self.assertEqual(self.contacts_named(tag), [])

    def test_more_than_200_operations_are_rejected(self):
        tag = unique("F")
        victim = self.create("contacts", contact(tag + "v"))
        too_large = [
            {"create": [contact(tag) for _ in range(201)]},
            {"create": [contact(tag) for _ in range(100)],
             "delete": [victim["id"]] + [CONTACTS.dummy_id()] * 100},
            {"create": [contact(tag) for _ in range(150)],
             "upsert": {"key": "email", "records": [
                 contact(tag, email=f"{tag}.{i}@example.com") for i in range(51)]}},
        ]
        for body in too_large:
            with self.subTest(sections=sorted(body)):
                resp = self.api("POST", BATCH, body)
                self.assert_client_problem(resp, (400, 422), "batch_too_large")
        self.assertEqual(self.contacts_named(tag), [])
        self.assertEqual(self.get_record("contacts", victim["id"]), victim)

    def test_exactly_200_operations_are_accepted(self):
        tag = unique("F")
        resp = self.api("POST", BATCH, {"create": [contact(tag, title=str(i)) for i in range(200)]})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(len(resp.body["created"]), 200)
        self.assertEqual(len({r["id"] for r in resp.body["created"]}), 200)
        stored = self.list_all("contacts", f"filter[last_name]={tag}")
        self.assertEqual(len(stored), 200)

    def test_malformed_batch_bodies_are_rejected(self):
        for body in ({"create": "nope"}, {"creat": [contact("x")]}, {"delete": [42]},
                     {"upsert": {"key": "email"}}, {"upsert": {"key": "nope", "records": []}},
                     {"upsert": [contact("x")]}):
            with self.subTest(body=body):
                self.assert_client_problem(self.api("POST", BATCH, body), (400, 422))


# (type, extra definition, valid value, expected stored value or None for "same",
#  invalid value, expected error code or None for "any code")
CUSTOM_TYPES = [
    ("text", {}, "hello", None, 42, "invalid_type"),
    ("long_text", {}, "long " * 500, None, 42, "invalid_type"),
    ("email", {}, "Some.One@Example.COM", "some.one@example.com", "nope", "invalid_email"),
    ("phone", {}, "+1 555 0100", None, "call me", "invalid_phone"),
    ("url", {}, "https://example.com/x?y=1", None, "not a url", None),
    ("integer", {}, 42, None, 4.5, "invalid_type"),
    ("number", {}, 3.25, None, "pi", "invalid_type"),
    ("money", {}, 19.99, None, "cheap", "invalid_type"),
    ("bool", {}, True, None, "yes", "invalid_type"),
    ("date", {}, "2024-02-29", None, "2023-02-29", "invalid_date"),
    ("datetime", {}, "2024-05-06T09:08:09+02:00", "2024-05-06T07:08:09Z", "yesterday", None),
    ("enum", {"enum_values": ["red", "green"]}, "green", None, "blue", "invalid_enum"),
    ("tags", {}, ["a", "b"], None, "a", "invalid_type"),
]


def same_instant(a, b):
    parse = lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parse(a) == parse(b)


class CustomFieldTest(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Records made before any custom field exists.
        cls.before = cls.server.api("POST", CONTACTS_PATH, {"last_name": unique("Before")}).body
        resp = cls.server.api("POST", "/api/v1/schema/contacts/fields", {
            "name": "region", "type": "enum", "enum_values": ["emea", "apac"], "indexed": True,
            "searchable": True, "label": "Region"})
        if resp.status != 201:
            raise AssertionError(f"creating custom field region: {resp.status} {resp.body!r}")
        cls.region_definition = resp.body
        resp = cls.server.api("POST", "/api/v1/schema/contacts/fields", {
            "name": "nickname", "type": "text", "searchable": True, "label": "Nickname"})
        if resp.status != 201:
            raise AssertionError(f"creating custom field nickname: {resp.status} {resp.body!r}")

    def schema_fields(self, object_name):
        resp = self.api("GET", f"/api/v1/schema/{object_name}")
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.body["name"], object_name)
        return {field["name"]: field for field in resp.body["fields"]}

    def test_created_field_is_described_in_the_response_and_the_schema(self):
        self.assertEqual(self.region_definition["name"], "region")
        self.assertEqual(self.region_definition["type"], "enum")
        region = self.schema_fields("contacts")["region"]
        self.assertEqual(region["type"], "enum")
        self.assertEqual(region["enum_values"], ["emea", "apac"])
        self.assertEqual(region["label"], "Region")

    def test_schema_lists_the_built_in_objects_and_fields(self):
        resp = self.api("GET", "/api/v1/schema")
        self.assertEqual(resp.status, 200, resp.body)
        objects = {o["name"]: o for o in resp.body["data"]}
        self.assertTrue({"accounts", "contacts", "leads"} <= set(objects), set(objects))
        contact_fields = {f["name"] for f in objects["contacts"]["fields"]}
        self.assertTrue({"region", "nickname"} | set(CONTACTS.fields) <= contact_fields)
        for obj in (ACCOUNTS, LEADS):
            self.assertTrue(set(obj.fields) <= {f["name"] for f in objects[obj.name]["fields"]})
            self.assertNotIn("region", {f["name"] for f in objects[obj.name]["fields"]})
        fields = self.schema_fields("contacts")
        self.assertEqual(fields["email"]["type"], "email")
        self.assertEqual(fields["date_of_birth"]["type"], "date")
        self.assertEqual(fields["lifecycle_stage"]["type"], "enum")
        self.assertEqual(fields["lifecycle_stage"]["enum_values"], LIFECYCLE_STAGES)

    def test_custom_field_round_trips_through_create_get_patch_and_clear(self):
        record = self.create("contacts", {"last_name": unique("R"), "region": "emea"})
        self.assertEqual(record["region"], "emea")
        self.assertEqual(self.get_record("contacts", record["id"])["region"], "emea")
        path = f"{CONTACTS_PATH}/{record['id']}"
        self.assertEqual(self.api("PATCH", path, {"region": "apac"}).body["region"], "apac")
        cleared = self.api("PATCH", path, {"region": None})
        self.assertEqual(cleared.status, 200, cleared.body)
        self.assertIsNone(cleared.body["region"])

    def test_records_older_than_the_field_show_it_as_null(self):
        self.assertIsNone(self.get_record("contacts", self.before["id"])["region"])

    def test_custom_field_values_are_validated(self):
        self.assert_field_error(self.api("POST", CONTACTS_PATH, {"last_name": "x",
                                                                  "region": "mars"}),
                                "region", "invalid_enum")
        record = self.create("contacts", {"last_name": unique("V"), "region": "emea"})
        resp = self.api("PATCH", f"{CONTACTS_PATH}/{record['id']}", {"region": "mars"})
        self.assert_field_error(resp, "region", "invalid_enum")
        self.assertEqual(self.get_record("contacts", record["id"]), record)

    def test_custom_field_filters_sorts_and_searches(self):
        department = unique("cf-")
        for name, region, nickname in (("Ann", "emea", "delta"), ("Bob", "apac", "alpha"),
                                       ("Cid", None, None), ("Dee", "emea", "charlie")):
            self.create("contacts", {"first_name": name, "last_name": "Region",
                                     "department": department, "region": region,
                                     "nickname": nickname})

        def names(query):
            resp = self.api("GET", f"{CONTACTS_PATH}?filter[department]={department}&{query}")
            self.assertEqual(resp.status, 200, resp.body)
            return [r["first_name"] for r in resp.body["data"]]

        self.assertEqual(set(names("filter[region]=emea")), {"Ann", "Dee"})
        self.assertEqual(set(names("filter%5Bregion%5D%5Bin%5D=emea,apac")), {"Ann", "Bob", "Dee"})
        self.assertEqual(set(names("filter[region][is_null]=true")), {"Cid"})
        self.assertEqual(set(names("filter[nickname][starts_with]=ch")), {"Dee"})
        self.assertEqual(names("filter[nickname][is_null]=false&sort=nickname"),
                         ["Bob", "Dee", "Ann"])
        self.assertEqual(names("filter[region]=emea&sort=-nickname"), ["Ann", "Dee"])
        resp = self.api("POST", f"{CONTACTS_PATH}/search", {"filter": {"and": [
            {"field": "department", "op": "eq", "value": department},
            {"field": "region", "op": "eq", "value": "apac"}]}})
        self.assertEqual([r["first_name"] for r in resp.body["data"]], ["Bob"])
        self.assert_problem(self.api("GET", f"{CONTACTS_PATH}?filter[region]=mars"), 400,
                            "invalid_filter")

    def test_searchable_custom_field_is_found_by_q_with_prefix(self):
        nickname = "Moonbeam" + unique("")
        record = self.create("contacts", {"last_name": unique("N"), "nickname": nickname})
        resp = self.api("POST", f"{CONTACTS_PATH}/search", {"q": nickname[:-3].lower()})
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual([r["id"] for r in resp.body["data"]], [record["id"]])

    def test_every_field_type_accepts_valid_and_rejects_invalid_values(self):
        for field_type, extra, valid, stored, invalid, code in CUSTOM_TYPES:
            name = f"cf_{field_type}"
            with self.subTest(type=field_type):
                resp = self.api("POST", "/api/v1/schema/leads/fields",
                                {"name": name, "type": field_type, "label": name, **extra})
                self.assertEqual(resp.status, 201, resp.body)
                record = self.create("leads", {"last_name": unique("T"), name: valid})
                want = valid if stored is None else stored
                fetched = self.get_record("leads", record["id"])
                if field_type == "datetime":
                    self.assertTrue(fetched[name].endswith("Z"), fetched[name])
                    self.assertTrue(same_instant(fetched[name], want), fetched[name])
                else:
                    self.assertEqual(fetched[name], want)
                bad = self.api("POST", "/api/v1/leads", {"last_name": "x", name: invalid})
                self.assert_field_error(bad, name, code)

    def test_custom_fields_work_on_every_object(self):
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                resp = self.api("POST", f"/api/v1/schema/{obj.name}/fields",
                                {"name": "cf_note", "type": "text", "label": "Note"})
                self.assertEqual(resp.status, 201, resp.body)
                record = self.create(obj.name, {**obj.minimal(unique()), "cf_note": "hi"})
                self.assertEqual(self.get_record(obj.name, record["id"])["cf_note"], "hi")

    def test_duplicate_or_built_in_field_names_are_409(self):
        for name in ("region", "email", "first_name", "lifecycle_stage"):
            with self.subTest(name=name):
                resp = self.api("POST", "/api/v1/schema/contacts/fields",
                                {"name": name, "type": "text", "label": name})
                self.assert_problem(resp, 409, "conflict")
        for name in ("id", "created_at", "version", "tenant_id"):
            with self.subTest(system_field=name):
                resp = self.api("POST", "/api/v1/schema/contacts/fields",
                                {"name": name, "type": "text", "label": name})
                self.assert_client_problem(resp, (409, 422))

    def test_bad_field_definitions_are_422(self):
        bad = [
            {"name": "Region2", "type": "text"},
            {"name": "1abc", "type": "text"},
            {"name": "has-dash", "type": "text"},
            {"name": "has space", "type": "text"},
            {"name": "", "type": "text"},
            {"name": "a" * 64, "type": "text"},
            {"name": "r\u00e9gion", "type": "text"},
            {"name": "colour", "type": "color"},
            {"name": "colour"},
            {"type": "text"},
            {"name": "colour", "type": "enum"},
            {"name": "colour", "type": "enum", "enum_values": []},
            {"name": "colour", "type": "enum", "enum_values": "red,green"},
            {"name": "colour", "type": "text", "bogus_option": True},
        ]
        for definition in bad:
            with self.subTest(definition=definition):
                resp = self.api("POST", "/api/v1/schema/contacts/fields", definition)
                self.assert_problem(resp, 422, "validation_failed")
        fields = self.schema_fields("contacts")
        self.assertNotIn("colour", fields)

    def test_fields_of_unknown_objects_are_404(self):
        resp = self.api("POST", "/api/v1/schema/widgets/fields", {"name": "x", "type": "text"})
        self.assert_problem(resp, 404, "not_found")
        self.assert_problem(self.api("GET", "/api/v1/schema/widgets"), 404, "not_found")

    def test_openapi_document_describes_objects_and_custom_fields(self):
        resp = self.api("GET", "/api/v1/openapi.json")
        self.assertEqual(resp.status, 200, resp.body)
        doc = resp.body
        self.assertEqual(doc["openapi"], "3.1.0")
        self.assertTrue(doc["info"]["title"])
        self.assertTrue(doc["info"]["version"])
        paths = set(doc["paths"])
        for obj in OBJECTS:
            with self.subTest(object=obj.name):
                self.assertTrue(any(p.endswith(f"/{obj.name}") for p in paths), paths)
                self.assertTrue(any(p.endswith(f"/{obj.name}/{{id}}") for p in paths), paths)
                self.assertTrue(any(p.endswith(f"/{obj.name}/search") for p in paths), paths)
        schemas = doc["components"]["schemas"]
        region = [schema["properties"]["region"] for name, schema in schemas.items()
                  if "contact" in name.lower() and "region" in schema.get("properties", {})]
        self.assertTrue(region, f"no contact schema has the custom field: {sorted(schemas)}")
        enum = [value for value in region[0].get("enum", []) if value is not None]  # null: nullable
        self.assertEqual(sorted(enum), ["apac", "emea"])
        for name, schema in schemas.items():
            if "account" in name.lower() or "lead" in name.lower():
                self.assertNotIn("region", schema.get("properties", {}), name)

    def test_z_custom_fields_survive_a_restart(self):
        record = self.create("contacts", {"last_name": unique("Restart"), "region": "apac"})
        self.server.restart()
        self.assertIn("region", self.schema_fields("contacts"))
        self.assertEqual(self.get_record("contacts", record["id"]), record)
        resp = self.api("GET", f"{CONTACTS_PATH}?filter[region]=apac")
        self.assertIn(record["id"], [r["id"] for r in resp.body["data"]])


if __name__ == "__main__":
    unittest.main()
