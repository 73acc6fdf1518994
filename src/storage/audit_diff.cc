#include "storage/audit_diff.h"

#include "core/crypto.h"
#include "core/json.h"

namespace zebros::storage {
namespace json = boost::json;

namespace {

const json::value* ValueOf(const json::object& values, const std::string& name) {
  const json::value* value = values.if_contains(name);
  return value != nullptr && !value->is_null() ? value : nullptr;
}

json::value Shown(const model::Field& field, const json::value* value, const PiiDigester& digest) {
  if (value == nullptr) return nullptr;
  if (field.pii) return json::value(digest(*value));
  return *value;
}

}  // namespace

std::string PiiDigest(std::string_view key, const json::value& value) {
  return "hmac-sha256:" + core::HmacSha256Hex(key, core::WriteJson(value));
}

json::object CreateDetails(const model::ObjectType& type, const json::object& values,
                           std::int64_t version, const PiiDigester& digest) {
  json::object fields;
  for (const auto& field : type.fields) {
    const json::value* value = ValueOf(values, field.name);
    if (value != nullptr) fields[field.name] = Shown(field, value, digest);
  }
  json::object details;
  details["version"] = version;
  details["fields"] = std::move(fields);
  return details;
}

json::object UpdateDetails(const model::ObjectType& type, const json::object& before,
                           const json::object& after, std::int64_t version,
                           const PiiDigester& digest) {
  json::object fields;
  for (const auto& field : type.fields) {
    const json::value* old_value = ValueOf(before, field.name);
    const json::value* new_value = ValueOf(after, field.name);
    if (old_value == nullptr && new_value == nullptr) continue;
    if (old_value != nullptr && new_value != nullptr && *old_value == *new_value) continue;
    json::object change;
    change["from"] = Shown(field, old_value, digest);
    change["to"] = Shown(field, new_value, digest);
    fields[field.name] = std::move(change);
  }
  json::object details;
  details["version"] = version;
  details["fields"] = std::move(fields);
  return details;
}

json::object StateDetails(std::int64_t version) {
  json::object details;
  details["version"] = version;
  return details;
}

}  // namespace zebros::storage
