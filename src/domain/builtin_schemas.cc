#include "domain/builtin_schemas.h"

#include <memory>

namespace zebros::domain {
namespace {
using model::Field;
using model::FieldType;

// Terse construction of field definitions; flags read like the schema table in docs/api.md.
struct F {
  Field field;
  F(std::string name, FieldType type, std::string label) {
    field.name = std::move(name);
    field.type = type;
    field.label = std::move(label);
  }
  F& Required() {
    field.required = true;
    return *this;
  }
  F& Unique() {
    field.unique = true;
    field.indexed = true;
    return *this;
  }
  F& Indexed() {
    field.indexed = true;
    return *this;
  }
  F& Searchable() {
    field.searchable = true;
    return *this;
  }
  F& Pii() {
    field.pii = true;
    return *this;
  }
  F& Max(std::size_t length) {
    field.max_length = length;
    return *this;
  }
  F& Values(std::vector<std::string> values) {
    field.enum_values = std::move(values);
    return *this;
  }
  F& Target(std::string target) {
    field.reference_target = std::move(target);
    return *this;
  }
  F& Describe(std::string text) {
    field.description = std::move(text);
    return *this;
  }
  F& Default(std::string value) {
    field.default_value = std::move(value);
    return *this;
  }
  operator Field() const { return field; }  // NOLINT: builder
};

void AddAddress(std::vector<Field>& fields, const std::string& prefix, const std::string& label,
                bool pii) {
  auto add = [&](const std::string& part, const std::string& part_label, bool indexed) {
    F f(prefix + "_" + part, FieldType::kText, label + " " + part_label);
    if (pii && part == "street") f.Pii();
    if (indexed) f.Indexed();
    fields.push_back(f);
  };
  add("street", "street", false);
  add("city", "city", true);
  add("state", "state/region", false);
  add("postal_code", "postal code", false);
  add("country", "country", true);
}

model::ObjectTypePtr Accounts() {
  auto type = std::make_shared<model::ObjectType>();
  type->name = "accounts";
  type->singular = "account";
  type->id_prefix = "acc";
  type->label = "Accounts";
  type->display_fields = {"name"};
  auto& f = type->fields;
  f.push_back(F("name", FieldType::kText, "Name").Required().Indexed().Searchable());
  f.push_back(F("domain", FieldType::kText, "Domain")
                  .Indexed()
                  .Searchable()
                  .Describe("Primary web domain, e.g. example.com; used to match contacts."));
  f.push_back(F("industry", FieldType::kEnum, "Industry")
                  .Indexed()
                  .Values({"agriculture", "construction", "consulting", "education", "energy",
                           "financial_services", "government", "healthcare", "hospitality",
                           "manufacturing", "media", "nonprofit", "real_estate", "retail",
                           "technology", "telecommunications", "transportation", "other"}));
  f.push_back(F("type", FieldType::kEnum, "Type")
                  .Indexed()
                  .Values({"prospect", "customer", "partner", "competitor", "reseller", "vendor",
                           "other"}));
  f.push_back(F("employees", FieldType::kInteger, "Employees").Indexed());
  f.push_back(F("annual_revenue", FieldType::kMoney, "Annual revenue").Indexed());
  f.push_back(F("phone", FieldType::kPhone, "Phone").Searchable());
  f.push_back(F("website", FieldType::kUrl, "Website"));
  AddAddress(f, "billing", "Billing", false);
  f.push_back(
      F("parent_account_id", FieldType::kReference, "Parent account").Target("accounts").Indexed());
  f.push_back(F("owner_id", FieldType::kText, "Owner").Indexed().Max(64));
  f.push_back(F("tags", FieldType::kTags, "Tags").Searchable());
  f.push_back(F("description", FieldType::kLongText, "Description"));
  return type;
}

model::ObjectTypePtr Contacts() {
  auto type = std::make_shared<model::ObjectType>();
  type->name = "contacts";
  type->singular = "contact";
  type->id_prefix = "con";
  type->label = "Contacts";
  type->display_fields = {"first_name", "last_name"};
  type->require_one_of = {{"first_name", "last_name"}};
  auto& f = type->fields;
  f.push_back(F("first_name", FieldType::kText, "First name").Indexed().Searchable().Max(100));
  f.push_back(F("last_name", FieldType::kText, "Last name").Indexed().Searchable().Max(100));
  f.push_back(F("email", FieldType::kEmail, "Email")
                  .Unique()
                  .Searchable()
                  .Pii()
                  .Describe("Unique among a tenant's live contacts; stored in lower case."));
  f.push_back(F("phone", FieldType::kPhone, "Phone").Pii().Searchable());
  f.push_back(F("mobile", FieldType::kPhone, "Mobile").Pii().Searchable());
  f.push_back(F("title", FieldType::kText, "Job title").Searchable());
  f.push_back(F("department", FieldType::kText, "Department"));
  f.push_back(F("account_id", FieldType::kReference, "Account")
                  .Target("accounts")
                  .Indexed()
                  .Searchable()
                  .Describe("Search finds the contact by its account's name too."));
  f.push_back(F("lifecycle_stage", FieldType::kEnum, "Lifecycle stage")
                  .Indexed()
                  .Values({"subscriber", "lead", "marketing_qualified", "sales_qualified",
                           "opportunity", "customer", "evangelist", "other"}));
  f.push_back(F("lead_source", FieldType::kEnum, "Lead source")
                  .Values({"web", "referral", "event", "advertisement", "cold_call", "partner",
                           "social", "other"}));
  f.push_back(F("owner_id", FieldType::kText, "Owner").Indexed().Max(64));
  AddAddress(f, "mailing", "Mailing", true);
  f.push_back(F("date_of_birth", FieldType::kDate, "Date of birth").Pii());
  f.push_back(F("do_not_email", FieldType::kBool, "Do not email")
                  .Indexed()
                  .Describe("Opted out of e-mail; campaigns skip the contact."));
  f.push_back(F("last_contacted_at", FieldType::kDateTime, "Last contacted").Indexed());
  f.push_back(F("tags", FieldType::kTags, "Tags").Searchable());
  f.push_back(F("notes", FieldType::kLongText, "Notes"));
  return type;
}

model::ObjectTypePtr Leads() {
  auto type = std::make_shared<model::ObjectType>();
  type->name = "leads";
  type->singular = "lead";
  type->id_prefix = "lead";
  type->label = "Leads";
  type->display_fields = {"first_name", "last_name", "company"};
  auto& f = type->fields;
  f.push_back(F("first_name", FieldType::kText, "First name").Indexed().Searchable().Max(100));
  f.push_back(
      F("last_name", FieldType::kText, "Last name").Required().Indexed().Searchable().Max(100));
  f.push_back(F("email", FieldType::kEmail, "Email").Indexed().Searchable().Pii());
  f.push_back(F("phone", FieldType::kPhone, "Phone").Pii().Searchable());
  f.push_back(F("company", FieldType::kText, "Company").Indexed().Searchable());
  f.push_back(F("title", FieldType::kText, "Job title").Searchable());
  f.push_back(F("website", FieldType::kUrl, "Website"));
  f.push_back(F("industry", FieldType::kText, "Industry"));
  f.push_back(F("source", FieldType::kEnum, "Source")
                  .Indexed()
                  .Values({"web", "referral", "event", "advertisement", "cold_call", "partner",
                           "social", "other"}));
  f.push_back(F("status", FieldType::kEnum, "Status")
                  .Indexed()
                  .Values({"new", "working", "qualified", "unqualified", "converted"})
                  .Default("new"));
  f.push_back(F("score", FieldType::kInteger, "Score").Indexed());
  f.push_back(F("owner_id", FieldType::kText, "Owner").Indexed().Max(64));
  f.push_back(F("annual_revenue", FieldType::kMoney, "Annual revenue"));
  f.push_back(F("employees", FieldType::kInteger, "Employees"));
  AddAddress(f, "address", "Address", true);
  f.push_back(F("tags", FieldType::kTags, "Tags").Searchable());
  f.push_back(F("description", FieldType::kLongText, "Description"));
  return type;
}
}  // namespace

const std::vector<model::ObjectTypePtr>& BuiltinObjectTypes() {
  static const std::vector<model::ObjectTypePtr> types = {Accounts(), Contacts(), Leads()};
  return types;
}

}  // namespace zebros::domain
