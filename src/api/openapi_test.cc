#include "api/openapi.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <memory>
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
  deals->fields.push_back(stage);
  model::Field company = MakeField("company_id", model::FieldType::kReference);
  company.reference_target = "companies";
  company.label = "Company";
  deals->fields.push_back(company);
  deals->fields.push_back(MakeField("labels", model::FieldType::kTags));
  deals->fields.push_back(MakeField("amount", model::FieldType::kMoney));
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
  for (std::string_view name : {"id", "created_at", "updated_at", "created_by", "version"}) {
    EXPECT_EQ(properties.at(name).at("readOnly"), true) << name;
  }
  EXPECT_EQ(properties.at("id").at("pattern"), "^del_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(properties.at("created_at").at("format"), "date-time");
  EXPECT_EQ(properties.at("amount").at("type"), (json::array{"number", "null"}));
  EXPECT_EQ(properties.at("stage").at("enum"), (json::array{"open", "won", "lost", nullptr}));
  EXPECT_EQ(properties.at("labels").at("type"), (json::array{"array", "null"}));
  EXPECT_FALSE(properties.at("amount").as_object().contains("nullable"));
}

TEST_F(OpenApiTest, MapsFieldTypes) {
  const auto& create = Schema("DealCreate").at("properties").as_object();
  EXPECT_EQ(create.at("title").at("type"), "string");
  EXPECT_EQ(create.at("title").at("maxLength"), 255);
  EXPECT_EQ(create.at("amount").at("multipleOf"), 0.01);
  EXPECT_EQ(create.at("labels").at("uniqueItems"), true);
  EXPECT_EQ(create.at("labels").at("items").at("type"), "string");
  EXPECT_EQ(create.at("company_id").at("pattern"), "^cmp_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  EXPECT_EQ(create.at("company_id").at("description"), "Company (id of a company record)");
  EXPECT_EQ(Schema("CompanyCreate").at("properties").at("website").at("format"), "uri");
  EXPECT_NE(core::WriteJson(create.at("amount")).find("\"multipleOf\":0.01"), std::string::npos);
}

TEST_F(OpenApiTest, CreateRequiresRequiredFieldsOnly) {
  const auto& create = Schema("DealCreate");
  EXPECT_EQ(StringSet(create.at("required")), (std::set<std::string>{"title", "stage"}));
  EXPECT_EQ(create.at("additionalProperties"), false);
  EXPECT_EQ(create.at("properties").at("title").at("type"), "string");
  EXPECT_EQ(create.at("properties").at("amount").at("type"), (json::array{"number", "null"}));
  EXPECT_FALSE(create.at("properties").as_object().contains("id"));

  const auto& update = Schema("DealUpdate");
  EXPECT_FALSE(update.contains("required"));
  EXPECT_EQ(update.at("additionalProperties"), false);
  EXPECT_EQ(update.at("properties").at("title").at("type"), (json::array{"string", "null"}));
}

TEST_F(OpenApiTest, ListAndBatchSchemas) {
  const auto& list = Schema("DealList").at("properties");
  EXPECT_EQ(list.at("data").at("items").at("$ref"), "#/components/schemas/Deal");
  EXPECT_EQ(list.at("next_cursor").at("type"), (json::array{"string", "null"}));
  // Only companies have a unique field, so only they can be upserted.
  EXPECT_EQ(Schema("CompanyBatchRequest")
                .at("properties")
                .at("upsert")
                .at("properties")
                .at("key")
                .at("enum"),
            json::array{"name"});
  EXPECT_FALSE(Schema("DealBatchRequest").at("properties").as_object().contains("upsert"));
  EXPECT_EQ(Schema("DealBatchRequest").at("properties").at("create").at("maxItems"), 200);
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
  EXPECT_EQ(responses.size(), 9u);
  for (const auto& response : responses) {
    EXPECT_EQ(response.value().at("content").at("application/problem+json").at("schema").at("$ref"),
              "#/components/schemas/Problem");
  }
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
