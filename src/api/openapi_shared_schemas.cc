// The components.schemas entries that do not depend on the object types: problem details
// (api/problem.cc), filter trees and search requests (api/query_parsing.cc), the schema
// endpoints' bodies (api/schema_routes.cc, model/field_json.cc) and the health bodies.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/openapi_internal.h"
#include "model/field.h"
#include "model/query.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {

// Limits of api/query_parsing.cc and domain/validator.cc (NormalizeQuery, NormalizeNode).
constexpr int kMaxGroupSize = 100;  // children of an and/or group, values of `in`
constexpr int kMaxSortKeys = 5;
constexpr int kMaxSearchText = 256;
// model/field_json.cc: the largest `max_length` of a custom field.
constexpr int kMaxFieldLength = 32768;

// Every field type's name. FieldType's enumerators are contiguous and kTags is the last.
json::array FieldTypeNames() {
  json::array names;
  for (int type = 0; type <= static_cast<int>(model::FieldType::kTags); ++type) {
    names.emplace_back(model::FieldTypeName(static_cast<model::FieldType>(type)));
  }
  return names;
}

// {"status": value}, the body of a health check.
json::object StatusBody(std::string_view value) {
  return json::object{
      {"type", "object"},
      {"required", json::array{"status"}},
      {"properties", json::object{{"status", json::object{{"const", value}}}}},
  };
}

// When the field type is `type`, `property` must be present (and match `schema`).
json::object WhenFieldType(std::string_view type, std::string_view property,
                           json::object schema = {}) {
  return json::object{
      {"if", json::object{{"required", json::array{"type"}},
                          {"properties", json::object{{"type", json::object{{"const", type}}}}}}},
      {"then", json::object{{"required", json::array{property}},
                            {"properties", json::object{{property, std::move(schema)}}}}},
  };
}

}  // namespace

json::object SharedSchemas() {
  const json::object string_schema{{"type", "string"}};
  const json::object bool_schema{{"type", "boolean"}};
  const json::object strings{{"type", "array"}, {"items", string_schema}};
  const json::object identifier{{"type", "string"}, {"pattern", "^[a-z][a-z0-9_]{0,62}$"}};

  json::object problem{
      {"type", "object"},
      {"description",
       "An error as RFC 9457 problem details. Clients switch on `code`, which is stable; `title` "
       "and `detail` are for people."},
      {"required", json::array{"type", "title", "status", "detail", "code", "errors"}},
      {"properties",
       json::object{
           {"type", json::object{{"type", "string"},
                                 {"format", "uri-reference"},
                                 {"description", "`https://zebros.dev/problems/<code>`."}}},
           {"title", string_schema},
           {"status", json::object{{"type", "integer"}, {"minimum", 400}, {"maximum", 599}}},
           {"detail", string_schema},
           {"code",
            json::object{{"type", "string"},
                         {"description", "Machine-readable error code, e.g. malformed_json."}}},
           {"errors", json::object{{"type", "array"},
                                   {"items", Ref("schemas", "FieldError")},
                                   {"description", "Each field's problem; empty when none."}}},
       }},
  };
  json::object field_error{
      {"type", "object"},
      {"description", "One field's problem inside a validation error."},
      {"required", json::array{"field", "code", "message"}},
      {"properties",
       json::object{
           {"field", json::object{{"type", "string"},
                                  {"description",
                                   "The field; in a batch prefixed by the operation, like "
                                   "`create[3].email`."}}},
           {"code", string_schema},
           {"message", string_schema},
           {"index", json::object{{"type", "integer"},
                                  {"minimum", 0},
                                  {"description",
                                   "In a batch: the failing operation's position in its "
                                   "section."}}},
       }},
  };

  auto junction = [](std::string_view name) {
    return json::object{
        {"type", "object"},
        {"required", json::array{name}},
        {"additionalProperties", false},
        {"properties", json::object{{name, json::object{{"type", "array"},
                                                        {"items", Ref("schemas", "FilterNode")},
                                                        {"maxItems", kMaxGroupSize}}}}},
    };
  };
  json::object filter_node{
      {"description",
       "A boolean filter tree, at most 16 levels deep: {\"and\": [nodes]} (empty: all), "
       "{\"or\": [nodes]} (empty: none) or a condition {\"field\", \"op\", \"value\"}."},
      {"oneOf", json::array{junction("and"), junction("or"), Ref("schemas", "FilterCondition")}},
  };
  auto op_is = [](std::string_view op) {
    return json::object{{"required", json::array{"op"}},
                        {"properties", json::object{{"op", json::object{{"const", op}}}}}};
  };
  auto value_when = [&](std::string_view op, json::object value) {
    return json::object{{"if", op_is(op)},
                        {"then", json::object{{"properties", json::object{{"value", value}}}}}};
  };
  json::object value_required{{"if", op_is("is_null")},
                              {"else", json::object{{"required", json::array{"value"}}}}};
  json::object filter_condition{
      {"type", "object"},
      {"description",
       "`field op value` on a field of the object or a system field (id, created_at, "
       "updated_at, created_by, version). `value` is an array of 1 to 100 values for `in`, a "
       "boolean for `is_null` (true, the default: the field is empty), otherwise a value of the "
       "field's type (null for `eq`/`ne`: is empty / is set)."},
      {"required", json::array{"field"}},
      {"additionalProperties", false},
      {"properties",
       json::object{
           {"field", string_schema},
           {"op", json::object{{"type", "string"}, {"enum", FilterOpNames()}, {"default", "eq"}}},
           {"value", json::object{}}}},
      {"allOf",
       json::array{
           value_when(
               "in", json::object{{"type", "array"}, {"minItems", 1}, {"maxItems", kMaxGroupSize}}),
           value_when("is_null", json::object{{"type", "boolean"}}), std::move(value_required)}},
  };
  json::object query_filter_value{
      {"description",
       "The query-string filter on one field: a value (equality) or an object from operator to "
       "value."},
      {"oneOf", json::array{string_schema,
                            json::object{{"type", "object"},
                                         {"minProperties", 1},
                                         {"propertyNames", json::object{{"enum", FilterOpNames()}}},
                                         {"additionalProperties", string_schema}}}},
  };
  json::object sort_key{
      {"type", "object"},
      {"required", json::array{"field"}},
      {"additionalProperties", false},
      {"properties", json::object{{"field", string_schema},
                                  {"dir", json::object{{"type", "string"},
                                                       {"enum", json::array{"asc", "desc"}},
                                                       {"default", "asc"}}}}},
  };
  json::object search_request{
      {"type", "object"},
      {"additionalProperties", false},
      {"properties",
       json::object{
           {"filter", Ref("schemas", "FilterNode")},
           {"q", json::object{{"type", "string"},
                              {"maxLength", kMaxSearchText},
                              {"description", "Full-text search terms."}}},
           {"sort", json::object{{"type", "array"},
                                 {"items", Ref("schemas", "SortKey")},
                                 {"maxItems", kMaxSortKeys},
                                 {"description", "Default: newest first, or by rank with `q`."}}},
           {"limit", json::object{{"type", "integer"},
                                  {"minimum", 1},
                                  {"maximum", model::kMaxPageSize},
                                  {"default", model::kDefaultPageSize}}},
           {"cursor", json::object{{"type", "string"},
                                   {"description", "`next_cursor` of the previous page."}}},
       }},
  };

  // model/field_json.cc: FieldToJson writes these, FieldFromJson reads them.
  json::object field_properties{
      {"name", identifier},
      {"type", json::object{{"type", "string"}, {"enum", FieldTypeNames()}}},
      {"label", string_schema},
      {"description", string_schema},
      {"required", bool_schema},
      {"unique", bool_schema},
      {"indexed", bool_schema},
      {"searchable", bool_schema},
      {"pii", bool_schema},
      {"custom", bool_schema},
      {"max_length",
       json::object{{"type", "integer"},
                    {"minimum", 1},
                    {"maximum", kMaxFieldLength},
                    {"description", "The longest value, in characters (for tags: per tag)."}}},
      {"enum_values", strings},
      {"reference_target",
       json::object{{"type", "string"},
                    {"minLength", 1},
                    {"description", "For reference fields: the target object's name."}}},
  };
  json::object field_definition{
      {"type", "object"},
      {"description",
       "A field of an object type. `enum_values` only for enum fields, `reference_target` only "
       "for reference fields, `description` only when set."},
      {"required", json::array{"name", "type", "label", "required", "unique", "indexed",
                               "searchable", "pii", "custom", "max_length"}},
      {"properties", field_properties},
      {"allOf",
       json::array{
           WhenFieldType("enum", "enum_values"),
           WhenFieldType("reference", "reference_target"),
       }},
  };
  json::object enum_values{
      {"type", "array"},
      {"items", json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", 100}}},
      {"uniqueItems", true},
      {"description", "For enum fields, which need at least one value."},
  };
  field_properties["enum_values"] = enum_values;
  field_properties["required"] = json::object{
      {"type", "boolean"}, {"description", "Ignored: a custom field is never required."}};
  field_properties["custom"] =
      json::object{{"type", "boolean"}, {"description", "Ignored: the field is always custom."}};
  field_properties["reference_target"] = json::object{
      {"type", "string"},
      {"minLength", 1},
      {"description", "For reference fields (required then): the target object type's name."}};
  json::object field_create{
      {"type", "object"},
      {"description",
       "A custom field to add to an object type. `label` defaults to `name`. A name the object "
       "already has is a 409; an invalid definition a 422."},
      {"required", json::array{"name", "type"}},
      {"additionalProperties", false},
      {"properties", std::move(field_properties)},
      {"allOf",
       json::array{
           WhenFieldType("enum", "enum_values", json::object{{"type", "array"}, {"minItems", 1}}),
           WhenFieldType("reference", "reference_target"),
       }},
  };
  // api/schema_routes.cc ObjectTypeJson.
  json::object object_type_definition{
      {"type", "object"},
      {"required", json::array{"name", "singular", "label", "id_prefix", "fields"}},
      {"properties",
       json::object{
           {"name", identifier},
           {"singular", string_schema},
           {"label", string_schema},
           {"id_prefix", string_schema},
           {"fields",
            json::object{{"type", "array"}, {"items", Ref("schemas", "FieldDefinition")}}},
       }},
  };

  return json::object{
      {"Problem", std::move(problem)},
      {"FieldError", std::move(field_error)},
      {"FilterNode", std::move(filter_node)},
      {"FilterCondition", std::move(filter_condition)},
      {"QueryFilterValue", std::move(query_filter_value)},
      {"SortKey", std::move(sort_key)},
      {"SearchRequest", std::move(search_request)},
      {"ObjectTypeDefinition", std::move(object_type_definition)},
      {"FieldDefinition", std::move(field_definition)},
      {"FieldCreate", std::move(field_create)},
      {"HealthStatus", StatusBody("ok")},
      {"ReadinessStatus", StatusBody("ready")},
  };
}

}  // namespace zebros::api::openapi_internal
