// The record schemas of the OpenAPI document: one JSON schema per field, and per object type the
// record as returned (api/render.cc), the bodies of create, update and batch as the domain
// validates them (domain/validator.cc, domain/record_service.cc), and a page of a list.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "api/openapi_internal.h"
#include "domain/record_service.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {
using model::FieldType;

static_assert(kMaxBatchOperations == static_cast<int>(domain::RecordService::kMaxBatchOperations));

// domain/validator.cc: an optional leading +, then digits, spaces and ( ) - . with 3 to 20 digits.
constexpr std::string_view kPhonePattern = "^\\+?[ ().-]*([0-9][ ().-]*){3,20}$";
// domain/validator.cc: http(s), a non-empty host, no spaces or control characters.
constexpr std::string_view kUrlPattern =
    "^https?://[^/?#\\u0000-\\u0020\\u007f][^\\u0000-\\u0020\\u007f]*$";
// domain/validator.cc: numbers beyond this magnitude are rejected as out_of_range.
constexpr double kMaxMagnitude = 1e15;
constexpr int kMaxTags = 100;

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

json::object NumberSchema() {
  return json::object{{"type", "number"}, {"minimum", -kMaxMagnitude}, {"maximum", kMaxMagnitude}};
}

// The value shape of `field` as a request may send it, before annotations.
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
      schema["pattern"] = kUrlPattern;
      return schema;
    }
    case FieldType::kInteger:
      return json::object{{"type", "integer"}, {"format", "int64"}};
    case FieldType::kNumber:
      return NumberSchema();
    case FieldType::kMoney: {
      json::object schema = NumberSchema();
      schema["multipleOf"] = 0.01;
      return schema;
    }
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
      // Not uniqueItems: the server drops repeated tags instead of rejecting them.
      return json::object{
          {"type", "array"},
          {"items",
           json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", field.MaxLength()}}},
          {"maxItems", kMaxTags},
      };
  }
  return json::object{{"type", "string"}};
}

// A role that sees pii masked gets placeholders ("***", "***-***-1234", "****-**-**", null for
// numbers) that need not match the field's format, pattern, enum or length: a returned pii
// value is described by its type alone, and says so.
json::object Maskable(json::object schema) {
  for (std::string_view constraint : {"format", "pattern", "enum", "maxLength", "minLength",
                                      "minimum", "maximum", "multipleOf"}) {
    schema.erase(constraint);
  }
  const json::value* description = schema.if_contains("description");
  std::string text = description != nullptr && description->is_string()
                         ? std::string(description->get_string()) + ". "
                         : std::string();
  schema["description"] = text +
                          "Personal data: masked for roles that see it masked (see "
                          "docs/security.md), so values may not match the field's format.";
  return schema;
}

json::object ReadOnly(json::object schema, std::string_view description) {
  schema["description"] = description;
  schema["readOnly"] = true;
  return schema;
}

// For Create: at least one field of each `require_one_of` group must be present, non-null and
// non-empty (model/presence.cc).
json::array RequireOneOf(const model::ObjectType& type) {
  const json::object set_value{{"not", json::object{{"enum", json::array{nullptr, ""}}}}};
  json::array groups;
  for (const auto& group : type.require_one_of) {
    json::array any_of;
    for (const auto& name : group) {
      any_of.push_back(json::object{
          {"required", json::array{name}},
          {"properties", json::object{{name, set_value}}},
      });
    }
    groups.push_back(json::object{{"anyOf", std::move(any_of)}});
  }
  return groups;
}

// A present-and-set value of a required field: not null, and not "" (model/presence.cc).
json::object SetValue(json::object schema) {
  if (const auto* type = schema.if_contains("type"); type != nullptr && *type == "string") {
    schema["minLength"] = 1;
  }
  return schema;
}

json::object ArrayOf(json::object items, std::string_view description = {}) {
  json::object array{{"type", "array"}, {"items", std::move(items)}};
  if (!description.empty()) array["description"] = description;
  return array;
}

json::object BatchSection(json::object items, std::string_view description) {
  json::object section = ArrayOf(std::move(items), description);
  section["maxItems"] = kMaxBatchOperations;
  return section;
}

// {"key": field, "records": [Update]}: the key is any unique or indexed field, and every record
// must set it. An empty object when the type has no such field (then there is no upsert).
json::object UpsertSection(const model::ObjectType& type, const std::string& singular) {
  json::array keys;
  json::array key_rules;
  for (const auto& field : type.fields) {
    if (!(field.unique || field.indexed) || model::IsSystemField(field.name)) continue;
    keys.emplace_back(field.name);
    json::object record{
        {"type", "object"},
        {"required", json::array{field.name}},
        {"properties",
         json::object{{field.name, json::object{{"not", json::object{{"type", "null"}}}}}}},
    };
    key_rules.push_back(json::object{
        {"if",
         json::object{{"properties", json::object{{"key", json::object{{"const", field.name}}}}}}},
        {"then",
         json::object{{"properties", json::object{{"records", ArrayOf(std::move(record))}}}}},
    });
  }
  if (keys.empty()) return {};
  return json::object{
      {"type", "object"},
      {"description",
       "Records matched on `key`: a live record with the same value is updated, otherwise one is "
       "created (and then needs the fields a create needs). Each record is validated like an "
       "update and must set the key; more than one match is a 422 `ambiguous_key`."},
      {"required", json::array{"key", "records"}},
      {"additionalProperties", false},
      {"properties",
       json::object{
           {"key", json::object{{"type", "string"},
                                {"enum", std::move(keys)},
                                {"description", "A unique or indexed field."}}},
           {"records", BatchSection(Ref("schemas", singular + "Update"), "")},
       }},
      {"allOf", std::move(key_rules)},
  };
}

json::object BatchRequest(const model::ObjectType& type, const std::string& singular) {
  json::object properties{
      {"create", BatchSection(Ref("schemas", singular + "Create"), "Records to create.")},
      {"update", BatchSection(Ref("schemas", singular + "BatchUpdate"),
                              "Records to change: each the id plus the fields to change.")},
  };
  if (json::object upsert = UpsertSection(type, singular); !upsert.empty()) {
    properties["upsert"] = std::move(upsert);
  }
  properties["delete"] = BatchSection(IdSchema(type), "Ids of records to soft-delete.");
  return json::object{
      {"type", "object"},
      {"description",
       "Several writes in one request, all or nothing, at most " +
           std::to_string(kMaxBatchOperations) +
           " operations across all sections (more is a 422 `batch_too_large`). A failing "
           "operation is named in the problem's `errors`: `field` like `create[3].email`, "
           "`index` 3."},
      {"minProperties", 1},
      {"additionalProperties", false},
      {"properties", std::move(properties)},
  };
}

json::object BatchResult(const model::ObjectType& type, const std::string& singular) {
  const json::object records = ArrayOf(Ref("schemas", singular));
  return json::object{
      {"type", "object"},
      {"description", "The written records of each section, in request order."},
      {"required", json::array{"created", "updated", "upserted", "deleted"}},
      {"properties",
       json::object{
           {"created", records},
           {"updated", records},
           {"upserted", records},
           {"deleted", ArrayOf(IdSchema(type))},
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
  // The record as api/render.cc writes it: id, every field (null when unset), then the rest.
  json::object id = IdSchema(type);
  id["readOnly"] = true;
  json::object record_properties{{"id", std::move(id)}};
  json::array record_required{"id"};
  json::object create_properties;
  json::object update_properties;
  json::array create_required;
  for (const auto& field : type.fields) {
    if (model::IsSystemField(field.name)) continue;
    const model::ObjectType* target =
        field.type == FieldType::kReference ? FindType(types, field.reference_target) : nullptr;
    json::object schema = FieldSchema(field, target);
    json::object stored = schema;
    if (field.type == FieldType::kTags) stored["uniqueItems"] = true;
    if (field.pii) stored = Maskable(std::move(stored));
    record_properties[field.name] = Nullable(std::move(stored));
    record_required.emplace_back(field.name);
    // A required field cannot be cleared; an optional one is cleared by null.
    update_properties[field.name] = field.required ? SetValue(schema) : Nullable(schema);
    if (!field.default_value.empty()) schema["default"] = field.default_value;
    if (field.required && field.default_value.empty()) {
      create_required.emplace_back(field.name);
      create_properties[field.name] = SetValue(std::move(schema));
    } else {
      // On create, null is the same as leaving the field out.
      create_properties[field.name] = Nullable(std::move(schema));
    }
  }
  const json::object date_time{{"type", "string"}, {"format", "date-time"}};
  record_properties["created_at"] = ReadOnly(date_time, "When the record was created (UTC).");
  record_properties["updated_at"] = ReadOnly(date_time, "When the record was last changed (UTC).");
  record_properties["created_by"] = ReadOnly(json::object{{"type", "string"}},
                                             "Id of the user or API key that created the record.");
  record_properties["version"] =
      ReadOnly(json::object{{"type", "integer"}, {"minimum", 1}},
               "Incremented by every change; the record's ETag is `\"<id>-v<version>\"`.");
  record_properties["deleted_at"] =
      ReadOnly(date_time,
               "When the record was deleted (UTC); only on records returned by delete "
               "paths, never on live records.");
  for (std::string_view name : {"created_at", "updated_at", "created_by", "version"}) {
    record_required.emplace_back(name);
  }

  json::object record{
      {"type", "object"},
      {"description", WithArticle(type.singular) + " record as the API returns it."},
      {"required", std::move(record_required)},
      {"properties", std::move(record_properties)},
      {"x-zebros", json::object{{"object", type.name},
                                {"id_prefix", type.id_prefix},
                                {"display_fields", Strings(type.display_fields)}}},
  };
  json::object create{
      {"type", "object"},
      {"description", "The fields of a new " + type.singular +
                          "; system fields are set by the server, null is the same as absent."},
  };
  if (!create_required.empty()) create["required"] = std::move(create_required);
  create["properties"] = std::move(create_properties);
  create["additionalProperties"] = false;
  if (json::array groups = RequireOneOf(type); !groups.empty()) create["allOf"] = std::move(groups);

  json::object batch_update_properties{{"id", IdSchema(type)}};
  for (const auto& entry : update_properties) batch_update_properties[entry.key()] = entry.value();
  json::object update{
      {"type", "object"},
      {"description",
       "The fields to change; absent fields keep their value, null clears an optional one."},
      {"properties", std::move(update_properties)},
      {"additionalProperties", false},
  };
  json::object batch_update{
      {"type", "object"},
      {"description",
       "One update of a batch, flat: the record's id and the fields to change (null clears an "
       "optional one)."},
      {"required", json::array{"id"}},
      {"properties", std::move(batch_update_properties)},
      {"additionalProperties", false},
  };
  json::object list{
      {"type", "object"},
      {"required", json::array{"data", "next_cursor"}},
      {"properties",
       json::object{
           {"data", ArrayOf(Ref("schemas", singular))},
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
      {singular + "BatchUpdate", std::move(batch_update)},
      {singular + "BatchRequest", BatchRequest(type, singular)},
      {singular + "BatchResult", BatchResult(type, singular)},
  };
}

}  // namespace zebros::api::openapi_internal
