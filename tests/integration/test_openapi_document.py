"""The served OpenAPI document validates as OpenAPI 3.1 (official schema, via the npm package
in tests/openapi) — for the built-in objects and after a tenant adds custom fields of every
type."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ServerTestCase

VALIDATOR_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "openapi"))
VALIDATOR = os.path.join(VALIDATOR_DIR, "validate.mjs")

CUSTOM_FIELDS = [
    {"name": "region", "type": "enum", "enum_values": ["emea", "apac"], "indexed": True},
    {"name": "nps", "type": "integer", "indexed": True},
    {"name": "health", "type": "number"},
    {"name": "contract_value", "type": "money"},
    {"name": "renewal_on", "type": "date"},
    {"name": "last_seen_at", "type": "datetime"},
    {"name": "vip", "type": "bool"},
    {"name": "segments", "type": "tags", "searchable": True},
    {"name": "twitter", "type": "url"},
    {"name": "assistant_email", "type": "email", "pii": True},
    {"name": "assistant_phone", "type": "phone"},
    {"name": "summary", "type": "long_text", "searchable": True},
    {"name": "partner_id", "type": "reference", "reference_target": "accounts"},
]


class OpenApiDocumentTest(ServerTestCase):

    def validate(self, document):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is needed to validate the OpenAPI document")
        self.assertTrue(os.path.isdir(os.path.join(VALIDATOR_DIR, "node_modules")),
                        "run `npm ci` in tests/openapi (scripts/test.sh does)")
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(document, handle)
            path = handle.name
        try:
            result = subprocess.run([node, VALIDATOR, path], capture_output=True, text=True,
                                    timeout=120)
        finally:
            os.unlink(path)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def fetch(self):
        resp = self.api("GET", "/api/v1/openapi.json")
        self.assertEqual(resp.status, 200, resp.body)
        self.assertEqual(resp.body["openapi"], "3.1.0")
        return resp.body

    def test_builtin_document_is_valid_openapi_31(self):
        document = self.fetch()
        for name in ("accounts", "contacts", "leads"):
            self.assertIn(f"/api/v1/{name}", document["paths"])
            self.assertIn(f"/api/v1/{name}/{{id}}", document["paths"])
        self.validate(document)

    def test_document_with_custom_fields_of_every_type_is_valid(self):
        for field in CUSTOM_FIELDS:
            resp = self.api("POST", "/api/v1/schema/contacts/fields", field)
            self.assertEqual(resp.status, 201, resp.body)
        document = self.fetch()
        contact_schema = json.dumps(document["components"]["schemas"])
        for field in CUSTOM_FIELDS:
            self.assertIn(f'"{field["name"]}"', contact_schema)
        self.validate(document)

    def test_document_needs_a_credential(self):
        resp = self.api("GET", "/api/v1/openapi.json", key=None)
        self.assert_problem(resp, 401, "unauthenticated")


if __name__ == "__main__":
    unittest.main()
