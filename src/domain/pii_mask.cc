#include "domain/pii_mask.h"

#include <boost/json/array.hpp>
#include <string>

namespace zebros::domain {
namespace json = boost::json;
using model::FieldType;

namespace {

constexpr char kMasked[] = "***";
// Fewer digits than this and the last four would give away most of the number.
constexpr int kMinDigitsToShowTail = 7;

std::string MaskEmail(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::string(kMasked);
  // The first character may be a multi-byte UTF-8 sequence: keep it whole.
  std::size_t first = 1;
  while (first < at && (static_cast<unsigned char>(email[first]) & 0xC0) == 0x80) ++first;
  return std::string(email.substr(0, first)) + std::string(kMasked) + std::string(email.substr(at));
}

std::string MaskPhone(std::string_view phone) {
  std::string digits;
  for (char c : phone) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (static_cast<int>(digits.size()) < kMinDigitsToShowTail) return "***-***-****";
  return "***-***-" + digits.substr(digits.size() - 4);
}

bool IsPii(const model::ObjectType& type, std::string_view field_name) {
  const model::Field* field = type.FindField(field_name);
  return field != nullptr && field->pii;
}

core::Error Forbidden(std::string_view use, std::string_view field_name) {
  return core::MakeError(core::Code::kForbidden, "forbidden",
                         "Your role sees '" + std::string(field_name) + "' masked, so it may not " +
                             std::string(use) + " it.");
}

core::Status CheckNode(const model::ObjectType& type, const model::FilterNode& node) {
  if (node.kind == model::FilterNode::Kind::kCondition) {
    return CheckFieldUseAvoidsPii(type, node.condition.field, "filter on");
  }
  for (const auto& child : node.children) {
    auto status = CheckNode(type, child);
    if (!status.ok()) return status;
  }
  return core::OkStatus();
}

}  // namespace

json::value MaskValue(const model::Field& field, const json::value& value) {
  if (value.is_null()) return nullptr;
  switch (field.type) {
    case FieldType::kEmail:
      return value.is_string() ? json::value(MaskEmail(value.get_string())) : json::value(kMasked);
    case FieldType::kPhone:
      return value.is_string() ? json::value(MaskPhone(value.get_string())) : json::value(kMasked);
    case FieldType::kDate:
      return "****-**-**";
    case FieldType::kDateTime:
      return "****-**-**T**:**:**Z";
    case FieldType::kTags:
      return json::array{kMasked};
    case FieldType::kInteger:
    case FieldType::kNumber:
    case FieldType::kMoney:
    case FieldType::kBool:
      return nullptr;
    case FieldType::kText:
    case FieldType::kLongText:
    case FieldType::kUrl:
    case FieldType::kEnum:
    case FieldType::kReference:
      return kMasked;
  }
  return nullptr;
}

void MaskRecord(const model::ObjectType& type, model::Record& record) {
  for (const auto& field : type.fields) {
    if (!field.pii) continue;
    if (json::value* value = record.values.if_contains(field.name)) {
      *value = MaskValue(field, *value);
    }
  }
}

core::Status CheckFieldUseAvoidsPii(const model::ObjectType& type, std::string_view field_name,
                                    std::string_view use) {
  if (IsPii(type, field_name)) return Forbidden(use, field_name);
  return core::OkStatus();
}

core::Status CheckQueryAvoidsPii(const model::ObjectType& type, const model::Query& query) {
  for (const auto& key : query.sort) {
    auto status = CheckFieldUseAvoidsPii(type, key.field, "sort by");
    if (!status.ok()) return status;
  }
  if (query.filter) return CheckNode(type, *query.filter);
  return core::OkStatus();
}

}  // namespace zebros::domain
