// The components.schemas entries that do not depend on the object types: problem details,
// filter trees, search requests and the schema endpoints' bodies.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/openapi_internal.h"
#include "model/field.h"
#include "model/query.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {

// Every field type's name. FieldType's enumerators are contiguous and kTags is the last.
json::array FieldTypeNames() {
  json::array names;
  for (int type = 0; type <= static_cast<int>(model::FieldType::kTags); ++type) {
    names.emplace_back(model::FieldTypeName(static_cast<model::FieldType>(type)));
  }
  return names;
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
      {"required", json::array{"title", "status", "code"}},
      {"properties",
       json::object{
           {"type",
            json::object{
                {"type", "string"}, {"format", "uri-reference"}, {"default", "about:blank"}}},
           {"title", string_schema},
           {"status", json::object{{"type", "integer"}, {"minimum", 400}, {"maximum", 599}}},
           {"detail", string_schema},
           {"instance", json::object{{"type", "string"}, {"format", "uri-reference"}}},
           {"code",
            json::object{{"type", "string"},
                         {"description", "Machine-readable error code, e.g. malformed_json."}}},
           {"errors", json::object{{"type", "array"}, {"items", Ref("schemas", "FieldError")}}},
       }},
  };
  json::object field_error{
      {"type", "object"},
      {"description", "One field's problem inside a validation error."},
      {"required", json::array{"field", "code", "message"}},
      {"properties",
       json::object{
           {"field", string_schema},
           {"code", string_schema},
           {"message", string_schema},
           {"index", json::object{{"type", "integer"},
                                  {"minimum", 0},
                                  {"description", "Position of the failing item in a batch."}}},
       }},
  };

  auto junction = [](std::string_view name) {
    return json::object{
        {"type", "object"},
        {"required", json::array{name}},
        {"additionalProperties", false},
        {"properties", json::object{{name, json::object{{"type", "array"},
                                                        {"items", Ref("schemas", "FilterNode")},
                                                        {"minItems", 1}}}}},
    };
  };
  json::object filter_node{
      {"description",
       "A boolean filter tree: {\"and\": [nodes]}, {\"or\": [nodes]} or a condition "
       "{\"field\", \"op\", \"value\"}."},
      {"oneOf", json::array{junction("and"), junction("or"), Ref("schemas", "FilterCondition")}},
  };
  auto value_when = [](std::string_view op, std::string_view value_type) {
    return json::object{
        {"if", json::object{{"properties", json::object{{"op", json::object{{"const", op}}}}}}},
        {"then",
         json::object{{"properties", json::object{{"value", json::object{{"type", value_type}}}}}}},
    };
  };
  json::object filter_condition{
      {"type", "object"},
      {"description",
       "`field op value`. `value` is an array for `in`, a boolean for `is_null` (true: the field "
       "is empty), otherwise a value of the field's type."},
      {"required", json::array{"field", "op", "value"}},
      {"additionalProperties", false},
      {"properties",
       json::object{{"field", string_schema},
                    {"op", json::object{{"type", "string"}, {"enum", FilterOpNames()}}},
                    {"value", json::object{}}}},
      {"allOf", json::array{value_when("in", "array"), value_when("is_null", "boolean")}},
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
           {"q", json::object{{"type", "string"}, {"description", "Full-text search terms."}}},
           {"sort", json::object{{"type", "array"},
                                 {"items", Ref("schemas", "SortKey")},
                                 {"description", "Default: newest first, or by rank with `q`."}}},
           {"limit", json::object{{"type", "integer"},
                                  {"minimum", 1},
                                  {"maximum", model::kMaxPageSize},
                                  {"default", model::kDefaultPageSize}}},
           {"cursor", json::object{{"type", "string"},
                                   {"description", "`next_cursor` of the previous page."}}},
       }},
  };

  auto field_properties = [&](bool with_custom) {
    json::object properties{
        {"name", identifier},
        {"type", json::object{{"type", "string"}, {"enum", FieldTypeNames()}}},
        {"label", string_schema},
        {"description", string_schema},
        {"required", bool_schema},
        {"unique", bool_schema},
        {"indexed", bool_schema},
        {"searchable", bool_schema},
        {"pii", bool_schema},
    };
    if (with_custom) properties["custom"] = bool_schema;
    properties["max_length"] = json::object{
        {"type", "integer"}, {"minimum", 0}, {"description", "For string types; 0 = default."}};
    properties["enum_values"] = strings;
    properties["reference_target"] = json::object{
        {"type", "string"}, {"description", "For reference fields: the target object's name."}};
    return properties;
  };
  json::object field_definition{
      {"type", "object"},
      {"required", json::array{"name", "type"}},
      {"properties", field_properties(true)},
  };
  json::object field_create{
      {"type", "object"},
      {"description", "A custom field to add to an object type."},
      {"required", json::array{"name", "type"}},
      {"additionalProperties", false},
      {"properties", field_properties(false)},
  };
  json::object object_type_definition{
      {"type", "object"},
      {"required", json::array{"name", "singular", "id_prefix", "fields"}},
      {"properties",
       json::object{
           {"name", identifier},
           {"singular", string_schema},
           {"id_prefix", string_schema},
           {"label", string_schema},
           {"fields",
            json::object{{"type", "array"}, {"items", Ref("schemas", "FieldDefinition")}}},
           {"require_one_of", json::object{{"type", "array"}, {"items", strings}}},
           {"display_fields", strings},
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
  };
}

}  // namespace zebros::api::openapi_internal
