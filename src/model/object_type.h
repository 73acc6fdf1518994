#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/field.h"

namespace zebros::model {

// Describes one kind of record (accounts, contacts, …) as a tenant sees it: the built-in fields
// followed by that tenant's custom fields. Immutable once built; share it as
// shared_ptr<const ObjectType> so a schema change never alters a type a request is using.
struct ObjectType {
  std::string name;       // plural, as in the URL: "contacts"
  std::string singular;   // "contact"
  std::string id_prefix;  // "con"
  std::string label;
  std::vector<Field> fields;
  // Groups of fields of which at least one must be set (contacts: first_name or last_name).
  std::vector<std::vector<std::string>> require_one_of;
  // Field names shown first and used as the record's display name.
  std::vector<std::string> display_fields;

  // Returns nullptr when the type has no such (non-system) field.
  const Field* FindField(std::string_view field_name) const;
};

using ObjectTypePtr = std::shared_ptr<const ObjectType>;

}  // namespace zebros::model
