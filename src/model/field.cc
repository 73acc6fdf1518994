#include "model/field.h"

#include <algorithm>

namespace zebros::model {
namespace {
struct TypeName {
  FieldType type;
  std::string_view name;
};
constexpr TypeName kTypeNames[] = {
    {FieldType::kText, "text"},
    {FieldType::kLongText, "long_text"},
    {FieldType::kEmail, "email"},
    {FieldType::kPhone, "phone"},
    {FieldType::kUrl, "url"},
    {FieldType::kInteger, "integer"},
    {FieldType::kNumber, "number"},
    {FieldType::kMoney, "money"},
    {FieldType::kBool, "bool"},
    {FieldType::kDate, "date"},
    {FieldType::kDateTime, "datetime"},
    {FieldType::kEnum, "enum"},
    {FieldType::kReference, "reference"},
    {FieldType::kTags, "tags"},
};
}  // namespace

std::string_view FieldTypeName(FieldType type) {
  for (const auto& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "text";
}

bool IsJsonString(FieldType type) {
  switch (type) {
    case FieldType::kText:
    case FieldType::kLongText:
    case FieldType::kEmail:
    case FieldType::kPhone:
    case FieldType::kUrl:
    case FieldType::kDate:
    case FieldType::kDateTime:
    case FieldType::kEnum:
    case FieldType::kReference:
      return true;
    default:
      return false;
  }
}

std::optional<FieldType> ParseFieldType(std::string_view name) {
  for (const auto& entry : kTypeNames) {
    if (entry.name == name) return entry.type;
  }
  return std::nullopt;
}

std::size_t Field::MaxLength() const {
  if (max_length > 0) return max_length;
  switch (type) {
    case FieldType::kLongText:
      return 32768;
    case FieldType::kEmail:
      return 254;
    case FieldType::kPhone:
      return 32;
    case FieldType::kUrl:
      return 2048;
    case FieldType::kTags:
      return 64;  // per tag
    default:
      return 255;
  }
}

bool Field::Sortable() const { return type != FieldType::kLongText && type != FieldType::kTags; }

bool IsSystemField(std::string_view name) {
  return std::find(std::begin(kSystemFields), std::end(kSystemFields), name) !=
         std::end(kSystemFields);
}

bool IsValidIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace zebros::model
