#include "domain/validator.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "core/time_format.h"
#include "model/presence.h"

namespace zebros::domain {
namespace json = boost::json;
using model::Field;
using model::FieldType;

namespace {

constexpr std::size_t kMaxTags = 100;

core::Error FieldProblem(const std::string& field, std::string code, std::string message) {
  core::Error error =
      core::MakeError(core::Code::kValidation, "validation_failed", "The record is invalid.");
  error.field_errors.push_back({field, std::move(code), std::move(message), -1});
  return error;
}

std::size_t CodePoints(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

bool IsValidEmail(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || email.find('@', at + 1) != email.npos) {
    return false;
  }
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != local.npos) return false;
  for (char c : local) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte == 0x7F || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == ']' || c == '\\' || c == '"') {
      return false;
    }
  }
  if (domain.empty() || domain.size() > 253 || domain.find('.') == domain.npos) return false;
  std::size_t label_start = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      const std::size_t length = i - label_start;
      if (length == 0 || length > 63 || domain[label_start] == '-' || domain[i - 1] == '-') {
        return false;
      }
      label_start = i + 1;
      continue;
    }
    const auto byte = static_cast<unsigned char>(domain[i]);
    if (!(std::isalnum(byte) || domain[i] == '-' || byte >= 0x80)) return false;
  }
  return true;
}

bool IsValidPhone(std::string_view phone) {
  int digits = 0;
  for (std::size_t i = 0; i < phone.size(); ++i) {
    const char c = phone[i];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (!(c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' ||
                 (c == '+' && i == 0))) {
      return false;
    }
  }
  return digits >= 3 && digits <= 20;
}

bool IsValidUrl(std::string_view url) {
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
  } else {
    return false;
  }
  const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty()) return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7F) return false;
  }
  return true;
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

const char* TypeDescription(FieldType type) {
  switch (type) {
    case FieldType::kInteger:
      return "an integer";
    case FieldType::kNumber:
    case FieldType::kMoney:
      return "a number";
    case FieldType::kBool:
      return "true or false";
    case FieldType::kTags:
      return "an array of strings";
    default:
      return "a string";
  }
}

// Pseudo-fields for the system columns, so filters and sorts on them are checked like others.
const Field* SystemField(std::string_view name) {
  static const std::vector<Field> fields = [] {
    std::vector<Field> out;
    auto add = [&out](const char* name, FieldType type) {
      Field field;
      field.name = name;
      field.type = type;
      field.max_length = 64;
      out.push_back(field);
    };
    add("id", FieldType::kText);
    add("created_at", FieldType::kDateTime);
    add("updated_at", FieldType::kDateTime);
    add("created_by", FieldType::kText);
    add("version", FieldType::kInteger);
    return out;
  }();
  for (const auto& field : fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

// Reads a query-string value as the field's JSON type ("42" → 42, "true" → true).
json::value FromText(const Field& field, const json::value& value) {
  if (!value.is_string()) return value;
  const std::string_view text = value.get_string();
  switch (field.type) {
    case FieldType::kInteger: {
      std::int64_t number = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec == std::errc() && end == text.data() + text.size()) return number;
      return value;
    }
    case FieldType::kNumber:
    case FieldType::kMoney: {
      double number = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return number;
      return value;
    }
    case FieldType::kBool:
      if (text == "true") return true;
      if (text == "false") return false;
      return value;
    default:
      return value;
  }
}

core::Error InvalidFilter(std::string message) {
  return core::MakeError(core::Code::kBadRequest, "invalid_filter", std::move(message));
}

core::Status NormalizeNode(const model::ObjectType& type, model::FilterNode& node, bool text_values,
                           int depth) {
  if (depth > 16) return InvalidFilter("The filter is nested too deeply.");
  if (node.kind != model::FilterNode::Kind::kCondition) {
    if (node.children.size() > 100) return InvalidFilter("Too many conditions in one group.");
    for (auto& child : node.children) {
      auto status = NormalizeNode(type, child, text_values, depth + 1);
      if (!status.ok()) return status;
    }
    return core::OkStatus();
  }
  auto& condition = node.condition;
  const Field* field = SystemField(condition.field);
  if (field == nullptr) field = type.FindField(condition.field);
  if (field == nullptr) return InvalidFilter("Unknown field '" + condition.field + "'.");
  const std::string op_name(model::FilterOpName(condition.op));
  auto reject = [&](const std::string& why) {
    return InvalidFilter("Invalid filter on '" + condition.field + "' (" + op_name + "): " + why);
  };
  using model::FilterOp;
  switch (condition.op) {
    case FilterOp::kIsNull: {
      static const Field kFlag = [] {
        Field flag;
        flag.type = FieldType::kBool;
        return flag;
      }();
      json::value flag = text_values ? FromText(kFlag, condition.value) : condition.value;
      if (!flag.is_bool()) return reject("expects true or false.");
      condition.value = flag;
      return core::OkStatus();
    }
    case FilterOp::kContains:
    case FilterOp::kStartsWith:
      if (!condition.value.is_string()) return reject("expects a string.");
      // Date-times are strings in JSON but epoch milliseconds in storage: text matching on them
      // would silently match nothing.
      if (field->type == FieldType::kDateTime) return reject("does not apply to date-times.");
      if (!(model::IsJsonString(field->type) ||
            (field->type == FieldType::kTags && condition.op == FilterOp::kContains))) {
        return reject("only applies to text fields.");
      }
      if (condition.value.get_string().empty()) return reject("expects a non-empty string.");
      return core::OkStatus();
    case FilterOp::kIn: {
      json::array items;
      if (condition.value.is_string() && text_values) {
        std::string_view text = condition.value.get_string();
        while (true) {
          const auto comma = text.find(',');
          items.emplace_back(text.substr(0, comma));
          if (comma == std::string_view::npos) break;
          text.remove_prefix(comma + 1);
        }
      } else if (condition.value.is_array()) {
        items = condition.value.get_array();
      } else {
        return reject("expects a list of values.");
      }
      if (items.empty() || items.size() > 100) return reject("expects 1 to 100 values.");
      for (auto& item : items) {
        json::value typed = text_values ? FromText(*field, item) : item;
        auto normalized = NormalizeValue(*field, typed);
        if (!normalized.ok()) return reject(normalized.error().field_errors.front().message);
        item = std::move(normalized).value();
      }
      condition.value = std::move(items);
      return core::OkStatus();
    }
    default: {
      if (condition.op != FilterOp::kEq && condition.op != FilterOp::kNe && !field->Sortable()) {
        return reject("this field cannot be compared.");
      }
      json::value typed = text_values ? FromText(*field, condition.value) : condition.value;
      if (typed.is_null() && (condition.op == FilterOp::kEq || condition.op == FilterOp::kNe)) {
        condition.value = nullptr;
        return core::OkStatus();
      }
      if (field->type == FieldType::kTags) {
        if (!typed.is_string()) return reject("expects a tag.");
        condition.value = typed;
        return core::OkStatus();
      }
      auto normalized = NormalizeValue(*field, typed);
      if (!normalized.ok()) return reject(normalized.error().field_errors.front().message);
      condition.value = std::move(normalized).value();
      return core::OkStatus();
    }
  }
}

core::Result<json::object> Validate(const model::ObjectType& type, const json::object& body,
                                    bool is_create) {
  std::vector<core::FieldError> errors;
  json::object values;
  values.reserve(body.size() + 2);
  for (const auto& member : body) {
    const std::string name(member.key());
    if (model::IsSystemField(name)) {
      errors.push_back({name, "read_only_field", "This field is set by the server.", -1});
      continue;
    }
    const Field* field = type.FindField(name);
    if (field == nullptr) {
      errors.push_back({name, "unknown_field", "The " + type.singular + " has no such field.", -1});
      continue;
    }
    if (member.value().is_null()) {
      if (!is_create && field->required) {
        errors.push_back({name, "required", "This field is required and cannot be cleared.", -1});
      } else if (!is_create) {
        values[name] = nullptr;
      }
      continue;
    }
    auto normalized = NormalizeValue(*field, member.value());
    if (!normalized.ok()) {
      for (auto& error : std::move(normalized).error().field_errors) errors.push_back(error);
      continue;
    }
    values[name] = std::move(normalized).value();
  }
  if (is_create) {
    for (const auto& field : type.fields) {
      if (!field.default_value.empty() && !values.contains(field.name)) {
        values[field.name] = field.default_value;
      }
    }
    if (errors.empty()) {
      for (auto& error : model::CheckPresence(type, values)) errors.push_back(std::move(error));
    }
  }
  if (!errors.empty()) {
    core::Error error = core::MakeError(core::Code::kValidation, "validation_failed",
                                        "The " + type.singular + " is invalid.");
    error.field_errors = std::move(errors);
    return error;
  }
  return values;
}

}  // namespace

core::Result<json::value> NormalizeValue(const Field& field, const json::value& value) {
  const std::string& name = field.name;
  if (model::IsJsonString(field.type)) {
    if (!value.is_string()) {
      return FieldProblem(name, "invalid_type",
                          std::string("Must be ") + TypeDescription(field.type) + ".");
    }
    const std::string_view text = value.get_string();
    const std::size_t limit = field.type == FieldType::kDateTime ? 64 : field.MaxLength();
    if (CodePoints(text) > limit) {
      return FieldProblem(name, "too_long",
                          "Must be at most " + std::to_string(limit) + " characters.");
    }
    switch (field.type) {
      case FieldType::kEmail: {
        std::string email = ToLower(text);
        if (!IsValidEmail(email)) {
          return FieldProblem(name, "invalid_email", "Must be an e-mail address.");
        }
        return json::value(std::move(email));
      }
      case FieldType::kPhone:
        if (!IsValidPhone(text)) {
          return FieldProblem(name, "invalid_phone",
                              "Must be a phone number: digits, spaces, + ( ) - . only.");
        }
        return value;
      case FieldType::kUrl:
        if (!IsValidUrl(text)) {
          return FieldProblem(name, "invalid_url", "Must be an http:// or https:// URL.");
        }
        return value;
      case FieldType::kDate:
        if (!core::IsValidDate(text)) {
          return FieldProblem(name, "invalid_date", "Must be a date as YYYY-MM-DD.");
        }
        return value;
      case FieldType::kDateTime: {
        auto ms = core::ParseTimestamp(text);
        if (!ms) {
          return FieldProblem(name, "invalid_datetime",
                              "Must be an RFC 3339 date-time, e.g. 2026-01-31T09:30:00Z.");
        }
        return json::value(core::FormatTimestamp(*ms));
      }
      case FieldType::kEnum:
        for (const auto& allowed : field.enum_values) {
          if (allowed == text) return value;
        }
        return FieldProblem(name, "invalid_enum", "Must be one of the field's values.");
      case FieldType::kReference:
        if (text.empty()) return FieldProblem(name, "invalid_reference", "Must be a record id.");
        return value;
      default:
        return value;
    }
  }
  switch (field.type) {
    case FieldType::kInteger:
      if (value.is_int64()) return value;
      if (value.is_uint64() && value.get_uint64() <= INT64_MAX) {
        return json::value(static_cast<std::int64_t>(value.get_uint64()));
      }
      return FieldProblem(name, "invalid_type", "Must be an integer.");
    case FieldType::kNumber:
    case FieldType::kMoney: {
      if (!value.is_number()) {
        return FieldProblem(name, "invalid_type", "Must be a number.");
      }
      const double number = value.to_number<double>();
      // Money must survive as exact minor units: a double holds 15 significant digits, so
      // 13 before the decimal point plus two after.
      const double limit = field.type == FieldType::kMoney ? 1e13 : 1e15;
      if (!std::isfinite(number) || std::fabs(number) >= limit) {
        return FieldProblem(name, "out_of_range", "The number is out of range.");
      }
      if (field.type == FieldType::kMoney) {
        const double cents = number * 100.0;
        if (std::fabs(cents - std::round(cents)) > 1e-6) {
          return FieldProblem(name, "invalid_money", "Use at most two decimal places.");
        }
        const std::int64_t whole = std::llround(cents);
        if (whole % 100 == 0) return json::value(whole / 100);
        return json::value(static_cast<double>(whole) / 100.0);
      }
      return value;
    }
    case FieldType::kBool:
      if (!value.is_bool()) return FieldProblem(name, "invalid_type", "Must be true or false.");
      return value;
    case FieldType::kTags: {
      if (!value.is_array()) {
        return FieldProblem(name, "invalid_type", "Must be an array of strings.");
      }
      const auto& items = value.get_array();
      if (items.size() > kMaxTags) {
        return FieldProblem(name, "too_many", "At most 100 tags.");
      }
      json::array tags;
      std::set<std::string_view> seen;
      for (const auto& item : items) {
        if (!item.is_string() || item.get_string().empty()) {
          return FieldProblem(name, "invalid_type", "Each tag must be a non-empty string.");
        }
        if (CodePoints(item.get_string()) > field.MaxLength()) {
          return FieldProblem(name, "too_long", "A tag is too long.");
        }
        if (seen.insert(item.get_string()).second) tags.push_back(item);
      }
      return json::value(std::move(tags));
    }
    default:
      return FieldProblem(name, "invalid_type", "Unsupported value.");
  }
}

core::Result<json::object> ValidateCreate(const model::ObjectType& type, const json::object& body) {
  return Validate(type, body, true);
}

core::Result<json::object> ValidatePatch(const model::ObjectType& type, const json::object& body) {
  return Validate(type, body, false);
}

core::Status NormalizeQuery(const model::ObjectType& type, model::Query& query, bool text_values) {
  if (query.limit < 1 || query.limit > model::kMaxPageSize) {
    return core::MakeError(core::Code::kBadRequest, "invalid_parameter",
                           "limit must be between 1 and 500.");
  }
  if (query.sort.size() > 5) return InvalidFilter("Sort by at most 5 fields.");
  for (const auto& key : query.sort) {
    const Field* field = SystemField(key.field);
    if (field == nullptr) field = type.FindField(key.field);
    if (field == nullptr) return InvalidFilter("Cannot sort by unknown field '" + key.field + "'.");
    if (!field->Sortable()) return InvalidFilter("Field '" + key.field + "' cannot be sorted.");
  }
  if (query.text.size() > 256) return InvalidFilter("The search text is too long.");
  if (query.filter) return NormalizeNode(type, *query.filter, text_values, 0);
  return core::OkStatus();
}

}  // namespace zebros::domain
