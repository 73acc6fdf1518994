#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zebros::model {

// The value types a field can hold. Each maps to one JSON shape and one storage column type.
enum class FieldType {
  kText,       // JSON string
  kLongText,   // JSON string, larger limit, not sortable
  kEmail,      // JSON string, normalised to lower case
  kPhone,      // JSON string, E.164-ish: digits, spaces, + ( ) - .
  kUrl,        // JSON string, http(s) URL
  kInteger,    // JSON integer
  kNumber,     // JSON number
  kMoney,      // JSON number with at most 2 decimals, stored exactly as minor units
  kBool,       // JSON true/false
  kDate,       // JSON string "YYYY-MM-DD"
  kDateTime,   // JSON string RFC 3339, stored as epoch milliseconds, rendered in UTC
  kEnum,       // JSON string, one of `enum_values`
  kReference,  // JSON string, id of a record of `reference_target`
  kTags,       // JSON array of distinct short strings
};

std::string_view FieldTypeName(FieldType type);
// Whether values of `type` are JSON strings (text-like, enum, reference, date, datetime).
bool IsJsonString(FieldType type);
std::optional<FieldType> ParseFieldType(std::string_view name);

// Describes one field of an object type. Pure data.
struct Field {
  std::string name;
  FieldType type = FieldType::kText;
  std::string label;
  bool required = false;
  bool unique = false;         // unique among live records of a tenant (nulls allowed)
  bool indexed = false;        // fast filter and sort
  bool searchable = false;     // included in full-text search
  bool pii = false;            // personal data: masked for some roles, hashed in audit diffs
  bool custom = false;         // added at run time by a tenant's admin
  std::size_t max_length = 0;  // for string types; 0 = the type's default
  std::vector<std::string> enum_values;
  std::string reference_target;  // object name, for kReference
  std::string description;
  // For enum and text fields: the value a new record gets when it names none.
  std::string default_value;

  bool operator==(const Field&) const = default;

  // The effective maximum length in bytes of a string value of this field.
  std::size_t MaxLength() const;
  // Whether values of this field can be ordered (sort, lt/gt filters).
  bool Sortable() const;
};

// System fields every record carries; callers may read but never write them.
inline constexpr std::string_view kSystemFields[] = {
    "id", "tenant_id", "created_at", "updated_at", "created_by", "version", "deleted_at"};
bool IsSystemField(std::string_view name);

// A valid field or object name: lower-case letter, then letters, digits or '_', at most 63.
bool IsValidIdentifier(std::string_view name);

}  // namespace zebros::model
