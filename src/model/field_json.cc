#include "model/field_json.h"

#include <set>

namespace zebros::model {
namespace json = boost::json;
namespace {

constexpr std::string_view kKnownKeys[] = {
    "name", "type",   "label",      "required",    "unique",           "indexed",    "searchable",
    "pii",  "custom", "max_length", "enum_values", "reference_target", "description"};

core::FieldError Problem(std::string field, std::string code, std::string message) {
  return {std::move(field), std::move(code), std::move(message), -1};
}

}  // namespace

json::object FieldToJson(const Field& field) {
  json::object out;
  out["name"] = field.name;
  out["type"] = FieldTypeName(field.type);
  out["label"] = field.label;
  out["required"] = field.required;
  out["unique"] = field.unique;
  out["indexed"] = field.indexed;
  out["searchable"] = field.searchable;
  out["pii"] = field.pii;
  out["custom"] = field.custom;
  out["max_length"] = field.MaxLength();
  if (field.type == FieldType::kEnum) {
    json::array values;
    for (const auto& value : field.enum_values) values.emplace_back(value);
    out["enum_values"] = std::move(values);
  }
  if (field.type == FieldType::kReference) out["reference_target"] = field.reference_target;
  if (!field.description.empty()) out["description"] = field.description;
  return out;
}

core::Result<Field> FieldFromJson(const json::object& json) {
  std::vector<core::FieldError> errors;
  Field field;
  for (const auto& member : json) {
    bool known = false;
    for (auto key : kKnownKeys) known = known || member.key() == key;
    if (!known) {
      errors.push_back(Problem(std::string(member.key()), "unknown_field", "Unknown property."));
    }
  }
  auto read_string = [&](std::string_view key, std::string& out, bool required) {
    const auto* value = json.if_contains(key);
    if (value == nullptr || value->is_null()) {
      if (required) errors.push_back(Problem(std::string(key), "required", "This is required."));
      return;
    }
    if (!value->is_string()) {
      errors.push_back(Problem(std::string(key), "invalid_type", "Must be a string."));
      return;
    }
    out = std::string(value->get_string());
  };
  auto read_bool = [&](std::string_view key, bool& out) {
    const auto* value = json.if_contains(key);
    if (value == nullptr || value->is_null()) return;
    if (!value->is_bool()) {
      errors.push_back(Problem(std::string(key), "invalid_type", "Must be true or false."));
      return;
    }
    out = value->get_bool();
  };

  read_string("name", field.name, true);
  if (json.contains("name") && !IsValidIdentifier(field.name)) {
    errors.push_back(Problem("name", "invalid_name",
                             "Use a lower-case letter followed by letters, digits or '_' "
                             "(at most 63)."));
  }
  std::string type_name;
  read_string("type", type_name, true);
  if (!type_name.empty()) {
    if (auto type = ParseFieldType(type_name)) {
      field.type = *type;
    } else {
      errors.push_back(Problem("type", "invalid_enum", "Unknown field type."));
    }
  }
  read_string("label", field.label, false);
  read_string("description", field.description, false);
  read_string("reference_target", field.reference_target, false);
  read_bool("required", field.required);
  read_bool("unique", field.unique);
  read_bool("indexed", field.indexed);
  read_bool("searchable", field.searchable);
  read_bool("pii", field.pii);
  read_bool("custom", field.custom);
  if (const auto* value = json.if_contains("max_length"); value && !value->is_null()) {
    const auto number = value->is_int64() ? value->get_int64()
                        : value->is_uint64()
                            ? static_cast<std::int64_t>(value->get_uint64() & 0x7fffffff)
                            : -1;
    if (number < 1 || number > 32768) {
      errors.push_back(Problem("max_length", "invalid_value", "Must be an integer 1..32768."));
    } else {
      field.max_length = static_cast<std::size_t>(number);
    }
  }
  if (const auto* value = json.if_contains("enum_values"); value && !value->is_null()) {
    std::set<std::string> seen;
    if (!value->is_array()) {
      errors.push_back(Problem("enum_values", "invalid_type", "Must be an array of strings."));
    } else {
      for (const auto& item : value->get_array()) {
        if (!item.is_string() || item.get_string().empty() || item.get_string().size() > 100 ||
            !seen.insert(std::string(item.get_string())).second) {
          errors.push_back(Problem("enum_values", "invalid_value",
                                   "Each value must be a distinct, non-empty string."));
          break;
        }
        field.enum_values.emplace_back(item.get_string());
      }
    }
  }
  if (field.type == FieldType::kEnum && field.enum_values.empty() && !type_name.empty()) {
    errors.push_back(Problem("enum_values", "required", "An enum field needs its values."));
  }
  if (field.type == FieldType::kReference && field.reference_target.empty() && !type_name.empty()) {
    errors.push_back(Problem("reference_target", "required", "A reference needs a target."));
  }
  if (field.label.empty()) field.label = field.name;
  if (!errors.empty()) {
    core::Error error = core::MakeError(core::Code::kValidation, "validation_failed",
                                        "The field definition is invalid.");
    error.field_errors = std::move(errors);
    return error;
  }
  return field;
}

}  // namespace zebros::model
