#include "api/openapi.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"

namespace zebros::api {
namespace {
namespace json = boost::json;

model::Field MakeField(std::string name, model::FieldType type, bool required = false) {
  model::Field field;
  field.name = std::move(name);
  field.type = type;
  field.required = required;
  return field;
}

// Two small types: companies, and deals with one field of each interesting kind.
std::vector<model::ObjectTypePtr> SampleTypes() {
  auto companies = std::make_shared<model::ObjectType>();
  companies->name = "companies";
  companies->singular = "company";
  companies->id_prefix = "cmp";
  companies->label = "Companies";
  model::Field company_name = MakeField("name", model::FieldType::kText, true);
  company_name.unique = true;
  companies->fields.push_back(company_name);
  companies->fields.push_back(MakeField("website", model::FieldType::kUrl));

  auto deals = std::make_shared<model::ObjectType>();
  deals->name = "deals";
  deals->singular = "deal";
  deals->id_prefix = "del";
  deals->label = "Deals";
  deals->fields.push_back(MakeField("title", model::FieldType::kText, true));
  model::Field stage = MakeField("stage", model::FieldType::kEnum, true);
  stage.enum_values = {"open", "won", "lost"};
  stage.indexed = true;
  deals->fields.push_back(stage);
  model::Field company = MakeField("company_id", model::FieldType::kReference);
  company.reference_target = "companies";
  company.label = "Company";
  deals->fields.push_back(company);
  deals->fields.push_back(MakeField("labels", model::FieldType::kTags));
  deals->fields.push_back(MakeField("amount", model::FieldType::kMoney));
  model::Field source = MakeField("source", model::FieldType::kEnum, true);
  source.enum_values = {"web", "event"};
  source.default_value = "web";
  deals->fields.push_back(source);
  model::Field region = MakeField("x_region", model::FieldType::kText);
  region.custom = true;
  region.label = "Region";
  region.description = "Sales region, added by the tenant.";
  deals->fields.push_back(region);
  return {companies, deals};
}

class OpenApiTest : public ::testing::Test {
 protected:
  const json::object& Doc() const { return document_.as_object(); }
  const json::object& Schema(std::string_view name) const {
    return Doc().at("components").at("schemas").at(name).as_object();
  }
  const json::object& Operation(std::string_view path, std::string_view method) const {
    return Doc().at("paths").at(path).at(method).as_object();
  }

  json::value document_ = BuildOpenApiDocument(SampleTypes());
};

json::value Ref(std::string_view header) {
  return json::object{{"$ref", "#/components/headers/" + std::string(header)}};
}

std::set<std::string> StringSet(const json::value& array) {
  std::set<std::string> out;
  for (const auto& item : array.as_array()) out.insert(std::string(item.as_string()));
  return out;
}

TEST_F(OpenApiTest, IsOpenApi31) {
  EXPECT_EQ(Doc().at("openapi"), "3.1.0");
  EXPECT_EQ(Doc().at("info").at("title"), "Zebros CRM API");
  EXPECT_EQ(Doc().at("info").at("version"), "1.0.0");
  EXPECT_EQ(Doc().at("components").at("securitySchemes").at("bearerAuth").at("scheme"), "bearer");
}

TEST_F(OpenApiTest, HasEveryPathAndOperation) {
  const std::map<std::string, std::map<std::string, std::string>> expected = {
      {"/api/v1/deals", {{"get", "listDeals"}, {"post", "createDeal"}}},
      {"/api/v1/deals/{id}",
       {{"get", "getDeal"}, {"patch", "updateDeal"}, {"delete", "deleteDeal"}}},
      {"/api/v1/deals/{id}/restore", {{"post", "restoreDeal"}}},
      {"/api/v1/deals/search", {{"post", "searchDeals"}}},
      {"/api/v1/deals/batch", {{"post", "batchDeals"}}},
      {"/api/v1/companies", {{"get", "listCompanies"}, {"post", "createCompany"}}},
      {"/api/v1/companies/{id}",
       {{"get", "getCompany"}, {"patch", "updateCompany"}, {"delete", "deleteCompany"}}},
      {"/api/v1/companies/{id}/restore", {{"post", "restoreCompany"}}},
      {"/api/v1/companies/search", {{"post", "searchCompanies"}}},
      {"/api/v1/companies/batch", {{"post", "batchCompanies"}}},
      {"/healthz", {{"get", "getHealth"}}},
      {"/readyz", {{"get", "getReadiness"}}},
      {"/api/v1/openapi.json", {{"get", "getOpenApiDocument"}}},
      {"/api/v1/schema", {{"get", "listObjectTypes"}}},
      {"/api/v1/schema/{object}", {{"get", "getObjectType"}}},
      {"/api/v1/schema/{object}/fields", {{"post", "createField"}}},
  };
  for (const auto& [path, operations] : expected) {
    for (const auto& [method, operation_id] : operations) {
      SCOPED_TRACE(path + " " + method);
      EXPECT_EQ(Operation(path, method).at("operationId").as_string(), operation_id);
    }
  }
  EXPECT_EQ(Doc().at("paths").as_object().size(), expected.size());
}

TEST_F(OpenApiTest, OperationIdsAreUniqueAndTagged) {
  std::set<std::string> seen;
  int operations = 0;
  for (const auto& path : Doc().at("paths").as_object()) {
    for (const auto& member : path.value().as_object()) {
      if (member.key() == "parameters") continue;
      ++operations;
      const auto& operation = member.value().as_object();
      EXPECT_TRUE(seen.insert(std::string(operation.at("operationId").as_string())).second)
          << operation.at("operationId");
      EXPECT_EQ(operation.at("tags").as_array().size(), 1u) << operation.at("operationId");
    }
  }
  EXPECT_EQ(operations, 22);
  EXPECT_EQ(Operation("/api/v1/deals", "get").at("tags").at(0), "Deals");
}

TEST_F(OpenApiTest, HealthNeedsNoCredential) {
  EXPECT_TRUE(Operation("/healthz", "get").at("security").as_array().empty());
  EXPECT_TRUE(Operation("/readyz", "get").at("security").as_array().empty());
  EXPECT_EQ(Operation("/api/v1/deals", "get").if_contains("security"), nullptr);
}

TEST_F(OpenApiTest, CustomFieldIsInRecordSchema) {
  const auto& properties = Schema("Deal").at("properties").as_object();
  const auto& region = properties.at("x_region").as_object();
  EXPECT_EQ(region.at("x-zebros").at("custom"), true);
  EXPECT_EQ(region.at("description"), "Sales region, added by the tenant.");
  EXPECT_EQ(region.at("title"), "Region");
  EXPECT_EQ(properties.at("title").at("x-zebros").at("custom"), false);
  EXPECT_TRUE(Schema("DealCreate").at("properties").as_object().contains("x_region"));
  EXPECT_TRUE(Schema("DealUpdate").at("properties").as_object().contains("x_region"));
}

TEST_F(OpenApiTest, RecordSchemaHasReadOnlySystemFieldsAndNullableFields) {
  const auto& properties = Schema("Deal").at("properties").as_object();
  for (std::string_view name :
       {"id", "created_at", "updated_at", "created_by", "version", "deleted_at"}) {
    EXPECT_EQ(properties.at(name).at("readOnly"), true) << name;
  }
  EXPECT_EQ(properties.at("created_by").at("type"), "string");
  EXPECT_EQ(properties.at("version").at("type"), "integer");
  EXPECT_EQ(properties.at("deleted_at").at("format"), "date-time");
  EXPECT_EQ(properties.at("id").at("pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(properties.at("created_at").at("format"), "date-time");
  EXPECT_EQ(properties.at("amount").at("type"), (json::array{"number", "null"}));
  EXPECT_EQ(properties.at("stage").at("enum"), (json::array{"open", "won", "lost", nullptr}));
  EXPECT_EQ(properties.at("labels").at("type"), (json::array{"array", "null"}));
  EXPECT_FALSE(properties.at("amount").as_object().contains("nullable"));
  // Stored tags are distinct (the server drops repeats on the way in).
  EXPECT_EQ(properties.at("labels").at("uniqueItems"), true);
}

// api/render.cc writes id, every field (null when unset), created_at, updated_at, created_by,
// version, and deleted_at only on records returned by delete paths.
TEST_F(OpenApiTest, RecordSchemaFollowsTheRenderedShape) {
  std::vector<std::string> keys;
  for (const auto& property : Schema("Deal").at("properties").as_object()) {
    keys.emplace_back(property.key());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "title", "stage", "company_id", "labels",
                                            "amount", "source", "x_region", "created_at",
                                            "updated_at", "created_by", "version", "deleted_at"}));
  const std::set<std::string> required = StringSet(Schema("Deal").at("required"));
  EXPECT_EQ(required.size(), keys.size() - 1);
  EXPECT_FALSE(required.contains("deleted_at"));
}

TEST_F(OpenApiTest, MapsFieldTypes) {
  const auto& create = Schema("DealCreate").at("properties").as_object();
  EXPECT_EQ(create.at("title").at("type"), "string");
  EXPECT_EQ(create.at("title").at("maxLength"), 255);
  EXPECT_EQ(create.at("amount").at("multipleOf"), 0.01);
  EXPECT_FALSE(create.at("labels").as_object().contains("uniqueItems"));
  EXPECT_EQ(create.at("labels").at("maxItems"), 100);
  EXPECT_EQ(create.at("labels").at("items").at("type"), "string");
  EXPECT_EQ(create.at("labels").at("items").at("minLength"), 1);
  EXPECT_EQ(create.at("company_id").at("pattern"), "^cmp_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(create.at("company_id").at("description"), "Company (id of a company record)");
  const auto& website = Schema("CompanyCreate").at("properties").at("website");
  EXPECT_EQ(website.at("format"), "uri");
  const std::regex url(std::string(website.at("pattern").as_string()), std::regex::ECMAScript);
  EXPECT_TRUE(std::regex_search("https://example.com/a?b#c", url));
  EXPECT_FALSE(std::regex_search("ftp://example.com", url));
  EXPECT_FALSE(std::regex_search("https:///path", url));
  EXPECT_FALSE(std::regex_search("https://exa mple.com", url));
  EXPECT_EQ(create.at("amount").at("maximum"), 1e15);
  EXPECT_NE(core::WriteJson(create.at("amount")).find("\"multipleOf\":0.01"), std::string::npos);
}

TEST_F(OpenApiTest, CreateRequiresRequiredFieldsOnly) {
  const auto& create = Schema("DealCreate");
  // `source` is required but has a default, so a create may leave it out.
  EXPECT_EQ(StringSet(create.at("required")), (std::set<std::string>{"title", "stage"}));
  EXPECT_EQ(create.at("additionalProperties"), false);
  EXPECT_EQ(create.at("properties").at("title").at("type"), "string");
  EXPECT_EQ(create.at("properties").at("title").at("minLength"), 1);
  EXPECT_EQ(create.at("properties").at("source").at("default"), "web");
  EXPECT_EQ(create.at("properties").at("amount").at("type"), (json::array{"number", "null"}));
  EXPECT_FALSE(create.at("properties").as_object().contains("id"));

  // A required field cannot be cleared; an optional one is cleared by null.
  const auto& update = Schema("DealUpdate");
  EXPECT_FALSE(update.contains("required"));
  EXPECT_EQ(update.at("additionalProperties"), false);
  EXPECT_EQ(update.at("properties").at("title").at("type"), "string");
  EXPECT_EQ(update.at("properties").at("title").at("minLength"), 1);
  EXPECT_EQ(update.at("properties").at("amount").at("type"), (json::array{"number", "null"}));
  EXPECT_FALSE(update.at("properties").as_object().contains("version"));
}

TEST_F(OpenApiTest, ListSchema) {
  const auto& list = Schema("DealList").at("properties");
  EXPECT_EQ(list.at("data").at("items").at("$ref"), "#/components/schemas/Deal");
  EXPECT_EQ(list.at("next_cursor").at("type"), (json::array{"string", "null"}));
}

TEST_F(OpenApiTest, BatchRequestSections) {
  const auto& properties = Schema("DealBatchRequest").at("properties").as_object();
  EXPECT_EQ(Schema("DealBatchRequest").at("additionalProperties"), false);
  EXPECT_EQ(properties.at("create").at("items").at("$ref"), "#/components/schemas/DealCreate");
  for (std::string_view section : {"create", "update", "delete"}) {
    EXPECT_EQ(properties.at(section).at("maxItems"), 200) << section;
  }
  // Updates are flat: the id beside the fields, no `fields` or `version` wrapper.
  EXPECT_EQ(properties.at("update").at("items").at("$ref"), "#/components/schemas/DealBatchUpdate");
  const auto& update = Schema("DealBatchUpdate");
  EXPECT_EQ(update.at("required"), json::array{"id"});
  EXPECT_EQ(update.at("additionalProperties"), false);
  EXPECT_EQ(update.at("properties").at("id").at("pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(update.at("properties").at("amount"),
            Schema("DealUpdate").at("properties").at("amount"));
  EXPECT_FALSE(update.at("properties").as_object().contains("fields"));
  EXPECT_FALSE(update.at("properties").as_object().contains("version"));
  // Deletes are plain ids.
  EXPECT_EQ(properties.at("delete").at("items").at("pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_FALSE(properties.at("delete").as_object().contains("uniqueItems"));
}

TEST_F(OpenApiTest, UpsertKeysAreUniqueOrIndexedFields) {
  const auto& company_upsert = Schema("CompanyBatchRequest").at("properties").at("upsert");
  EXPECT_EQ(company_upsert.at("properties").at("key").at("enum"), json::array{"name"});
  // `stage` is only indexed, not unique: still a key.
  const auto& deal_upsert = Schema("DealBatchRequest").at("properties").at("upsert");
  EXPECT_EQ(deal_upsert.at("properties").at("key").at("enum"), json::array{"stage"});
  EXPECT_EQ(deal_upsert.at("required"), (json::array{"key", "records"}));
  // Records are validated like an update, and must set the chosen key.
  EXPECT_EQ(deal_upsert.at("properties").at("records").at("items").at("$ref"),
            "#/components/schemas/DealUpdate");
  EXPECT_EQ(deal_upsert.at("properties").at("records").at("maxItems"), 200);
  const auto& rule = deal_upsert.at("allOf").at(0);
  EXPECT_EQ(rule.at("if").at("properties").at("key").at("const"), "stage");
  EXPECT_EQ(rule.at("then").at("properties").at("records").at("items").at("required"),
            json::array{"stage"});

  // A type with neither unique nor indexed fields has no upsert section.
  auto notes = std::make_shared<model::ObjectType>();
  notes->name = "notes";
  notes->singular = "note";
  notes->id_prefix = "not";
  notes->fields.push_back(MakeField("body", model::FieldType::kLongText));
  const json::value document = BuildOpenApiDocument({notes});
  EXPECT_FALSE(document.at("components")
                   .at("schemas")
                   .at("NoteBatchRequest")
                   .at("properties")
                   .as_object()
                   .contains("upsert"));
}

TEST_F(OpenApiTest, BatchOperation) {
  const auto& batch = Operation("/api/v1/deals/batch", "post");
  EXPECT_EQ(batch.at("parameters").at(0).at("$ref"), "#/components/parameters/IdempotencyKey");
  const auto& responses = batch.at("responses").as_object();
  EXPECT_EQ(responses.at("200").at("content").at("application/json").at("schema").at("$ref"),
            "#/components/schemas/DealBatchResult");
  EXPECT_TRUE(responses.at("200").at("headers").as_object().contains("Idempotent-Replayed"));
  for (std::string_view status : {"400", "404", "409", "422"}) {
    EXPECT_TRUE(responses.contains(status)) << status;
  }
  EXPECT_FALSE(responses.contains("412"));  // batch items carry no version
  const auto& result = Schema("DealBatchResult");
  EXPECT_EQ(StringSet(result.at("required")),
            (std::set<std::string>{"created", "updated", "upserted", "deleted"}));
  EXPECT_EQ(result.at("properties").at("upserted").at("items").at("$ref"),
            "#/components/schemas/Deal");
  EXPECT_EQ(result.at("properties").at("deleted").at("items").at("type"), "string");
}

// Resolves a local JSON pointer ("#/a/b") in `root`; nullptr when it does not.
const json::value* Resolve(const json::value& root, std::string_view ref) {
  if (ref.substr(0, 2) != "#/") return nullptr;
  const json::value* at = &root;
  std::string_view rest = ref.substr(2);
  while (at != nullptr) {
    const std::size_t slash = rest.find('/');
    std::string token(rest.substr(0, slash));
    for (std::size_t pos = 0; (pos = token.find('~', pos)) != std::string::npos; ++pos) {
      token.replace(pos, 2, token.compare(pos, 2, "~1") == 0 ? "/" : "~");
    }
    const auto* object = at->if_object();
    at = object != nullptr ? object->if_contains(token) : nullptr;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return at;
}

void CollectRefs(const json::value& node, std::vector<std::string>& refs) {
  if (const auto* object = node.if_object()) {
    for (const auto& member : *object) {
      if (member.key() == "$ref" && member.value().is_string()) {
        refs.emplace_back(member.value().as_string());
      } else {
        CollectRefs(member.value(), refs);
      }
    }
  } else if (const auto* array = node.if_array()) {
    for (const auto& item : *array) CollectRefs(item, refs);
  }
}

TEST_F(OpenApiTest, EveryRefResolvesToAComponent) {
  std::vector<std::string> refs;
  CollectRefs(document_, refs);
  ASSERT_GT(refs.size(), 50u);
  for (const auto& ref : refs) {
    EXPECT_EQ(ref.rfind("#/components/", 0), 0u) << ref;
    EXPECT_NE(Resolve(document_, ref), nullptr) << ref;
  }
  EXPECT_EQ(Resolve(document_, "#/components/schemas/Nope"), nullptr);
}

TEST_F(OpenApiTest, ErrorResponsesAreProblems) {
  const auto& responses = Doc().at("components").at("responses").as_object();
  EXPECT_EQ(responses.size(), 11u);
  for (const auto& response : responses) {
    EXPECT_EQ(response.value().at("content").at("application/problem+json").at("schema").at("$ref"),
              "#/components/schemas/Problem");
  }
  EXPECT_TRUE(responses.at("Unauthorized").at("headers").as_object().contains("WWW-Authenticate"));
  EXPECT_TRUE(responses.at("MethodNotAllowed").at("headers").as_object().contains("Allow"));
  EXPECT_TRUE(responses.at("ServiceUnavailable").at("headers").as_object().contains("Retry-After"));
  EXPECT_EQ(StringSet(Schema("Problem").at("required")),
            (std::set<std::string>{"type", "title", "status", "detail", "code", "errors"}));
  const auto& patch = Operation("/api/v1/deals/{id}", "patch").at("responses").as_object();
  EXPECT_EQ(patch.at("412").at("$ref"), "#/components/responses/PreconditionFailed");
  EXPECT_FALSE(Operation("/api/v1/deals", "get").at("responses").as_object().contains("412"));
}

TEST_F(OpenApiTest, SearchUsesRecursiveFilterTree) {
  EXPECT_EQ(Operation("/api/v1/deals/search", "post")
                .at("requestBody")
                .at("content")
                .at("application/json")
                .at("schema")
                .at("$ref"),
            "#/components/schemas/SearchRequest");
  EXPECT_EQ(Schema("SearchRequest").at("properties").at("filter").at("$ref"),
            "#/components/schemas/FilterNode");
  EXPECT_EQ(
      Schema("FilterNode").at("oneOf").at(0).at("properties").at("and").at("items").at("$ref"),
      "#/components/schemas/FilterNode");
  EXPECT_EQ(Schema("FilterCondition").at("properties").at("op").at("enum").as_array().size(), 10u);
  // `op` defaults to eq; `value` may be left out for is_null only.
  EXPECT_EQ(Schema("FilterCondition").at("required"), json::array{"field"});
  EXPECT_EQ(Schema("FilterCondition").at("properties").at("op").at("default"), "eq");
}

TEST_F(OpenApiTest, EveryResponseCarriesTheRequestId) {
  const json::value request_id = Ref("X-Request-Id");
  int checked = 0;
  auto check = [&](const json::object& response, const std::string& where) {
    if (response.contains("$ref")) return;  // a component, checked below
    ++checked;
    EXPECT_EQ(response.at("headers").at("X-Request-Id"), request_id) << where;
  };
  for (const auto& path : Doc().at("paths").as_object()) {
    for (const auto& operation : path.value().as_object()) {
      if (operation.key() == "parameters") continue;
      for (const auto& response : operation.value().at("responses").as_object()) {
        check(response.value().as_object(), std::string(path.key()) + " " +
                                                std::string(operation.key()) + " " +
                                                std::string(response.key()));
      }
    }
  }
  for (const auto& response : Doc().at("components").at("responses").as_object()) {
    check(response.value().as_object(), std::string(response.key()));
  }
  EXPECT_GT(checked, 30);
}

TEST_F(OpenApiTest, CreateAnswersWithLocationETagAndReplayFlag) {
  const auto& create = Operation("/api/v1/deals", "post");
  EXPECT_EQ(create.at("parameters").at(0).at("$ref"), "#/components/parameters/IdempotencyKey");
  const auto& headers = create.at("responses").at("201").at("headers").as_object();
  for (std::string_view name : {"Location", "ETag", "Idempotent-Replayed", "X-Request-Id"}) {
    EXPECT_TRUE(headers.contains(name)) << name;
  }
  const auto& shared = Doc().at("components").at("headers");
  EXPECT_EQ(shared.at("Idempotent-Replayed").at("schema").at("enum"), json::array{"true"});
  const std::regex etag(std::string(shared.at("ETag").at("schema").at("pattern").as_string()),
                        std::regex::ECMAScript);
  EXPECT_TRUE(std::regex_search("\"del_01JABCDEFGHJKMNPQRSTVWXYZ0-v12\"", etag));
  EXPECT_TRUE(std::regex_search("\"lead_01JABCDEFGHJKMNPQRSTVWXYZ0-v1\"", etag));
  EXPECT_FALSE(std::regex_search("\"12\"", etag));
  EXPECT_FALSE(std::regex_search("del_01JABCDEFGHJKMNPQRSTVWXYZ0-v12", etag));
}

TEST_F(OpenApiTest, ListTakesLimitCursorSortQAndFilter) {
  std::set<std::string> names;
  const auto& parameters = Doc().at("components").at("parameters");
  for (const auto& parameter : Operation("/api/v1/deals", "get").at("parameters").as_array()) {
    const json::value& resolved =
        parameter.as_object().contains("$ref")
            ? parameters.at(std::string(parameter.at("$ref").as_string()).substr(24))
            : parameter;
    names.insert(std::string(resolved.at("name").as_string()));
  }
  EXPECT_EQ(names, (std::set<std::string>{"limit", "cursor", "q", "sort", "filter"}));
  EXPECT_EQ(parameters.at("Limit").at("schema").at("maximum"), 500);
  EXPECT_EQ(parameters.at("Limit").at("schema").at("default"), 50);

  const auto& list = Operation("/api/v1/deals", "get").at("parameters").as_array();
  const auto& filter = list.at(list.size() - 1).at("schema").at("properties").as_object();
  for (std::string_view name :
       {"id", "created_at", "updated_at", "created_by", "version", "title", "labels", "x_region"}) {
    EXPECT_TRUE(filter.contains(name)) << name;
  }
  const std::regex sort(
      std::string(list.at(list.size() - 2).at("schema").at("pattern").as_string()),
      std::regex::ECMAScript);
  EXPECT_TRUE(std::regex_search("-created_at,version,+created_by,title", sort));
  EXPECT_FALSE(std::regex_search("labels", sort));  // tags cannot be sorted
  EXPECT_FALSE(std::regex_search("a,b", sort));
  EXPECT_FALSE(std::regex_search("id,id,id,id,id,id", sort));  // at most 5 keys
}

TEST_F(OpenApiTest, HealthBodies) {
  const auto& health = Operation("/healthz", "get").at("responses").at("200");
  EXPECT_EQ(health.at("content").at("application/json").at("schema").at("$ref"),
            "#/components/schemas/HealthStatus");
  EXPECT_EQ(Schema("HealthStatus").at("properties").at("status").at("const"), "ok");
  const auto& ready = Operation("/readyz", "get").at("responses");
  EXPECT_EQ(Schema("ReadinessStatus").at("properties").at("status").at("const"), "ready");
  EXPECT_EQ(ready.at("503").at("$ref"), "#/components/responses/ServiceUnavailable");
}

TEST_F(OpenApiTest, SchemaEndpoints) {
  EXPECT_EQ(StringSet(Schema("ObjectTypeDefinition").at("required")),
            (std::set<std::string>{"name", "singular", "label", "id_prefix", "fields"}));
  EXPECT_EQ(Schema("ObjectTypeDefinition").at("properties").as_object().size(), 5u);
  // model/field_json.cc FieldToJson: always these, enum_values / reference_target / description
  // only when they apply.
  EXPECT_EQ(StringSet(Schema("FieldDefinition").at("required")),
            (std::set<std::string>{"name", "type", "label", "required", "unique", "indexed",
                                   "searchable", "pii", "custom", "max_length"}));
  for (std::string_view key : {"enum_values", "reference_target", "description"}) {
    EXPECT_TRUE(Schema("FieldDefinition").at("properties").as_object().contains(key)) << key;
  }
  EXPECT_EQ(Schema("FieldCreate").at("properties").at("max_length").at("maximum"), 32768);

  const auto& create = Operation("/api/v1/schema/{object}/fields", "post").at("responses");
  EXPECT_EQ(create.at("201").at("content").at("application/json").at("schema").at("$ref"),
            "#/components/schemas/FieldDefinition");
  EXPECT_TRUE(create.at("201").at("headers").as_object().contains("Location"));
  for (std::string_view status : {"403", "409", "422"}) {
    EXPECT_TRUE(create.as_object().contains(status)) << status;
  }
  EXPECT_FALSE(Operation("/api/v1/schema", "get").at("responses").as_object().contains("403"));
}

TEST_F(OpenApiTest, IsDeterministic) {
  EXPECT_EQ(core::WriteJson(document_), core::WriteJson(BuildOpenApiDocument(SampleTypes())));
}

TEST(OpenApiEmptyTest, NoTypesStillGivesAValidSkeleton) {
  const json::value document = BuildOpenApiDocument({});
  EXPECT_EQ(document.at("paths").as_object().size(), 6u);
  EXPECT_TRUE(document.at("components").at("schemas").as_object().contains("Problem"));
}

}  // namespace
}  // namespace zebros::api
