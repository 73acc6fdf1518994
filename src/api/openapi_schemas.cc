// The record schemas of the OpenAPI document: one JSON schema per field, and per object type the
// record as returned, the bodies of create, update and batch, and a page of a list.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "api/openapi_internal.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {
using model::FieldType;

constexpr std::string_view kPhonePattern = "^[+0-9 ().-]{3,32}$";
constexpr int kMaxBatchItems = 200;

json::array Strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

const model::ObjectType* FindType(const std::vector<model::ObjectTypePtr>& types,
                                  std::string_view name) {
  for (const auto& type : types) {
    if (type->name == name) return type.get();
  }
  return nullptr;
}

std::string ReferenceText(const model::Field& field, const model::ObjectType* target) {
  const std::string& noun = target != nullptr ? target->singular : field.reference_target;
  return "id of " + WithArticle(noun) + " record";
}

json::object Flags(const model::Field& field) {
  return json::object{
      {"type", model::FieldTypeName(field.type)},
      {"required", field.required},
      {"unique", field.unique},
      {"indexed", field.indexed},
      {"searchable", field.searchable},
      {"pii", field.pii},
      {"custom", field.custom},
  };
}

json::object StringSchema(std::size_t max_length) {
  return json::object{{"type", "string"}, {"maxLength", max_length}};
}

// The value shape of `field`, before annotations.
json::object ValueSchema(const model::Field& field, const model::ObjectType* target) {
  switch (field.type) {
    case FieldType::kText:
    case FieldType::kLongText:
      return StringSchema(field.MaxLength());
    case FieldType::kEmail: {
      json::object schema = StringSchema(field.MaxLength());
      schema["format"] = "email";
      return schema;
    }
    case FieldType::kPhone: {
      json::object schema = StringSchema(field.MaxLength());
      schema["pattern"] = kPhonePattern;
      return schema;
    }
    case FieldType::kUrl: {
      json::object schema = StringSchema(field.MaxLength());
      schema["format"] = "uri";
      return schema;
    }
    case FieldType::kInteger:
      return json::object{{"type", "integer"}, {"format", "int64"}};
    case FieldType::kNumber:
      return json::object{{"type", "number"}};
    case FieldType::kMoney:
      return json::object{{"type", "number"}, {"multipleOf", 0.01}};
    case FieldType::kBool:
      return json::object{{"type", "boolean"}};
    case FieldType::kDate:
      return json::object{{"type", "string"}, {"format", "date"}};
    case FieldType::kDateTime:
      return json::object{{"type", "string"}, {"format", "date-time"}};
    case FieldType::kEnum: {
      json::object schema{{"type", "string"}};
      // An empty `enum` would reject every value; a type without values is left open.
      if (!field.enum_values.empty()) schema["enum"] = Strings(field.enum_values);
      return schema;
    }
    case FieldType::kReference:
      return target != nullptr ? IdSchema(*target) : json::object{{"type", "string"}};
    case FieldType::kTags:
      return json::object{
          {"type", "array"},
          {"items",
           json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", field.MaxLength()}}},
          {"uniqueItems", true},
      };
  }
  return json::object{{"type", "string"}};
}

json::object SystemProperties(const model::ObjectType& type) {
  auto read_only = [](json::object schema, std::string_view description) {
    schema["description"] = description;
    schema["readOnly"] = true;
    return schema;
  };
  json::object id = IdSchema(type);
  id["readOnly"] = true;
  const json::object date_time{{"type", "string"}, {"format", "date-time"}};
  return json::object{
      {"id", std::move(id)},
      {"created_at", read_only(date_time, "When the record was created (UTC).")},
      {"updated_at", read_only(date_time, "When the record was last changed (UTC).")},
      {"created_by", read_only(json::object{{"type", json::array{"string", "null"}}},
                               "Id of the user or API key that created the record.")},
      {"version", read_only(json::object{{"type", "integer"}, {"minimum", 1}},
                            "Incremented by every change; the record's ETag is derived from it.")},
  };
}

// For Create: at least one field of each `require_one_of` group must be present and non-null.
json::array RequireOneOf(const model::ObjectType& type) {
  json::array groups;
  for (const auto& group : type.require_one_of) {
    json::array any_of;
    for (const auto& name : group) {
      any_of.push_back(json::object{
          {"required", json::array{name}},
          {"properties",
           json::object{{name, json::object{{"not", json::object{{"type", "null"}}}}}}},
      });
    }
    groups.push_back(json::object{{"anyOf", std::move(any_of)}});
  }
  return groups;
}

json::object BatchRequest(const model::ObjectType& type, const std::string& singular) {
  json::object update_item{
      {"type", "object"},
      {"required", json::array{"id", "fields"}},
      {"additionalProperties", false},
      {"properties",
       json::object{
           {"id", IdSchema(type)},
           {"version", json::object{{"type", "integer"},
                                    {"description",
                                     "When set, the item fails with 412 unless the record still "
                                     "has this version (like If-Match)."}}},
           {"fields", Ref("schemas", singular + "Update")},
       }},
  };
  auto list_of = [](json::object items) {
    return json::object{
        {"type", "array"}, {"items", std::move(items)}, {"maxItems", kMaxBatchItems}};
  };
  json::object properties{
      {"create", list_of(Ref("schemas", singular + "Create"))},
      {"update", list_of(std::move(update_item))},
  };
  json::array unique_fields;
  for (const auto& field : type.fields) {
    if (field.unique && !model::IsSystemField(field.name)) unique_fields.emplace_back(field.name);
  }
  // Upsert matches records on a unique field, so a type without one has no upsert.
  if (!unique_fields.empty()) {
    properties["upsert"] = json::object{
        {"type", "object"},
        {"required", json::array{"key", "records"}},
        {"additionalProperties", false},
        {"properties",
         json::object{
             {"key", json::object{{"type", "string"},
                                  {"enum", std::move(unique_fields)},
                                  {"description",
                                   "The unique field that matches a record to update; records "
                                   "without a match are created."}}},
             {"records", list_of(Ref("schemas", singular + "Create"))},
         }},
    };
  }
  json::object delete_list = list_of(IdSchema(type));
  delete_list["uniqueItems"] = true;
  properties["delete"] = std::move(delete_list);
  return json::object{
      {"type", "object"},
      {"description", "Several writes in one request, at most " + std::to_string(kMaxBatchItems) +
                          " items in total. A failing item is named by `errors[].index` in the "
                          "problem response."},
      {"minProperties", 1},
      {"additionalProperties", false},
      {"properties", std::move(properties)},
  };
}

json::object BatchResult(const model::ObjectType& type, const std::string& singular) {
  auto records = json::object{{"type", "array"}, {"items", Ref("schemas", singular)}};
  return json::object{
      {"type", "object"},
      {"properties",
       json::object{
           {"created", records},
           {"updated", records},
           {"upserted", records},
           {"deleted", json::object{{"type", "array"}, {"items", IdSchema(type)}}},
       }},
  };
}

}  // namespace

json::object FieldSchema(const model::Field& field, const model::ObjectType* reference_target) {
  json::object schema = ValueSchema(field, reference_target);
  if (!field.label.empty()) schema["title"] = field.label;
  std::string description = field.description.empty() ? field.label : field.description;
  if (field.type == FieldType::kReference) {
    const std::string reference = ReferenceText(field, reference_target);
    description = description.empty() ? reference : description + " (" + reference + ")";
  }
  if (!description.empty()) schema["description"] = description;
  schema["x-zebros"] = Flags(field);
  return schema;
}

json::object RecordSchemas(const model::ObjectType& type,
                           const std::vector<model::ObjectTypePtr>& types) {
  const std::string singular = PascalCase(type.singular);
  json::object record_properties = SystemProperties(type);
  json::object create_properties;
  json::object update_properties;
  json::array required;
  for (const auto& field : type.fields) {
    if (model::IsSystemField(field.name)) continue;
    const model::ObjectType* target =
        field.type == FieldType::kReference ? FindType(types, field.reference_target) : nullptr;
    json::object schema = FieldSchema(field, target);
    record_properties[field.name] = Nullable(schema);
    update_properties[field.name] = Nullable(schema);
    if (field.required) {
      required.emplace_back(field.name);
      create_properties[field.name] = std::move(schema);
    } else {
      create_properties[field.name] = Nullable(std::move(schema));
    }
  }

  json::object record{
      {"type", "object"},
      {"description", WithArticle(type.singular) + " record as the API returns it."},
      {"required", json::array{"id", "created_at", "updated_at", "created_by", "version"}},
      {"properties", std::move(record_properties)},
      {"x-zebros", json::object{{"object", type.name},
                                {"id_prefix", type.id_prefix},
                                {"display_fields", Strings(type.display_fields)}}},
  };
  json::object create{
      {"type", "object"},
      {"description",
       "The fields of a new " + type.singular + "; system fields are set by the server."},
  };
  if (!required.empty()) create["required"] = std::move(required);
  create["properties"] = std::move(create_properties);
  create["additionalProperties"] = false;
  if (json::array groups = RequireOneOf(type); !groups.empty()) create["allOf"] = std::move(groups);

  json::object update{
      {"type", "object"},
      {"description", "The fields to change; absent fields keep their value, null clears one."},
      {"properties", std::move(update_properties)},
      {"additionalProperties", false},
  };
  json::object list{
      {"type", "object"},
      {"required", json::array{"data", "next_cursor"}},
      {"properties",
       json::object{
           {"data", json::object{{"type", "array"}, {"items", Ref("schemas", singular)}}},
           {"next_cursor", json::object{{"type", json::array{"string", "null"}},
                                        {"description",
                                         "Pass as `cursor` to get the next page; null on the "
                                         "last page."}}},
       }},
  };
  return json::object{
      {singular, std::move(record)},
      {singular + "Create", std::move(create)},
      {singular + "Update", std::move(update)},
      {singular + "List", std::move(list)},
      {singular + "BatchRequest", BatchRequest(type, singular)},
      {singular + "BatchResult", BatchResult(type, singular)},
  };
}

}  // namespace zebros::api::openapi_internal
