// The paths of the OpenAPI document: per object type the record endpoints
// (api/record_routes.cc), then health, the OpenAPI document and the schema endpoints
// (api/api_handler.cc, api/schema_routes.cc).

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "api/openapi_internal.h"
#include "model/query.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {

constexpr std::string_view kApiPrefix = "/api/v1/";
constexpr std::string_view kJson = "application/json";
// Sort keys a list or search takes at most (domain/validator.cc NormalizeQuery).
constexpr int kMaxSortKeys = 5;

json::object Operation(std::string_view operation_id, std::string_view summary,
                       std::string_view tag) {
  return json::object{
      {"operationId", operation_id}, {"summary", summary}, {"tags", json::array{tag}}};
}

json::object JsonContent(json::object schema) {
  return json::object{{kJson, json::object{{"schema", std::move(schema)}}}};
}

json::object JsonBody(json::object schema) {
  return json::object{{"required", true}, {"content", JsonContent(std::move(schema))}};
}

json::object JsonResponse(std::string_view description, json::object schema) {
  return json::object{{"description", description}, {"content", JsonContent(std::move(schema))}};
}

// `success` (status -> response) followed by the listed error responses.
json::object Responses(json::object success, std::initializer_list<int> errors) {
  for (auto& entry : ErrorResponses(errors)) success[entry.key()] = std::move(entry.value());
  return success;
}

json::object WithHeaders(json::object response, std::initializer_list<std::string_view> names) {
  json::object headers;
  for (std::string_view name : names) headers[name] = Ref("headers", name);
  response["headers"] = std::move(headers);
  return response;
}

json::array ParameterRefs(std::initializer_list<std::string_view> names) {
  json::array refs;
  for (std::string_view name : names) refs.push_back(Ref("parameters", name));
  return refs;
}

json::object SortParameter(const model::ObjectType& type) {
  std::string names;
  for (std::string_view name : kQueryableSystemFields) {
    names += names.empty() ? "" : "|";
    names += name;
  }
  for (const auto& field : type.fields) {
    if (field.Sortable() && !model::IsSystemField(field.name)) names += "|" + field.name;
  }
  const std::string key = "[-+]?(" + names + ")";
  return json::object{
      {"name", "sort"},
      {"in", "query"},
      {"description",
       "Comma-separated fields to order by, at most " + std::to_string(kMaxSortKeys) +
           "; a leading `-` sorts descending (`+`, percent-encoded, ascending). Default: newest "
           "first, or by rank with `q`. An unknown or unsortable field is a 400 "
           "`invalid_filter`."},
      {"schema", json::object{{"type", "string"},
                              {"pattern", "^" + key + "(," + key + "){0," +
                                              std::to_string(kMaxSortKeys - 1) + "}$"}}},
      {"example", "-created_at"},
  };
}

json::object FilterParameter(const model::ObjectType& type) {
  json::object properties;
  for (std::string_view name : kQueryableSystemFields) {
    properties[name] = Ref("schemas", "QueryFilterValue");
  }
  for (const auto& field : type.fields) {
    if (!model::IsSystemField(field.name)) {
      properties[field.name] = Ref("schemas", "QueryFilterValue");
    }
  }
  std::string ops;
  for (const auto& name : FilterOpNames()) {
    ops += ops.empty() ? "" : ", ";
    ops += name.as_string();
  }
  return json::object{
      {"name", "filter"},
      {"in", "query"},
      {"style", "deepObject"},
      {"explode", true},
      {"description",
       "Simple filters, all of which must match: `filter[field]=value` for equality, or "
       "`filter[field][op]=value` with op one of " +
           ops +
           ". For `in` the values are comma-separated; for `is_null` the value is true or "
           "false. An unknown field or operator, or a value that does not fit the field, is a 400 "
           "`invalid_filter`. Use POST .../search for or-trees."},
      {"schema", json::object{{"type", "object"},
                              {"properties", std::move(properties)},
                              {"additionalProperties", false}}},
  };
}

}  // namespace

json::object ObjectPaths(const model::ObjectType& type) {
  const std::string plural = PascalCase(type.name);
  const std::string singular = PascalCase(type.singular);
  const std::string tag = TagName(type);
  const std::string base = std::string(kApiPrefix) + type.name;
  const json::object record = Ref("schemas", singular);
  const json::object id_parameter{
      {"name", "id"}, {"in", "path"}, {"required", true}, {"schema", IdSchema(type)}};

  json::object list = Operation("list" + plural, "List " + type.name, tag);
  list["description"] =
      "One page of live records. Any query parameter other than those below is a 400 "
      "`invalid_parameter`.";
  list["parameters"] = ParameterRefs({"Limit", "Cursor", "Q", "CacheControl"});
  list["parameters"].as_array().push_back(SortParameter(type));
  list["parameters"].as_array().push_back(FilterParameter(type));
  list["responses"] = Responses(
      json::object{{"200", JsonResponse("A page of records.", Ref("schemas", singular + "List"))}},
      {400, 401, 403});

  json::object create = Operation("create" + singular, "Create " + WithArticle(type.singular), tag);
  create["parameters"] = ParameterRefs({"IdempotencyKey"});
  create["requestBody"] = JsonBody(Ref("schemas", singular + "Create"));
  create["responses"] =
      Responses(json::object{{"201", WithHeaders(JsonResponse("Created.", record),
                                                 {"Location", "ETag", "Idempotent-Replayed"})}},
                {400, 401, 403, 409, 413, 415, 422});

  json::object get = Operation("get" + singular, "Get " + WithArticle(type.singular), tag);
  get["parameters"] = ParameterRefs({"IfNoneMatch"});
  get["responses"] = Responses(
      json::object{{"200", WithHeaders(JsonResponse("The record.", record), {"ETag"})},
                   {"304", WithHeaders(json::object{{"description", "Not modified."}}, {"ETag"})}},
      {401, 403, 404});

  json::object update = Operation("update" + singular, "Update " + WithArticle(type.singular), tag);
  update["parameters"] = ParameterRefs({"IfMatch"});
  update["requestBody"] = JsonBody(Ref("schemas", singular + "Update"));
  update["responses"] = Responses(
      json::object{{"200", WithHeaders(JsonResponse("The updated record.", record), {"ETag"})}},
      {400, 401, 403, 404, 409, 412, 413, 415, 422});

  json::object remove = Operation("delete" + singular, "Delete " + WithArticle(type.singular), tag);
  remove["description"] = "Soft delete: the record disappears from reads and can be restored.";
  remove["parameters"] = ParameterRefs({"IfMatch"});
  remove["responses"] = Responses(json::object{{"204", json::object{{"description", "Deleted."}}}},
                                  {401, 403, 404, 412});

  json::object restore = Operation("restore" + singular, "Restore a deleted " + type.singular, tag);
  restore["description"] =
      "Makes a deleted record live again; on a live record it only bumps the version. A 409 when "
      "a unique value was taken meanwhile.";
  restore["responses"] = Responses(
      json::object{{"200", WithHeaders(JsonResponse("The restored record.", record), {"ETag"})}},
      {401, 403, 404, 409});

  json::object search = Operation("search" + plural, "Search " + type.name, tag);
  search["description"] =
      "Filter trees, full-text search and sorting in a JSON body; same page shape as the list.";
  search["parameters"] = ParameterRefs({"CacheControl"});
  search["requestBody"] = JsonBody(Ref("schemas", "SearchRequest"));
  search["responses"] = Responses(
      json::object{
          {"200", JsonResponse("A page of matching records.", Ref("schemas", singular + "List"))}},
      {400, 401, 403, 413, 415});

  json::object batch = Operation(
      "batch" + plural, "Create, update, upsert and delete " + type.name + " in one request", tag);
  batch["description"] =
      "All or nothing, applied in the order create, update, upsert, delete. A failing operation "
      "is named in the problem's `errors` (`field` like `create[3].email`, `index` 3). 404 when "
      "an update or delete target does not exist, 409 on a unique conflict, 422 "
      "`validation_failed` or `batch_too_large` (over " +
      std::to_string(kMaxBatchOperations) + " operations).";
  batch["parameters"] = ParameterRefs({"IdempotencyKey"});
  batch["requestBody"] = JsonBody(Ref("schemas", singular + "BatchRequest"));
  batch["responses"] = Responses(
      json::object{{"200", WithHeaders(JsonResponse("What was written, section by section.",
                                                    Ref("schemas", singular + "BatchResult")),
                                       {"Idempotent-Replayed"})}},
      {400, 401, 403, 404, 409, 413, 415, 422});

  return json::object{
      {base, json::object{{"get", std::move(list)}, {"post", std::move(create)}}},
      {base + "/search", json::object{{"post", std::move(search)}}},
      {base + "/batch", json::object{{"post", std::move(batch)}}},
      {base + "/{id}", json::object{{"parameters", json::array{id_parameter}},
                                    {"get", std::move(get)},
                                    {"patch", std::move(update)},
                                    {"delete", std::move(remove)}}},
      {base + "/{id}/restore",
       json::object{{"parameters", json::array{id_parameter}}, {"post", std::move(restore)}}},
  };
}

json::object SystemPaths() {
  const std::string_view system = kSystemTag;
  const std::string_view schema = kSchemaTag;
  const json::array no_security{};

  json::object health = Operation("getHealth", "Liveness", system);
  health["security"] = no_security;
  health["responses"] =
      json::object{{"200", JsonResponse("The process is up.", Ref("schemas", "HealthStatus"))}};

  json::object ready = Operation("getReadiness", "Readiness", system);
  ready["security"] = no_security;
  ready["responses"] = Responses(
      json::object{
          {"200", JsonResponse("Ready to serve requests.", Ref("schemas", "ReadinessStatus"))}},
      {503});

  json::object openapi = Operation("getOpenApiDocument", "This API description", system);
  openapi["description"] = "The OpenAPI document for the caller's tenant, custom fields included.";
  openapi["responses"] = Responses(
      json::object{
          {"200", JsonResponse("An OpenAPI 3.1 document.", json::object{{"type", "object"}})}},
      {401});

  json::object type_list{
      {"type", "object"},
      {"required", json::array{"data"}},
      {"properties",
       json::object{{"data", json::object{{"type", "array"},
                                          {"items", Ref("schemas", "ObjectTypeDefinition")}}}}},
  };
  json::object list_types = Operation("listObjectTypes", "List object types", schema);
  list_types["responses"] = Responses(
      json::object{{"200", JsonResponse("Every object type of the tenant.", std::move(type_list))}},
      {401});

  json::object get_type = Operation("getObjectType", "Get an object type", schema);
  get_type["responses"] =
      Responses(json::object{{"200", JsonResponse("The object type with its fields.",
                                                  Ref("schemas", "ObjectTypeDefinition"))}},
                {401, 404});

  json::object create_field = Operation("createField", "Add a custom field", schema);
  create_field["description"] =
      "Admins only. 409 when the object already has a field of that name (or has the maximum "
      "number of custom fields), 422 when the definition is invalid.";
  create_field["requestBody"] = JsonBody(Ref("schemas", "FieldCreate"));
  json::object created_field = JsonResponse("The new field.", Ref("schemas", "FieldDefinition"));
  created_field["headers"] = json::object{
      {"Location",
       json::object{
           {"description", "The URL of the object type's schema, `/api/v1/schema/<object>`."},
           {"schema", json::object{{"type", "string"}, {"format", "uri-reference"}}}}}};
  create_field["responses"] = Responses(json::object{{"201", std::move(created_field)}},
                                        {400, 401, 403, 404, 409, 413, 415, 422});

  const std::string schema_base = std::string(kApiPrefix) + "schema";
  return json::object{
      {"/healthz", json::object{{"get", std::move(health)}}},
      {"/readyz", json::object{{"get", std::move(ready)}}},
      {std::string(kApiPrefix) + "openapi.json", json::object{{"get", std::move(openapi)}}},
      {schema_base, json::object{{"get", std::move(list_types)}}},
      {schema_base + "/{object}",
       json::object{{"parameters", ParameterRefs({"ObjectName"})}, {"get", std::move(get_type)}}},
      {schema_base + "/{object}/fields", json::object{{"parameters", ParameterRefs({"ObjectName"})},
                                                      {"post", std::move(create_field)}}},
  };
}

}  // namespace zebros::api::openapi_internal
