"""The built-in CRM objects as the tests see them: ids, fields and sample records.

Every sample function takes a unique `tag` so records of one test never collide with (or show
up in filters of) another test's records.
"""

from dataclasses import dataclass, field
from typing import Callable

ID_TAIL = r"[0-9A-HJKMNP-TV-Z]{26}"  # a ULID in Crockford base32
SERVER_OWNED_FIELDS = ("id", "created_at", "created_by", "updated_at", "version", "tenant_id")

LIFECYCLE_STAGES = ["subscriber", "lead", "marketing_qualified", "sales_qualified",
                    "opportunity", "customer", "evangelist", "other"]
LEAD_SOURCES = ["web", "referral", "event", "advertisement", "cold_call", "partner", "social",
                "other"]
LEAD_STATUSES = ["new", "working", "qualified", "unqualified", "converted"]


@dataclass
class CrmObject:
    name: str                 # URL segment, e.g. "contacts"
    prefix: str               # id prefix including "_"
    fields: list              # built-in writable fields
    minimal: Callable         # tag -> smallest valid body
    full: Callable            # tag -> body with every simple field set (no references)
    marker_field: str         # a text field the tests put a unique tag into
    update_field: str         # an optional text field PATCH tests change and clear
    required: list            # (body lacking a required value, fields an error may name)
    defaults: dict = field(default_factory=dict)  # server-side defaults of absent fields

    @property
    def path(self):
        return f"/api/v1/{self.name}"

    def dummy_id(self):
        """A well-formed id that no record has."""
        return self.prefix + "0" * 26


ACCOUNTS = CrmObject(
    name="accounts", prefix="acc_",
    fields=["name", "domain", "industry", "employees", "annual_revenue", "phone", "website",
            "billing_street", "billing_city", "billing_state", "billing_postal_code",
            "billing_country", "owner_id", "tags", "description"],
    minimal=lambda tag: {"name": f"Acme {tag}"},
    full=lambda tag: {
        "name": f"Acme {tag}", "domain": f"{tag.lower()}.example.com",
        "industry": "manufacturing", "employees": 250, "annual_revenue": 1234567.89,
        "phone": "+1 415 555 0100", "website": "https://acme.example.com/about",
        "billing_street": "1 Main St", "billing_city": "Springfield", "billing_state": "IL",
        "billing_postal_code": "62701", "billing_country": "US",
        "tags": ["key-account", "emea"], "description": "A long-standing customer."},
    marker_field="name", update_field="billing_city",
    required=[({}, ["name"]), ({"description": "No name"}, ["name"]), ({"name": None}, ["name"])],
)

CONTACTS = CrmObject(
    name="contacts", prefix="con_",
    fields=["first_name", "last_name", "email", "phone", "mobile", "title", "department",
            "account_id", "lifecycle_stage", "owner_id", "mailing_street", "mailing_city",
            "mailing_state", "mailing_postal_code", "mailing_country", "date_of_birth", "tags",
            "do_not_email"],
    minimal=lambda tag: {"last_name": f"Lovelace {tag}"},
    full=lambda tag: {
        "first_name": "Ada", "last_name": f"Lovelace {tag}", "email": f"ada.{tag}@example.com",
        "phone": "+44 20 7946 0958", "mobile": "(020) 7946-0959", "title": "Analyst",
        "department": "Research", "lifecycle_stage": "customer",
        "mailing_street": "12 St James's Square", "mailing_city": "London",
        "mailing_state": "Greater London", "mailing_postal_code": "SW1Y 4JH",
        "mailing_country": "GB", "date_of_birth": "1815-12-10", "tags": ["vip", "math"],
        "do_not_email": True},
    marker_field="last_name", update_field="title",
    required=[({}, ["first_name", "last_name"]), ({"title": "CTO"}, ["first_name", "last_name"]),
              ({"first_name": None, "last_name": None}, ["first_name", "last_name"])],
)

LEADS = CrmObject(
    name="leads", prefix="lead_",
    fields=["first_name", "last_name", "email", "phone", "company", "title", "source", "status",
            "score", "owner_id"],
    minimal=lambda tag: {"last_name": f"Hopper {tag}"},
    full=lambda tag: {
        "first_name": "Grace", "last_name": f"Hopper {tag}", "email": f"grace.{tag}@example.com",
        "phone": "+1 (555) 010-9999", "company": "Navy", "title": "Rear Admiral",
        "source": "referral", "status": "working", "score": 87},
    marker_field="last_name", update_field="title",
    required=[({}, ["last_name"]), ({"first_name": "Grace", "company": "Navy"}, ["last_name"]),
              ({"last_name": None}, ["last_name"])],
    defaults={"status": "new"},
)

OBJECTS = [ACCOUNTS, CONTACTS, LEADS]
