#include "api/openapi.h"

#include <gtest/gtest.h>

#include <array>
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
#include "domain/builtin_schemas.h"

namespace zebros::api {
namespace {
namespace json = boost::json;

using model::FieldType;

// Designated initializers leave the other members at their defaults, as meant (the project
// builds with -Wno-missing-field-initializers; this keeps a bare -Wextra build quiet too).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
model::ObjectTypePtr MakeType(model::ObjectType type) {
  return std::make_shared<model::ObjectType>(std::move(type));
}

// Two small types: companies, and deals with one field of each interesting kind.
std::vector<model::ObjectTypePtr> SampleTypes() {
  return {
      MakeType({.name = "companies",
                .singular = "company",
                .id_prefix = "cmp",
                .label = "Companies",
                .fields = {{.name = "name", .required = true, .unique = true},
                           {.name = "website", .type = FieldType::kUrl}}}),
      MakeType({.name = "deals",
                .singular = "deal",
                .id_prefix = "del",
                .label = "Deals",
                .fields = {{.name = "title", .required = true},
                           {.name = "stage",
                            .type = FieldType::kEnum,
                            .required = true,
                            .indexed = true,  // indexed, not unique
                            .enum_values = {"open", "won", "lost"}},
                           {.name = "company_id",
                            .type = FieldType::kReference,
                            .label = "Company",
                            .reference_target = "companies"},
                           {.name = "labels", .type = FieldType::kTags},
                           {.name = "amount", .type = FieldType::kMoney},
                           {.name = "source",
                            .type = FieldType::kEnum,
                            .required = true,
                            .enum_values = {"web", "event"},
                            .default_value = "web"},
                           {.name = "x_region",
                            .label = "Region",
                            .custom = true,
                            .description = "Sales region, added by the tenant."}}}),
  };
}

model::ObjectTypePtr NotesType() {
  return MakeType({.name = "notes",
                   .singular = "note",
                   .id_prefix = "not",
                   .fields = {{.name = "body", .type = FieldType::kLongText}}});
}
#pragma GCC diagnostic pop

class OpenApiTest : public ::testing::Test {
 protected:
  const json::object& Doc() const { return document_.as_object(); }
  // The schema `name`, or the value at the JSON pointer `pointer` inside it.
  const json::value& S(std::string_view name, std::string_view pointer = "") const {
    return Doc().at("components").at("schemas").at(name).at_pointer(pointer);
  }
  const json::value& Op(std::string_view path, std::string_view method,
                        std::string_view pointer = "") const {
    return Doc().at("paths").at(path).at(method).at_pointer(pointer);
  }

  json::value document_ = BuildOpenApiDocument(SampleTypes());
};

bool Has(const json::value& object, std::string_view key) {
  return object.as_object().contains(key);
}

std::string Str(const json::value& value) { return std::string(value.as_string()); }

json::value Ref(std::string_view section, std::string_view name) {
  return json::object{{"$ref", "#/components/" + std::string(section) + "/" + std::string(name)}};
}

bool Matches(const json::value& pattern, const char* text) {
  return std::regex_search(text, std::regex(Str(pattern), std::regex::ECMAScript));
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
  std::map<std::string, std::map<std::string, std::string>> expected = {
      {"/healthz", {{"get", "getHealth"}}},
      {"/readyz", {{"get", "getReadiness"}}},
      {"/api/v1/openapi.json", {{"get", "getOpenApiDocument"}}},
      {"/api/v1/schema", {{"get", "listObjectTypes"}}},
      {"/api/v1/schema/{object}", {{"get", "getObjectType"}}},
      {"/api/v1/schema/{object}/fields", {{"post", "createField"}}},
      {"/api/v1/audit", {{"get", "listAuditEntries"}}},
      {"/api/v1/me", {{"get", "getMe"}}},
      {"/api/v1/api-keys", {{"get", "listApiKeys"}, {"post", "createApiKey"}}},
      {"/api/v1/api-keys/{id}", {{"get", "getApiKey"}, {"delete", "revokeApiKey"}}},
      {"/api/v1/users", {{"get", "listUsers"}, {"post", "createUser"}}},
      {"/api/v1/users/{id}",
       {{"get", "getUser"}, {"patch", "updateUser"}, {"delete", "deactivateUser"}}},
      {"/api/v1/teams", {{"get", "listTeams"}, {"post", "createTeam"}}},
      {"/api/v1/teams/{id}",
       {{"get", "getTeam"}, {"patch", "updateTeam"}, {"delete", "deleteTeam"}}},
      {"/api/v1/access/scopes", {{"get", "listRecordScopes"}}},
      {"/api/v1/access/scopes/{role}/{object}", {{"put", "setRecordScope"}}},
  };
  for (auto [name, one, many] : {std::array<std::string, 3>{"deals", "Deal", "Deals"},
                                 std::array<std::string, 3>{"companies", "Company", "Companies"}}) {
    const std::string base = "/api/v1/" + name;
    expected[base] = {{"get", "list" + many}, {"post", "create" + one}};
    expected[base + "/{id}"] = {
        {"get", "get" + one}, {"patch", "update" + one}, {"delete", "delete" + one}};
    expected[base + "/{id}/restore"] = {{"post", "restore" + one}};
    expected[base + "/{id}/history"] = {{"get", "get" + one + "History"}};
    expected[base + "/search"] = {{"post", "search" + many}};
    expected[base + "/batch"] = {{"post", "batch" + many}};
  }
  for (const auto& [path, operations] : expected) {
    for (const auto& [method, operation_id] : operations) {
      EXPECT_EQ(Str(Op(path, method, "/operationId")), operation_id) << path << " " << method;
    }
  }
  EXPECT_EQ(Doc().at("paths").as_object().size(), expected.size());
}

TEST_F(OpenApiTest, CustomFieldIsInRecordSchema) {
  const auto& region = S("Deal", "/properties/x_region");
  EXPECT_EQ(region.at_pointer("/x-zebros/custom"), true);
  EXPECT_EQ(region.at("description"), "Sales region, added by the tenant.");
  EXPECT_EQ(region.at("title"), "Region");
  EXPECT_EQ(S("Deal", "/properties/title/x-zebros/custom"), false);
  EXPECT_TRUE(Has(S("DealCreate", "/properties"), "x_region"));
  EXPECT_TRUE(Has(S("DealUpdate", "/properties"), "x_region"));
}

TEST_F(OpenApiTest, RecordSchemaHasReadOnlySystemFieldsAndNullableFields) {
  for (std::string_view name :
       {"id", "created_at", "updated_at", "created_by", "version", "deleted_at"}) {
    EXPECT_EQ(S("Deal", "/properties/" + std::string(name) + "/readOnly"), true) << name;
  }
  EXPECT_EQ(S("Deal", "/properties/created_by/type"), "string");  // never null
  EXPECT_EQ(S("Deal", "/properties/deleted_at/format"), "date-time");
  EXPECT_EQ(S("Deal", "/properties/id/pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(S("Deal", "/properties/amount/type"), (json::array{"number", "null"}));
  EXPECT_EQ(S("Deal", "/properties/stage/enum"), (json::array{"open", "won", "lost", nullptr}));
  EXPECT_EQ(S("Deal", "/properties/labels/type"), (json::array{"array", "null"}));
  EXPECT_FALSE(Has(S("Deal", "/properties/amount"), "nullable"));
  // Stored tags are distinct: the server drops repeats on the way in.
  EXPECT_EQ(S("Deal", "/properties/labels/uniqueItems"), true);
}

// api/render.cc writes id, every field (null when unset), created_at, updated_at, created_by,
// version, and deleted_at only on records returned by delete paths.
TEST_F(OpenApiTest, RecordSchemaFollowsTheRenderedShape) {
  std::vector<std::string> keys;
  for (const auto& property : S("Deal", "/properties").as_object())
    keys.emplace_back(property.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "title", "stage", "company_id", "labels",
                                            "amount", "source", "x_region", "created_at",
                                            "updated_at", "created_by", "version", "deleted_at"}));
  const std::set<std::string> required = StringSet(S("Deal", "/required"));
  EXPECT_EQ(required.size(), keys.size() - 1);
  EXPECT_FALSE(required.contains("deleted_at"));
  EXPECT_EQ(S("DealList", "/properties/data/items"), Ref("schemas", "Deal"));
  EXPECT_EQ(S("DealList", "/properties/next_cursor/type"), (json::array{"string", "null"}));
}

TEST(OpenApiMaskingTest, ReturnedPiiValuesAreDescribedByTypeOnly) {
  const json::value document = BuildOpenApiDocument(domain::BuiltinObjectTypes());
  const auto& schemas = document.at("components").at("schemas");
  const auto& date_of_birth = schemas.at_pointer("/Contact/properties/date_of_birth");
  EXPECT_EQ(date_of_birth.at("type"), (json::array{"string", "null"}));
  EXPECT_FALSE(Has(date_of_birth, "format"));
  EXPECT_NE(Str(date_of_birth.at("description")).find("masked"), std::string::npos);
  EXPECT_FALSE(Has(schemas.at_pointer("/Contact/properties/phone"), "pattern"));
  // What a request may send keeps every constraint; so do fields that are not pii.
  EXPECT_EQ(schemas.at_pointer("/ContactCreate/properties/date_of_birth/format"), "date");
  EXPECT_EQ(schemas.at_pointer("/Contact/properties/last_contacted_at/format"), "date-time");
}

TEST_F(OpenApiTest, MapsFieldTypes) {
  const auto& create = S("DealCreate", "/properties");
  EXPECT_EQ(create.at_pointer("/title/type"), "string");
  EXPECT_EQ(create.at_pointer("/title/maxLength"), 255);
  EXPECT_EQ(create.at_pointer("/amount/multipleOf"), 0.01);
  EXPECT_EQ(create.at_pointer("/amount/maximum"), 1e15);
  EXPECT_NE(core::WriteJson(create.at("amount")).find("\"multipleOf\":0.01"), std::string::npos);
  EXPECT_FALSE(Has(create.at("labels"), "uniqueItems"));
  EXPECT_EQ(create.at_pointer("/labels/maxItems"), 100);
  EXPECT_EQ(create.at_pointer("/labels/items/minLength"), 1);
  EXPECT_EQ(create.at_pointer("/company_id/pattern"), "^cmp_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(create.at_pointer("/company_id/description"), "Company (id of a company record)");
  const auto& website = S("CompanyCreate", "/properties/website");
  EXPECT_EQ(website.at("format"), "uri");
  EXPECT_TRUE(Matches(website.at("pattern"), "https://example.com/a?b#c"));
  for (const char* bad : {"ftp://example.com", "https:///path", "https://exa mple.com"}) {
    EXPECT_FALSE(Matches(website.at("pattern"), bad)) << bad;
  }
}

TEST_F(OpenApiTest, CreateRequiresRequiredFieldsOnly) {
  // `source` is required but has a default, so a create may leave it out.
  EXPECT_EQ(StringSet(S("DealCreate", "/required")), (std::set<std::string>{"title", "stage"}));
  EXPECT_EQ(S("DealCreate", "/additionalProperties"), false);
  EXPECT_EQ(S("DealCreate", "/properties/title/type"), "string");
  EXPECT_EQ(S("DealCreate", "/properties/title/minLength"), 1);  // "" is not a value
  EXPECT_EQ(S("DealCreate", "/properties/source/default"), "web");
  EXPECT_EQ(S("DealCreate", "/properties/amount/type"), (json::array{"number", "null"}));
  EXPECT_FALSE(Has(S("DealCreate", "/properties"), "id"));

  // A required field cannot be cleared; an optional one is cleared by null.
  EXPECT_FALSE(Has(S("DealUpdate"), "required"));
  EXPECT_EQ(S("DealUpdate", "/additionalProperties"), false);
  EXPECT_EQ(S("DealUpdate", "/properties/title/type"), "string");
  EXPECT_EQ(S("DealUpdate", "/properties/title/minLength"), 1);
  EXPECT_EQ(S("DealUpdate", "/properties/amount/type"), (json::array{"number", "null"}));
  EXPECT_FALSE(Has(S("DealUpdate", "/properties"), "version"));
}

TEST_F(OpenApiTest, BatchRequestSections) {
  const auto& properties = S("DealBatchRequest", "/properties");
  EXPECT_EQ(S("DealBatchRequest", "/additionalProperties"), false);
  EXPECT_EQ(properties.at_pointer("/create/items"), Ref("schemas", "DealCreate"));
  for (std::string_view section : {"create", "update", "delete"}) {
    EXPECT_EQ(properties.at(section).at("maxItems"), 200) << section;
  }
  // Updates are flat: the id beside the fields, no `fields` or `version` wrapper.
  EXPECT_EQ(properties.at_pointer("/update/items"), Ref("schemas", "DealBatchUpdate"));
  EXPECT_EQ(S("DealBatchUpdate", "/required"), json::array{"id"});
  EXPECT_EQ(S("DealBatchUpdate", "/additionalProperties"), false);
  EXPECT_EQ(S("DealBatchUpdate", "/properties/id/pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(S("DealBatchUpdate", "/properties/amount"), S("DealUpdate", "/properties/amount"));
  EXPECT_FALSE(Has(S("DealBatchUpdate", "/properties"), "fields"));
  EXPECT_FALSE(Has(S("DealBatchUpdate", "/properties"), "version"));
  // Deletes are plain ids.
  EXPECT_EQ(properties.at_pointer("/delete/items/pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
}

TEST_F(OpenApiTest, UpsertKeysAreUniqueOrIndexedFields) {
  EXPECT_EQ(S("CompanyBatchRequest", "/properties/upsert/properties/key/enum"),
            json::array{"name"});
  // `stage` is only indexed, not unique: still a key.
  const auto& upsert = S("DealBatchRequest", "/properties/upsert");
  EXPECT_EQ(upsert.at_pointer("/properties/key/enum"), json::array{"stage"});
  EXPECT_EQ(upsert.at("required"), (json::array{"key", "records"}));
  // Records are validated like an update, and must set the chosen key.
  EXPECT_EQ(upsert.at_pointer("/properties/records/items"), Ref("schemas", "DealUpdate"));
  EXPECT_EQ(upsert.at_pointer("/properties/records/maxItems"), 200);
  EXPECT_EQ(upsert.at_pointer("/allOf/0/if/properties/key/const"), "stage");
  EXPECT_EQ(upsert.at_pointer("/allOf/0/then/properties/records/items/required"),
            json::array{"stage"});

  // A type with neither unique nor indexed fields has no upsert section.
  EXPECT_FALSE(Has(BuildOpenApiDocument({NotesType()})
                       .at_pointer("/components/schemas/NoteBatchRequest/properties"),
                   "upsert"));
}

TEST_F(OpenApiTest, BatchOperation) {
  const std::string path = "/api/v1/deals/batch";
  EXPECT_EQ(Op(path, "post", "/parameters/0"), Ref("parameters", "IdempotencyKey"));
  EXPECT_EQ(Op(path, "post", "/responses/200/content/application~1json/schema"),
            Ref("schemas", "DealBatchResult"));
  EXPECT_TRUE(Has(Op(path, "post", "/responses/200/headers"), "Idempotent-Replayed"));
  const auto& responses = Op(path, "post", "/responses");
  for (std::string_view status : {"400", "404", "409", "422"}) {
    EXPECT_TRUE(Has(responses, status)) << status;
  }
  EXPECT_FALSE(Has(responses, "412"));  // batch items carry no version
  EXPECT_EQ(StringSet(S("DealBatchResult", "/required")),
            (std::set<std::string>{"created", "updated", "upserted", "deleted"}));
  EXPECT_EQ(S("DealBatchResult", "/properties/upserted/items"), Ref("schemas", "Deal"));
  EXPECT_EQ(S("DealBatchResult", "/properties/deleted/items/type"), "string");
}

// Resolves a local reference ("#/a/b") in `root`; nullptr when it does not.
const json::value* Resolve(const json::value& root, std::string_view ref) {
  if (ref.substr(0, 2) != "#/") return nullptr;
  boost::system::error_code ignored;
  return root.find_pointer(ref.substr(1), ignored);
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
  const auto& responses = Doc().at("components").at("responses");
  EXPECT_EQ(responses.as_object().size(), 11u);
  for (const auto& response : responses.as_object()) {
    EXPECT_EQ(response.value().at_pointer("/content/application~1problem+json/schema"),
              Ref("schemas", "Problem"));
  }
  EXPECT_TRUE(Has(responses.at_pointer("/Unauthorized/headers"), "WWW-Authenticate"));
  EXPECT_TRUE(Has(responses.at_pointer("/MethodNotAllowed/headers"), "Allow"));
  EXPECT_TRUE(Has(responses.at_pointer("/ServiceUnavailable/headers"), "Retry-After"));
  EXPECT_EQ(StringSet(S("Problem", "/required")),
            (std::set<std::string>{"type", "title", "status", "detail", "code", "errors"}));
  EXPECT_EQ(Op("/api/v1/deals/{id}", "patch", "/responses/412"),
            Ref("responses", "PreconditionFailed"));
  EXPECT_FALSE(Has(Op("/api/v1/deals", "get", "/responses"), "412"));
}

TEST_F(OpenApiTest, SearchUsesRecursiveFilterTree) {
  EXPECT_EQ(Op("/api/v1/deals/search", "post", "/requestBody/content/application~1json/schema"),
            Ref("schemas", "SearchRequest"));
  EXPECT_EQ(S("SearchRequest", "/properties/filter"), Ref("schemas", "FilterNode"));
  EXPECT_EQ(S("FilterNode", "/oneOf/0/properties/and/items"), Ref("schemas", "FilterNode"));
  EXPECT_EQ(S("FilterCondition", "/properties/op/enum").as_array().size(), 10u);
  // `op` defaults to eq; `value` may be left out for is_null only.
  EXPECT_EQ(S("FilterCondition", "/required"), json::array{"field"});
  EXPECT_EQ(S("FilterCondition", "/properties/op/default"), "eq");
}

// Every operation has a unique id and one tag, and every response documents X-Request-Id.
TEST_F(OpenApiTest, OperationsAreTaggedAndResponsesCarryTheRequestId) {
  std::set<std::string> ids;
  int operations = 0, responses = 0;
  auto check = [&](const json::value& response, const std::string& where) {
    if (Has(response, "$ref")) return;  // a component, checked below
    ++responses;
    EXPECT_EQ(response.at_pointer("/headers/X-Request-Id"), Ref("headers", "X-Request-Id"))
        << where;
  };
  for (const auto& path : Doc().at("paths").as_object()) {
    for (const auto& [method, operation] : path.value().as_object()) {
      if (method == "parameters") continue;
      ++operations;
      const std::string id = Str(operation.at("operationId"));
      EXPECT_TRUE(ids.insert(id).second) << id;
      EXPECT_EQ(operation.at("tags").as_array().size(), 1u) << id;
      for (const auto& response : operation.at("responses").as_object()) {
        check(response.value(), id + " " + std::string(response.key()));
      }
    }
  }
  for (const auto& response : Doc().at("components").at("responses").as_object()) {
    check(response.value(), std::string(response.key()));
  }
  EXPECT_EQ(operations, 42);
  EXPECT_GT(responses, 30);
  EXPECT_EQ(Op("/api/v1/deals", "get", "/tags/0"), "Deals");
}

TEST_F(OpenApiTest, CreateAnswersWithLocationETagAndReplayFlag) {
  EXPECT_EQ(Op("/api/v1/deals", "post", "/parameters/0"), Ref("parameters", "IdempotencyKey"));
  const auto& headers = Op("/api/v1/deals", "post", "/responses/201/headers");
  for (std::string_view name : {"Location", "ETag", "Idempotent-Replayed", "X-Request-Id"}) {
    EXPECT_TRUE(Has(headers, name)) << name;
  }
  const auto& shared = Doc().at("components").at("headers");
  EXPECT_EQ(shared.at_pointer("/Idempotent-Replayed/schema/enum"), json::array{"true"});
  const auto& etag = shared.at_pointer("/ETag/schema/pattern");
  EXPECT_TRUE(Matches(etag, "\"del_01JABCDEFGHJKMNPQRSTVWXYZ0-v12\""));
  EXPECT_TRUE(Matches(etag, "\"lead_01JABCDEFGHJKMNPQRSTVWXYZ0-v1\""));
  EXPECT_FALSE(Matches(etag, "\"12\""));
  EXPECT_FALSE(Matches(etag, "del_01JABCDEFGHJKMNPQRSTVWXYZ0-v12"));
}

TEST_F(OpenApiTest, ListTakesLimitCursorQSortAndFilter) {
  const auto& list = Op("/api/v1/deals", "get", "/parameters").as_array();
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list.at(0), Ref("parameters", "Limit"));
  EXPECT_EQ(list.at(1), Ref("parameters", "Cursor"));
  EXPECT_EQ(list.at(2), Ref("parameters", "Q"));
  EXPECT_EQ(list.at(3), Ref("parameters", "CacheControl"));
  EXPECT_EQ(list.at(4).at("name"), "sort");
  EXPECT_EQ(list.at(5).at("name"), "filter");
  // Search answers from the page cache as the list does, and takes the same directive.
  EXPECT_EQ(Op("/api/v1/deals/search", "post", "/parameters/0"), Ref("parameters", "CacheControl"));
  const auto& parameters = Doc().at("components").at("parameters");
  EXPECT_EQ(parameters.at_pointer("/Q/name"), "q");
  EXPECT_EQ(parameters.at_pointer("/CacheControl/name"), "Cache-Control");
  EXPECT_EQ(parameters.at_pointer("/CacheControl/in"), "header");
  EXPECT_EQ(parameters.at_pointer("/Limit/schema/maximum"), 500);
  EXPECT_EQ(parameters.at_pointer("/Limit/schema/default"), 50);

  const auto& filter = list.at(5).at_pointer("/schema/properties");
  for (std::string_view name :
       {"id", "created_at", "updated_at", "created_by", "version", "title", "labels", "x_region"}) {
    EXPECT_TRUE(Has(filter, name)) << name;
  }
  const auto& sort = list.at(4).at_pointer("/schema/pattern");
  EXPECT_TRUE(Matches(sort, "-created_at,version,+created_by,title"));
  EXPECT_FALSE(Matches(sort, "labels"));  // tags cannot be sorted
  EXPECT_FALSE(Matches(sort, "a,b"));
  EXPECT_FALSE(Matches(sort, "id,id,id,id,id,id"));  // at most 5 keys
}

TEST_F(OpenApiTest, HealthNeedsNoCredentialAndHasBodies) {
  EXPECT_EQ(Op("/healthz", "get", "/security"), json::array{});
  EXPECT_EQ(Op("/readyz", "get", "/security"), json::array{});
  EXPECT_FALSE(Has(Op("/api/v1/deals", "get"), "security"));
  EXPECT_EQ(Op("/healthz", "get", "/responses/200/content/application~1json/schema"),
            Ref("schemas", "HealthStatus"));
  EXPECT_EQ(S("HealthStatus", "/properties/status/const"), "ok");
  EXPECT_EQ(Op("/readyz", "get", "/responses/200/content/application~1json/schema"),
            Ref("schemas", "ReadinessStatus"));
  EXPECT_EQ(S("ReadinessStatus", "/properties/status/const"), "ready");
  EXPECT_EQ(Op("/readyz", "get", "/responses/503"), Ref("responses", "ServiceUnavailable"));
}

TEST_F(OpenApiTest, SchemaEndpoints) {
  EXPECT_EQ(StringSet(S("ObjectTypeDefinition", "/required")),
            (std::set<std::string>{"name", "singular", "label", "id_prefix", "fields"}));
  EXPECT_EQ(S("ObjectTypeDefinition", "/properties").as_object().size(), 5u);
  // model/field_json.cc FieldToJson: always these; enum_values, reference_target and
  // description only when they apply.
  EXPECT_EQ(StringSet(S("FieldDefinition", "/required")),
            (std::set<std::string>{"name", "type", "label", "required", "unique", "indexed",
                                   "searchable", "pii", "custom", "max_length"}));
  for (std::string_view key : {"enum_values", "reference_target", "description"}) {
    EXPECT_TRUE(Has(S("FieldDefinition", "/properties"), key)) << key;
  }
  EXPECT_EQ(S("FieldCreate", "/properties/max_length/maximum"), 32768);

  const auto& created = Op("/api/v1/schema/{object}/fields", "post", "/responses");
  EXPECT_EQ(created.at_pointer("/201/content/application~1json/schema"),
            Ref("schemas", "FieldDefinition"));
  EXPECT_TRUE(Has(created.at_pointer("/201/headers"), "Location"));
  for (std::string_view status : {"403", "409", "422"}) EXPECT_TRUE(Has(created, status)) << status;
  EXPECT_FALSE(Has(Op("/api/v1/schema", "get", "/responses"), "403"));
}

// api/access_routes.cc: every access operation but /me is admin only and runs on the work pool.
TEST_F(OpenApiTest, AccessOperationsListTheirErrors) {
  for (const auto& [path, item] : Doc().at("paths").as_object()) {
    if (path != "/api/v1/me" && path.substr(0, 16) != "/api/v1/api-keys" &&
        path.substr(0, 13) != "/api/v1/users" && path.substr(0, 13) != "/api/v1/teams" &&
        path.substr(0, 14) != "/api/v1/access") {
      continue;
    }
    for (const auto& [method, operation] : item.as_object()) {
      if (method == "parameters") continue;
      const std::string where = std::string(method) + " " + std::string(path);
      EXPECT_EQ(operation.at_pointer("/tags/0"), "Access") << where;
      const auto& responses = operation.at("responses");
      EXPECT_EQ(responses.at("401"), Ref("responses", "Unauthorized")) << where;
      EXPECT_EQ(Has(responses, "403"), path != "/api/v1/me") << where;
      EXPECT_EQ(Has(responses, "503"), path != "/api/v1/me") << where;
      const bool has_body = operation.as_object().contains("requestBody");
      for (std::string_view status : {"413", "415", "422"}) {
        EXPECT_EQ(Has(responses, status), has_body) << where << " " << status;
      }
      if (has_body) {
        EXPECT_TRUE(Has(responses, "400")) << where;
      }
      if (Has(responses, "201")) {
        EXPECT_TRUE(Has(responses.at_pointer("/201/headers"), "Location")) << where;
      }
    }
  }
  EXPECT_TRUE(Has(Op("/api/v1/users", "get", "/responses"), "400"));  // a bad limit
  EXPECT_FALSE(Has(Op("/api/v1/users/{id}", "get", "/responses"), "400"));
  EXPECT_TRUE(Has(Op("/api/v1/users/{id}", "delete", "/responses"), "409"));
  EXPECT_TRUE(Has(Op("/api/v1/teams/{id}", "delete", "/responses"), "404"));
  EXPECT_FALSE(Has(Op("/api/v1/api-keys", "post", "/responses"), "409"));
}

TEST_F(OpenApiTest, AccessSchemasFollowTheHandlers) {
  EXPECT_EQ(S("Role", "/enum"), (json::array{"admin", "sales", "support", "read_only"}));
  EXPECT_EQ(S("RecordScope", "/enum"), (json::array{"all", "team", "own"}));
  EXPECT_EQ(S("PermissionAction", "/enum"),
            (json::array{"read", "create", "update", "delete", "restore", "export", "admin"}));

  EXPECT_EQ(StringSet(S("Me", "/required")),
            (std::set<std::string>{"subject", "user_id", "tenant", "role", "pii_masked",
                                   "permissions", "scopes"}));
  EXPECT_EQ(S("Me", "/properties/user_id/type"), (json::array{"string", "null"}));
  EXPECT_EQ(S("Me", "/properties/permissions/additionalProperties/items"),
            Ref("schemas", "PermissionAction"));
  EXPECT_EQ(S("Me", "/properties/scopes/additionalProperties"), Ref("schemas", "RecordScope"));

  EXPECT_EQ(S("ApiKey", "/properties").as_object().size(), 7u);
  EXPECT_EQ(S("ApiKey", "/properties/revoked_at/type"), (json::array{"string", "null"}));
  EXPECT_EQ(S("ApiKeyCreated", "/allOf/0"), Ref("schemas", "ApiKey"));
  EXPECT_EQ(S("ApiKeyCreated", "/allOf/1/required"), json::array{"key"});
  EXPECT_EQ(S("ApiKeyCreate", "/additionalProperties"), false);
  EXPECT_EQ(StringSet(S("ApiKeyCreate", "/required")), (std::set<std::string>{"name", "role"}));
  EXPECT_EQ(S("ApiKeyCreate", "/properties/name/maxLength"), 200);
  EXPECT_EQ(S("ApiKeyCreate", "/properties/expires_at/format"), "date-time");
  EXPECT_EQ(Op("/api/v1/api-keys", "post", "/responses/201/content/application~1json/schema"),
            Ref("schemas", "ApiKeyCreated"));

  EXPECT_EQ(S("User", "/properties").as_object().size(), 11u);
  EXPECT_EQ(S("User", "/properties/status/enum"),
            (json::array{"active", "invited", "deactivated"}));
  EXPECT_EQ(S("User", "/properties/id/pattern"), "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(StringSet(S("UserCreate", "/required")), (std::set<std::string>{"email", "role"}));
  EXPECT_FALSE(Has(S("UserUpdate", "/properties"), "email"));
  EXPECT_EQ(S("UserUpdate", "/properties/active/type"), "boolean");
  EXPECT_EQ(S("UserList", "/properties/next_cursor/type"), (json::array{"string", "null"}));
  EXPECT_EQ(Op("/api/v1/users", "get", "/parameters/0"), Ref("parameters", "Limit"));

  EXPECT_EQ(S("Team", "/properties/member_ids/items/pattern"), "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(S("TeamCreate", "/required"), json::array{"name"});
  EXPECT_FALSE(Has(S("TeamUpdate"), "required"));
  EXPECT_FALSE(Has(S("UserUpdate"), "required"));
  EXPECT_EQ(StringSet(S("ScopeSetting", "/required")),
            (std::set<std::string>{"role", "object", "scope"}));
  EXPECT_EQ(S("ScopeUpdate", "/additionalProperties"), false);
  const auto& scope_path = Doc().at("paths").at("/api/v1/access/scopes/{role}/{object}");
  EXPECT_EQ(scope_path.at_pointer("/parameters/0/schema"), Ref("schemas", "Role"));
  EXPECT_EQ(scope_path.at_pointer("/parameters/1"), Ref("parameters", "ObjectName"));
}

TEST_F(OpenApiTest, IsDeterministic) {
  EXPECT_EQ(core::WriteJson(document_), core::WriteJson(BuildOpenApiDocument(SampleTypes())));
}

TEST(OpenApiEmptyTest, NoTypesStillGivesAValidSkeleton) {
  const json::value document = BuildOpenApiDocument({});
  EXPECT_EQ(document.at("paths").as_object().size(), 16u);
  EXPECT_TRUE(document.at("components").at("schemas").as_object().contains("Problem"));
}

}  // namespace
}  // namespace zebros::api
